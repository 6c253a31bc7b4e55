# SPDX-License-Identifier: BSD-2-Clause
# SparkPost: JSON array of {"msys":{...}} batches, authenticated by Basic,
# Bearer or the legacy X-MessageSystems-Webhook-Token header.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(basic_auth);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
# sp2 lives in Redis (dynamic connection), the others in nginx.conf.
$t->redis->hset('mailhook:connection:sp2', vendor => 'sparkpost',
    secret => 'tok-123', auth => 'bearer');
$t->start_nginx(http => join "\n",
    'mailhook_connection sp1 vendor=sparkpost secret=hook:pa55 tenant=acme;',
    'mailhook_connection sp3 vendor=sparkpost secret=legacy-tok auth=token;');

my $json = JSON::PP->new->canonical;
my %basic = (Authorization => basic_auth('hook:pa55'), 'Content-Type' => 'application/json');

# --- SparkPost's validation POST: exactly 200, nothing stored ---------------
my $ping = '[{"msys":{}}]';
my $r = $t->post('/webhooks/v2/sparkpost/sp1', $ping, %basic);
is($r->{status}, 200, 'validation ping: 200');
is($r->{content}, qq({"stored":0,"duplicates":0}\n), 'validation ping: nothing stored');
is($t->event_count, 0, 'validation ping: stream empty');

# --- a bounce (sample of vendors.md §2.4, bounce_class 10 = hard) -----------
my %bounce = (
    type => 'bounce', bounce_class => '10', campaign_id => 'Example Campaign Name',
    customer_id => '1', delv_method => 'esmtp', error_code => '550',
    event_id => '92356927693813856', friendly_from => 'sender@example.com',
    ip_address => '127.0.0.1', message_id => '0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e',
    msg_from => 'sender@example.com', rcpt_meta => { customKey => 'customValue' },
    rcpt_tags => ['male', 'US'], rcpt_to => 'recipient@example.com',
    raw_rcpt_to => 'Recipient@example.com',
    raw_reason => '550 5.1.1 <recipient@example.com>: Recipient address rejected',
    reason => '550 5.1.1 ...@... Recipient address rejected',
    subject => 'Summer deals are here!', template_id => 'templ-1234',
    timestamp => 1454442600, transmission_id => '65832150921904138',
);
my $body = $json->encode([{ msys => { message_event => \%bounce } }]);
$r = $t->post('/webhooks/v2/sparkpost/sp1', $body, %basic);
is($r->{status}, 200, 'basic auth: bounce stored');
is($r->{content}, qq({"stored":1,"duplicates":0}\n), 'one event stored');

my ($event) = map { Mailhook::Test::comparable($_) } $t->events;
like(delete $event->{id}, qr/^[0-9a-f]{32}$/, 'stable id');
is_deeply($event, {
    schema => 1, vendor => 'sparkpost', connection => 'sp1', tenant => 'acme',
    type => 'bounced', bounce_class => 'hard', reject_reason => 'invalid',
    recipient => 'Recipient@example.com',
    message_id => '0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e',
    event_id => '92356927693813856', timestamp => '2016-02-02T19:50:00Z',
    smtp_status => '5.1.1',
    mta_response => '550 5.1.1 <recipient@example.com>: Recipient address rejected',
    description => '550 5.1.1 ...@... Recipient address rejected',
    click_url => undef, user_agent => undef, ip => undef,
    campaign_id => 'Example Campaign Name', tags => ['male', 'US'],
    metadata => { customKey => 'customValue' }, vendor_event => 'bounce',
    raw => { msys => { message_event => \%bounce } },
}, 'bounce normalized, every field');
like($t->redis->hget('mailhook:suppression:acme', 'recipient@example.com') // '',
    qr/"reason":"hard_bounce"/, 'hard bounce suppresses the recipient');

# the same batch again: a duplicate, still 200
$r = $t->post('/webhooks/v2/sparkpost/sp1', $body, %basic);
is($r->{status}, 200, 'retried batch: 200');
is($r->{content}, qq({"stored":0,"duplicates":1}\n), 'retried batch: duplicate');

# --- wrong credentials: 401, nothing stored ----------------------------------
$t->refuses('/webhooks/v2/sparkpost/sp1', $body, [
    ['wrong password', { Authorization => basic_auth('hook:nope') }],
    ['no credentials', {}],
    ['wrong bearer token', { Authorization => 'Bearer hook:nope' }],
    ['token header with the wrong token', { 'X-MessageSystems-Webhook-Token' => 'x' }],
    ['validation ping without credentials', {}, $ping],
], status => 401, label => 'auth');

