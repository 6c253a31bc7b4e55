# SPDX-License-Identifier: BSD-2-Clause
# SmartLead: one JSON object per request, authenticated by its secret_key
# field (never stored) or by a configured HMAC header.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(hmac_sha256_hex);
use JSON::PP;
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
# sl2 lives in Redis and is signed with the configured HMAC scheme.
$t->redis->hset('mailhook:connection:sl2', vendor => 'smartlead', secret => 'sl-hmac',
    signature_header => 'X-Signature');
$t->start_nginx(http => 'mailhook_connection sl1 vendor=smartlead secret=sl-secret tenant=acme;');

my $json = JSON::PP->new->canonical;
my $sl1 = '/webhooks/v2/smartlead/sl1';

# the help-center "Response Structure" of vendors.md §7 with values
my %bounce = (
    webhook_id => 1201, webhook_name => 'Bounces',
    webhook_url => 'https://hooks.example.com/webhooks/v2/smartlead/sl1',
    stats_id => '8f1c2d', event_type => 'EMAIL_BOUNCE',
    event_timestamp => '2023-09-25T17:29:11.618881+00:00',
    from_email => 'rep@example.com', to_email => 'Lead@Example.org', to_name => 'Lee',
    subject => 'Quick question', campaign_id => 42, campaign_name => 'Q3 Outreach',
    sequence_number => 1,
    sent_message => { message_id => '<cafe01@example.com>', html => '<p>Hi</p>',
        text => 'Hi', time => '2023-09-25T17:00:00+00:00' },
    bounce_message => { message_id => '<dsn01@example.org>',
        text => '550 5.1.1 user unknown', time => '2023-09-25T17:29:11+00:00' },
    secret_key => 'sl-secret', description => 'Email bounced',
    metadata => { webhook_created_at => '2023-09-01T08:00:00+00:00' },
);
my $body = $json->encode(\%bounce);
my $r = $t->post($sl1, $body, 'Content-Type' => 'application/json');
is($r->{status}, 200, 'secret_key matches: stored');
is($r->{content}, qq({"stored":1,"duplicates":0}\n), 'one event');

my ($entry) = $t->stream;
unlike($entry->{fields}{event}, qr/sl-secret|secret_key/, 'the secret is not stored');
my ($event) = map { Mailhook::Test::comparable($_) } $t->events;
like(delete $event->{id}, qr/^[0-9a-f]{32}$/, 'stable id');
my %raw = %bounce;
delete $raw{secret_key};
is_deeply($event, {
    schema => 1, vendor => 'smartlead', connection => 'sl1', tenant => 'acme',
    type => 'bounced', bounce_class => 'undetermined', reject_reason => 'bounced',
    recipient => 'Lead@Example.org', message_id => '<cafe01@example.com>', event_id => undef,
    timestamp => '2023-09-25T17:29:11Z', smtp_status => '5.1.1',
    mta_response => '550 5.1.1 user unknown',
    description => 'Email bounced', click_url => undef, user_agent => undef, ip => undef,
    campaign_id => '42', tags => [], metadata => {}, vendor_event => 'EMAIL_BOUNCE',
    raw => \%raw,
}, 'bounce, every field, raw without secret_key');
is($t->redis->hget('mailhook:suppression:acme', 'lead@example.org'), undef,
    'an undetermined bounce suppresses nobody');

$r = $t->post($sl1, $body);
is($r->{content}, qq({"stored":0,"duplicates":1}\n), 'same delivery again: duplicate');

# --- refusals --------------------------------------------------------------
my %wrong = (%bounce, secret_key => 'guess');
my %missing = %bounce;
delete $missing{secret_key};
$t->refuses($sl1, undef, [
    ['wrong secret_key', {}, $json->encode(\%wrong)],
    ['no secret_key', {}, $json->encode(\%missing)],
], status => 401, label => 'auth');
$t->refuses($sl1, '[1,2]', [['not a JSON object', {}]], status => 400, label => 'format');

# --- sl2 (Redis): HMAC header instead of the body secret --------------------
my $sl2 = '/webhooks/v2/smartlead/sl2';
my $reply = $json->encode({ event => 'EMAIL_REPLIED', timestamp => '2024-11-25T11:00:00Z',
    campaign_id => 123, lead => { email => 'lead@example.com' } });
$r = $t->post($sl2, $reply, 'X-Signature' => hmac_sha256_hex($reply, 'sl-hmac'));
is($r->{status}, 200, 'HMAC-signed reply stored');
is($t->post($sl2, $reply, 'X-Signature' => hmac_sha256_hex($reply, 'nope'))->{status}, 401,
    'HMAC with the wrong key: 401');
my ($replied) = map { Mailhook::Test::comparable($_) }
    grep { $_->{connection} eq 'sl2' } $t->events;
delete $replied->{id};
is_deeply($replied, {
    schema => 1, vendor => 'smartlead', connection => 'sl2', tenant => undef,
    type => 'replied', bounce_class => undef, reject_reason => undef,
    recipient => 'lead@example.com', message_id => undef, event_id => undef,
    timestamp => '2024-11-25T11:00:00Z', smtp_status => undef, mta_response => undef,
    description => undef, click_url => undef, user_agent => undef, ip => undef,
    campaign_id => '123', tags => [], metadata => {}, vendor_event => 'EMAIL_REPLIED',
    raw => $json->decode($reply),
}, 'API-reference shape, every field');

$t->finish;
done_testing;
