# SPDX-License-Identifier: BSD-2-Clause
# The durable spool: Redis down → the events go to disk (fsync'd) and the
# vendor hears 200; Redis back → replayed through the dedup script, exactly
# once, across reloads and restarts.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = Mailhook::Test->new(workers => 2);
my $spool = $t->dir . '/spool';
# Redis keeps its data across the restarts below (AOF), like a real one.
my @persistent = ('--appendonly', 'yes', '--appendfsync', 'always');
$t->start_redis(@persistent);
$t->start_nginx(
    http => "mailhook_connection c1 vendor=inboxroad secret=s1; mailhook_spool $spool max_size=64k;",
    location => 'mailhook_redis_timeout 400ms;',
);
my $path = '/webhooks/v2/inboxroad/c1';
sub post_event {
    my ($n, %opt) = @_;
    my $body = sprintf('{"kind":"delivered","recipient":"r%d@example.com","id":"e%d","pad":"%s"}',
        $n, $n, 'x' x ($opt{pad} // 0));
    return $t->post($path, $body, 'X-Signature' => hmac_b64($body, 's1'));
}
sub journals { my @j = glob("$spool/spool-*.log"); return @j }
sub wait_until {
    my ($what, $check) = @_;
    my $deadline = time + 15;
    until ($check->()) {
        return fail($what) if time > $deadline;
        sleep 0.05;
    }
    pass($what);
}

ok(-d $spool, 'nginx created the spool directory');
is(post_event(1)->{status}, 200, 'Redis up: stored directly');
is(scalar(journals()), 0, 'nothing spooled');

$t->stop_redis;
my @answers = map { post_event($_) } 2 .. 6;
is_deeply([map { $_->{status} } @answers], [(200) x 5], 'Redis down: still 200');
is($answers[0]{content}, qq({"stored":0,"duplicates":0,"spooled":1}\n), 'answer says spooled');
ok(scalar(journals()) >= 1, 'journal on disk');
is(post_event(2)->{status}, 200, 'a retry while down is spooled too (dedup later)');

$t->start_redis(@persistent);
wait_until('journals replayed and removed once Redis is back', sub { !journals() });
wait_until('all events in the stream', sub { $t->event_count == 6 });
my %seen;
$seen{$_->{recipient}}++ for $t->events;
is_deeply(\%seen, { map { ("r$_\@example.com" => 1) } 1 .. 6 }, 'each event exactly once');
like($t->error_log, qr/mailhook: replayed \d+ request\(s\) from/, 'replay logged');

# Spooled, then nginx restarted before Redis returns: replayed by the new
# workers.
$t->stop_redis;
is(post_event($_)->{status}, 200, "event $_ spooled") for 7 .. 8;
$t->stop_nginx;
ok(scalar(journals()) >= 1, 'journal survives nginx stop');
$t->start_nginx(%{$t->{nginx_opt}});
$t->start_redis(@persistent);
wait_until('replayed after restart', sub { !journals() && $t->event_count == 8 });

# Spooled, then reloaded (old workers hand over their journals).
$t->stop_redis;
is(post_event(9)->{status}, 200, 'spooled before reload');
$t->reload;
$t->start_redis(@persistent);
wait_until('replayed after reload', sub { !journals() && $t->event_count == 9 });

# A store that times out is spooled; when the slow Redis finally runs it as
# well, the replay is a duplicate, not a second copy.
$t->redis->client_pause(1500);
my $r = post_event(10);
is($r->{status}, 200, 'timed-out store answered 200 from the spool');
like($r->{content}, qr/"spooled":1/, 'spooled');
sleep 1.6;
wait_until('replayed', sub { !journals() });
is(scalar(grep { $_->{recipient} eq 'r10@example.com' } $t->events), 1, 'stored once');

# Full spool: 503.
$t->stop_redis;
my @full = map { post_event(100 + $_, pad => 4000)->{status} } 1 .. 20;
# Each journal also carries the store script's source (for a replay by
# another version), so 64k holds fewer than 16 of these 4 KB requests.
my $accepted = grep { $_ == 200 } @full;
ok($accepted >= 5, "spooled until max_size ($accepted accepted)");
is_deeply([@full[$accepted .. $#full]], [(503) x (@full - $accepted)], '... then 503, none spooled after');
is($full[-1], 503, 'then 503 once the spool is full');
like($t->error_log, qr/spool full/, 'logged');
my $spooled = grep { $_ == 200 } @full;
$t->start_redis(@persistent);
wait_until('full spool drained', sub { !journals() });
is($t->event_count, 10 + $spooled, 'exactly the acknowledged events stored');

$t->finish;
done_testing;
