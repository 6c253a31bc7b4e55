# SPDX-License-Identifier: BSD-2-Clause
# A Redis host name through nginx's `resolver`: a small DNS server on
# loopback (Net::DNS) answers for redis.mailhook.test, first with 127.0.0.2,
# then with 127.0.0.3 (a failover moving the name). The record is asked at
# every reconnect, so the next connection goes to the new address; a slow
# DNS answer never holds up the worker. Without a resolver, the name is
# looked up once at configuration time (as proxy_pass does).
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Test;
use Net::DNS::Nameserver;
use POSIX qw(_exit);
use Redis;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $name = 'redis.mailhook.test';

# The DNS server reads the address to give from $dir/dns-address on every
# query, and waits $dir/dns-delay seconds first when that file exists.
sub write_file { my ($file, $text) = @_; open my $fh, '>', "$dir/$file" or die $!; print $fh $text; close $fh }
sub read_file { my ($file) = @_; open my $fh, '<', "$dir/$file" or return; local $/; return <$fh> }
write_file('dns-address', '127.0.0.2');
my $dns_port = Mailhook::Test::free_port();
my $dns_pid = fork() // die "fork: $!";
if ($dns_pid == 0) {
    my $ns = Net::DNS::Nameserver->new(
        LocalAddr => '127.0.0.1', LocalPort => $dns_port, Verbose => 0,
        ReplyHandler => sub {
            my ($qname, $qclass, $qtype) = @_;
            if (defined(my $delay = read_file('dns-delay'))) { sleep $delay }
            my $count = (read_file('dns-queries') // 0) + 1;
            write_file('dns-queries', $count);
            return ('NXDOMAIN', [], [], []) unless lc($qname) eq $name;
            return ('NOERROR', [], [], [], { aa => 1 }) unless $qtype eq 'A';
            my $rr = Net::DNS::RR->new("$qname 1 IN A " . read_file('dns-address'));
            return ('NOERROR', [$rr], [], [], { aa => 1 });
        },
    ) or _exit(1);
    $ns->main_loop;
    _exit(0);
}
END { local $?; if ($dns_pid) { kill 'TERM', $dns_pid; waitpid($dns_pid, 0) } }

# Two Redis servers on one port, at the two addresses the name moves between.
my $port = Mailhook::Test::free_port();
my %redis_pid;
sub start_redis_at {
    my ($ip) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/redis-$ip.log";
        open STDERR, '>&', \*STDOUT;
        { exec 'redis-server', '--bind', $ip, '--port', $port, '--save', '', '--appendonly', 'no',
            '--dir', $dir, '--dbfilename', "dump-$ip.rdb", '--protected-mode', 'no' };
        _exit(127);
    }
    $redis_pid{$ip} = $pid;
    Mailhook::Test::wait_for("redis at $ip", 10, sub {
        my $r = eval { Redis->new(server => "$ip:$port", reconnect => 0) } or return 0;
        return eval { $r->ping } // 0;
    });
}
sub stop_redis_at { my ($ip) = @_; my $pid = delete $redis_pid{$ip} or return; kill 'TERM', $pid; waitpid($pid, 0) }
END { local $?; stop_redis_at($_) for keys %redis_pid }
sub events_at { my ($ip) = @_; return Redis->new(server => "$ip:$port")->xlen('mailhook:events') }

start_redis_at('127.0.0.2');
start_redis_at('127.0.0.3');

$t->start_nginx(
    redis => "resolver 127.0.0.1:$dns_port valid=1s ipv6=off; mailhook_redis $name:$port;",
    http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;',
    location => 'mailhook_redis_timeout 3s;',
    server => 'location = /ping { return 204; }',
);
sub send_event {
    my ($n) = @_;
    return $t->post_delivered("r$n\@example.com", "e$n");
}
sub until_stored {
    my ($n) = @_;
    my $deadline = time + 15;
    my $status = 0;
    while (time < $deadline) {
        $status = send_event($n)->{status};
        return $status if $status == 200;
        sleep 0.1;
    }
    return $status;
}

is(until_stored(1), 200, 'stored through the name');
is(events_at('127.0.0.2'), 1, 'in the Redis the name pointed at');
is(events_at('127.0.0.3'), 0, 'not in the other one');
ok(read_file('dns-queries') >= 1, 'the worker asked the DNS server');

# The name moves; the old primary goes away: the reconnect asks again.
write_file('dns-address', '127.0.0.3');
sleep 2.1;  # past the resolver's valid=1s (kept in whole seconds)
stop_redis_at('127.0.0.2');
is(until_stored(2), 200, 'stored again after the record changed');
is(events_at('127.0.0.3'), 1, 'the event went to the new address');

# A DNS server that takes 3 s while the link reconnects: other requests are
# answered meanwhile, webhooks get a 503 (no spool) instead of hanging.
write_file('dns-delay', '3');
sleep 2.1;
stop_redis_at('127.0.0.3');
start_redis_at('127.0.0.3');
send_event(3);  # notices the lost connection and starts the reconnect
my $started = time;
my @pings = map { my $s = $t->request('GET', '/ping')->{status}; sleep 0.1; $s } 1 .. 5;
my $elapsed = time - $started;
is_deeply(\@pings, [204, 204, 204, 204, 204], 'other locations answer while DNS is slow');
ok($elapsed < 2.5, sprintf('... at once (5 requests in %.2fs)', $elapsed));
# The link's connect timeout ends the slow resolution; the link may have
# started it before or after this request, so wait for the line.
my $slow = qr/mailhook: redis .*\Q$name:$port\E.*resolving the redis host/;
ok(eval { Mailhook::Test::wait_for('the slow resolution in error.log', 10,
        sub { $t->error_log =~ $slow }); 1 }, 'the slow resolution is logged');
unlink "$dir/dns-delay";
is(until_stored(4), 200, 'stored once DNS answers again');
is(events_at('127.0.0.3'), 1, 'in the Redis the name points at (a fresh one)')
    or diag(join ' ', map { $_->{recipient} } map { decode_json({@{$_->[1]}}->{event}) }
        Redis->new(server => "127.0.0.3:$port")->xrange('mailhook:events', '-', '+'));

$t->finish;

# Without a `resolver` the name is looked up when nginx reads its
# configuration: one that does not resolve is a configuration error.
my $u = Mailhook::Test->new;
eval { $u->start_nginx(redis => 'mailhook_redis no-such-host.invalid:6379;') };
like($@, qr/host not found in mailhook_redis "no-such-host\.invalid:6379"/,
    'no resolver: an unknown name fails the configuration');

done_testing;
