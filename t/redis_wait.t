# SPDX-License-Identifier: BSD-2-Clause
# mailhook_redis_wait: a primary and a replica (--replicaof). While the
# replica confirms, requests are stored and answered 200 by Redis. With the
# replica stopped (SIGSTOP), WAIT falls short: the answers come from the
# spool (or are 503 without one) and the metric counts them; after SIGCONT
# the spool replays and every acknowledged event is in Redis exactly once,
# on the primary and on the replica.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Test;
use Redis;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $primary = $t->start_redis;

my ($replica_port, $replica_pid) = $t->start_replica;
Mailhook::Test::wait_for('the primary to see its replica', 20, sub {
    (eval { $t->redis->info('replication')->{connected_slaves} } // 0) >= 1 });
my $replica = Redis->new(server => "127.0.0.1:$replica_port", reconnect => 2);

my %config = (
    redis => "mailhook_redis 127.0.0.1:$primary; mailhook_redis_wait 1 timeout=200ms;",
    http => "mailhook_connection ir1 vendor=inboxroad secret=s1; mailhook_spool $dir/spool;",
    location => 'mailhook_retry_after 5s;',
    server => 'location = /status { mailhook_status; }',
);
$t->start_nginx(%config);

my $n = 0;
my %acknowledged;
sub send_event {
    my $id = 'e' . ++$n;
    my $r = $t->post_delivered("$id\@example.com", $id);
    $acknowledged{"$id\@example.com"} = 1 if $r->{status} == 200;
    return $r;
}
sub unreplicated {
    my $json = decode_json($t->request('GET', '/status?format=json')->{content});
    return $json->{redis_unreplicated};
}
sub recipients_on {
    my ($redis) = @_;
    my %count;
    $count{decode_json({@{$_->[1]}}->{event})->{recipient}}++
        for $redis->xrange('mailhook:events', '-', '+');
    return \%count;
}

# The replica confirms: stored by Redis.
my $r = send_event();
is($r->{status}, 200, 'replica confirming: 200');
is($r->{content}, qq({"stored":1,"duplicates":0}\n), '... stored by Redis, not the spool');
is(unreplicated(), 0, 'the metric counts nothing yet');

# The replica stops: WAIT falls short, the spool answers.
kill 'STOP', $replica_pid;
my @answers = map { send_event() } 1 .. 5;
is_deeply([map { $_->{status} } @answers], [(200) x 5], 'replica stopped: 200');
is(scalar(grep { $_->{content} =~ /"spooled":1/ } @answers), 5, '... every answer from the spool');
ok(unreplicated() >= 5, 'the metric counts them (' . unreplicated() . ')');
like($t->error_log, qr/only 0 of 1 replicas confirmed the writes within 200ms/,
    'the shortfall is logged');
ok(scalar(() = glob("$dir/spool/spool-*.log")) > 0, 'the spool holds them');

# The replica comes back: the spool replays (a duplicate for what the
# primary already had), and the journals go once the replica confirms.
kill 'CONT', $replica_pid;
Mailhook::Test::wait_for('spool replayed', 20, sub { !glob("$dir/spool/spool-*.log") });
like($t->error_log, qr/replicas confirm writes again/, 'the recovery is logged');
Mailhook::Test::wait_for('replica caught up', 10, sub {
    $replica->xlen('mailhook:events') == $t->event_count });
for my $where (['primary', $t->redis], ['replica', $replica]) {
    my $count = recipients_on($where->[1]);
    my @missing = grep { !$count->{$_} } sort keys %acknowledged;
    my @twice = grep { $count->{$_} > 1 } sort keys %$count;
    is_deeply(\@missing, [], "every acknowledged event is on the $where->[0]");
    is_deeply(\@twice, [], "none twice on the $where->[0]");
}
is($t->event_count, 6, 'six events, six stream entries');

# Without a spool, a shortfall is a 503.
$t->reload(%config, http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;');
kill 'STOP', $replica_pid;
$r = send_event();
is($r->{status}, 503, 'no spool, replica stopped: 503');
is($r->{headers}{'retry-after'}, '5', '... with Retry-After');
kill 'CONT', $replica_pid;
delete $acknowledged{"e$n\@example.com"};

$t->finish;
done_testing;
