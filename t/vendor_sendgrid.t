# SPDX-License-Identifier: BSD-2-Clause
# SendGrid: ECDSA P-256/SHA-256 over timestamp + raw body; JSON array batches.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(sendgrid_key sendgrid_headers);
use Mailhook::Test;
use Test::More;

my ($signer, $public_key) = sendgrid_key();
my ($other_signer, $other_key) = sendgrid_key();

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(
    http => "mailhook_connection sg1 vendor=sendgrid secret=$public_key;",
    server => 'location /strict/ { mailhook; mailhook_timestamp_tolerance sendgrid 300s; }',
);
my $path = '/webhooks/v2/sendgrid/sg1';

# The doc samples (vendors.md §1.4), as SendGrid sends them: CRLF-terminated.
my $body = '[{"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>",'
    . '"event":"bounce","category":"cat facts","sg_event_id":"6g4ZI7SA-xmRDv57GoPIPw==",'
    . '"sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","reason":"500 unknown recipient",'
    . '"status":"5.0.0","type":"bounce"},'
    . '{"email":"blocked@test.com","timestamp":1513299570,"event":"bounce","sg_event_id":"blocked-1",'
    . '"sg_message_id":"m2","reason":"550 5.7.1 blocked by policy","status":"5.7.1","type":"blocked",'
    . '"category":["a","b"],"customer_id":"42"}]' . "\r\n";

my $r = $t->post($path, $body, sendgrid_headers($signer, $body));
is($r->{status}, 200, 'signed batch (with trailing CRLF) stored');
is($r->{content}, qq({"stored":2,"duplicates":0}\n), 'two events counted');

my @events = map { Mailhook::Test::comparable($_) } $t->events;
is(scalar @events, 2, 'each batch element is its own stream entry');
my $raw = decode_json($body);
my %common = (schema => 1, vendor => 'sendgrid', connection => 'sg1', tenant => undef,
    type => 'bounced', description => undef, click_url => undef,
    user_agent => undef, ip => undef, campaign_id => undef, vendor_event => 'bounce');
my ($id0, $id1) = (delete $events[0]{id}, delete $events[1]{id});
isnt($id0, $id1, 'distinct ids');
is_deeply($events[0], {
    %common, bounce_class => 'hard', reject_reason => 'bounced', recipient => 'example@test.com',
    message_id => '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
    event_id => '6g4ZI7SA-xmRDv57GoPIPw==', timestamp => '2017-12-15T00:59:29Z',
    smtp_status => '5.0.0', mta_response => '500 unknown recipient',
    tags => ['cat facts'], metadata => {}, raw => $raw->[0],
}, 'type=bounce is a hard bounce, every field');
is_deeply($events[1], {
    %common, bounce_class => 'block', reject_reason => 'blocked', recipient => 'blocked@test.com',
    message_id => 'm2', event_id => 'blocked-1', timestamp => '2017-12-15T00:59:30Z',
    smtp_status => '5.7.1', mta_response => '550 5.7.1 blocked by policy',
    tags => ['a', 'b'], metadata => { customer_id => '42' }, raw => $raw->[1],
}, 'type=blocked is bounced + block, not hard; custom args become metadata');

# The CRLF is signed: without it the signature no longer matches.
(my $stripped = $body) =~ s/\r\n$//;
my $before = $t->event_count;
my %headers = sendgrid_headers($signer, $body);
my %wrong_ts = %headers;
$wrong_ts{'X-Twilio-Email-Event-Webhook-Timestamp'}++;
$t->refuses($path, $body, [
    ['body without its signed CRLF', \%headers, $stripped],
    ['tampered body', \%headers, $body . 'x'],
    ['signed with another key', { sendgrid_headers($other_signer, $body) }],
    ['timestamp header changed', \%wrong_ts],
    ['no signature headers', { 'Content-Type' => 'application/json' }],
], status => 401, label => 'signature');
my $old = time - 3600;
$t->refuses('/strict/sendgrid/sg1', $body, [['stale timestamp with a configured tolerance',
    { sendgrid_headers($signer, $body, $old) }]], status => 401, label => 'timestamp');

# Without a configured tolerance an hour-old signature is a genuine retry.
my $retry = '[{"email":"late@test.com","timestamp":1513299569,"event":"delivered","sg_event_id":"late-1","response":"250 OK"}]';
is($t->post($path, $retry, sendgrid_headers($signer, $retry, $old))->{status}, 200,
    'an hour-old signature passes by default (SendGrid retries for 24 h)');

my $signed = sub { return { sendgrid_headers($signer, $_[0]) } };
$t->refuses($path, undef, [
    ['object instead of array', $signed, '{"not":"an array"}'],
    ['truncated JSON', $signed, '[{"email":"x@y.z"'],
], status => 400, label => 'format');

# A batch of 1,000 events (about 200 KB: it spills to nginx's temp file).
my $big = encode_json([map {
    { email => "user$_\@example.com", timestamp => 1700000000 + $_, event => 'delivered',
      sg_event_id => "big-$_", sg_message_id => "msg-$_", response => '250 OK' }
} 1 .. 1000]) . "\r\n";
ok(length($big) > 16 * 1024 * 4, 'batch is larger than the body buffer');
$r = $t->post($path, $big, sendgrid_headers($signer, $big));
is($r->{status}, 200, '1,000-event batch from a temp file verifies');
is($r->{content}, qq({"stored":1000,"duplicates":0}\n), '1,000 stored');
is($t->event_count, $before + 1 + 1000, '1,000 stream entries');
like($t->error_log, qr/a client request body is buffered to a temporary file/,
    'the body really went through a temp file');

$t->finish;
done_testing;
