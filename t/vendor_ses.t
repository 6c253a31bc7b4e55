# SPDX-License-Identifier: BSD-2-Clause
# AWS SES via SNS: signatures over the SNS string to sign with a pinned or a
# fetched certificate, one event per recipient, the subscription handshake
# with auto-confirmation, raw delivery, and the 503 when a certificate cannot
# be had. The "AWS" side is a local server block.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(sha256_hex);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Mailhook::SNS qw(make_certificate sign_sns);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(sleep);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
mkdir "$dir/pinned" or die $!;
mkdir "$dir/www" or die $!;

# Certificate "test" is pinned; "fetched" is only served by the fake AWS.
my ($pinned_key) = make_certificate($dir, 'test');
rename "$dir/test.pem", "$dir/pinned/SimpleNotificationService-test.pem" or die $!;
my ($fetched_key) = make_certificate($dir, 'fetched');
rename "$dir/fetched.pem", "$dir/www/SimpleNotificationService-fetched.pem" or die $!;
my ($slow_key, $slow_cert) = make_certificate($dir, 'slow');
my ($tls_key, $tls_cert) = make_certificate($dir, 'tls', 'sns.us-east-1.amazonaws.com');

my $topic = 'arn:aws:sns:us-east-1:123456789012:ses-events';
my $sns = 'https://sns.us-east-1.amazonaws.com';
my $aws = Mailhook::Test::free_port();
my $closed = Mailhook::Test::free_port();
my $aws_tls = Mailhook::Test::free_port();

# An "AWS" that takes its time (longer than the Redis timeout below).
my $slow = Mailhook::Test::free_port();
my $slow_pid = fork() // die "fork: $!";
# The forked server must not outlive a test that dies half-way (it would hold
# prove's pipe open).
END { kill 'TERM', $slow_pid if $slow_pid }
if ($slow_pid == 0) {
    my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $slow,
        Listen => 5, ReuseAddr => 1) or POSIX::_exit(1);
    open my $fh, '<', $slow_cert or POSIX::_exit(1);
    my $pem = do { local $/; <$fh> };
    while (my $client = $server->accept) {
        while (my $line = <$client>) { last if $line =~ /^\r?\n$/ }
        sleep 0.6;
        print $client "HTTP/1.1 200 OK\r\nContent-Length: " . length($pem)
            . "\r\nConnection: close\r\n\r\n$pem";
        close $client;
    }
    POSIX::_exit(0);
}

$t->start_redis;
$t->start_nginx(
    http => <<"HTTP",
    mailhook_sns_certificates $dir/pinned;
    mailhook_connection ses1 vendor=ses topic_arn=arn:aws:sns:us-east-1:123456789012:other,$topic tenant=acme;
    mailhook_connection ses2 vendor=ses;
    mailhook_connection sesraw vendor=ses allow_raw_delivery=true topic_arn=$topic;
    mailhook_connection sesauth vendor=ses secret=sns:pa55;
    log_format aws '\$host "\$request" auth="\$http_authorization" body=\$content_length';
    server {
        listen 127.0.0.1:$aws;
        access_log $dir/aws.log aws;
        root $dir/www;
        location = / { return 200 "<ConfirmSubscriptionResponse/>"; }
    }
    # Instead of DNS: the SNS host names lead to the local TLS "AWS", whose
    # certificate names only us-east-1.
    upstream sns.us-east-1.amazonaws.com { server 127.0.0.1:$aws_tls; }
    upstream sns.eu-west-1.amazonaws.com { server 127.0.0.1:$aws_tls; }
    server {
        listen 127.0.0.1:$aws_tls ssl;
        ssl_certificate $tls_cert;
        ssl_certificate_key $tls_key;
        access_log $dir/aws.log aws;
        root $dir/www;
    }
HTTP
    location => 'mailhook_sns_fetch /_sns_fetch; mailhook_auto_confirm /_sns_confirm;',
    server => <<"SERVER",
        location = /_sns_fetch {
            internal;
            proxy_pass http://127.0.0.1:$aws\$mailhook_fetch_uri;
            proxy_set_header Host \$mailhook_fetch_host;
        }
        location = /_sns_confirm {
            internal;
            proxy_pass http://127.0.0.1:$aws\$mailhook_fetch_uri;
            proxy_set_header Host \$mailhook_fetch_host;
        }
        location /broken/ {
            mailhook;
            mailhook_sns_fetch /_sns_fetch_broken;
            mailhook_retry_after 30s;
        }
        location = /_sns_fetch_broken {
            internal;
            proxy_pass http://127.0.0.1:$closed\$mailhook_fetch_uri;
        }
        location /nofetch/ {
            mailhook;
            mailhook_sns_fetch off;
        }
        # The documented recipe, against a local TLS "AWS" (no DNS here).
        location /tls/ {
            mailhook;
            mailhook_sns_fetch /_sns_fetch_tls;
        }
        location = /_sns_fetch_tls {
            internal;
            proxy_pass \$mailhook_fetch_url;
            proxy_ssl_server_name on;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $tls_cert;
            proxy_connect_timeout 3s;
            proxy_read_timeout 5s;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            subrequest_output_buffer_size 16k;
        }
        location /strict/ {
            mailhook;
            mailhook_timestamp_tolerance ses 300s;
        }
        location /slow/ {
            mailhook;
            mailhook_sns_fetch /_sns_fetch_slow;
            mailhook_redis_timeout 300ms;
        }
        location = /_sns_fetch_slow {
            internal;
            proxy_pass http://127.0.0.1:$slow\$mailhook_fetch_uri;
        }
SERVER
);

