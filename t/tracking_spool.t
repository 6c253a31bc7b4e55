# SPDX-License-Identifier: BSD-2-Clause
# Opens and clicks while Redis is down: answered at once, kept in the spool,
# stored when Redis is back. I7 (security review): tracking-only traffic
# against a hung Redis makes the worker reconnect too.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use JSON::PP;
use Mailhook::Sign qw(tracking_token);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $key = 'k1-secret-0123456789';
my $t = Mailhook::Test->new;
my $spool = $t->dir . '/spool';
$t->start_redis;
$t->start_nginx(
    http => "mailhook_tracking_key k1 $key; mailhook_spool $spool;",
    server => 'location /t/ { mailhook_tracking; mailhook_redis_timeout 300ms; }',
);
# glob in list context: in scalar context it iterates over its matches.
sub journals { my @j = glob("$spool/spool-*.log"); return @j }
my $ua = HTTP::Tiny->new(max_redirect => 0, timeout => 10, keep_alive => 0, agent => 'Reader/1.0');
sub token {
    my (%claims) = @_;
    return tracking_token(JSON::PP->new->canonical->encode(
        { v => 1, k => 'k1', c => 'c1', r => 'reader@example.com', m => 'm-1', %claims }), $key);
}

$t->stop_redis;
my $started = time;
my $open = $ua->get($t->url('/t/o/' . token() . '.gif'));
my $click = $ua->get($t->url('/t/c/' . token(u => 'https://example.com/offer')));
my $elapsed = time - $started;
is($open->{status}, 200, 'pixel served while Redis is down');
is($click->{status}, 302, 'redirect served while Redis is down');
is($click->{headers}{location}, 'https://example.com/offer', 'to the signed URL');
ok($elapsed < 0.5, sprintf('both answered at once (%.3fs)', $elapsed));
my $deadline = time + 5;
sleep 0.05 until journals() || time > $deadline;
ok(scalar(journals()), 'the events went to the spool');

$t->start_redis;
$deadline = time + 15;
sleep 0.1 until ($t->event_count == 2 && !journals()) || time > $deadline;
my %types = map { $_->{type} => $_ } $t->events;
is_deeply([sort keys %types], ['clicked', 'opened'], 'both stored once Redis is back');
is($types{clicked}{click_url}, 'https://example.com/offer', 'click URL kept');
is($types{opened}{user_agent}, 'Reader/1.0', 'user agent kept');

# I7: Redis hung (SIGSTOP) and only tracking traffic: the stores time out
# like a request would (300 ms here), after three such periods the worker
# drops the connection, and the events go to the spool instead of piling up.
my $before = $t->event_count;
kill 'STOP', $t->{redis_pid};
my @hits;
for my $n (1 .. 12) {
    push @hits, $ua->get($t->url('/t/o/' . token(m => "m-hung-$n") . '.gif'))->{status};
    sleep 0.15;
}
is_deeply(\@hits, [(200) x 12], 'I7 hung Redis: every pixel answered at once');
$deadline = time + 5;
sleep 0.05 until $t->error_log =~ /redis did not answer in time, several times in a row: reconnecting/
    || time > $deadline;
like($t->error_log, qr/redis did not answer in time, several times in a row: reconnecting/,
    'I7 tracking-only traffic: the hung connection is dropped');
kill 'CONT', $t->{redis_pid};
$deadline = time + 15;
sleep 0.1 until ($t->event_count == $before + 12 && !journals()) || time > $deadline;
is($t->event_count, $before + 12, 'I7 ... and all twelve opens are stored once Redis answers');

$t->finish;
done_testing;
