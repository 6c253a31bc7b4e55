# SPDX-License-Identifier: BSD-2-Clause
# Redis Cluster nodes on loopback for tests and benchmarks: cluster-enabled
# redis-server processes on free ports (their bus ports free too), joined by
# redis-cli --cluster create. Every node is killed when the object goes away
# (or the process ends).
package Mailhook::RedisCluster;

use strict;
use warnings;

use Mailhook::Test;
use POSIX qw(_exit);
use Redis;

my @all;    # every object, for END

sub new {
    my ($class, %opt) = @_;
    # tls => { cert => file, key => file, ca => file }: every node also
    # listens for TLS (tls_port) and the cluster bus is TLS.
    my $self = bless { dir => $opt{dir}, node_timeout => $opt{node_timeout} // 1000,
                       tls => $opt{tls}, pids => {}, bus => {}, tls_ports => {},
                       clients => {}, owner => $$ }, $class;
    push @all, $self;
    return $self;
}

# A node; with $port, that node again (same port, bus port and nodes.conf).
sub start_node {
    my ($self, $port) = @_;
    $port //= Mailhook::Test::free_port();
    my $bus = $self->{bus}{$port} //= Mailhook::Test::free_port();
    my $dir = $self->{dir};
    my @tls;
    if (my $tls = $self->{tls}) {
        @tls = ('--tls-port', $self->{tls_ports}{$port} //= Mailhook::Test::free_port(),
                '--tls-cert-file', $tls->{cert}, '--tls-key-file', $tls->{key},
                '--tls-ca-cert-file', $tls->{ca}, '--tls-auth-clients', 'no',
                '--tls-cluster', 'yes');
    }
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/redis-$port.log";
        open STDERR, '>&', \*STDOUT;
        { exec 'redis-server', '--bind', '127.0.0.1', '--port', $port, '--save', '',
            '--appendonly', 'no', '--dir', $dir, '--dbfilename', "dump-$port.rdb",
            '--protected-mode', 'no', '--cluster-enabled', 'yes',
            '--cluster-config-file', "$dir/nodes-$port.conf", '--cluster-port', $bus,
            '--cluster-node-timeout', $self->{node_timeout}, @tls };
        _exit(127);
    }
    $self->{pids}{$port} = $pid;
    Mailhook::Test::wait_for("redis $port", 10, sub {
        eval { Redis->new(server => "127.0.0.1:$port", reconnect => 0)->ping } });
    $self->{clients}{$port} = Redis->new(server => "127.0.0.1:$port", reconnect => 2);
    return $port;
}

# $n primaries with $replicas replicas each; returns (primaries, all ports).
sub create {
    my ($self, $n, $replicas) = @_;
    my @ports = map { $self->start_node } 1 .. $n * (1 + $replicas);
    system("redis-cli --cluster create " . join(' ', map { "127.0.0.1:$_" } @ports)
        . " --cluster-replicas $replicas --cluster-yes >> $self->{dir}/cluster-create.log 2>&1") == 0
        or die "redis-cli --cluster create failed (see $self->{dir}/cluster-create.log)\n";
    Mailhook::Test::wait_for('cluster_state:ok', 30, sub {
        !grep { $self->node($_)->cluster('INFO') !~ /cluster_state:ok/ } @ports });
    Mailhook::Test::wait_for('replicas in sync', 30, sub {
        !grep { my @role = $self->node($_)->role; $role[0] eq 'slave' && $role[3] ne 'connected' } @ports });
    my @primaries = grep { ($self->node($_)->role)[0] eq 'master' } @ports;
    return (\@primaries, \@ports);
}

sub node { $_[0]{clients}{$_[1]} // die "no node $_[1]\n" }
sub tls_port { $_[0]{tls_ports}{$_[1]} }
sub id { $_[0]->node($_[1])->cluster('MYID') }
sub alive { my ($self) = @_; return sort keys %{ $self->{pids} } }

# The primaries among the running nodes, as they say themselves.
sub primaries {
    my ($self) = @_;
    return grep { my @role = eval { $self->node($_)->role }; @role && $role[0] eq 'master' } $self->alive;
}

# The port of the primary serving a slot, as $via says.
sub owner {
    my ($self, $slot, $via) = @_;
    for my $range (@{ $self->node($via // ($self->alive)[0])->cluster('SLOTS') }) {
        return $range->[2][1] if $slot >= $range->[0] && $slot <= $range->[1];
    }
    return;
}

sub kill_node {
    my ($self, $port, $signal) = @_;
    my $pid = delete $self->{pids}{$port} or return;
    delete $self->{clients}{$port};
    kill $signal // 'KILL', $pid;
    waitpid($pid, 0);
}

sub stop {
    my ($self) = @_;
    return unless $$ == $self->{owner};    # not from a forked child
    $self->kill_node($_) for $self->alive;
}

sub DESTROY { local $?; $_[0]->stop }
END { local $?; $_->stop for grep { defined } @all }

1;
