# SPDX-License-Identifier: BSD-2-Clause
package Mailhook::Sentinel;

# A Sentinel set-up on loopback for t/redis_sentinel.t and the failover
# bench: a replica of the harness's Redis and three Sentinels (quorum 2,
# down-after-milliseconds 1000) that need a password, and know an ACL user
# that may do what mailhook does (docs/redis.md "Sentinel").

use strict;
use warnings;

use Mailhook::Test;
use POSIX qw(_exit);
use Redis;
use Time::HiRes qw(sleep);

our $name = 'mymaster';
our $password = 'sentinel-secret';
our ($acl_user, $acl_password) = ('watcher', 'watcher-secret');

# Runs @argv in the background, its output appended to $dir/$log; its pid.
sub spawn {
    my ($dir, $log, @argv) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/$log";
        open STDERR, '>&', \*STDOUT;
        { exec @argv };
        _exit(127);
    }
    return $pid;
}

# $primary: the harness's Redis port. Returns once the Sentinels know the
# primary, the replica and each other.
sub new {
    my ($class, $dir, $primary, %opt) = @_;
    my $self = bless { dir => $dir, pids => [], sentinels => [] }, $class;
    $self->{replica} = Mailhook::Test::free_port();
    push @{$self->{pids}}, spawn($dir, 'replica.log', 'redis-server', '--bind', '127.0.0.1',
        '--port', $self->{replica}, '--save', '', '--appendonly', 'no', '--dir', $dir,
        '--dbfilename', 'replica.rdb', '--protected-mode', 'no',
        '--replicaof', '127.0.0.1', $primary);
    for my $i (1 .. 3) {
        my $port = Mailhook::Test::free_port();
        my $conf = "$dir/sentinel$i.conf";
        open my $fh, '>', $conf or die "$conf: $!";
        print $fh <<"CONF";
port $port
bind 127.0.0.1
protected-mode no
dir $dir
requirepass $password
sentinel sentinel-pass $password
user $acl_user on >$acl_password resetchannels &+switch-master -\@all +auth +sentinel|get-master-addr-by-name +subscribe
sentinel monitor $name 127.0.0.1 $primary 2
sentinel down-after-milliseconds $name 1000
sentinel failover-timeout $name 4000
sentinel parallel-syncs $name 1
CONF
        close $fh;
        push @{$self->{pids}}, spawn($dir, "sentinel$i.log", 'redis-server', $conf,
            '--sentinel');
        push @{$self->{sentinels}}, $port;
    }
    Mailhook::Test::wait_for('the replica in sync', 20, sub {
        (eval { Redis->new(server => "127.0.0.1:$self->{replica}", reconnect => 0)
                    ->info('replication')->{master_link_status} } // '') eq 'up';
    });
    Mailhook::Test::wait_for('sentinels to know each other and the replica', 30, sub {
        for my $port (@{$self->{sentinels}}) {
            my %master = eval { @{$self->sentinel($port)->sentinel('master', $name)} };
            return 0 unless ($master{'num-other-sentinels'} // 0) == 2
                && ($master{'num-slaves'} // 0) == 1;
        }
        return 1;
    });
    return $self;
}

sub sentinels { @{$_[0]{sentinels}} }
sub replica { $_[0]{replica} }

sub sentinel {
    my ($self, $port) = @_;
    return Redis->new(server => "127.0.0.1:$port", password => $password, reconnect => 0,
        cnx_timeout => 1, read_timeout => 2);
}

# The primary's port as the first Sentinel that answers says it.
sub primary {
    my ($self) = @_;
    for my $port (@{$self->{sentinels}}) {
        my $addr = eval { $self->sentinel($port)->sentinel('get-master-addr-by-name', $name) };
        return $addr->[1] if $addr;
    }
    return undef;
}

# What the Sentinels think of the instance on $port, and the end of their
# logs: for a test that waited for them in vain (TILT mode on a loaded
# machine, a conversion that never came).
sub describe {
    my ($self, $port) = @_;
    my @lines;
    for my $i (1 .. @{$self->{sentinels}}) {
        my $sentinel = $self->{sentinels}[$i - 1];
        my $tilt = eval { $self->sentinel($sentinel)->info('sentinel')->{sentinel_tilt} } // '?';
        my @replicas = eval { @{$self->sentinel($sentinel)->sentinel('replicas', $name)} };
        my @seen = map { my %r = @$_; "$r{name} flags=$r{flags} role-reported=$r{'role-reported'}" }
            grep { my %r = @$_; $r{port} == $port } @replicas;
        push @lines, "sentinel $i: tilt=$tilt; " . (join('; ', @seen) || "no replica on $port");
        if (open my $fh, '<', "$self->{dir}/sentinel$i.log") {
            my @log = <$fh>;
            chomp @log;
            push @lines, map { "  $_" } @log[($#log > 15 ? $#log - 15 : 0) .. $#log];
        }
    }
    return join("\n", @lines);
}

# `mailhook_redis` naming the Sentinels.
sub directive {
    my ($self, %opt) = @_;
    my $pw = $opt{password} // $password;
    my $user = $opt{user} ? " sentinel_user=$opt{user}" : '';
    return 'mailhook_redis ' . join(' ', map { "127.0.0.1:$_" } @{$self->{sentinels}})
        . " sentinel=$name$user sentinel_password=$pw;";
}

sub stop {
    my ($self) = @_;
    for my $pid (@{$self->{pids}}) { kill 'TERM', $pid }
    for my $pid (@{$self->{pids}}) { waitpid($pid, 0) }
    $self->{pids} = [];
}

sub DESTROY { local $?; $_[0]->stop }

1;
