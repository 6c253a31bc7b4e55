# SPDX-License-Identifier: BSD-2-Clause
# The store calls of requests that one event-loop iteration collects go to
# Redis as one call of the batch script, and each request is answered as its
# own call would have been: stored, a duplicate, or its own error (a key of
# the wrong type fails that request alone). To put requests in one
# iteration, the worker is stopped (SIGSTOP) while they are written on open
# keep-alive connections: once it runs again, one epoll_wait returns them
# all. Then the same with mailhook_redis_wait and a replica: every request
# of the batch waits for the one WAIT after it; and with a Redis Cluster,
# where a batch holds the calls of one slot.
use strict;
use warnings;
use lib 't/lib';

use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Mailhook::RedisCluster;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time);

my $t = Mailhook::Test->new(workers => 1);
$t->start_redis;
my %config = (
    http => 'mailhook_connection ir1 vendor=inboxroad secret=s1 tenant=acme;'
        . ' mailhook_connection ir2 vendor=inboxroad secret=s2 tenant=other;',
);
$t->start_nginx(%config);

sub body_of { qq({"kind":"delivered","recipient":"$_[0]\@example.com","id":"$_[0]"}) }

sub request_bytes {
    my ($connection, $id) = @_;
    my $body = body_of($id);
    my $secret = $connection eq 'ir1' ? 's1' : 's2';
    return "POST /webhooks/v2/inboxroad/$connection HTTP/1.1\r\nHost: localhost\r\n"
        . 'X-Signature: ' . hmac_b64($body, $secret) . "\r\n"
        . "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
}

# One response off a keep-alive socket: [status, body].
sub read_response {
    my ($socket) = @_;
    my ($buffer, $select, $deadline) = ('', IO::Select->new($socket), time + 10);
    while (1) {
        if ($buffer =~ /\A(HTTP\/1\.1 (\d+)[^\r]*\r\n(.*?)\r\n\r\n)/s) {
            my ($head, $status, $headers) = ($1, $2, $3);
            my ($length) = $headers =~ /^Content-Length: (\d+)/mi;
            $length //= 0;
            return [$status, substr($buffer, length $head, $length)]
                if length($buffer) >= length($head) + $length;
        }
        my $left = $deadline - time;
        return [0, "no response: $buffer"] if $left <= 0 || !$select->can_read($left);
        return [0, "closed: $buffer"] unless sysread($socket, $buffer, 65536, length $buffer);
    }
}

# Script calls Redis ran: of this harness's Redis, or of the given nodes.
sub evalsha_calls {
    my (@nodes) = @_;
    my $calls = 0;
    for my $redis (@nodes ? @nodes : ($t->redis)) {
        $calls += $1 if ($redis->info('commandstats')->{cmdstat_evalsha} // '') =~ /calls=(\d+)/;
    }
    return $calls;
}
my @counted;    # the nodes evalsha_calls() counts (none: this harness's Redis)

# Opens a keep-alive connection per request and sends a first request on
# each (answered one by one); then stops the worker, writes the requests,
# lets it run again and reads their answers.
sub in_one_iteration {
    my (@requests) = @_;    # [connection, id] each
    my @sockets;
    for my $i (0 .. $#requests) {
        my $socket = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $t->{nginx_port}, Proto => 'tcp', Timeout => 5) or die "connect: $!";
        $socket->autoflush(1);
        print $socket request_bytes('ir1', "warm-$i-" . int(rand(1e9)));
        my $warm = read_response($socket);
        die "warm-up request: @$warm" unless $warm->[0] == 200;
        push @sockets, $socket;
    }
    my $calls = evalsha_calls(@counted);
    my ($worker) = $t->worker_pids;
    kill 'STOP', $worker;
    # kill() returns before a worker running on the other CPU has stopped.
    Mailhook::Test::wait_for('the worker stopped', 10, sub {
        open my $stat, '<', "/proc/$worker/stat" or return 0;
        return (split ' ', scalar <$stat>)[2] eq 'T';
    });
    for my $i (0 .. $#requests) {
        my $socket = $sockets[$i];
        print $socket request_bytes(@{ $requests[$i] });
    }
    kill 'CONT', $worker;
    my @answers = map { read_response($_) } @sockets;
    close $_ for @sockets;
    return (\@answers, evalsha_calls(@counted) - $calls);
}

