# SPDX-License-Identifier: BSD-2-Clause
# mailhook_status: counters summed over two workers change exactly as a
# scripted sequence says; the log variables carry the same facts.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(hmac_b64 basic_auth);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new(workers => 2);
$t->start_redis;
my $log = $t->dir . '/webhooks.log';
$t->start_nginx(
    http => 'mailhook_connection ir vendor=inboxroad secret=s1 tenant=acme;'
        . ' mailhook_connection s2g vendor=smtp2go secret=u:p;'
        . ' log_format hooks \'$mailhook_vendor|$mailhook_connection|$mailhook_tenant|'
        . '$mailhook_events|$mailhook_duplicates|$mailhook_result|$status|$mailhook_redis_time|$pid\';',
    location => "access_log $log hooks;",
    server => 'location = /status { mailhook_status; }',
);

sub status_json { decode_json($t->request('GET', '/status?format=json')->{content}) }
sub value {
    my ($family, %labels) = @_;
    for my $sample (@{status_json()->{$family}}) {
        return $sample->{value} unless grep { ($sample->{$_} // '') ne $labels{$_} } keys %labels;
    }
    return 0;
}
sub inboxroad {
    my ($body, $sig) = @_;
    return $t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => $sig // hmac_b64($body, 's1'));
}

# Ten rounds over new connections, so both workers serve some of them.
my $rounds = 10;
for my $round (1 .. $rounds) {
    my $batch = qq([{"kind":"delivered","recipient":"a\@x.com","id":"d$round"},)
        . qq({"kind":"open","recipient":"a\@x.com","id":"o$round"}]);
    is(inboxroad($batch)->{status}, 200, "round $round: batch of two stored");
    is(inboxroad($batch)->{status}, 200, "round $round: same batch again: duplicates");
    is(inboxroad($batch, 'bad')->{status}, 401, "round $round: bad signature");
    is(inboxroad('{"kind":')->{status}, 400, "round $round: malformed");
    is($t->post('/webhooks/v2/smtp2go/s2g', '{"event":"open","rcpt":"b@x.com"}',
        Authorization => basic_auth('u:wrong'))->{status}, 401, "round $round: wrong credentials");
    is($t->post('/webhooks/v2/inboxroad/nope', '{}')->{status}, 404, "round $round: unknown connection");
    is($t->request('GET', '/webhooks/v2/inboxroad/ir')->{status}, 405, "round $round: GET");
    is($t->post('/webhooks/v2/nosuchvendor/ir', '{}')->{status}, 404, "round $round: unknown vendor");
}

# A worker writes its access log line after the answer: wait for the last.
sub access_lines {
    open my $fh, '<', $log or die;
    my @all = map { chomp; $_ } <$fh>;
    close $fh;
    return @all;
}
Mailhook::Test::wait_for('every access log line', 5, sub { access_lines() == 8 * $rounds });
my @lines = access_lines();
my %served = map { (split /\|/)[-1] => 1 } @lines;
is(scalar(keys %served), 2, 'both workers served requests') or diag(join ',', keys %served);

is(value('requests', vendor => 'inboxroad', status => '200'), 2 * $rounds, 'requests 200 (summed over workers)');
is(value('requests', vendor => 'inboxroad', status => '401'), $rounds, 'requests 401');
is(value('requests', vendor => 'inboxroad', status => '400'), $rounds, 'requests 400');
is(value('requests', vendor => 'inboxroad', status => '404'), $rounds, 'requests 404');
is(value('requests', vendor => 'inboxroad', status => '405'), $rounds, 'requests 405');
is(value('requests', vendor => 'smtp2go', status => '401'), $rounds, 'smtp2go 401');
is(value('events_stored', vendor => 'inboxroad'), 2 * $rounds, 'events stored');
is(value('events_duplicate', vendor => 'inboxroad'), 2 * $rounds, 'duplicates');
is(value('rejections', vendor => 'inboxroad', reason => 'signature'), $rounds, 'signature rejections');
is(value('rejections', vendor => 'smtp2go', reason => 'auth'), $rounds, 'auth rejections');
is(value('rejections', vendor => 'inboxroad', reason => 'format'), $rounds, 'format rejections');
is(value('rejections', vendor => 'inboxroad', reason => 'unknown_connection'), $rounds, 'unknown connection');
is(value('rejections', vendor => 'inboxroad', reason => 'method'), $rounds, 'method');
# L5 (security review): scans of vendor names must show in the metrics.
is(value('requests', vendor => 'unknown', status => '404'), $rounds, 'L5: unknown-vendor requests counted');
is(value('rejections', vendor => 'unknown', reason => 'unknown_connection'), $rounds,
    'L5: ... and their rejections');
my $total = 0;
$total += $_->{value} for @{status_json()->{requests}};
is($total, 8 * $rounds, 'L5: every request is in requests_total');
my %pids = map { $_ => 1 } $t->worker_pids;
my $json = status_json();
is(scalar(grep { $_->{value} == 1 && $pids{$_->{pid}} } @{$json->{redis_connected}}), 2,
    'both workers report a ready Redis connection');

my $text = $t->request('GET', '/status')->{content};
like($text, qr/^# TYPE mailhook_requests_total counter$/m, 'Prometheus TYPE line');
like($text, qr/^mailhook_requests_total\{vendor="inboxroad",status="200"\} 20$/m, 'Prometheus sample');
like($text, qr/^mailhook_events_stored_total\{vendor="inboxroad"\} 20$/m, 'events stored sample');
like($text, qr/^mailhook_redis_request_duration_seconds_bucket\{le="\+Inf"\} (\d+)$/m, 'histogram +Inf');
my ($inf) = $text =~ /le="\+Inf"\} (\d+)/;
my ($count) = $text =~ /^mailhook_redis_request_duration_seconds_count (\d+)$/m;
is($inf, $count, '+Inf bucket equals the count');
ok($count >= 2 * $rounds, 'every stored request waited for Redis');

# Counters survive a reload.
$t->reload;
is(value('events_stored', vendor => 'inboxroad'), 2 * $rounds, 'counters kept across reload');

# Two workers write the access log, so lines of consecutive requests may
# come in either order: count them instead.
my %logged;
$logged{$_ =~ s/\|(?:[\d.]+|-)\|\d+$//r}++ for @lines;
is($logged{'inboxroad|ir|acme|2|0|stored|200'}, $rounds, 'stored requests logged');
like($lines[0], qr/\|0\.\d{6}\|\d+$/, 'redis time in seconds with microseconds');
is($logged{'inboxroad|ir|acme|2|2|duplicate|200'}, $rounds, 'duplicates logged');
is($logged{'inboxroad|ir|acme|-|-|rejected:signature|401'}, $rounds, 'rejections logged');
is($logged{'smtp2go|s2g|-|-|-|rejected:auth|401'}, $rounds, 'auth rejections logged');
is($logged{'nosuchvendor|ir|-|-|-|rejected:unknown_connection|404'}, $rounds,
    'unknown-vendor requests logged');

$t->finish;
done_testing;