my $json = JSON::PP->new->canonical;

sub aws_log {
    open my $fh, '<', "$dir/aws.log" or return ();
    return <$fh>;
}

sub event_id { substr(sha256_hex(join "\0", @_), 0, 32) }

my $mail = {
    timestamp => '2016-01-27T14:59:38.237Z', source => 'john@example.com',
    sourceArn => 'arn:aws:ses:us-east-1:888888888888:identity/example.com',
    sourceIp => '127.0.3.0', sendingAccountId => '123456789012',
    callerIdentity => 'IAM_user_or_role_name',
    messageId => '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
    destination => ['jane@example.com', 'mary@example.com', 'richard@example.com'],
};
my $bounce = {
    notificationType => 'Bounce',
    bounce => {
        bounceType => 'Permanent', bounceSubType => 'General',
        reportingMTA => 'dns; email.example.com',
        bouncedRecipients => [
            { emailAddress => 'jane@example.com', status => '5.1.1', action => 'failed',
              diagnosticCode => 'smtp; 550 5.1.1 <jane@example.com>... User' },
            { emailAddress => 'richard@example.com', status => '5.1.1', action => 'failed',
              diagnosticCode => 'smtp; 550 5.1.1 <richard@example.com>... User' },
        ],
        timestamp => '2016-01-27T14:59:38.237Z',
        feedbackId => '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000',
        remoteMtaIp => '127.0.2.0',
    },
    mail => $mail,
};
my $delivery = {
    notificationType => 'Delivery',
    delivery => {
        timestamp => '2016-01-27T14:59:38.237Z', recipients => ['jane@example.com'],
        processingTimeMillis => 546, reportingMTA => 'a8-70.smtp-out.amazonses.com',
        smtpResponse => '250 ok:  Message 64111812 accepted', remoteMtaIp => '127.0.2.0',
    },
    mail => $mail,
};

sub notification {
    my ($id, $message, %extra) = @_;
    return {
        Type => 'Notification', MessageId => $id, TopicArn => $topic,
        Message => $json->encode($message), Timestamp => '2016-01-27T14:59:39.012Z',
        %extra,
    };
}

sub post_sns {
    my ($path, $body, %headers) = @_;
    return $t->post($path, $body, 'Content-Type' => 'text/plain; charset=UTF-8',
        'x-amz-sns-message-type' => 'Notification', %headers);
}

my $path = '/webhooks/v2/ses/ses1';

# --- (a) pinned certificate ---------------------------------------------------

my $r = post_sns($path, sign_sns(notification('msg-bounce', $bounce), $pinned_key));
is($r->{status}, 200, 'pinned certificate: bounce stored');
is($r->{content}, qq({"stored":2,"duplicates":0}\n), 'two recipients, two events');

