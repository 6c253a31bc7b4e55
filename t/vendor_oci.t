# SPDX-License-Identifier: BSD-2-Clause
# OCI Email Delivery through OCI Notifications: Basic auth with the 401
# challenge, the subscription confirmation recorded and confirmed (through a
# local server block playing OCI), Email Delivery log entries normalized.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(sha256_hex);
use JSON::PP;
use Mailhook::Sign qw(basic_auth);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(sleep);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $oci = Mailhook::Test::free_port();

$t->start_redis;
$t->start_nginx(
    http => <<"HTTP",
    mailhook_connection oci1 vendor=oci secret=ons:s3cret tenant=acme;
    log_format oci '\$host "\$request" auth="\$http_authorization" body=\$content_length';
    server {
        listen 127.0.0.1:$oci;
        access_log $dir/oci.log oci;
        location / { return 200 "confirmed"; }
    }
HTTP
    location => 'mailhook_auto_confirm /_confirm;',
    server => <<"SERVER",
        location = /_confirm {
            internal;
            proxy_pass http://127.0.0.1:$oci\$mailhook_fetch_uri;
            proxy_set_header Host \$mailhook_fetch_host;
        }
SERVER
);

my $json = JSON::PP->new->canonical;
my $path = '/webhooks/v2/oci/oci1';
my $auth = basic_auth('ons:s3cret');

sub event_id { substr(sha256_hex(join "\0", @_), 0, 32) }

sub oci_log {
    open my $fh, '<', "$dir/oci.log" or return ();
    return <$fh>;
}

sub confirmations { grep { m{/confirmation\?token=} } oci_log() }

my $confirmation_url = 'https://cell1.notification.us-phoenix-1.oci.oraclecloud.com/20181201/'
    . 'subscriptions/ocid1.onssubscription.oc1.phx.aaaaexample/confirmation'
    . '?token=MDAwMHRCUzFpVnVYb2FqM1YxMXVTKzJQUDJFb2NFcWp5SEpuQzlqWDNvS0JMN25xaVFrSFhvPQ==&protocol=CUSTOM_HTTPS';
my %confirmation_headers = (
    'Content-Type' => 'application/json',
    'X-OCI-NS-MessageType' => 'SubscriptionConfirmation',
    'X-OCI-NS-MessageId' => 'ons-confirm-1',
    'X-OCI-NS-TopicOcid' => 'ocid1.onstopic.oc1.phx.example',
    'X-OCI-NS-TopicName' => 'email-events',
    'X-OCI-NS-SubscriptionId' => 'ocid1.onssubscription.oc1.phx.aaaaexample',
    'X-OCI-NS-Timestamp' => '2019-04-19T21:26:00.310+0000',
    'X-OCI-NS-ConfirmationURL' => $confirmation_url,
    'X-OCI-NS-SignatureVersion' => '1.0',
    'X-OCI-NS-Signature' => 'not-checked',
);
my $confirmation = $json->encode({ ConfirmationURL => $confirmation_url });

# --- authentication -------------------------------------------------------------

# ONS waits for the Basic challenge before it sends credentials.
$t->refuses($path, $confirmation, [
    ['no credentials', \%confirmation_headers],
    ['wrong basic auth', { %confirmation_headers, Authorization => basic_auth('ons:guess') }],
], status => 401, label => 'auth', answer => { 'WWW-Authenticate' => 'Basic realm="mailhook"' });
sleep 0.2;
is(scalar(confirmations()), 0, 'nothing confirmed');
my $r;

# --- subscription confirmation ------------------------------------------------

$r = $t->post($path, $confirmation, %confirmation_headers, Authorization => $auth);
is($r->{status}, 200, 'confirmation recorded');
my ($control) = $t->events('mailhook:control');  # not in the event stream
is($t->event_count, 0, 'no event in the event stream');
is_deeply(Mailhook::Test::comparable($control), {
    schema => 1, id => event_id('oci', 'oci1', 'ons:ons-confirm-1'), vendor => 'oci',
    connection => 'oci1', tenant => 'acme', type => 'unknown', bounce_class => undef,
    reject_reason => undef, recipient => undef, message_id => undef, event_id => 'ons-confirm-1',
    timestamp => '2019-04-19T21:26:00Z', smtp_status => undef, mta_response => undef,
    description => undef, click_url => undef, user_agent => undef, ip => undef,
    campaign_id => undef, tags => [],
    metadata => {
        control => 'subscription_confirmation', subscribe_url => $confirmation_url,
        topic_ocid => 'ocid1.onstopic.oc1.phx.example', topic_name => 'email-events',
        subscription_id => 'ocid1.onssubscription.oc1.phx.aaaaexample',
    },
    vendor_event => 'SubscriptionConfirmation', raw => { ConfirmationURL => $confirmation_url },
}, 'control entry, every field');

