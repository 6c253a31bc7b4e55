# SPDX-License-Identifier: BSD-2-Clause
# generic: an HMAC scheme configured per connection (signature_header,
# algorithm, encoding, prefix, timestamp_header, ...) and the common-field
# normalizer.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(hmac_sha256_hex hmac_sha1);
use JSON::PP;
use Mailhook::Sign qw(b64);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
# gen2: SHA-1, base64, signed timestamp with a 5 minute tolerance, from Redis.
$t->redis->hset('mailhook:connection:gen2', vendor => 'generic', secret => 'g2-secret',
    signature_header => 'X-Signature', algorithm => 'sha1', encoding => 'base64',
    timestamp_header => 'X-Timestamp', signed_payload_separator => '.',
    timestamp_tolerance => 300);
# gen3: no signature_header, which generic needs.
$t->redis->hset('mailhook:connection:gen3', vendor => 'generic', secret => 's');
$t->start_nginx(http => 'mailhook_connection gen1 vendor=generic secret=gen-secret '
    . 'signature_header=X-Hub-Signature-256 prefix=sha256= tenant=acme;');

my $json = JSON::PP->new->canonical;
my $gen1 = '/webhooks/v2/generic/gen1';
sub gen1_signature { 'sha256=' . hmac_sha256_hex($_[0], $_[1] // 'gen-secret') }

my @batch = (
    { event => 'bounce', bounce_type => 'hard', email => 'jane@example.com',
      timestamp => 1700000000, message_id => '<m1@example.com>', id => 'ev-1',
      smtp_response => '550 5.1.1 user unknown', reason => 'no such mailbox',
      campaign_id => 'spring', tags => ['a'], metadata => { user => 7 } },
    { type => 'email.opened', recipient => 'joe@example.com',
      time => '2023-11-14T23:13:20+01:00', user_agent => 'UA', ip => '192.0.2.1' },
);
my $body = $json->encode(\@batch);
my $r = $t->post($gen1, $body, 'X-Hub-Signature-256' => gen1_signature($body),
    'Content-Type' => 'application/json');
is($r->{status}, 200, 'signed batch stored');
is($r->{content}, qq({"stored":2,"duplicates":0}\n), 'two events');

my @events = map { Mailhook::Test::comparable($_) } $t->events;
like(delete $_->{id}, qr/^[0-9a-f]{32}$/, 'stable id') for @events;
is_deeply($events[0], {
    schema => 1, vendor => 'generic', connection => 'gen1', tenant => 'acme',
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'jane@example.com', message_id => '<m1@example.com>', event_id => 'ev-1',
    timestamp => '2023-11-14T22:13:20Z', smtp_status => '5.1.1',
    mta_response => '550 5.1.1 user unknown', description => 'no such mailbox',
    click_url => undef, user_agent => undef, ip => undef, campaign_id => 'spring',
    tags => ['a'], metadata => { user => 7 }, vendor_event => 'bounce', raw => $batch[0],
}, 'bounce, every field');
is_deeply($events[1], {
    schema => 1, vendor => 'generic', connection => 'gen1', tenant => 'acme',
    type => 'opened', bounce_class => undef, reject_reason => undef,
    recipient => 'joe@example.com', message_id => undef, event_id => undef,
    timestamp => '2023-11-14T22:13:20Z', smtp_status => undef, mta_response => undef,
    description => undef, click_url => undef, user_agent => 'UA', ip => '192.0.2.1',
    campaign_id => undef, tags => [], metadata => {}, vendor_event => 'email.opened',
    raw => $batch[1],
}, 'open with ISO time and offset, every field');

$r = $t->post($gen1, $body, 'X-Hub-Signature-256' => gen1_signature($body));
is($r->{content}, qq({"stored":0,"duplicates":2}\n), 'same batch again: duplicates');

# --- refusals --------------------------------------------------------------
my $before = $t->event_count;
sub gen1_headers { return { 'X-Hub-Signature-256' => gen1_signature(@_) } }
$t->refuses($gen1, $body, [
    ['wrong key', gen1_headers($body, 'other')],
    ['tampered body', gen1_headers($body), $body . ' '],
    ['no signature', {}],
    ['prefix missing', { 'X-Hub-Signature-256' => hmac_sha256_hex($body, 'gen-secret') }],
], status => 401, label => 'signature');
$t->refuses($gen1, '{"event":', [['signed but not JSON', \&gen1_headers]],
    status => 400, label => 'format');

# --- gen2 (Redis): SHA-1, base64, timestamp.body --------------------------
my $gen2 = '/webhooks/v2/generic/gen2';
my $one = '{"event":"delivered","email":"x@example.com","id":"d-1"}';
sub gen2_headers {
    my ($payload, $timestamp) = @_;
    return ('X-Timestamp' => $timestamp,
        'X-Signature' => b64(hmac_sha1("$timestamp.$payload", 'g2-secret')));
}
$r = $t->post($gen2, $one, gen2_headers($one, time));
is($r->{status}, 200, 'timestamped signature within tolerance: 200');
$r = $t->post($gen2, $one, gen2_headers($one, time - 3600));
is($r->{status}, 401, 'signature an hour old: 401');
is($r->{content}, qq({"error":"timestamp"}\n), 'refused for its timestamp');
my %moved = gen2_headers($one, time);
$moved{'X-Timestamp'} += 1;
is($t->post($gen2, $one, %moved)->{status}, 401, 'timestamp changed after signing: 401');

# --- a connection without signature_header is unusable -------------------
$r = $t->post('/webhooks/v2/generic/gen3', $one, 'X-Signature' => 'x');
is($r->{status}, 500, 'generic connection without signature_header: 500');
is($r->{content}, qq({"error":"connection_config"}\n), 'reported as connection config');
is($t->event_count, $before + 1, 'only the good gen2 event was added');

$t->finish;
done_testing;