my @events = $t->events;
is(scalar @events, 2, 'two stream entries');
my %common = (
    schema => 1, vendor => 'ses', connection => 'ses1', tenant => 'acme',
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    message_id => '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
    event_id => '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000',
    timestamp => '2016-01-27T14:59:38Z', smtp_status => '5.1.1',
    description => 'Permanent: General', click_url => undef, user_agent => undef,
    ip => undef, campaign_id => undef, tags => [], metadata => {},
    vendor_event => 'Bounce',
);
my $second_id = event_id('ses', 'ses1', 'sns:msg-bounce:richard@example.com');
# The notification is stored once, in the last of its events (security
# review M1); the others point at that one, the next stream entry here.
is_deeply(Mailhook::Test::comparable($events[0]), {
    %common,
    id => event_id('ses', 'ses1', 'sns:msg-bounce:jane@example.com'),
    recipient => 'jane@example.com',
    mta_response => 'smtp; 550 5.1.1 <jane@example.com>... User',
    raw_ref => { id => $second_id, after => 1 },
}, 'first recipient, every field, the raw notification by reference');
is_deeply(Mailhook::Test::comparable($events[1]), {
    %common,
    id => $second_id,
    recipient => 'richard@example.com',
    mta_response => 'smtp; 550 5.1.1 <richard@example.com>... User',
    raw => $bounce,
}, 'second recipient, its own id, the raw notification');
my $suppressed = $t->redis->hget('mailhook:suppression:acme', 'jane@example.com');
like($suppressed, qr/"reason":"hard_bounce"/, 'hard bounce suppresses the recipient');

$r = post_sns($path, sign_sns(notification('msg-bounce', $bounce), $pinned_key));
is($r->{content}, qq({"stored":0,"duplicates":2}\n), 'SNS retry (same MessageId) is a duplicate');

$r = post_sns($path, sign_sns(notification('msg-v1', $delivery, Subject => "Delivery \x{e9}t\x{e9}"),
    $pinned_key, version => '1'));
is($r->{status}, 200, 'SignatureVersion 1 (RSA-SHA1) with a Subject');
my ($delivered) = grep { $_->{type} eq 'delivered' } $t->events;
is($delivered->{mta_response}, '250 ok:  Message 64111812 accepted', 'delivery smtpResponse');
is($delivered->{event_id}, 'msg-v1', 'SNS MessageId as event id');

