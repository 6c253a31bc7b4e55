#!/usr/bin/env perl
# SPDX-License-Identifier: BSD-2-Clause
# make bench-cluster: mailhook on a Redis Cluster, numbers not pass/fail.
#  1. events/s of single-event requests (inboxroad, HMAC) for 64 tenants
#     through nginx into one Redis and into a 3-primary local cluster, in
#     the same run (same nginx settings, same keys: mailhook_key_hash_tag
#     buckets on both);
#  2. the failover gap of a cluster of 3 primaries + 3 replicas: a primary
#     killed (SIGKILL) while a sender posts for a tenant it serves, one
#     request after another; the time from the kill to the first 200 of a
#     request sent after it (its event stored on the promoted replica).
# Environment: BENCH_DURATION (s, default 10), BENCH_WORKERS (default 2),
# BENCH_NODE_TIMEOUT (cluster-node-timeout, ms, default 1000).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";

use HTTP::Tiny;
use JSON::PP;
use Mailhook::RedisCluster;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use POSIX qw(_exit);
use Test::More ();   # the harness reports through Test::More
use Time::HiRes qw(time sleep);

Test::More->builder->no_ending(1);
Test::More->builder->output('/dev/null');

my $duration = $ENV{BENCH_DURATION} // 10;
my $workers = $ENV{BENCH_WORKERS} // 2;
my $node_timeout = $ENV{BENCH_NODE_TIMEOUT} // 1000;
my ($connections, $threads) = (64, 2);
my @tenants = 1 .. 64;
my $http = join(' ', map { "mailhook_connection ir$_ vendor=inboxroad secret=ir-secret tenant=t$_;" } @tenants)
    . ' mailhook_key_hash_tag buckets; access_log off;';

sub body_of {
    my ($id) = @_;
    return sprintf('{"kind":"delivered","sender":"news@example.com","recipient":"%s@example.net",'
        . '"message_id":"<%s.bench@example.com>","timestamp":"2025-09-04T10:00:00Z","id":"%s"}',
        $id, $id, $id);
}

my $dir = Mailhook::Test->new->dir;
my $requests = "$dir/requests";
open my $fh, '>', $requests or die $!;
for my $n (1 .. 300_000) {
    my $body = body_of("a$n");
    printf $fh "/webhooks/v2/inboxroad/ir%d\tX-Signature: %s\x01Content-Type: application/json\t%s\n",
        $tenants[$n % @tenants], hmac_b64($body, 'ir-secret'), $body;
}
close $fh;

sub wrk {
    my ($port) = @_;
    local $ENV{MAILHOOK_BENCH_REQUESTS} = $requests;
    local $ENV{MAILHOOK_BENCH_THREADS} = $threads;
    my $out = `wrk -t$threads -c$connections -d${duration}s --latency -s $FindBin::Bin/requests.lua http://127.0.0.1:$port 2>&1`;
    my %r;
    ($r{rps}) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    ($r{requests}, $r{runtime}) = $out =~ /(\d+) requests in ([\d.]+)s/;
    ($r{non2xx}) = $out =~ /Non-2xx or 3xx responses: (\d+)/;
    $r{non2xx} //= 0;
    for my $p (50, 99) {
        my ($v, $unit) = $out =~ /^\s+$p(?:\.000)?%\s+([\d.]+)(us|ms|s)/m;
        $r{"p$p"} = !defined $v ? '-' : sprintf('%.2f', $unit eq 'us' ? $v / 1000 : $unit eq 's' ? $v * 1000 : $v);
    }
    die "wrk failed:\n$out" unless $r{rps};
    return \%r;
}

# Events in the bucket streams of these Redis clients.
sub stored {
    my $count = 0;
    for my $redis (@_) {
        $count += $redis->xlen($_) for $redis->keys('mailhook:events:*');
    }
    return $count;
}

sub row { printf "%-22s %9s %9s %8s %8s %7s\n", @_ }

print "mailhook cluster benchmark: wrk -t$threads -c$connections, ${duration}s per run, $workers workers, ",
    `nproc` =~ s/\s+//gr, " CPUs, load average ", (split ' ', `cat /proc/loadavg`)[0], "\n";
row('', 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'non2xx');

