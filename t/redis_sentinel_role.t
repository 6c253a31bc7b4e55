# SPDX-License-Identifier: BSD-2-Clause
# sentinel=: what the worker does with a Sentinel's answer, with a scripted
# Sentinel (a few lines of RESP below) in front of two real redis-servers.
# A node the Sentinel names that is a replica (ROLE) is never used; a
# primary demoted behind the Sentinels' back answers READONLY, and the
# worker asks again instead of reconnecting to it.
use strict;
use warnings;
use lib 't/lib';

use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Mailhook::Test;
use Redis;
use Test::More;
use Time::HiRes qw(sleep);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $a_port = $t->start_redis;
my ($b_port) = $t->start_replica(name => 'b');
my $b = Redis->new(server => "127.0.0.1:$b_port", reconnect => 2, every => 50_000);

# The scripted Sentinel names the node in $dir/primary ("host port") and
# counts the questions in $dir/asked.
my $answer = "$dir/primary";
sub name_primary { open my $fh, '>', $answer or die; print $fh "127.0.0.1 $_[0]"; close $fh }
sub asked { open my $fh, '<', "$dir/asked" or return 0; local $/; return length <$fh> }
# One RESP command off the front of a buffer, or nothing yet.
sub take_command {
    my ($buffer) = @_;
    return undef unless $$buffer =~ /^\*(\d+)\r\n/;
    my ($count, $at) = ($1, length $&);
    my @words;
    for (1 .. $count) {
        return undef unless substr($$buffer, $at) =~ /^\$(\d+)\r\n/;
        my $length = $1;
        $at += length $&;
        return undef if length($$buffer) < $at + $length + 2;
        push @words, substr($$buffer, $at, $length);
        $at += $length + 2;
    }
    substr($$buffer, 0, $at, '');
    return \@words;
}
my $sentinel_port = Mailhook::Test::free_port();
my $listener = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
    LocalPort => $sentinel_port, ReuseAddr => 1) or die "listen: $!";
my $sentinel_pid = fork() // die "fork: $!";
if ($sentinel_pid == 0) {
    my $select = IO::Select->new($listener);
    my %buffer;
    while (1) {
        for my $fh ($select->can_read(0.1)) {
            if ($fh == $listener) { $select->add($listener->accept); next }
            my $data = '';
            if (!sysread($fh, $data, 65536)) { $select->remove($fh); delete $buffer{$fh}; next }
            $buffer{$fh} .= $data;
            while (my $words = take_command(\$buffer{$fh})) {
                my $command = uc $words->[0];
                my $reply = "-ERR unknown\r\n";
                if ($command eq 'AUTH') { $reply = "+OK\r\n" }
                elsif ($command eq 'SUBSCRIBE') {
                    $reply = "*3\r\n\$9\r\nsubscribe\r\n\$14\r\n+switch-master\r\n:1\r\n";
                } elsif ($command eq 'SENTINEL') {
                    open my $in, '<', $answer;
                    my ($host, $port) = split ' ', <$in>;
                    open my $log, '>>', "$dir/asked"; print $log '.'; close $log;
                    $reply = sprintf("*2\r\n\$%d\r\n%s\r\n\$%d\r\n%s\r\n", length $host, $host,
                        length $port, $port);
                }
                syswrite($fh, $reply);
            }
        }
    }
}
close $listener;
END { local $?; if ($sentinel_pid) { kill 'KILL', $sentinel_pid; waitpid($sentinel_pid, 0) } }

sub send_event {
    my ($id) = @_;
    return $t->post_delivered("$id\@example.com", $id);
}

# The Sentinel names b, a replica: refused by ROLE, nothing sent to it.
name_primary($b_port);
$t->start_nginx(
    redis => "mailhook_redis 127.0.0.1:$sentinel_port sentinel=mymaster;",
    http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;',
    ready => 'port',
);
Mailhook::Test::wait_for('the replica refused', 10, sub {
    $t->error_log =~ /redis is not the primary \(ROLE\) \(127\.0\.0\.1:$b_port/ });
pass('a replica the Sentinel names is refused (ROLE)');
is(send_event('e1')->{status}, 503, '... requests meanwhile: 503');
my $asked = asked();
sleep 0.5;
ok(asked() > $asked, '... and the Sentinel is asked again');
is_deeply([grep { /^cmdstat_(evalsha|eval|script)$/ } keys %{$b->info('commandstats')}], [],
    '... no script was loaded or called on the replica');

# The Sentinel names a: stored there.
name_primary($a_port);
$t->wait_workers_ready(redis_connected => 1);
is(send_event('e2')->{status}, 200, 'the Sentinel names the primary: 200');
is($t->redis->xlen('mailhook:events'), 1, '... stored on it');

# a is demoted behind the Sentinel's back (b promoted, a its replica): the
# next store answers READONLY; the worker drops a and asks again.
$b->replicaof('NO', 'ONE');
$t->redis->replicaof('127.0.0.1', $b_port);
name_primary($b_port);
my $r = send_event('e3');
is($r->{status}, 503, 'a demoted primary: READONLY is a 503 (retried by the ESP)');
Mailhook::Test::wait_for('the move to b', 10, sub {
    $t->error_log =~ /answered READONLY: the primary has moved/
        && $t->error_log =~ /the primary "mymaster" is 127\.0\.0\.1:$b_port/ });
pass('... the worker dropped it and asked the Sentinel, which names b');
$t->wait_workers_ready(redis_connected => 1);
is(send_event('e3')->{status}, 200, 'the retry: 200');
my @recipients = map { decode_json({@{$_->[1]}}->{event})->{recipient} }
    $b->xrange('mailhook:events', '-', '+');
is_deeply(\@recipients, ['e2@example.com', 'e3@example.com'], '... on b, with what a had');

$t->finish;
done_testing;