# --- Redis-declared connection, bearer only: a batch of three ----------------
my @batch = (
    { msys => { track_event => { type => 'click', event_id => 'e-click',
        rcpt_to => 'reader@example.com', target_link_url => 'http://example.com',
        user_agent => 'Mozilla/5.0', ip_address => '192.0.2.7',
        timestamp => '1454442601' } } },
    { msys => {} },
    { msys => { message_event => { type => 'delay', event_id => 'e-delay',
        rcpt_to => 'slow@example.com', bounce_class => '21',
        raw_reason => '421 4.4.2 try later', timestamp => '2016-02-02T19:50:02.000+00:00' } } },
    { msys => { unsubscribe_event => { type => 'list_unsubscribe', event_id => 'e-unsub',
        rcpt_to => 'gone@example.com', timestamp => 1454442603 } } },
);
$body = $json->encode(\@batch);
is($t->post('/webhooks/v2/sparkpost/sp2', $body,
    Authorization => basic_auth('x:tok-123'))->{status}, 401,
    'bearer-pinned connection refuses Basic');
$r = $t->post('/webhooks/v2/sparkpost/sp2', $body, Authorization => 'Bearer tok-123');
is($r->{status}, 200, 'bearer: batch stored');
is($r->{content}, qq({"stored":3,"duplicates":0}\n), 'three events, the ping skipped');

my %by_event = map { $_->{event_id} => Mailhook::Test::comparable($_) }
    grep { $_->{connection} eq 'sp2' } $t->events;
delete $_->{id} for values %by_event;
delete $_->{raw} for values %by_event;
my %common = (schema => 1, vendor => 'sparkpost', connection => 'sp2', tenant => undef,
    reject_reason => undef, message_id => undef, smtp_status => undef,
    mta_response => undef, description => undef, click_url => undef,
    user_agent => undef, ip => undef, campaign_id => undef, tags => [], metadata => {});
is_deeply($by_event{'e-click'}, { %common, type => 'clicked', bounce_class => undef,
    recipient => 'reader@example.com', event_id => 'e-click',
    timestamp => '2016-02-02T19:50:01Z', click_url => 'http://example.com',
    user_agent => 'Mozilla/5.0', ip => '192.0.2.7', vendor_event => 'click' },
    'click from an epoch string');
is_deeply($by_event{'e-delay'}, { %common, type => 'deferred', bounce_class => 'soft',
    recipient => 'slow@example.com', event_id => 'e-delay',
    timestamp => '2016-02-02T19:50:02Z', smtp_status => '4.4.2',
    mta_response => '421 4.4.2 try later', vendor_event => 'delay',
    reject_reason => 'other' },
    'delay from an ISO timestamp');
is_deeply($by_event{'e-unsub'}, { %common, type => 'unsubscribed', bounce_class => undef,
    recipient => 'gone@example.com', event_id => 'e-unsub',
    timestamp => '2016-02-02T19:50:03Z', vendor_event => 'list_unsubscribe',
    reject_reason => 'unsubscribed' },
    'list unsubscribe');
like($t->redis->hget('mailhook:suppression:sp2', 'gone@example.com') // '',
    qr/"reason":"unsubscribe"/, 'unsubscribe suppresses under the connection id');

# --- legacy token header -----------------------------------------------------
$body = $json->encode([{ msys => { message_event => { type => 'delivery',
    event_id => 'e-legacy', rcpt_to => 'ok@example.com', timestamp => 1454442604 } } }]);
is($t->post('/webhooks/v2/sparkpost/sp3', $body,
    Authorization => 'Bearer legacy-tok')->{status}, 401,
    'token-pinned connection refuses Bearer');
$r = $t->post('/webhooks/v2/sparkpost/sp3', $body,
    'X-MessageSystems-Webhook-Token' => 'legacy-tok');
is($r->{status}, 200, 'legacy token header accepted');

# --- not SparkPost's format ----------------------------------------------------
$t->refuses('/webhooks/v2/sparkpost/sp1', undef,
    [map { ["authenticated but malformed ($_)", \%basic, $_] }
        '{"msys":{}}', '[{"no":"msys"}]', '[{"msys":', 'plain text'],
    status => 400, label => 'format');

$t->finish;
done_testing;
