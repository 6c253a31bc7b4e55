#!/usr/bin/env perl
# SPDX-License-Identifier: BSD-2-Clause
# make bench: mailhook against nginx's own ceiling (a `return 204` location
# fed the same requests through the same nginx), with wrk on loopback.
#
#   A  Inboxroad single event (~300 B, HMAC), 64 connections
#   B  SendGrid batch of 100 events (ECDSA)
#   C  Mailgun single event, a fresh token per request
#
# Environment: BENCH_DURATION (s, default 10), BENCH_WORKERS ("1 2"),
# BENCH_SOAK=1 for the 1,000,000-request soak instead.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";

use Digest::SHA qw(hmac_sha256_hex);
use JSON::PP;
use Mailhook::Sign qw(hmac_b64 sendgrid_key sendgrid_headers);
use Mailhook::Test;
use Test::More ();   # the harness reports through Test::More
use Time::HiRes qw(time sleep);

my $duration = $ENV{BENCH_DURATION} // 10;
my @worker_counts = split ' ', ($ENV{BENCH_WORKERS} // '1 2');
my $connections = 64;
my $wrk_threads = 2;

Test::More->builder->no_ending(1);
Test::More->builder->output('/dev/null');

my ($sg_signer, $sg_key) = sendgrid_key();
my $mailgun_key = 'key-bench-0123456789';

# --- pre-signed request files -------------------------------------------------
sub write_requests {
    my ($file, $count, $make) = @_;
    open my $fh, '>', $file or die $!;
    for my $n (1 .. $count) {
        my ($path, $headers, $body) = $make->($n);
        my $h = join "\x01", map { "$_: $headers->{$_}" } sort keys %$headers;
        (my $escaped = $body) =~ s/\n/\\n/g;
        $escaped =~ s/\r/\\r/g;
        print $fh "$path\t$h\t$escaped\n";
    }
    close $fh;
}

sub inboxroad_request {
    my ($n) = @_;
    my $body = sprintf('{"kind":"delivered","sender":"news@example.com","recipient":"user%d@example.net",'
        . '"message_id":"<%d.bench@example.com>","timestamp":"2025-09-04T10:00:00Z",'
        . '"campaign":{"id":"9d76d4b4-660f-422b-9437-282c31506f7f","name":"September"},"id":"a%d"}',
        $n, $n, $n);
    return ('/webhooks/v2/inboxroad/ir', { 'X-Signature' => hmac_b64($body, 'ir-secret'),
        'Content-Type' => 'application/json' }, $body);
}

sub sendgrid_request {
    my ($n) = @_;
    my @events = map {
        my $i = $n * 100 + $_;
        { email => "user$i\@example.net", timestamp => 1700000000 + $i, event => 'delivered',
          'smtp-id' => "<$i\@ismtpd>", sg_event_id => "b$i", sg_message_id => "m$i.filter0001",
          response => '250 OK', category => ['bench'] }
    } 0 .. 99;
    my $body = encode_json(\@events) . "\r\n";
    my %h = sendgrid_headers($sg_signer, $body, 1700000000);
    return ('/webhooks/v2/sendgrid/sg', \%h, $body);
}

sub mailgun_request {
    my ($n) = @_;
    my $token = sprintf('%050d', $n);
    my $timestamp = time;   # within the 5-minute tolerance for the run
    my $body = encode_json({
        signature => { timestamp => "$timestamp", token => $token,
                       signature => hmac_sha256_hex($timestamp . $token, $mailgun_key) },
        'event-data' => { event => 'delivered', id => "c$n", timestamp => 1700000000.5,
                          recipient => "user$n\@example.net",
                          message => { headers => { 'message-id' => "$n\@example.com" } } },
    });
    return ('/webhooks/v2/mailgun/mg', { 'Content-Type' => 'application/json' }, $body);
}

# --- one nginx + redis --------------------------------------------------------
sub start {
    my ($workers) = @_;
    my $t = Mailhook::Test->new(workers => $workers);
    $t->{baseline_port} = Mailhook::Test::free_port();
    $t->start_redis;
    $t->start_nginx(
        main => 'worker_rlimit_nofile 8192;',
        log_level => 'warn',
        http => "mailhook_connection ir vendor=inboxroad secret=ir-secret;"
            . " mailhook_connection sg vendor=sendgrid secret=$sg_key;"
            . " mailhook_connection mg vendor=mailgun secret=$mailgun_key;"
            # requests are signed once before all runs
            . " mailhook_timestamp_tolerance mailgun 1h;"
            . " access_log off; client_max_body_size 4m;"
            . " server { listen 127.0.0.1:$t->{baseline_port}; access_log off;"
            . " client_max_body_size 4m; client_body_buffer_size 256k;"
            . " location / { return 204; } }",
    );
    return $t;
}

sub rss_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}

sub workers_rss { my ($t) = @_; my $sum = 0; $sum += rss_kb($_) for $t->worker_pids; $sum }

