# SPDX-License-Identifier: BSD-2-Clause
# L4 (security review 2026-12-01): made-up connection ids neither flush the
# worker's connection cache nor cost a Redis look-up each. The review's run:
# 70,000 distinct unknown ids (unauthenticated), then Redis down: a known
# dynamic connection must still be spooled, not answered 503.
use strict;
use warnings;
use lib 't/lib';

use IO::Socket::INET;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = Mailhook::Test->new;
my $spool = $t->dir . '/spool';
$t->start_redis;
$t->start_nginx(
    log_level => 'info',
    http => "mailhook_spool $spool; mailhook_connection_cache 1s;",
);
$t->redis->hset('mailhook:connection:dyn1', vendor => 'inboxroad', secret => 'dyn-secret');

my $n = 0;
sub dyn1 {
    my $body = sprintf('{"kind":"delivered","recipient":"r%d@example.com","id":"l4-%d"}', ++$n, $n);
    return $t->post('/webhooks/v2/inboxroad/dyn1', $body, 'X-Signature' => hmac_b64($body, 'dyn-secret'));
}
sub lookups {
    return ($t->redis->info('commandstats')->{cmdstat_hgetall} // '') =~ /calls=(\d+)/ ? $1 : 0;
}
sub worker_rss_kb {
    my ($pid) = $t->worker_pids;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+) kB/ }
    return 0;
}
# $count POSTs to distinct unknown ids, pipelined on keep-alive connections;
# returns { status => count }.
my $flood_n = 0;
sub flood {
    my ($count) = @_;
    my %statuses;
    my $sent = 0;
    while ($sent < $count) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{nginx_port},
            Proto => 'tcp') or die "connect: $!";
        my $batch = $count - $sent < 500 ? $count - $sent : 500;
        my $bytes = '';
        for my $i (1 .. $batch) {
            my $close = $i == $batch ? "Connection: close\r\n" : '';
            $bytes .= sprintf("POST /webhooks/v2/inboxroad/u%07dyyyyyyyyyyyy HTTP/1.1\r\nHost: t\r\n"
                . "%sContent-Length: 2\r\n\r\n{}", ++$flood_n, $close);
        }
        print $s $bytes;
        local $/;
        my $answers = <$s> // '';
        close $s;
        $statuses{$1}++ while $answers =~ m{^HTTP/1\.1 (\d+)}mg;
        $sent += $batch;
    }
    return \%statuses;
}

is(dyn1()->{status}, 200, 'known dynamic connection: stored');
my $lookups_before = lookups();
my $rss_before = worker_rss_kb();
my $started = time;
my $statuses = flood(70_000);
my $elapsed = time - $started;
my $lookups = lookups() - $lookups_before;
my $rss_growth = worker_rss_kb() - $rss_before;
my $answered = 0;
$answered += $_ for values %$statuses;
is($answered, 70_000, sprintf('L4 70,000 unknown ids answered (%.1fs)', $elapsed));
is_deeply([sort keys %$statuses], [404, 503], 'L4 404 while the look-up budget lasts, then 503');
is($statuses->{404}, $lookups, 'L4 one Redis look-up per 404, none for the 503s');
my $budget = 100 + 20 * ($elapsed + 1);
cmp_ok($lookups, '<=', $budget,
    sprintf('L4 Redis look-ups bounded by the budget: %d <= %d (not 70,000)', $lookups, $budget));
cmp_ok($rss_growth, '<', 4096, "L4 worker memory bounded (+$rss_growth kB)");
like($t->error_log, qr/reason=lookup_budget .* similar lines not logged/,
    'L4 refusals logged, throttled');

# The budget is spent and dyn1's cache entry has expired: it is served from
# the stale entry instead of being refused.
sleep 1.1;
flood(300);
my $lookups_stale = lookups();
is(dyn1()->{status}, 200, 'L4 known connection still served while unknown ids exhaust the budget');
is(lookups(), $lookups_stale, 'L4 ... from the stale cache entry (no look-up)');

# Redis down: the known connection is still in the cache and spooled.
$t->stop_redis;
my $r = dyn1();
is($r->{status}, 200, 'L4 Redis down after the flood: the known connection is spooled');
like($r->{content}, qr/"spooled":1/, 'L4 ... answer says spooled');

# A deleted connection is forgotten at once, not kept as a stale entry.
$t->start_redis;
my $deadline = time + 10;
sub journals_left { my @j = glob("$spool/spool-*.log"); return scalar @j }
sleep 0.1 until !journals_left() || time > $deadline;
$t->redis->del('mailhook:connection:dyn1');
sleep 1.1;
is(dyn1()->{status}, 404, 'L4 connection deleted in Redis: 404');
$t->stop_redis;
sleep 1.1;
is(dyn1()->{status}, 503, 'L4 ... and not served from a stale copy during an outage');

$t->finish;
done_testing;
