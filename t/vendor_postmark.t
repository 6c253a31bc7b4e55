# SPDX-License-Identifier: BSD-2-Clause
# Postmark: credentials in the webhook URL arrive as Authorization: Basic.
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
    'mailhook_connection pm1 vendor=postmark secret=hooks:s3cret tenant=acme;');

my $path = '/webhooks/v2/postmark/pm1';
my %auth = (Authorization => basic_auth('hooks:s3cret'), 'Content-Type' => 'application/json');

# vendors.md §10: Postmark's bounce sample (no RecordType), verbatim.
my $bounce = '{ "ID": 42, "Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce", "Tag": "Test", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",'
    . ' "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).", "Details": "Test bounce details",'
    . ' "Email": "john@example.com", "BouncedAt": "2014-08-01T13:28:10.2735393-04:00", "DumpAvailable": true, "Inactive": true, "CanActivate": true,'
    . ' "Subject": "Test subject", "Metadata": { "user_id": 43 } }';

my $r = $t->post($path, $bounce, %auth);
my $event = $t->only_stored_event($r, 'authenticated bounce stored');
is_deeply($event, {
    schema => 1, vendor => 'postmark', connection => 'pm1', tenant => 'acme',
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'john@example.com',
    message_id => '883953f4-6105-42a2-a16a-77a8eac79483',
    event_id => '42', timestamp => '2014-08-01T17:28:10Z',
    smtp_status => undef, mta_response => 'Test bounce details',
    description => 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
    click_url => undef, user_agent => undef, ip => undef, campaign_id => undef,
    tags => ['Test'], metadata => { user_id => 43 }, vendor_event => 'Bounce',
    raw => decode_json($bounce),
}, 'normalized event, every field');
like($t->redis->hget('mailhook:suppression:acme', 'john@example.com') // '',
    qr/"reason":"hard_bounce"/, 'hard bounce suppresses the recipient');

is($t->post($path, $bounce, %auth)->{content}, qq({"stored":0,"duplicates":1}\n),
    'the same bounce ID again is a duplicate');

my $open = '{"RecordType":"Open","MessageStream":"outbound","FirstOpen":true,'
    . '"UserAgent":"Mozilla/5.0","Geo":{"IP":"188.2.95.4"},"MessageID":"883953f4-6105-42a2-a16a-77a8eac79483",'
    . '"Metadata":{},"ReceivedAt":"2019-11-05T16:33:54.9070259Z","Tag":"welcome-email","Recipient":"john@example.com"}';
is($t->post($path, $open, %auth)->{status}, 200, 'open stored');
my ($opened) = grep { $_->{type} eq 'opened' } $t->events;
is_deeply([@$opened{qw(recipient ip user_agent timestamp event_id)}],
    ['john@example.com', '188.2.95.4', 'Mozilla/5.0', '2019-11-05T16:33:54Z', undef],
    'open normalized');

$t->refuses($path, $open, [
    ['wrong password', { Authorization => basic_auth('hooks:wrong') }],
    ['wrong user', { Authorization => basic_auth('other:s3cret') }],
    ['bearer instead of basic', { Authorization => 'Bearer nothing' }],
    ['no credentials', {}],
], status => 401, label => 'auth');
$t->refuses($path, undef, [
    ['not JSON', \%auth, '{"RecordType":'],
    ['an array', \%auth, '[]'],
    ['no RecordType', \%auth, '{"Email":"a@example.com"}'],
], status => 400, label => 'format');

# A dynamic connection with a rotation in progress.
$t->redis->hset('mailhook:connection:pm2', vendor => 'postmark',
    secret => 'hooks:old', secret_next => 'hooks:new');
my $delivery = '{"RecordType":"Delivery","ServerID":23,"MessageStream":"outbound",'
    . '"MessageID":"0a129aee-e1cd-480d-b08d-4f48548ff48d","Recipient":"jane@example.com",'
    . '"Tag":"welcome-email","DeliveredAt":"2019-11-05T16:33:54.9070259Z",'
    . '"Details":"250 2.0.0 OK","Metadata":{"a_key":"a_value"}}';
is($t->post('/webhooks/v2/postmark/pm2', $delivery,
    Authorization => basic_auth('hooks:new'))->{status}, 200, 'dynamic connection, next secret');
is($t->post('/webhooks/v2/postmark/pm2', $delivery,
    Authorization => basic_auth('hooks:old'))->{content}, qq({"stored":0,"duplicates":1}\n),
    'dynamic connection, current secret (the same delivery: duplicate)');
is($t->post('/webhooks/v2/postmark/pm2', $delivery,
    Authorization => basic_auth('hooks:s3cret'))->{status}, 401,
    'dynamic connection, another connection\'s secret: 401');
my ($delivered) = grep { $_->{connection} eq 'pm2' } $t->events;
my $comparable = Mailhook::Test::comparable($delivered);
delete $comparable->{id};
is_deeply($comparable, {
    schema => 1, vendor => 'postmark', connection => 'pm2', tenant => undef,
    type => 'delivered', bounce_class => undef, reject_reason => undef,
    recipient => 'jane@example.com', message_id => '0a129aee-e1cd-480d-b08d-4f48548ff48d',
    event_id => undef, timestamp => '2019-11-05T16:33:54Z', smtp_status => '2.0.0',
    mta_response => '250 2.0.0 OK', description => undef, click_url => undef,
    user_agent => undef, ip => undef, campaign_id => undef, tags => ['welcome-email'],
    metadata => { a_key => 'a_value' }, vendor_event => 'Delivery',
    raw => decode_json($delivery),
}, 'dynamic connection event, every field');

$t->finish;
done_testing;
