# SPDX-License-Identifier: BSD-2-Clause
# Mailgun: HMAC-SHA256(key, timestamp + token) in the JSON body; tokens are
# single-use for one event; 5-minute tolerance by default.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(mailgun_signature);
use Mailhook::Test;
use Test::More;

my $key = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => "mailhook_connection mg1 vendor=mailgun secret=$key tenant=t1;");
my $path = '/webhooks/v2/mailgun/mg1';

my $json = JSON::PP->new->canonical;
sub body {
    my ($event, %opt) = @_;
    my $token = $opt{token} // join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 50;
    return $json->encode({
        signature => mailgun_signature($opt{key} // $key, $token, $opt{timestamp}),
        'event-data' => $event,
    });
}

# vendors.md §4.4: failed / permanent / suppress-bounce
my $failed = {
    event => 'failed', id => 'pl271FzxTTmGRW8Uj3dUWw', timestamp => 1529701969.818328,
    'log-level' => 'error', severity => 'permanent', reason => 'suppress-bounce',
    envelope => { sender => 'john@example.org', transport => 'smtp', targets => 'joan@example.com' },
    'delivery-status' => { 'attempt-no' => 1, message => '', code => 605,
        description => 'Not delivering to previously bounced address', 'session-seconds' => 0.0 },
    message => { headers => { to => 'joan@example.com',
        'message-id' => '20180622211249.1.2A6098970A380E12@example.org',
        from => 'john@example.org', subject => 'Test Subject' }, attachments => [], size => 867 },
    recipient => 'slava@mailgun.com', 'recipient-domain' => 'mailgun.com',
    campaigns => [], tags => [], 'user-variables' => {},
};
my $r = $t->post($path, body($failed), 'Content-Type' => 'application/json');
is($r->{status}, 200, 'signed event stored');
my ($event) = map { Mailhook::Test::comparable($_) } $t->events;
delete $event->{id};
is_deeply($event, {
    schema => 1, vendor => 'mailgun', connection => 'mg1', tenant => 't1',
    type => 'rejected', bounce_class => undef, reject_reason => 'bounced',
    recipient => 'slava@mailgun.com',
    message_id => '20180622211249.1.2A6098970A380E12@example.org',
    event_id => 'pl271FzxTTmGRW8Uj3dUWw', timestamp => '2018-06-22T21:12:49Z',
    smtp_status => undef, mta_response => undef,
    description => 'Not delivering to previously bounced address',
    click_url => undef, user_agent => undef, ip => undef, campaign_id => undef,
    tags => [], metadata => {}, vendor_event => 'failed',
    raw => decode_json($json->encode($failed)),
}, 'permanent failure to a suppressed address is a rejection, every field');

my $clicked = {
    event => 'clicked', id => 'click-1', timestamp => 1529006854.329574,
    recipient => 'alice@example.com', url => 'http://example.com/signup', ip => '123.123.123.321',
    'client-info' => { 'user-agent' => 'Mozilla/5.0 (X11; Linux i686)' },
    tags => ['welcome'], campaigns => [{ id => 'camp-9', name => 'Nine' }],
    'user-variables' => { 'user-id' => 7 },
    message => { headers => { 'message-id' => 'm1@example.org' } },
};
my $token = 'a' x 50;
my $clicked_body = body($clicked, token => $token);
is($t->post($path, $clicked_body)->{status}, 200, 'click stored');
my ($stored_click) = grep { $_->{vendor_event} eq 'clicked' } $t->events;
is_deeply([@{$stored_click}{qw(type click_url ip user_agent campaign_id message_id timestamp)}],
    ['clicked', 'http://example.com/signup', '123.123.123.321', 'Mozilla/5.0 (X11; Linux i686)',
     'camp-9', 'm1@example.org', '2018-06-14T20:07:34Z'], 'click fields');
is_deeply($stored_click->{tags}, ['welcome'], 'tags');
is_deeply($stored_click->{metadata}, { 'user-id' => 7 }, 'user-variables become metadata');

# A genuine retry: same token, same event → a duplicate, never a 401.
$r = $t->post($path, $clicked_body);
is($r->{status}, 200, 'retry of the same signed request: 200');
is($r->{content}, qq({"stored":0,"duplicates":1}\n), 'counted as a duplicate');
# The same token carrying another event: a replay.
my %other = (%$clicked, id => 'click-2', url => 'http://evil.example/');
$t->refuses($path, body(\%other, token => $token), [['token reused for another event', {}]],
    status => 401, label => 'replay');

my $delivered = { event => 'delivered', id => 'd-1', timestamp => time, recipient => 'bob@example.com' };
my $tampered = $json->decode(body($delivered));
$tampered->{signature}{timestamp} = '' . ($tampered->{signature}{timestamp} + 1);
my $unsigned = $json->decode(body($delivered));
delete $unsigned->{signature};
$t->refuses($path, undef, [
    ['wrong key', {}, body($delivered, key => 'key-wrong')],
    ['signed timestamp changed', {}, $json->encode($tampered)],
    ['no signature', {}, $json->encode($unsigned)],
], status => 401, label => 'signature');
$t->refuses($path, undef, [
    ['timestamp an hour old', {}, body($delivered, timestamp => time - 3600)],
    ['timestamp an hour ahead', {}, body($delivered, timestamp => time + 3600)],
], status => 401, label => 'timestamp');
# L6: the signed string is timestamp + token with nothing between them. The
# same bytes split another way (a digit moved from the token to the
# timestamp) carry the same signature; only a 10-digit timestamp counts.
my $now = time;
my $genuine = mailgun_signature($key, '7' . ('b' x 49), $now);
my %moved = (timestamp => $now . '7', token => 'b' x 49, signature => $genuine->{signature});
my %dashed = %{ mailgun_signature($key, 'a-b', time) };
$t->refuses($path, undef, [
    ['L6 a digit moved from the token into the timestamp', {},
     $json->encode({ signature => \%moved, 'event-data' => $delivered })],
], status => 401, label => 'timestamp');
$t->refuses($path, undef, [
    ['L6 a token that is not alphanumeric', {},
     $json->encode({ signature => \%dashed, 'event-data' => $delivered })],
], status => 401, label => 'signature');

my $no_data = $json->decode(body($delivered));
delete $no_data->{'event-data'};
$t->refuses($path, undef, [
    ['not JSON', {}, '{"signature":'],
    ['signed but no event-data', {}, $json->encode($no_data)],
], status => 400, label => 'format');

$t->finish;
done_testing;
