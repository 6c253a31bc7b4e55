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
# Requests (raw bytes) pipelined on keep-alive connections, 500 a
# connection; returns their statuses in order.
sub pipelined {
    my @requests = @_;
    my @statuses;
    while (my @batch = splice(@requests, 0, 500)) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{nginx_port},
            Proto => 'tcp') or die "connect: $!";
        $batch[-1] =~ s/\r\n/\r\nConnection: close\r\n/;
        print $s join '', @batch;
        local $/;
        my $answers = <$s> // '';
        close $s;
        push @statuses, $1 while $answers =~ m{^HTTP/1\.1 (\d+)}mg;
    }
    return @statuses;
}
my $flood_n = 0;
sub unknown_id_request {
    return sprintf("POST /webhooks/v2/inboxroad/u%07dyyyyyyyyyyyy HTTP/1.1\r\nHost: t\r\n"
        . "Content-Length: 2\r\n\r\n{}", ++$flood_n);
}
sub dyn1_request {
    my $body = sprintf('{"kind":"delivered","recipient":"r%d@example.com","id":"l4-%d"}', ++$n, $n);
    return "POST /webhooks/v2/inboxroad/dyn1 HTTP/1.1\r\nHost: t\r\nX-Signature: "
        . hmac_b64($body, 'dyn-secret') . "\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
}
# $count requests for distinct unknown ids; returns { status => count }.
sub flood {
    my ($count) = @_;
    my %statuses;
    $statuses{$_}++ for pipelined(map { unknown_id_request() } 1 .. $count);
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
SKIP: {
    skip 'ASan keeps freed memory in quarantine', 1 if Mailhook::Test->sanitized;
    cmp_ok($rss_growth, '<', 4096, "L4 worker memory bounded (+$rss_growth kB)");
}
like($t->error_log, qr/reason=lookup_budget .* similar lines not logged/,
    'L4 refusals logged, throttled');

# dyn1's cache entry has expired, and it arrives amid unknown ids that keep
# the budget spent (the one just before it was refused): it is served from
# the stale entry, without a look-up. Tokens come back at 20 a second and
# nginx's clock moves between loop iterations, so a token can show up right
# before it (then it is rightly looked up): the setup is tried again then.
sleep 1.1;
my (@around, $extra_lookups);
for my $try (1 .. 10) {
    my $lookups_before_try = lookups();
    @around = pipelined((map { unknown_id_request() } 1 .. 300), dyn1_request(),
        map { unknown_id_request() } 1 .. 50);
    $extra_lookups = lookups() - $lookups_before_try - grep { $_ == 404 } @around;
    last if $around[299] == 503 && $extra_lookups == 0;
}
is_deeply([@around[299, 300]], [503, 200],
    'L4 known connection still served amid unknown ids that spend the budget');
is($extra_lookups, 0, 'L4 ... from the stale cache entry: a look-up for each 404, none for it');

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