my $count = $t->event_count;
my %sns = ('Content-Type' => 'text/plain; charset=UTF-8', 'x-amz-sns-message-type' => 'Notification');
my $tampered = sign_sns(notification('msg-tampered', $delivery), $pinned_key);
$tampered =~ s/64111812/64111813/;
$t->refuses($path, undef, [
    ['tampered Message', \%sns, $tampered],
    ['signed by another key', \%sns, sign_sns(notification('msg-wrongkey', $delivery), $fetched_key)],
    (map { ["certificate URL refused: $_", \%sns,
            sign_sns(notification('msg-url', $delivery), $pinned_key, cert_url => $_)] }
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-test.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.txt"),
    ['correctly signed but foreign topic', \%sns, sign_sns(notification('msg-topic', $delivery,
        TopicArn => 'arn:aws:sns:us-east-1:999999999999:someone-else'), $pinned_key)],
], status => 401, label => 'signature', answer => { 'WWW-Authenticate' => undef });
$t->refuses($path, $json->encode($delivery), [['raw message delivery refused by default',
    { %sns, 'x-amz-sns-rawdelivery' => 'true', 'x-amz-sns-message-id' => 'raw-1',
      'x-amz-sns-topic-arn' => $topic }]], status => 400, label => 'unsupported');

$r = post_sns('/webhooks/v2/ses/sesraw', $json->encode($delivery),
    'x-amz-sns-rawdelivery' => 'true', 'x-amz-sns-message-id' => 'raw-1',
    'x-amz-sns-topic-arn' => $topic);
is($r->{status}, 200, 'raw delivery stored where allowed (unauthenticated)');
is($t->event_count, $count + 1, 'one raw event');

# --- timestamp tolerance: off by default, configurable ----------------------

$r = post_sns('/strict/ses/ses1', sign_sns(notification('msg-old', $delivery), $pinned_key));
is($r->{status}, 401, 'mailhook_timestamp_tolerance ses 300s: a 2016 Timestamp is refused');
is($r->{content}, qq({"error":"timestamp"}\n), '... as a timestamp error');
my @now = gmtime;
my $now = sprintf '%04d-%02d-%02dT%02d:%02d:%02d.000Z', $now[5] + 1900, $now[4] + 1, @now[3, 2, 1, 0];
$r = post_sns('/strict/ses/ses1', sign_sns(notification('msg-now', $delivery, Timestamp => $now), $pinned_key));
is($r->{status}, 200, '... a current one is stored');

# --- basic auth on top: the challenge --------------------------------------

$r = post_sns('/webhooks/v2/ses/sesauth', sign_sns(notification('msg-auth', $delivery), $pinned_key));
is($r->{status}, 401, 'secret set, no credentials: 401');
is($r->{headers}{'www-authenticate'}, 'Basic realm="mailhook"', 'with a Basic challenge');
$r = post_sns('/webhooks/v2/ses/sesauth', sign_sns(notification('msg-auth', $delivery), $pinned_key),
    Authorization => 'Basic ' . MIME::Base64::encode_base64('sns:pa55', ''));
is($r->{status}, 200, 'credentials and signature: stored');

# --- (b) fetched certificate ---------------------------------------------

my $fetched_url = "$sns/SimpleNotificationService-fetched.pem";
$count = $t->event_count;
$r = post_sns($path, sign_sns(notification('msg-fetch-1', $delivery), $fetched_key,
    cert_url => $fetched_url), Authorization => 'Basic c2VjcmV0OnNlY3JldA==');
is($r->{status}, 200, 'unpinned certificate fetched, message stored');
is($t->event_count, $count + 1, 'event stored after the fetch');
my @fetches = grep { m{SimpleNotificationService-fetched\.pem} } aws_log();
is(scalar @fetches, 1, 'certificate fetched once');
like($fetches[0] // '', qr{^sns\.us-east-1\.amazonaws\.com "GET /SimpleNotificationService-fetched\.pem HTTP/1\.\d"},
    'fetch asked the SNS host for the certificate path');
like($fetches[0] // '', qr{auth="-" body=-$}, "fetch carried none of the vendor's headers or body");

$r = post_sns($path, sign_sns(notification('msg-fetch-2', $delivery), $fetched_key,
    cert_url => $fetched_url));
is($r->{status}, 200, 'second message with the same certificate');
@fetches = grep { m{SimpleNotificationService-fetched\.pem} } aws_log();
is(scalar @fetches, 1, 'certificate cached by the worker: no second fetch');

$r = post_sns($path, sign_sns(notification('msg-fetch-3', $delivery), $pinned_key,
    cert_url => $fetched_url));
is($r->{status}, 401, 'fetched certificate does not match the signature: 401');

$count = $t->event_count;
$r = post_sns($path, sign_sns(notification('msg-missing', $delivery), $fetched_key,
    cert_url => "$sns/SimpleNotificationService-missing.pem"));
is($r->{status}, 503, 'certificate not found at the SNS host: 503');
is($r->{headers}{'retry-after'}, '10', 'with Retry-After');
is($r->{content}, qq({"error":"key_unavailable"}\n), 'key_unavailable');

$r = post_sns('/broken/ses/ses1', sign_sns(notification('msg-broken', $delivery), $fetched_key,
    cert_url => "$sns/SimpleNotificationService-other.pem"));
is($r->{status}, 503, 'fetch location failing: 503');
is($r->{headers}{'retry-after'}, '30', 'with the configured Retry-After');

$r = post_sns('/nofetch/ses/ses1', sign_sns(notification('msg-nofetch', $delivery), $fetched_key,
    cert_url => "$sns/SimpleNotificationService-unknown.pem"));
is($r->{status}, 503, 'certificate neither pinned nor fetchable: 503');
is($t->event_count, $count, 'nothing stored without the certificate');
like($t->error_log, qr/signing certificate \Q$sns\E\/SimpleNotificationService-unknown\.pem is not available/,
    'the missing certificate is named in the error log');

# Over TLS with verification: the server's certificate must name the SNS host.
my ($tls_signing_key) = make_certificate($dir, 'tlsfetched');
rename "$dir/tlsfetched.pem", "$dir/www/SimpleNotificationService-tls.pem" or die $!;
$count = $t->event_count;
$r = post_sns('/tls/ses/ses1', sign_sns(notification('msg-tls', $delivery), $tls_signing_key,
    cert_url => "$sns/SimpleNotificationService-tls.pem"));
is($r->{status}, 200, 'certificate fetched over verified TLS');
$r = post_sns('/tls/ses/ses1', sign_sns(notification('msg-tls-2', $delivery), $tls_signing_key,
    cert_url => 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-tls.pem'));
is($r->{status}, 503, 'TLS name mismatch (server is not that SNS host): 503');
is($t->event_count, $count + 1, 'only the verified one stored');

# A connection from Redis arms the Redis deadline for its look-up; a fetch
# slower than that deadline must not trip it.
$t->redis->hset('mailhook:connection:sesdyn', vendor => 'ses', topic_arn => $topic);
$count = $t->event_count;
$r = post_sns('/slow/ses/sesdyn', sign_sns(notification('msg-slow', $delivery), $slow_key,
    cert_url => "$sns/SimpleNotificationService-slow.pem"));
is($r->{status}, 200, 'slow certificate fetch after a Redis look-up: stored');
is($t->event_count, $count + 1, 'one event from the slow fetch');

# --- (c) subscription handshake --------------------------------------------

my $subscribe_url = "$sns/?Action=ConfirmSubscription&TopicArn=$topic&Token=2336412f37fb687f5d51e6e2425c464de12884";
my $confirmation = {
    Type => 'SubscriptionConfirmation', MessageId => '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
    Token => '2336412f37fb687f5d51e6e2425c464de12884', TopicArn => $topic,
    Message => "You have chosen to subscribe to the topic $topic.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
    SubscribeURL => $subscribe_url, Timestamp => '2012-04-26T20:45:04.751Z',
};
$count = $t->event_count('mailhook:control');
my $events_before = $t->event_count;
my $body = sign_sns({%$confirmation}, $pinned_key);
$r = post_sns($path, $body, 'x-amz-sns-message-type' => 'SubscriptionConfirmation');
is($r->{status}, 200, 'SubscriptionConfirmation verified and recorded');
# Control entries go to the control stream, not the event stream.
my ($control) = grep { $_->{vendor_event} eq 'SubscriptionConfirmation' }
    $t->events('mailhook:control');
is_deeply(Mailhook::Test::comparable($control), {
    schema => 1, id => event_id('ses', 'ses1', 'sns:165545c9-2a5c-472c-8df2-7ff2be2b3b1b'),
    vendor => 'ses', connection => 'ses1', tenant => 'acme', type => 'unknown',
    bounce_class => undef, reject_reason => undef, recipient => undef, message_id => undef,
    event_id => '165545c9-2a5c-472c-8df2-7ff2be2b3b1b', timestamp => '2012-04-26T20:45:04Z',
    smtp_status => undef, mta_response => undef, description => undef, click_url => undef,
    user_agent => undef, ip => undef, campaign_id => undef, tags => [],
    metadata => { control => 'subscription_confirmation', subscribe_url => $subscribe_url,
                  topic_arn => $topic },
    vendor_event => 'SubscriptionConfirmation', raw => decode_json($body),
}, 'control entry, every field');

sub confirmations { grep { m{ConfirmSubscription} } aws_log() }
Mailhook::Test::wait_for('the confirmation GET', 5, sub { confirmations() >= 1 });
my @confirmed = confirmations();
is(scalar @confirmed, 1, 'SubscribeURL fetched once');
like($confirmed[0], qr{^sns\.us-east-1\.amazonaws\.com "GET /\?Action=ConfirmSubscription&TopicArn=\Q$topic\E&Token=2336412f37fb687f5d51e6e2425c464de12884 HTTP/1\.\d" auth="-"},
    'GET of the SubscribeURL on the SNS host');
Mailhook::Test::wait_for('the confirmation log line', 5,
    sub { $t->error_log =~ /subscription confirmed at sns\.us-east-1\.amazonaws\.com \(status 200\)/ });
pass('confirmation logged');

$r = post_sns($path, $body, 'x-amz-sns-message-type' => 'SubscriptionConfirmation');
is($r->{content}, qq({"stored":0,"duplicates":1}\n), 'repeated confirmation is a duplicate');
sleep 0.3;
is(scalar(confirmations()), 1, 'and is not confirmed again');

$r = post_sns('/webhooks/v2/ses/ses2', sign_sns({%$confirmation, MessageId => 'c-2'}, $pinned_key),
    'x-amz-sns-message-type' => 'SubscriptionConfirmation');
is($r->{status}, 200, 'unrestricted connection: confirmation recorded');
like($t->error_log, qr/not confirmed: set topic_arn/, '... but not confirmed (warned)');

$r = post_sns($path, sign_sns({%$confirmation, Type => 'UnsubscribeConfirmation', MessageId => 'u-1'},
    $pinned_key), 'x-amz-sns-message-type' => 'UnsubscribeConfirmation');
is($r->{status}, 200, 'UnsubscribeConfirmation recorded');
my ($unsubscribe) = grep { $_->{vendor_event} eq 'UnsubscribeConfirmation' }
    $t->events('mailhook:control');
is($unsubscribe->{metadata}{control}, 'unsubscribe_confirmation', 'as a control entry');
sleep 0.3;
is(scalar(confirmations()), 1, 'its SubscribeURL is never fetched');
is($t->event_count('mailhook:control'), $count + 3, 'three control entries');
is($t->event_count, $events_before, 'none of them in the event stream');

kill 'TERM', $slow_pid;
waitpid($slow_pid, 0);

$t->finish;
done_testing;