my %rate;
{
    my $t = Mailhook::Test->new(workers => $workers);
    $t->start_redis;
    $t->start_nginx(http => $http, log_level => 'warn', main => 'worker_rlimit_nofile 8192;');
    my $r = wrk($t->{nginx_port});
    sleep 0.2;
    $rate{one} = stored($t->redis) / $r->{runtime};
    row('one Redis', sprintf('%.0f', $r->{rps}), sprintf('%.0f', $rate{one}), $r->{p50}, $r->{p99}, $r->{non2xx});
    $t->stop_nginx;
    $t->stop_redis;
}
{
    my $t = Mailhook::Test->new(workers => $workers);
    my $cluster = Mailhook::RedisCluster->new(dir => $t->dir, node_timeout => $node_timeout);
    my ($primaries) = $cluster->create(3, 0);
    $t->start_nginx(http => $http, log_level => 'warn', main => 'worker_rlimit_nofile 8192;',
        redis => "mailhook_redis 127.0.0.1:$primaries->[0] cluster;", ready => 'port');
    $t->wait_workers_ready(redis_connected => 1);
    my $r = wrk($t->{nginx_port});
    sleep 0.2;
    $rate{cluster} = stored(map { $cluster->node($_) } @$primaries) / $r->{runtime};
    row('3-primary cluster', sprintf('%.0f', $r->{rps}), sprintf('%.0f', $rate{cluster}), $r->{p50}, $r->{p99}, $r->{non2xx});
    printf "events/s ratio cluster / one Redis: %.2f\n", $rate{one} ? $rate{cluster} / $rate{one} : 0;
    $t->stop_nginx;
    $cluster->stop;
}

# The failover gap.
{
    my $t = Mailhook::Test->new(workers => $workers);
    my $cluster = Mailhook::RedisCluster->new(dir => $t->dir, node_timeout => $node_timeout);
    my ($primaries) = $cluster->create(3, 1);
    $t->start_nginx(http => $http, log_level => 'warn',
        redis => "mailhook_redis 127.0.0.1:$primaries->[1] cluster;", ready => 'port');
    $t->wait_workers_ready(redis_connected => 1);
    my $victim = $primaries->[0];
    # A tenant the victim serves: one probe event per tenant, found on it.
    for my $i (@tenants) {
        my $body = body_of("probe-$i");
        $t->post("/webhooks/v2/inboxroad/ir$i", $body, 'X-Signature' => hmac_b64($body, 'ir-secret'));
    }
    my $on_victim = $cluster->node($victim);
    my ($tenant) = map { $_ =~ /"recipient":"probe-(\d+)\@/ ? $1 : () }
        map { { @{ $_->[1] } }->{event} }
        map { $on_victim->xrange($_, '-', '+') } $on_victim->keys('mailhook:events:*');
    die "no tenant on the victim primary\n" unless $tenant;
    my $log = "$dir/failover.log";
    my $sender = fork() // die "fork: $!";
    if ($sender == 0) {
        open my $out, '>', $log or _exit(1);
        $out->autoflush(1);
        my $ua = HTTP::Tiny->new(timeout => 2, keep_alive => 0);
        for (my $i = 1; !-e "$log.stop"; ++$i) {
            my $body = body_of("gap-$i");
            my $sent = time;
            my $r = $ua->post($t->url("/webhooks/v2/inboxroad/ir$tenant"), { content => $body,
                headers => { 'X-Signature' => hmac_b64($body, 'ir-secret') } });
            printf $out "%.4f %.4f %d\n", $sent, time, $r->{status};
            sleep 0.01 if $r->{status} != 200;
        }
        _exit(0);
    }
    sleep 1;
    my $killed = time;
    $cluster->kill_node($victim);
    my $gap;
    my $deadline = time + 60;
    while (!defined $gap && time < $deadline) {
        sleep 0.1;
        open my $in, '<', $log or next;
        while (<$in>) {
            my ($sent, $answered, $status) = split;
            if ($status == 200 && $sent > $killed) { $gap = $answered - $killed; last }
        }
    }
    open my $stop, '>', "$log.stop" or die $!;
    close $stop;
    waitpid($sender, 0);
    printf "cluster failover gap (cluster-node-timeout %d ms): %s\n", $node_timeout,
        defined $gap ? sprintf('%.2f s from the kill to the first event stored on the promoted replica', $gap)
                     : 'no event stored within 60 s';
    $t->stop_nginx;
    $cluster->stop;
}
