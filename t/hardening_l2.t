# SPDX-License-Identifier: BSD-2-Clause
# L2 (security review 2026-12-01): the SNS SigningCertURL host must be
# sns.<region>.amazonaws.com[.cn]. S3 virtual hosts (`sns.s3-accelerate...`,
# `sns.s3-us-west-2...`: a bucket named "sns" has a valid wildcard
# certificate there) and other single labels are refused (401) before any
# certificate fetch, and nothing is stored. Fetches go to a local server that
# logs what it was asked for: only the region host's certificate is fetched.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
my $fetch_port = Mailhook::Test::free_port();
my $fetch_log = $t->dir . '/fetches.log';
$t->start_redis;
$t->start_nginx(
    http => join(' ',
        'mailhook_connection ses2 vendor=ses;',
        'log_format l2_fetch "$request_uri";',
        "server { listen 127.0.0.1:$fetch_port; access_log $fetch_log l2_fetch; return 404; }"),
    location => 'mailhook_sns_fetch /_sns_fetch;',
    server => " location = /_sns_fetch { internal; proxy_pass http://127.0.0.1:$fetch_port\$mailhook_fetch_uri; }",
);

sub sns_body {
    my ($url) = @_;
    return JSON::PP->new->utf8->canonical->encode({ Type => 'Notification', MessageId => 'l2-sns',
        Message => '{}', TopicArn => 'arn:aws:sns:us-east-1:123456789012:t',
        Timestamp => '2026-12-01T00:00:00Z', SignatureVersion => '1', Signature => 'AAAA',
        SigningCertURL => $url });
}
sub fetched {
    open my $fh, '<', $fetch_log or return '';
    local $/;
    return <$fh> // '';
}

my %refused = (
    'S3 Transfer Acceleration host' => 'https://sns.s3-accelerate.amazonaws.com/l2-accelerate.pem',
    'S3 legacy regional host' => 'https://sns.s3-us-west-2.amazonaws.com/l2-s3-region.pem',
    'S3 global host' => 'https://sns.s3.amazonaws.com/l2-s3.pem',
    'leading dash' => 'https://sns.-aa.amazonaws.com/l2-dash.pem',
    'punycode label' => 'https://sns.xn--e1a.amazonaws.com/l2-punycode.pem',
    'China region on .com' => 'https://sns.cn-north-1.amazonaws.com/l2-cn.pem',
);
my @cases = map { [ "L2 $_", { 'Content-Type' => 'text/plain' }, sns_body($refused{$_}) ] }
    sort keys %refused;
$t->refuses('/webhooks/v2/ses/ses2', undef, \@cases, status => 401, label => 'signature');

# The control: a region host passes the pattern and is fetched (the local
# server answers 404, so the message is 503 key_unavailable, stored nowhere).
my $before = $t->event_count;
my $r = $t->post('/webhooks/v2/ses/ses2',
    sns_body('https://sns.us-east-1.amazonaws.com/l2-region.pem'), 'Content-Type' => 'text/plain');
is($r->{status}, 503, 'L2 a region host is fetched (the fetch fails here: 503)');
is($t->event_count, $before, 'L2 nothing stored');
Mailhook::Test::wait_for('the fetch log', 5, sub { fetched() =~ m{/l2-region\.pem} });
like(fetched(), qr{/l2-region\.pem}, 'L2 the region host certificate was fetched');
unlike(fetched(), qr{/l2-(accelerate|s3-region|s3|dash|punycode|cn)\.pem},
    'L2 no refused host was ever fetched');

$t->finish;
done_testing;
