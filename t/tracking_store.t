# SPDX-License-Identifier: BSD-2-Clause
# What the tracking script stores (security review M3, M4): header values
# capped, repeats of one token inside the repeat window counted instead of
# stored, and a spool record sent twice stored once.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
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
    server => 'location /t/ { mailhook_tracking; }',
);
my $redis = $t->redis;
my $long_agent = 'Mozilla/5.0 ' . ('A' x 8000);
my $ua = HTTP::Tiny->new(max_redirect => 0, timeout => 10, keep_alive => 0, agent => $long_agent);
my $n = 0;
sub token {
    my (%claims) = @_;
    return tracking_token(JSON::PP->new->canonical->encode(
        { v => 1, k => 'k1', c => 'c1', r => 'reader@example.com', m => 'm-' . ++$n, %claims }),
        $key);
}
sub wait_events {
    my ($count, $seconds) = @_;
    my $deadline = time + ($seconds // 5);
    sleep 0.02 while $t->event_count < $count && time < $deadline;
    return $t->event_count;
}
# The repeat window's key: the first 16 bytes of SHA-256("o" NUL token), hex.
sub window_key { my ($kind, $token) = @_; 'mailhook:repeat:' . substr(sha256_hex("$kind\0$token"), 0, 32) }

# --- M3: five opens of one token, an 8 KB User-Agent --------------------------
my $open = token();
for my $i (1 .. 5) {
    is($ua->get($t->url("/t/o/$open.gif"))->{status}, 200, "M3 open $i: the pixel");
}
is(wait_events(1), 1, 'M3: the first open stored');
sleep 0.3;
is($t->event_count, 1, 'M3: the four repeats inside the window are not stored');
my $window = window_key('o', $open);
is($redis->get($window), 5, 'M3: the window counts all five hits');
my $ttl = $redis->ttl($window);
ok($ttl > 0 && $ttl <= 10, "M3: the open window is 10 s (ttl $ttl)");
my ($event) = $t->events;
is($event->{user_agent}, substr($long_agent, 0, 512), 'M3: User-Agent stored capped at 512 bytes');
is($event->{ip}, '127.0.0.1', 'M3: the address as nginx saw it');

# Another token has its own window.
is($ua->get($t->url('/t/o/' . token() . '.gif'))->{status}, 200, 'M3: another token');
is(wait_events(2), 2, 'M3: another token is stored');

# --- M3: clicks, a 1 s window ----------------------------------------------------
my $click = token(u => 'https://example.com/offer');
is($ua->get($t->url("/t/c/$click"))->{status}, 302, 'M3 click 1: redirected') for 1 .. 2;
is(wait_events(3), 3, 'M3: the first click stored');
sleep 0.3;
is($t->event_count, 3, 'M3: the second click inside the window is counted, not stored');
sleep 1;
is($ua->get($t->url("/t/c/$click"))->{status}, 302, 'M3 click after the window: redirected');
is(wait_events(4), 4, 'M3: a click after the window is stored');

# --- M4: a record sent twice (replay after an unrecorded success) ---------------
$t->stop_redis;
my $spooled = token();
is($ua->get($t->url("/t/o/$spooled.gif"))->{status}, 200, 'M4: open while Redis is down');
my $deadline = time + 5;
my ($journal) = ();
until ((($journal) = glob("$spool/spool-*.log")) && -s $journal || time > $deadline) { sleep 0.05 }
ok($journal && -s $journal, 'M4: the open went to the spool');
# The same record twice: what a replay that lost its progress sends again.
my $record = do { open my $fh, '<:raw', $journal or die $!; local $/; <$fh> };
{ open my $fh, '>>:raw', $journal or die $!; print $fh $record; close $fh }
$t->start_redis;
$redis = $t->redis;
$deadline = time + 15;
sleep 0.1 until (!glob("$spool/spool-*.log") && $t->event_count >= 1) || time > $deadline;
ok(!glob("$spool/spool-*.log"), 'M4: the journal is replayed');
sleep 0.3;
my @events = $t->events;
is(scalar @events, 1, 'M4: the record sent twice is stored once');
is($events[0]{message_id}, "m-$n", 'M4: it is the spooled open');

$t->finish;
done_testing;
