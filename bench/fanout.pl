#!/usr/bin/env perl
# SPDX-License-Identifier: BSD-2-Clause
# The security review's M1 reproduction as a measurement (not a test): one
# SNS-signed SES Bounce naming N recipients, its `mail` object padded with P
# bytes, posted to a one-worker nginx. Prints the answer, the time to it, the
# worker's peak RSS growth (VmHWM after minus VmRSS before) and Redis's
# used_memory growth.
#
#   MAILHOOK_MODULE=... NGINX_BIN=... perl bench/fanout.pl [N [P]]
#   (the review: N=1000, P=100000; FANOUT_MAX_RECIPIENTS=N lifts the cap)

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";

use JSON::PP;
use Mailhook::SNS qw(pin_certificate sign_sns);
use Mailhook::Test;
use Test::More ();
use Time::HiRes qw(time);

my ($recipients, $pad) = (@ARGV, 1000, 100000)[0, 1];
Test::More->builder->no_ending(1);
Test::More->builder->output('/dev/null');

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $key = pin_certificate($dir);
$t->start_redis;
$t->start_nginx(
    workers => 1,
    log_level => 'warn',
    http => "mailhook_sns_certificates $dir/pinned; mailhook_connection ses1 vendor=ses;"
        . ' client_max_body_size 8m;',
    location => 'mailhook_redis_timeout 30s;'
        . ($ENV{FANOUT_MAX_RECIPIENTS} ? " mailhook_max_recipients $ENV{FANOUT_MAX_RECIPIENTS};" : ''),
);

my $message = encode_json({
    notificationType => 'Bounce',
    bounce => {
        bounceType => 'Permanent', bounceSubType => 'General',
        feedbackId => 'fanout-feedback', timestamp => '2026-12-01T10:00:00.000Z',
        bouncedRecipients => [map { { emailAddress => "r$_\@example.com", status => '5.1.1' } }
            1 .. $recipients],
    },
    mail => { messageId => 'fanout-message', timestamp => '2026-12-01T09:59:00.000Z',
              source => 'sender@example.com', pad => 'x' x $pad },
});
my $body = sign_sns({ Type => 'Notification', MessageId => 'fanout-sns',
    TopicArn => 'arn:aws:sns:us-east-1:123456789012:ses-events',
    Timestamp => '2026-12-01T10:00:01.000Z', Message => $message }, $key);

my ($worker) = $t->worker_pids;
my $status_kb = sub {
    my ($field) = @_;
    open my $fh, '<', "/proc/$worker/status" or die $!;
    while (<$fh>) { return $1 if /^$field:\s+(\d+) kB/ }
    die "no $field";
};
my $used = sub { ($t->redis->info('memory'))->{used_memory} };
my ($rss_before, $redis_before) = ($status_kb->('VmRSS'), $used->());
my $start = time;
my $r = $t->post('/webhooks/v2/ses/ses1', $body, 'x-amz-sns-message-type' => 'Notification');
my $seconds = time - $start;
my $peak = $status_kb->('VmHWM');
printf "body %d B, %d recipients: %d %s", length($body), $recipients, $r->{status}, $r->{content};
printf "time %.3f s, worker peak RSS +%.1f MB, redis +%.1f MB, %d events stored\n",
    $seconds, ($peak - $rss_before) / 1024, ($used->() - $redis_before) / 1048576,
    $t->event_count;
$t->teardown;