Mailhook::Test::wait_for('the confirmation GET', 5, sub { confirmations() >= 1 });
my @confirmed = confirmations();
is(scalar @confirmed, 1, 'ConfirmationURL fetched once');
my ($uri) = $confirmation_url =~ m{^https://[^/]+(/.*)$};
like($confirmed[0], qr{^cell1\.notification\.us-phoenix-1\.oci\.oraclecloud\.com "GET \Q$uri\E HTTP/1\.\d" auth="-" body=-$},
    'GET on the OCI host, without our credentials');

$r = $t->post($path, $confirmation, %confirmation_headers, Authorization => $auth);
is($r->{content}, qq({"stored":0,"duplicates":1}\n), 'repeated confirmation: duplicate');
sleep 0.3;
is(scalar(confirmations()), 1, 'not confirmed again');

$r = $t->post($path, $json->encode({ ConfirmationURL => 'https://evil.example/confirm?token=1' }),
    %confirmation_headers, 'X-OCI-NS-MessageId' => 'ons-confirm-2',
    'X-OCI-NS-ConfirmationURL' => 'https://evil.example/confirm?token=1', Authorization => $auth);
is($r->{status}, 200, 'confirmation with a foreign URL recorded');
like($t->error_log, qr/not confirmed: ConfirmationURL is not https on an OCI Notifications host/,
    '... not confirmed, and the log says why');
sleep 0.3;
is(scalar(grep { /evil/ } oci_log()), 0, 'foreign URL never fetched');

# --- Email Delivery log entries ---------------------------------------------

my %notification_headers = (
    'Content-Type' => 'application/json', 'X-OCI-NS-MessageType' => 'Notification',
    'X-OCI-NS-MessageId' => 'ons-msg-1', Authorization => $auth,
);
my $entry = {
    datetime => 1690935026859,
    logContent => {
        data => {
            action => 'relay', recipient => 'user@example.com', sender => 'support@example.com',
            messageId => '<20230802001026.1@example.com>', smtpStatus => '250 2.0.0 OK 1690935026',
        },
        id => 'f83205ef-0bef-47d0-b6b2-362afc4a2e9a',
        oracle => { compartmentid => 'ocid1.compartment.oc1..example',
                    logid => 'ocid1.log.oc1.phx.example' },
        source => 'example.com', specversion => '1.0', time => '2023-08-02T00:10:26.859Z',
        type => 'com.oraclecloud.emaildelivery.emaildomain.outboundrelayed',
    },
    regionId => 'us-phoenix-1',
};
$r = $t->post($path, $json->encode($entry), %notification_headers);
is($r->{status}, 200, 'relay log entry stored');
my ($delivered) = grep { $_->{vendor_event} eq 'relay' } $t->events;
is_deeply(Mailhook::Test::comparable($delivered), {
    schema => 1, id => event_id('oci', 'oci1', 'oci:log:f83205ef-0bef-47d0-b6b2-362afc4a2e9a'),
    vendor => 'oci', connection => 'oci1', tenant => 'acme', type => 'delivered',
    bounce_class => undef, reject_reason => undef, recipient => 'user@example.com',
    message_id => '<20230802001026.1@example.com>',
    event_id => 'f83205ef-0bef-47d0-b6b2-362afc4a2e9a', timestamp => '2023-08-02T00:10:26Z',
    smtp_status => '2.0.0', mta_response => '250 2.0.0 OK 1690935026', description => undef,
    click_url => undef, user_agent => undef, ip => undef, campaign_id => undef, tags => [],
    metadata => {}, vendor_event => 'relay', raw => $entry,
}, 'normalized log entry, every field');

my $batch = [
    { action => 'accept', recipient => 'gone@example.com', errorType => 'Recipient suppressed',
      smtpStatus => '550 5.0.0 Recipient suppressed' },
    { action => 'bounce', recipient => 'nobody@example.com',
      smtpStatus => '550 5.1.1 <nobody@example.com>: no such user' },
    { action => 'somethingnew', recipient => 'x@example.com' },
];
$r = $t->post($path, $json->encode($batch), %notification_headers, 'X-OCI-NS-MessageId' => 'ons-msg-2');
is($r->{content}, qq({"stored":3,"duplicates":0}\n), 'array of records: one event each');
my %by_recipient = map { $_->{recipient} => $_ } $t->events;
is($by_recipient{'gone@example.com'}{type}, 'rejected', 'suppressed at acceptance: rejected');
is($by_recipient{'gone@example.com'}{description}, 'Recipient suppressed', 'errorType as description');
is($by_recipient{'nobody@example.com'}{type}, 'bounced', 'bounce');
is($by_recipient{'nobody@example.com'}{bounce_class}, 'hard', '5xx reply: hard');
is($by_recipient{'nobody@example.com'}{id}, event_id('oci', 'oci1', 'ons:ons-msg-2:1:nobody@example.com'),
    'dedup on ONS MessageId, position and recipient');
is($by_recipient{'x@example.com'}{type}, 'unknown', 'unknown action: unknown');
is_deeply($by_recipient{'x@example.com'}{raw}, $batch->[2], '... kept raw');
like($t->redis->hget('mailhook:suppression:acme', 'nobody@example.com') // '', qr/hard_bounce/,
    'hard bounce suppresses');

$r = $t->post($path, $json->encode($batch), %notification_headers, 'X-OCI-NS-MessageId' => 'ons-msg-2');
is($r->{content}, qq({"stored":0,"duplicates":3}\n), 'ONS retry: duplicates');

$t->refuses($path, $json->encode($batch), [['notification with wrong basic auth',
    { %notification_headers, Authorization => basic_auth('ons:nope') }]],
    status => 401, label => 'auth', answer => { 'WWW-Authenticate' => 'Basic realm="mailhook"' });
$t->refuses($path, 'plain text', [['not JSON',
    { %notification_headers, 'X-OCI-NS-MessageId' => 'ons-msg-3' }]], status => 400, label => 'format');

# A connection from Redis works the same.
$t->redis->hset('mailhook:connection:oci2', vendor => 'oci', secret => 'other:pw');
$r = $t->post('/webhooks/v2/oci/oci2', $json->encode($batch->[1]), %notification_headers,
    Authorization => basic_auth('other:pw'), 'X-OCI-NS-MessageId' => 'ons-msg-4');
is($r->{status}, 200, 'dynamic connection: stored');

$t->finish;
done_testing;