sub wrk {
    my ($port, $file, $seconds, %opt) = @_;
    my $c = $opt{connections} // $connections;
    my $threads = $c < $wrk_threads ? $c : $wrk_threads;
    local $ENV{MAILHOOK_BENCH_REQUESTS} = $file;
    local $ENV{MAILHOOK_BENCH_THREADS} = $threads;
    my $out = `wrk -t$threads -c$c -d${seconds}s --latency -s $FindBin::Bin/requests.lua http://127.0.0.1:$port 2>&1`;
    my %r = (output => $out);
    ($r{rps}) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    ($r{requests}) = $out =~ /(\d+) requests in/;
    ($r{non2xx}) = $out =~ /Non-2xx or 3xx responses: (\d+)/;
    ($r{distinct}) = $out =~ /distinct requests sent: (\d+)/;
    $r{non2xx} //= 0;
    for my $p (50, 99) {
        my ($v, $unit) = $out =~ /^\s+$p(?:\.000)?%\s+([\d.]+)(us|ms|s)/m;
        $r{"p$p"} = !defined $v ? undef : $unit eq 'us' ? $v / 1000 : $unit eq 's' ? $v * 1000 : $v;
    }
    die "wrk failed:\n$out" unless $r{rps};
    return \%r;
}

sub row { printf "%-34s %10s %12s %8s %8s %8s %10s\n", @_ }
sub fmt_ms { defined $_[0] ? sprintf('%.2f', $_[0]) : '-' }

my $dir = Mailhook::Test->new->dir;
print "mailhook benchmark: wrk -t$wrk_threads -c$connections, ${duration}s per run, ",
    `nproc` =~ s/\n//r, " CPUs, ", `uname -r` =~ s/\n//r, "\n";
print "pre-signing requests...\n";
my %files = (A => "$dir/a.req", B => "$dir/b.req", C => "$dir/c.req");
write_requests($files{A}, 400_000, \&inboxroad_request);
write_requests($files{B}, 6_000, \&sendgrid_request);
write_requests($files{C}, 300_000, \&mailgun_request);
my %events_per_request = (A => 1, B => 100, C => 1);
my %names = (A => 'A inboxroad 1 event (HMAC)', B => 'B sendgrid 100 events (ECDSA)',
             C => 'C mailgun 1 event (token)');

if ($ENV{BENCH_SOAK}) {
    my $total = $ENV{BENCH_SOAK_REQUESTS} // 1_000_000;
    my $t = start(1);
    my ($worker) = $t->worker_pids;
    wrk($t->{nginx_port}, $files{A}, 2);   # warm up: pools, caches, connection
    my $rss_before = rss_kb($worker);
    my $xlen_before = $t->event_count;
    my $sent = 0;
    my $started = time;
    while ($sent < $total) {
        my $r = wrk($t->{nginx_port}, $files{A}, 5);
        $sent += $r->{requests};
    }
    my $elapsed = time - $started;
    my $rss_after = rss_kb($worker);
    printf "soak: %d requests in %.0fs (%.0f req/s); worker RSS %d kB -> %d kB (%+d kB); "
        . "stream %d -> %d entries (%d unique events of %d signed requests, the rest duplicates)\n",
        $sent, $elapsed, $sent / $elapsed, $rss_before, $rss_after, $rss_after - $rss_before,
        $xlen_before, $t->event_count, $t->event_count, 400_000;
    $t->stop_nginx;
    $t->stop_redis;
    exit 0;
}

for my $workers (@worker_counts) {
    print "\n== $workers worker(s)\n";
    row('scenario', 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'non-2xx', 'vs 204');
    for my $s (qw(A B C)) {
        my $t = start($workers);
        my $seconds = $s eq 'B' ? int($duration / 2) || 1 : $duration;
        my $base = wrk($t->{baseline_port}, $files{$s}, $seconds);
        my $rss_before = workers_rss($t);
        my $xlen_before = $t->event_count;
        my $r = wrk($t->{nginx_port}, $files{$s}, $seconds);
        my $stored = $t->event_count - $xlen_before;
        my $ok = $r->{requests} - $r->{non2xx};
        row("$names{$s} baseline", sprintf('%.0f', $base->{rps}), '-', fmt_ms($base->{p50}),
            fmt_ms($base->{p99}), $base->{non2xx}, '1.00');
        row($names{$s}, sprintf('%.0f', $r->{rps}), sprintf('%.0f', $stored / $seconds),
            fmt_ms($r->{p50}), fmt_ms($r->{p99}), $r->{non2xx},
            sprintf('%.2f', $r->{rps} / $base->{rps}));
        # Past the pre-signed requests wrk starts over: repeats are duplicates.
        # (Sent includes requests still in flight when wrk stops.)
        my $unique = $r->{distinct} // $ok;
        $unique = $ok if $ok < $unique;
        my $expected = $unique * $events_per_request{$s};
        # wrk does not count requests still in flight when it stops, but
        # nginx stores them: stored may exceed the 200s wrk saw.
        printf "   stored %d events for %d 200s of %d distinct requests (%s); worker RSS %d kB -> %d kB\n",
            $stored, $ok, $unique,
            $stored >= $expected ? 'every 200 stored' : "MISSING " . ($expected - $stored),
            $rss_before, workers_rss($t);
        if ($s eq 'A') {
            # p99 at about half the maximum rate: fewer connections, each
            # pausing between requests (wrk has no fixed-rate mode).
            my $half = wrk($t->{nginx_port}, $files{A}, $seconds, connections => 4);
            printf "   at %.0f req/s (%.0f%% of max, 4 connections): p50 %s ms, p99 %s ms\n",
                $half->{rps}, 100 * $half->{rps} / $r->{rps}, fmt_ms($half->{p50}),
                fmt_ms($half->{p99});
        }
        $t->stop_nginx;
        $t->stop_redis;
    }
}
