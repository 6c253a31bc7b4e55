# SPDX-License-Identifier: BSD-2-Clause
# L3 (security review 2026-12-01): bytes from the request never start a line
# of error.log. The review's inputs: LF, CR and ESC in decoded URI segments,
# and an unsigned SNS TopicArn holding a complete nginx-format line. Each is
# refused with its exact status and stores nothing; error.log (at info, where
# nginx itself logs no request bytes) stays one well-formed line per entry,
# with the hostile bytes written as \xNN.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
my $topic = 'arn:aws:sns:us-east-1:123456789012:ses-events';
$t->start_nginx(
    log_level => 'info',
    http => "mailhook_connection c1 vendor=inboxroad secret=s1;"
        . " mailhook_connection ses1 vendor=ses topic_arn=$topic;",
);

my @uri_cases = (
    ['LF in the connection id', '/webhooks/v2/inboxroad/c1%0A[notice]%20FORGED-LF',
        'vendor=inboxroad connection=c1\x0A[notice] FORGED-LF'],
    ['CR in the vendor', '/webhooks/v2/sendgrid%0D[notice]%20FORGED-CR/c1',
        'vendor=sendgrid\x0D[notice] FORGED-CR connection=c1'],
    ['ANSI escapes in the vendor', '/webhooks/v2/x%1B%5B31mRED%1B%5B0m/c1',
        'vendor=x\x1B[31mRED\x1B[0m connection=c1'],
    ['C1 CSI and invalid UTF-8', '/webhooks/v2/v%C2%9B31m%FF/c1',
        'vendor=v\xC2\x9B31m\xFF connection=c1'],
    ['a backslash escape sent literally', '/webhooks/v2/inboxroad/c1%5Cx0A',
        'vendor=inboxroad connection=c1\x5Cx0A'],
);
for my $case (@uri_cases) {
    my ($name, $path, $logged) = @$case;
    my $r = $t->post($path, '{}');
    is($r->{status}, 404, "L3 $name: 404");
    is($r->{content}, qq({"error":"unknown_connection"}\n), "L3 $name: error label");
    like($t->error_log, qr/\Q$logged\E status=404/, "L3 $name: logged escaped");
}

# The TopicArn is checked before the signature, so its bytes are unsigned.
my $forged = "2026/12/01 00:00:00 [notice] 1#1: FORGED-TOPIC";
my $body = JSON::PP->new->canonical->encode({
    Type => 'Notification', MessageId => 'm-l3', Message => '{}',
    TopicArn => "arn:aws:sns:us-east-1:1:evil\n$forged", Timestamp => '2026-12-01T00:00:00Z',
    SignatureVersion => '1', Signature => 'AAAA',
    SigningCertURL => 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
});
my $r = $t->post('/webhooks/v2/ses/ses1', $body, 'Content-Type' => 'text/plain');
is($r->{status}, 401, 'L3 unsigned TopicArn with a forged line: 401');
like($t->error_log, qr/TopicArn arn:aws:sns:us-east-1:1:evil\\x0A\Q$forged\E is not/,
    'L3 TopicArn logged escaped');

is_deeply([grep { !/^mailhook:health:/ } $t->redis->keys('*')], [], 'L3 nothing stored in Redis');
my @lines = split /\n/, $t->error_log;
my @malformed = grep { !m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[[a-z]+\] \d+#\d+: } } @lines;
ok(!@malformed, 'L3 every error.log line is one nginx entry') or diag(join "\n", @malformed);
ok(!grep({ /FORGED/ && !/rejected/ } @lines), 'L3 no forged text outside a rejection line');
unlike($t->error_log, qr/[\x00-\x09\x0b-\x1f\x7f]/, 'L3 no control byte in error.log');

$t->finish;
done_testing;
