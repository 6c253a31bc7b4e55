# SPDX-License-Identifier: BSD-2-Clause
# Redis failures a production Redis goes through, each with the spool on
# (answered 200 from the spool, stored once the failure is over) and off
# (503 + Retry-After, nothing stored): a restart loading its dataset
# (LOADING), a replica as target (READONLY, e.g. a demoted primary), a
# script running long (BUSY), a server that stops answering (DEBUG SLEEP:
# the request times out). Nothing acknowledged is lost, nothing is stored
# twice.
use strict;
use warnings;
use lib 't/lib';

use IO::Socket::INET;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use POSIX qw(_exit);
use Redis;
use Test::More;
use Time::HiRes qw(sleep time);

my @debug = ('--enable-debug-command', 'yes', '--busy-reply-threshold', '100');

for my $spool (1, 0) {
    my $mode = $spool ? 'spool on' : 'spool off';
    my $t = Mailhook::Test->new;
    my $dir = $t->dir;
    $t->start_redis(@debug);
    my $port = $t->redis_port;
    $t->start_nginx(
        http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;'
            . ($spool ? " mailhook_spool $dir/spool;" : ''),
        location => 'mailhook_redis_timeout 500ms; mailhook_retry_after 9s;',
    );
    my $n = 0;
    my %acknowledged;
    my $send = sub {
        my $id = 'e' . ++$n;
        my $body = qq({"kind":"delivered","recipient":"$id\@example.com","id":"$id"});
        my $r = $t->post('/webhooks/v2/inboxroad/ir1', $body, 'X-Signature' => hmac_b64($body, 's1'));
        $acknowledged{"$id\@example.com"} = 1 if $r->{status} == 200;
        return ($r, "$id\@example.com");
    };
    my $stored = sub {
        my ($recipient) = @_;
        return scalar grep { $_->{recipient} eq $recipient } $t->events;
    };
    # The request under the failure: spooled (200) or 503, never stored now.
    my $check = sub {
        my ($what, $r, $recipient) = @_;
        if ($spool) {
            is($r->{status}, 200, "$mode, $what: 200");
            like($r->{content}, qr/"spooled":1/, "$mode, $what: from the spool");
        } else {
            is($r->{status}, 503, "$mode, $what: 503");
            is($r->{headers}{'retry-after'}, '9', "$mode, $what: Retry-After");
        }
    };
    my $settle = sub {
        my ($what, $recipient) = @_;
        if ($spool) {
            Mailhook::Test::wait_for("$what replayed", 15, sub { $stored->($recipient) > 0 });
            is($stored->($recipient), 1, "$mode, $what: stored once after the failure");
        } else {
            # The sender retries; a store that ran late makes the retry a duplicate.
            my $deadline = time + 10;
            my $body = qq({"kind":"delivered","recipient":"$recipient","id":"${\ ($recipient =~ /^(e\d+)/)[0]}"});
            my $status = 0;
            while (time < $deadline) {
                $status = $t->post('/webhooks/v2/inboxroad/ir1', $body,
                    'X-Signature' => hmac_b64($body, 's1'))->{status};
                last if $status == 200;
                sleep 0.1;
            }
            is($status, 200, "$mode, $what: the sender's retry is stored");
            is($stored->($recipient), 1, "$mode, $what: stored once");
        }
    };

    # LOADING: Redis restarted with a dataset that takes seconds to load.
    $t->redis->debug('POPULATE', 10000);
    $t->redis->save;
    $t->stop_redis;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/redis.log";
        open STDERR, '>&', \*STDOUT;
        { exec 'redis-server', '--bind', '127.0.0.1', '--port', $port, '--save', '',
            '--appendonly', 'no', '--dir', $dir, '--protected-mode', 'no', @debug,
            '--key-load-delay', 300, '--loading-process-events-interval-bytes', 1024 };
        _exit(127);
    }
    $t->{redis_pid} = $pid;  # the harness stops it
    Mailhook::Test::wait_for('redis port', 10, sub {
        IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1) });
    sleep 0.3;  # the worker reconnects (backoff)
    my ($r, $recipient) = $send->();
    $check->('LOADING', $r, $recipient);
    like($t->error_log, qr/LOADING Redis is loading the dataset/, "$mode, LOADING: the reply is logged");
    Mailhook::Test::wait_for('loading done', 30, sub {
        eval { Redis->new(server => "127.0.0.1:$port", reconnect => 0)->ping } });
    delete $t->{redis};
    $settle->('LOADING', $recipient);

    # READONLY: a replica as target (a failover demoted the primary).
    $t->redis->replicaof('127.0.0.1', Mailhook::Test::free_port());  # a primary that is not there
    ($r, $recipient) = $send->();
    $check->('READONLY', $r, $recipient);
    like($t->error_log, qr/READONLY You can't write against a read only replica/,
        "$mode, READONLY: the reply is logged");
    $t->redis->replicaof('NO', 'ONE');
    $settle->('READONLY', $recipient);

    # BUSY: another client's script runs for 2 s (busy-reply-threshold 100 ms).
    my $busy = fork() // die "fork: $!";
    if ($busy == 0) {
        my $r = Redis->new(server => "127.0.0.1:$port", read_timeout => 10);
        $r->eval("local s = tonumber(redis.call('TIME')[1]) "
            . "while tonumber(redis.call('TIME')[1]) < s + 2 do end return 1", 0);
        _exit(0);
    }
    sleep 0.3;
    ($r, $recipient) = $send->();
    $check->('BUSY', $r, $recipient);
    waitpid($busy, 0);
    like($t->error_log, qr/BUSY Redis is busy running a script/, "$mode, BUSY: the reply is logged");
    $settle->('BUSY', $recipient);

    # No answer in time: DEBUG SLEEP holds Redis past mailhook_redis_timeout.
    my $sleeper = fork() // die "fork: $!";
    if ($sleeper == 0) {
        Redis->new(server => "127.0.0.1:$port", read_timeout => 10)->debug('SLEEP', 1.5);
        _exit(0);
    }
    sleep 0.2;
    my $started = time;
    ($r, $recipient) = $send->();
    my $elapsed = time - $started;
    $check->('no answer in time', $r, $recipient);
    ok($elapsed >= 0.4 && $elapsed < 1.4, sprintf("$mode: answered at the 500 ms timeout (%.2fs)", $elapsed));
    waitpid($sleeper, 0);
    $settle->('no answer in time', $recipient);

    my @missing = grep { !$stored->($_) } sort keys %acknowledged;
    is_deeply(\@missing, [], "$mode: every acknowledged event is stored");
    my %count;
    $count{$_->{recipient}}++ for $t->events;
    is_deeply([grep { $count{$_} > 1 } sort keys %count], [], "$mode: none twice");
    $t->finish;
}

done_testing;