# The recipients' local parts of the events stored, but the warm-ups.
sub stored_ids {
    return [sort grep { !/^warm-/ } map { decode_json($_->{fields}{event})->{recipient} =~ s/\@.*//r }
        $t->stream('mailhook:events')];
}

# Request 0 was stored before: a duplicate. ir2's health hash is of the
# wrong type: its request fails alone.
is($t->post('/webhooks/v2/inboxroad/ir1', body_of('a0'),
    'X-Signature' => hmac_b64(body_of('a0'), 's1'))->{status}, 200, 'a0 stored before');
$t->redis->set('mailhook:health:ir2', 'not-a-hash');
my @requests = ((map { ['ir1', "a$_"] } 0 .. 15), ['ir2', 'b1'], ['ir1', 'a1']);
my ($answers, $calls) = in_one_iteration(@requests);
is($calls, 1, 'the 18 store calls went to Redis as one script call');
my @statuses = map { $_->[0] } @$answers;
is_deeply(\@statuses, [(200) x 16, 503, 200], 'each request answered as its own');
is($answers->[0][1], qq({"stored":0,"duplicates":1}\n), 'a0: a duplicate');
is($answers->[1][1], qq({"stored":1,"duplicates":0}\n), 'a1: stored');
is($answers->[17][1], qq({"stored":0,"duplicates":1}\n), 'a1 again in the same batch: a duplicate');
is($answers->[16][1], qq({"error":"unavailable"}\n), 'b1: its own error, a 503');
is_deeply(stored_ids(), [sort map { "a$_" } 0 .. 15], 'a0..a15 stored once each, b1 not');
like($t->error_log, qr/refused EVALSHA store script, keys .*mailhook:health:ir2.*: WRONGTYPE/,
    'the refusal is logged with the request\'s own keys');

# With mailhook_redis_wait: the batch's reply is held until its WAIT answers.
$t->redis->del('mailhook:health:ir2');
$t->stop_nginx;
$t->start_replica;
$t->start_nginx(%config, redis => 'mailhook_redis 127.0.0.1:' . $t->redis_port
    . '; mailhook_redis_wait 1 timeout=2s;');
($answers, $calls) = in_one_iteration(map { ['ir2', "w$_"] } 1 .. 8);
is($calls, 1, 'with WAIT: one script call');
is_deeply([map { $_->[0] } @$answers], [(200) x 8], 'with WAIT: every request stored');
is_deeply([grep { /^w/ } @{ stored_ids() }], [map { "w$_" } 1 .. 8], '... once each');

# A Redis Cluster: a script's keys must share one slot, so a batch holds the
# calls of one slot. Two tenants (mailhook_key_hash_tag tenant: one slot
# each), twelve requests each: two script calls.
$t->stop_nginx;
my $cluster = Mailhook::RedisCluster->new(dir => $t->dir);
my ($primaries) = $cluster->create(3, 0);
@counted = map { $cluster->node($_) } @$primaries;
$t->start_nginx(
    redis => "mailhook_redis 127.0.0.1:$primaries->[0] cluster;",
    http => $config{http} . ' mailhook_connection ir3 vendor=inboxroad secret=s2 tenant=third;'
        . ' mailhook_key_hash_tag tenant;',
    ready => 'port');
$t->wait_workers_ready(redis_connected => 1);
my @mixed = map { [$_ % 2 ? 'ir2' : 'ir3', "c$_"] } 1 .. 24;
($answers, $calls) = in_one_iteration(@mixed);
is($calls, 2, 'cluster: one script call per slot');
is_deeply([map { $_->[0] } @$answers], [(200) x 24], 'cluster: every request stored')
    or diag(join "\n", map { $_->[1] } @$answers);
is_deeply([map { $t->post("/webhooks/v2/inboxroad/$_->[0]", body_of($_->[1]),
        'X-Signature' => hmac_b64(body_of($_->[1]), 's2'))->{content} } @mixed],
    [(qq({"stored":0,"duplicates":1}\n)) x 24], '... once each: sent again, all duplicates');
unlike($t->error_log, qr/CROSSSLOT/, 'cluster: no call mixed slots');
$t->stop_nginx;
$cluster->stop;

$t->finish;
done_testing;
