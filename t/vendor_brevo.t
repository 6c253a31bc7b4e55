# SPDX-License-Identifier: BSD-2-Clause
# Brevo: no signature; credentials in the URL (Basic) or a bearer token.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP qw(decode_json);
use Mailhook::Sign qw(basic_auth);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http =>
    'mailhook_connection br1 vendor=brevo secret=brevo:pa55 tenant=acme;');

my $path = '/webhooks/v2/brevo/br1';
my %auth = (Authorization => basic_auth('brevo:pa55'), 'Content-Type' => 'application/json');

# Brevo's developer-guide example of a delivered event (vendors.md §13 fields).
my $delivered = '{"event":"delivered","email":"example@example.com","id":26224,'
    . '"date":"YYYY-MM-DD HH:mm:ss","ts":1598634509,"message-id":"<xxxxxxxxxxxx.xxxxxxxxx@domain.com>",'
    . '"ts_event":1598034509,"subject":"Subject Line","tag":"[\"transactionalTag\"]",'
    . '"sending_ip":"185.41.28.109","ts_epoch":1598634509223,"tags":["myFirstTransactional"]}';

my $r = $t->post($path, $delivered, %auth);
my $event = $t->only_stored_event($r, 'authenticated event stored');
is_deeply($event, {
    schema => 1, vendor => 'brevo', connection => 'br1', tenant => 'acme',
    type => 'delivered', bounce_class => undef, reject_reason => undef,
    recipient => 'example@example.com',
    message_id => '<xxxxxxxxxxxx.xxxxxxxxx@domain.com>', event_id => undef,
    timestamp => '2020-08-28T17:08:29Z', smtp_status => undef, mta_response => undef,
    description => undef, click_url => undef, user_agent => undef, ip => undef,
    campaign_id => undef, tags => ['myFirstTransactional'], metadata => {},
    vendor_event => 'delivered', raw => decode_json($delivered),
}, 'normalized event, every field');
is($t->post($path, $delivered, %auth)->{content}, qq({"stored":0,"duplicates":1}\n),
    'the same event again (a Brevo retry) is a duplicate');

# A batched webhook: an array of events.
my $batch = '[{"event":"hard_bounce","email":"gone@example.com","id":26224,"ts_event":1602201600,'
    . '"message-id":"<1@smtp-relay.mailin.fr>","reason":"550 5.1.1 User unknown",'
    . '"X-Mailin-custom":"{\"user_id\":42}","tags":["welcome"],"ts_epoch":1602201600456},'
    . '{"event":"unique_proxy_open","email":"reader@example.com","id":26224,'
    . '"message-id":"<2@smtp-relay.mailin.fr>","ts_epoch":1602201900789}]';
$r = $t->post($path, $batch, %auth);
is($r->{content}, qq({"stored":2,"duplicates":0}\n), 'a batch stores each event');
my ($bounce) = grep { $_->{vendor_event} eq 'hard_bounce' } $t->events;
my $comparable = Mailhook::Test::comparable($bounce);
delete $comparable->{id};
is_deeply($comparable, {
    schema => 1, vendor => 'brevo', connection => 'br1', tenant => 'acme',
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'gone@example.com', message_id => '<1@smtp-relay.mailin.fr>',
    event_id => undef, timestamp => '2020-10-09T00:00:00Z', smtp_status => '5.1.1',
    mta_response => '550 5.1.1 User unknown', description => undef, click_url => undef,
    user_agent => undef, ip => undef, campaign_id => undef, tags => ['welcome'],
    metadata => { user_id => 42 }, vendor_event => 'hard_bounce',
    raw => decode_json($batch)->[0],
}, 'batched hard bounce, every field');
like($t->redis->hget('mailhook:suppression:acme', 'gone@example.com') // '',
    qr/"reason":"hard_bounce"/, 'hard bounce suppresses the recipient');
my ($proxy) = grep { $_->{vendor_event} eq 'unique_proxy_open' } $t->events;
is($proxy->{type}, 'opened', 'a proxy open is an open');

$t->refuses($path, $delivered, [
    ['wrong password', { Authorization => basic_auth('brevo:wrong') }],
    ['unknown token', { Authorization => 'Bearer abc' }],
    ['no credentials', {}],
], status => 401, label => 'auth');
$t->refuses($path, undef, [
    ['not JSON', \%auth, '{"event":'],
    ['no event name', \%auth, '{"email":"a@example.com"}'],
    ['an array of no events', \%auth, '[1,"delivered",null]'],
], status => 400, label => 'format');

# A signed batch with elements that are not Brevo's format: the good one is
# stored, the object kept as an unknown event with the reason, the number
# dropped; the log says so (docs/events.md "Batches").
my $mixed = '[{"event":"delivered","email":"mixed@example.com","ts_epoch":1602201600000},'
    . '{"event":"opened","email":["not","text"]},1]';
$r = $t->post($path, $mixed, %auth);
is($r->{content}, qq({"stored":2,"duplicates":0}\n), 'a batch with bad elements stores the rest');
my ($kept) = grep { $_->{type} eq 'unknown' } $t->events;
is_deeply([@$kept{qw(vendor_event recipient description)}, $kept->{raw}],
    ['opened', undef, 'not the vendor\'s format: "email" is an array, expected text',
     decode_json($mixed)->[1]], 'the bad object is kept as unknown, with its raw');
like($t->error_log, qr/2 batch element\(s\) not the vendor's format \(1 kept as unknown events, 1 not objects and dropped\)/,
    'the log counts the bad elements');

# Dynamic connection with a bearer token (Brevo's auth: {type: bearer}).
$t->redis->hset('mailhook:connection:br2', vendor => 'brevo', secret => 'tok-br2');
my $click = '{"event":"click","email":"reader@example.com","message-id":"<3@smtp-relay.mailin.fr>",'
    . '"ts_epoch":1602201900789,"link":"https://example.com/start","X-Mailin-custom":"order-17"}';
is($t->post('/webhooks/v2/brevo/br2', $click, Authorization => 'Bearer tok-br2')->{status},
    200, 'dynamic connection with a bearer token');
is($t->post('/webhooks/v2/brevo/br2', $click, Authorization => basic_auth('brevo:pa55'))->{status},
    401, 'dynamic connection refuses another connection\'s credentials');
my ($clicked) = grep { $_->{connection} eq 'br2' } $t->events;
is_deeply([@$clicked{qw(type click_url timestamp)}, $clicked->{metadata}],
    ['clicked', 'https://example.com/start', '2020-10-09T00:05:00Z',
     { 'X-Mailin-custom' => 'order-17' }], 'dynamic connection click normalized');

$t->finish;
done_testing;
