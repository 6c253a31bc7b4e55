# SPDX-License-Identifier: BSD-2-Clause
# SMTP.com: JSON array of callbacks; Basic/Bearer credentials, or the
# configured HMAC scheme when the connection names a signature_header.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(hmac_sha256_hex);
use JSON::PP;
use Mailhook::Sign qw(basic_auth);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
# sc2 lives in Redis and is signed with the configured HMAC scheme.
$t->redis->hset('mailhook:connection:sc2', vendor => 'smtpcom', secret => 'sc-hmac',
    signature_header => 'X-Callback-Signature');
$t->start_nginx(http => 'mailhook_connection sc1 vendor=smtpcom secret=acme:s3cret tenant=acme;');

my $json = JSON::PP->new->canonical;
my $sc1 = '/webhooks/v2/smtpcom/sc1';
my %auth = (Authorization => basic_auth('acme:s3cret'), 'Content-Type' => 'application/json');

# vendors.md §3 sample (the doc's "100500." typo fixed) and a delivery
my %bounce = (
    id => 'f5a09b889153a22555af2de426dac8cd', event_label => 'bounce', sender_id => 100500,
    tracking_id => '42b36f27-184a-4d01-816e-601ebe4e6163', mail_from => 'sender@smtp.com',
    rcpt_to => 'sender@smtp.com', subject => 'Email subject', time_started => 1608037665,
    time_finished => 1608037668, tries => 0, resp_code => 550, resp_class => 10,
    resp_msg => '5.9.1 <sender@smtp.com>: Recipient address rejected: User does not exist',
    cmpID => 'SGkgTWljaGFlbAo=', userID => '123456', importantFlag => 'yes',
);
my %delivered = (
    id => 'a0a1a2a3', event_label => 'delivered', tracking_id => 't-2',
    rcpt_to => 'ok@example.com', time_started => 1608037600, time_finished => 1608037601,
    resp_code => 250, resp_msg => '2.0.0 OK queued as 12345',
);
my $body = $json->encode([\%bounce, \%delivered]);
my $r = $t->post($sc1, $body, %auth);
is($r->{status}, 200, 'basic auth: batch stored');
is($r->{content}, qq({"stored":2,"duplicates":0}\n), 'two events');

my @events = map { Mailhook::Test::comparable($_) } $t->events;
like(delete $_->{id}, qr/^[0-9a-f]{32}$/, 'stable id') for @events;
is_deeply($events[0], {
    schema => 1, vendor => 'smtpcom', connection => 'sc1', tenant => 'acme',
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'sender@smtp.com', message_id => '42b36f27-184a-4d01-816e-601ebe4e6163',
    event_id => 'f5a09b889153a22555af2de426dac8cd', timestamp => '2020-12-15T13:07:48Z',
    smtp_status => '5.9.1',
    mta_response => '550 5.9.1 <sender@smtp.com>: Recipient address rejected: User does not exist',
    description => undef, click_url => undef, user_agent => undef, ip => undef,
    campaign_id => undef, tags => [],
    metadata => { cmpID => 'SGkgTWljaGFlbAo=', userID => '123456', importantFlag => 'yes' },
    vendor_event => 'bounce', raw => \%bounce,
}, 'bounce sample, every field');
is_deeply($events[1], {
    schema => 1, vendor => 'smtpcom', connection => 'sc1', tenant => 'acme',
    type => 'delivered', bounce_class => undef, reject_reason => undef,
    recipient => 'ok@example.com', message_id => 't-2', event_id => 'a0a1a2a3',
    timestamp => '2020-12-15T13:06:41Z', smtp_status => '2.0.0',
    mta_response => '250 2.0.0 OK queued as 12345', description => undef,
    click_url => undef, user_agent => undef, ip => undef, campaign_id => undef,
    tags => [], metadata => {}, vendor_event => 'delivered', raw => \%delivered,
}, 'delivery, every field');
like($t->redis->hget('mailhook:suppression:acme', 'sender@smtp.com') // '',
    qr/"reason":"hard_bounce"/, '5xx bounce suppresses the recipient');

$r = $t->post($sc1, $body, %auth);
is($r->{content}, qq({"stored":0,"duplicates":2}\n), 'retried batch: duplicates by id');

# --- refusals --------------------------------------------------------------
$t->refuses($sc1, $body, [
    ['wrong password', { Authorization => basic_auth('acme:wrong') }],
    ['wrong bearer', { Authorization => 'Bearer nope' }],
    ['no credentials', {}],
], status => 401, label => 'auth');
$t->refuses($sc1, $json->encode(\%bounce), [['a bare object instead of an array', \%auth]],
    status => 400, label => 'format');

# --- sc2 (Redis): configured HMAC ------------------------------------------
my $sc2 = '/webhooks/v2/smtpcom/sc2';
my $open = $json->encode([{ id => 'o-1', event_label => 'open', rcpt_to => 'r@example.com',
    time_finished => 1608037700 }]);
$r = $t->post($sc2, $open, 'X-Callback-Signature' => hmac_sha256_hex($open, 'sc-hmac'));
is($r->{status}, 200, 'HMAC-signed callback stored');
is($t->post($sc2, $open, 'X-Callback-Signature' => hmac_sha256_hex($open, 'other'))->{status},
    401, 'HMAC with the wrong key: 401');
is($t->post($sc2, $open . ' ', 'X-Callback-Signature' => hmac_sha256_hex($open, 'sc-hmac'))
    ->{status}, 401, 'HMAC over a tampered body: 401');
is($t->post($sc2, $open, Authorization => 'Bearer sc-hmac')->{status}, 401,
    'HMAC connection does not take the secret as a bearer token');
my ($stored) = grep { $_->{connection} eq 'sc2' } $t->events;
is($stored->{type}, 'opened', 'HMAC connection event normalized');

$t->finish;
done_testing;
