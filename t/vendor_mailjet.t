# SPDX-License-Identifier: BSD-2-Clause
# Mailjet: no signature; Basic credentials embedded in the callback URL.
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
    'mailhook_connection mj1 vendor=mailjet secret=mj:hook-pass tenant=acme;');

my $path = '/webhooks/v2/mailjet/mj1';
my %auth = (Authorization => basic_auth('mj:hook-pass'), 'Content-Type' => 'application/json');

# vendors.md §14, verbatim.
my $bounce = '{"event": "bounce", "time": 1430812195, "MessageID": 13792286917004336, '
    . '"Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j", "email": "bounce@mailjet.com", '
    . '"mj_campaign_id": 0, "mj_contact_id": 0, "customcampaign": "", "CustomID": "helloworld", '
    . '"Payload": "", "blocked": false, "hard_bounce": true, "error_related_to": "recipient", '
    . '"error": "user unknown", "comment": "Host or domain name not found. ..."}';

my $r = $t->post($path, $bounce, %auth);
my $event = $t->only_stored_event($r, 'authenticated bounce stored');
is_deeply($event, {
    schema => 1, vendor => 'mailjet', connection => 'mj1', tenant => 'acme',
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'bounce@mailjet.com', message_id => '13792286917004336',
    event_id => undef, timestamp => '2015-05-05T07:49:55Z', smtp_status => undef,
    mta_response => 'Host or domain name not found. ...', description => 'user unknown',
    click_url => undef, user_agent => undef, ip => undef, campaign_id => undef,
    tags => [], metadata => { CustomID => 'helloworld' }, vendor_event => 'bounce',
    raw => decode_json($bounce),
}, 'normalized event, every field');
like($t->redis->hget('mailhook:suppression:acme', 'bounce@mailjet.com') // '',
    qr/"reason":"hard_bounce"/, 'hard bounce suppresses the recipient');
is($t->post($path, $bounce, %auth)->{content}, qq({"stored":0,"duplicates":1}\n),
    'the same event again is a duplicate');

# Event API v2 groups events into an array.
my $grouped = '[{"event":"sent","time":1433333949,"MessageID":19421777835146490,'
    . '"email":"api@mailjet.com","mj_campaign_id":7257,"customcampaign":"",'
    . '"smtp_reply":"sent (250 2.0.0 OK 1433333948 fa5si855896wjc.199 - gsmtp)","CustomID":"","Payload":""},'
    . '{"event":"spam","time":1430812195,"MessageID":13792286917004336,"email":"bounce2@mailjet.com",'
    . '"mj_campaign_id":1324,"customcampaign":"","CustomID":"helloworld","Payload":"","source":"JMRPP"}]';
is($t->post($path, $grouped, %auth)->{content}, qq({"stored":2,"duplicates":0}\n),
    'a grouped array stores each event');
my ($sent) = grep { $_->{vendor_event} eq 'sent' } $t->events;
is_deeply([@$sent{qw(type smtp_status campaign_id message_id)}],
    ['delivered', '2.0.0', '7257', '19421777835146490'], 'sent is delivered');
like($t->redis->hget('mailhook:suppression:acme', 'bounce2@mailjet.com') // '',
    qr/"reason":"complaint"/, 'spam complaint suppresses the recipient');

$t->refuses($path, $bounce, [
    ['wrong password', { Authorization => basic_auth('mj:nope') }],
    ['bearer', { Authorization => 'Bearer mj:hook-pass-x' }],
    ['no credentials', {}],
], status => 401, label => 'auth');
$t->refuses($path, undef, [
    ['not JSON', \%auth, 'event=bounce'],
    ['no event name', \%auth, '{"email":"a@example.com"}'],
    ['an array of strings', \%auth, '["bounce"]'],
], status => 400, label => 'format');

$t->redis->hset('mailhook:connection:mj2', vendor => 'mailjet', secret => 'mj2:pw');
my $click = '{"event":"click","time":1433334653,"MessageID":19421777836302490,'
    . '"email":"api@mailjet.com","mj_campaign_id":0,"customcampaign":"spring-sale",'
    . '"CustomID":"","Payload":"{\"order\":17}","url":"https://mailjet.com","ip":"127.0.0.1",'
    . '"geo":"FR","agent":"Mozilla/5.0"}';
is($t->post('/webhooks/v2/mailjet/mj2', $click, Authorization => basic_auth('mj2:pw'))->{status},
    200, 'dynamic connection');
my ($clicked) = grep { $_->{connection} eq 'mj2' } $t->events;
my $comparable = Mailhook::Test::comparable($clicked);
delete $comparable->{id};
is_deeply($comparable, {
    schema => 1, vendor => 'mailjet', connection => 'mj2', tenant => undef,
    type => 'clicked', bounce_class => undef, reject_reason => undef,
    recipient => 'api@mailjet.com', message_id => '19421777836302490', event_id => undef,
    timestamp => '2015-06-03T12:30:53Z', smtp_status => undef, mta_response => undef,
    description => undef, click_url => 'https://mailjet.com', user_agent => 'Mozilla/5.0',
    ip => '127.0.0.1', campaign_id => 'spring-sale', tags => [], metadata => { order => 17 },
    vendor_event => 'click', raw => decode_json($click),
}, 'dynamic connection event, every field');

$t->finish;
done_testing;
