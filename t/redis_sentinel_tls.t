# SPDX-License-Identifier: BSD-2-Clause
# mailhook_redis ... sentinel=mymaster tls: a primary, a replica and a
# Sentinel that all speak TLS (the Sentinel to the Redis servers too,
# tls-replication yes), certificates made here. The worker asks the Sentinel
# over TLS, stores on the primary over TLS, and after a failover
# (SENTINEL FAILOVER) follows +switch-master to the promoted replica. A
# Sentinel whose certificate the worker does not trust names no primary.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Certs qw(make_ca make_cert);
use Mailhook::Sentinel;
use Mailhook::Test;
use Redis;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $host = 'redis.mailhook.test';
make_ca($dir, 'ca');
make_ca($dir, 'other-ca');
make_cert($dir, 'ca', 'server', "subjectAltName=DNS:$host");

# Each keeps its plaintext port, for the test to look.
sub tls_args {
    my ($port) = @_;
    return ('--tls-port', $port, '--tls-cert-file', "$dir/server.crt",
        '--tls-key-file', "$dir/server.key", '--tls-ca-cert-file', "$dir/ca.crt",
        '--tls-auth-clients', 'no', '--tls-replication', 'yes');
}
my ($primary_tls, $replica_tls, $sentinel_tls) = map { Mailhook::Test::free_port() } 1 .. 3;
my $primary = $t->start_redis(tls_args($primary_tls));
my ($replica) = $t->start_replica(of => $primary_tls, args => [tls_args($replica_tls)]);

my $sentinel_port = Mailhook::Test::free_port();
my $conf = "$dir/sentinel.conf";
open my $fh, '>', $conf or die "$conf: $!";
print $fh join("\n", "port $sentinel_port", 'bind 127.0.0.1', 'protected-mode no', "dir $dir",
    "tls-port $sentinel_tls", "tls-cert-file $dir/server.crt", "tls-key-file $dir/server.key",
    "tls-ca-cert-file $dir/ca.crt", 'tls-auth-clients no', 'tls-replication yes',
    "sentinel monitor mymaster 127.0.0.1 $primary_tls 1",
    'sentinel down-after-milliseconds mymaster 1000',
    'sentinel failover-timeout mymaster 4000', ''), "\n";
close $fh;
my $sentinel_pid = Mailhook::Sentinel::spawn($dir, 'sentinel.log', 'redis-server', $conf,
    '--sentinel');
END { local $?; if ($sentinel_pid) { kill 'TERM', $sentinel_pid; waitpid($sentinel_pid, 0) } }
my $sentinel = sub { Redis->new(server => "127.0.0.1:$sentinel_port", reconnect => 0,
    cnx_timeout => 1, read_timeout => 2) };
sub named_primary {
    my $addr = eval { $sentinel->()->sentinel('get-master-addr-by-name', 'mymaster') };
    return $addr ? $addr->[1] : 0;
}
Mailhook::Test::wait_for('the Sentinel to know the replica', 30, sub {
    my %master = eval { @{ $sentinel->()->sentinel('master', 'mymaster') } };
    ($master{'num-slaves'} // 0) == 1 });

sub config {
    my ($ca) = @_;
    return (redis => "mailhook_redis 127.0.0.1:$sentinel_tls sentinel=mymaster tls; "
            . "mailhook_redis_ssl_trusted_certificate $dir/$ca.crt; mailhook_redis_ssl_name $host; "
            # an answer means the replica has it: no event acknowledged by
            # the old primary between the promotion and +switch-master
            . 'mailhook_redis_wait 1 timeout=1s;',
        http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;',
        location => 'mailhook_redis_timeout 2s;', ready => 'port');
}

sub send_event {
    my ($id) = @_;
    return $t->post_delivered("$id\@example.com", $id);
}
sub stored_on {
    my ($port) = @_;
    return [map { decode_json({ @{ $_->[1] } }->{event})->{recipient} } Redis->new(server => "127.0.0.1:$port")
        ->xrange('mailhook:events', '-', '+')];
}

# --- an untrusted Sentinel names nothing --------------------------------------------

$t->start_nginx(config('other-ca'));
my $r = send_event('untrusted');
is($r->{status}, 503, 'a Sentinel with an untrusted certificate: 503');
is_deeply(stored_on($primary), [], '... and nothing stored');
Mailhook::Test::wait_for('a TLS failure logged', 10, sub {
    $t->error_log =~ /mailhook: redis.*127\.0\.0\.1:$sentinel_tls.*(certificate|SSL|TLS)/i });
pass('the Sentinel connection fails on its certificate');
$t->stop_nginx;

# --- the trusted set-up -------------------------------------------------------------

$t->start_nginx(config('ca'));
Mailhook::Test::wait_for('the primary found over TLS', 15, sub {
    $t->error_log =~ /the primary "mymaster" is 127\.0\.0\.1:$primary_tls/ });
$r = send_event('before');
is($r->{status}, 200, 'stored through the Sentinel, over TLS');
is_deeply(stored_on($primary), ['before@example.com'], '... on the primary');

# NOGOODSLAVE until the Sentinel has seen the replica's state once more.
Mailhook::Test::wait_for('SENTINEL FAILOVER accepted', 30, sub {
    eval { $sentinel->()->sentinel('failover', 'mymaster') } });
pass('SENTINEL FAILOVER');
Mailhook::Test::wait_for('the replica promoted', 30, sub { named_primary() == $replica_tls });
my $deadline = time + 15;
# mailhook_redis_wait 1 needs a replica of the new primary: the old one, once
# the Sentinel has turned it into one and it has synced (over TLS).
Mailhook::Test::wait_for('the old primary replicating from the new', 60, sub {
    (eval { Redis->new(server => "127.0.0.1:$replica", reconnect => 0)->info('replication')
        ->{slave0} } // '') =~ /state=online/ });
# sent again until a 2xx, as an ESP does: stored once however many tries
do { $r = send_event('after'); sleep 0.1 unless $r->{status} == 200 }
    until $r->{status} == 200 || time > $deadline;
is($r->{status}, 200, 'stored after the failover');
is_deeply(stored_on($replica), ['before@example.com', 'after@example.com'],
    '... on the promoted replica, each event once (the first replicated before)');
like($t->error_log, qr/the primary "mymaster" is 127\.0\.0\.1:$replica_tls/,
    'the worker followed the Sentinel to the new primary')
    or diag(join "\n", grep { /mymaster|primary/ } split /\n/, $t->error_log);

$t->finish;
done_testing;
