# SPDX-License-Identifier: BSD-2-Clause
# Mandrill: form body mandrill_events=<JSON array>, X-Mandrill-Signature =
# base64(HMAC-SHA1(key, URL + "mandrill_events" + JSON)), URL from
# mailhook_public_url; HEAD answered 200.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(hmac_sha1);
use JSON::PP;
use Mailhook::Sign qw(b64);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
# md2 lives in Redis with Mandrill's generic test key.
$t->redis->hset('mailhook:connection:md2', vendor => 'mandrill', secret => 'test-webhook');
$t->start_nginx(
    http => 'mailhook_connection md1 vendor=mandrill secret=md-key secret_next=md-key-2;',
    location => 'mailhook_public_url https://hooks.example.com$request_uri;',
);

my $json = JSON::PP->new->canonical;

sub form_escape {
    my ($text) = @_;
    $text =~ s/([^A-Za-z0-9\-_.~])/sprintf('%%%02X', ord $1)/ge;
    return $text;
}

sub public_url { "https://hooks.example.com$_[0]" }

# A batch and its headers, signed for $url with $key: (\%headers, $body).
sub signed_batch {
    my ($path, $events_json, %opt) = @_;
    my $url = $opt{url} // public_url($path);
    my $key = $opt{key} // 'md-key';
    my $body = $opt{body} // 'mandrill_events=' . form_escape($events_json);
    my %headers = ('Content-Type' => 'application/x-www-form-urlencoded');
    $headers{'X-Mandrill-Signature'} =
        b64(hmac_sha1($url . 'mandrill_events' . $events_json, $key))
        unless $opt{unsigned};
    return (\%headers, $body);
}

# POSTs a signed batch (signed_batch's options); returns the response.
sub post_events {
    my ($headers, $body) = signed_batch(@_);
    return $t->post($_[0], $body, %$headers);
}

# --- Mandrill's URL check: HEAD, then possibly an empty signed batch ---------
my $r = $t->request('HEAD', '/webhooks/v2/mandrill/md1');
is($r->{status}, 200, 'HEAD: 200');
is($t->request('HEAD', '/webhooks/v2/mandrill/not-created-yet')->{status}, 200,
    'HEAD: 200 before the connection exists (the key comes after the URL check)');
is($t->request('HEAD', '/webhooks/v2/sparkpost/md1')->{status}, 405,
    'HEAD stays refused for vendors that do not probe with it');
$r = post_events('/webhooks/v2/mandrill/md1', '[]');
is($r->{status}, 200, 'empty batch signed with the connection key: 200');
is($r->{content}, qq({"stored":0,"duplicates":0}\n), 'empty batch: nothing stored');
$r = post_events('/webhooks/v2/mandrill/md2', '[]', key => 'test-webhook');
is($r->{status}, 200, 'empty batch signed with test-webhook on a connection using it: 200');
is($t->event_count, 0, 'stream still empty');

# --- a batch: vendors.md §11 hard_bounce sample and an open --------------------
my %hard_bounce = (
    event => 'hard_bounce', _id => 'id2', ts => 1384954004,
    msg => { ts => 1365109999, subject => 'This an example webhook message',
        email => 'example.webhook@mandrillapp.com', sender => 'example.sender@mandrillapp.com',
        tags => ['webhook-example'], state => 'bounced', metadata => { user_id => 111 },
        _id => 'exampleaaaaaaaaaaaaaaaaaaaaaaaaa2', _version => 'exampleaaaaaaaaaaaaaaa',
        bounce_description => 'bad_mailbox', bgtools_code => 10,
        diag => 'smtp;550 5.1.1 The email account that you tried to reach does not exist. ...' },
);
my %open = (
    event => 'open', _id => 'msg-open-1', ts => 1384954010, ip => '192.0.2.44',
    user_agent => 'Mozilla/5.0 (caf' . "\x{e9}" . ')',
    msg => { email => 'reader@example.com', _id => 'msg-open-1', tags => [], metadata => {} },
);
my $events_json = JSON::PP->new->canonical->utf8->encode([\%hard_bounce, \%open]);
$r = post_events('/webhooks/v2/mandrill/md1', $events_json);
is($r->{status}, 200, 'signed batch stored');
is($r->{content}, qq({"stored":2,"duplicates":0}\n), 'two events');

my @events = map { Mailhook::Test::comparable($_) } $t->events;
like(delete $_->{id}, qr/^[0-9a-f]{32}$/, 'stable id') for @events;
is_deeply($events[0], {
    schema => 1, vendor => 'mandrill', connection => 'md1', tenant => undef,
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'example.webhook@mandrillapp.com',
    message_id => 'exampleaaaaaaaaaaaaaaaaaaaaaaaaa2', event_id => undef,
    timestamp => '2013-11-20T13:26:44Z', smtp_status => '5.1.1',
    mta_response => 'smtp;550 5.1.1 The email account that you tried to reach does not exist. ...',
    description => 'bad_mailbox', click_url => undef, user_agent => undef, ip => undef,
    campaign_id => undef, tags => ['webhook-example'], metadata => { user_id => 111 },
    vendor_event => 'hard_bounce', raw => \%hard_bounce,
}, 'hard bounce, every field');
is_deeply($events[1], {
    schema => 1, vendor => 'mandrill', connection => 'md1', tenant => undef,
    type => 'opened', bounce_class => undef, reject_reason => undef,
    recipient => 'reader@example.com', message_id => 'msg-open-1', event_id => undef,
    timestamp => '2013-11-20T13:26:50Z', smtp_status => undef, mta_response => undef,
    description => undef, click_url => undef, user_agent => "Mozilla/5.0 (caf\x{e9})",
    ip => '192.0.2.44', campaign_id => undef, tags => [], metadata => {},
    vendor_event => 'open', raw => \%open,
}, 'open, every field');
like($t->redis->hget('mailhook:suppression:md1', 'example.webhook@mandrillapp.com') // '',
    qr/"reason":"hard_bounce"/, 'hard bounce suppresses the recipient');

# the same batch again (Mandrill retry): duplicates, by content
$r = post_events('/webhooks/v2/mandrill/md1', $events_json);
is($r->{content}, qq({"stored":0,"duplicates":2}\n), 'retried batch: duplicates');
# the rotation key signs too
$r = post_events('/webhooks/v2/mandrill/md1', '[]', key => 'md-key-2');
is($r->{status}, 200, 'secret_next verifies');

# --- refusals ------------------------------------------------------------------
my $path = '/webhooks/v2/mandrill/md1';
$t->refuses($path, undef, [
    ['wrong key', signed_batch($path, $events_json, key => 'other')],
    ['signed for the request URL, not the registered one',
        signed_batch($path, $events_json, url => $t->url($path))],
    ['unsigned', signed_batch($path, $events_json, unsigned => 1)],
    ['tampered body', signed_batch($path, $events_json,
        body => 'mandrill_events=' . form_escape($events_json =~ s/hard_bounce/soft_bounce/r))],
    ['test-webhook key on a connection with its own key',
        signed_batch($path, '[]', key => 'test-webhook')],
], status => 401, label => 'signature');

# signed, but not Mandrill's format
$t->refuses($path, undef, [
    ['signed form without mandrill_events',
        { 'X-Mandrill-Signature' => b64(hmac_sha1(public_url($path) . 'other1', 'md-key')) },
        'other=1'],
    ['mandrill_events not an array', signed_batch($path, '{"event":"open"}')],
], status => 400, label => 'format');

$t->finish;
done_testing;
