# SPDX-License-Identifier: BSD-2-Clause
# Redis down: 503 + Retry-After and nothing acknowledged; back up: 200 again
# without restarting nginx. A slow Redis: 503 when the timeout passes. With
# a spool, every worker spools for every connection any of them knows, also
# after a restart during the outage.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(
    http => 'mailhook_connection c1 vendor=inboxroad secret=s1;',
    location => 'mailhook_redis_timeout 500ms; mailhook_retry_after 7s;',
);
my $path = '/webhooks/v2/inboxroad/c1';
sub send_event {
    my ($n) = @_;
    my $body = qq({"kind":"delivered","recipient":"r$n\@example.com","timestamp":"2025-01-01T00:00:0${n}Z"});
    return $t->post($path, $body, 'X-Signature' => hmac_b64($body, 's1'));
}

is(send_event(1)->{status}, 200, 'stored while Redis is up');

$t->stop_redis;
my $r = send_event(2);
is($r->{status}, 503, 'Redis down: 503');
is($r->{headers}{'retry-after'}, '7', 'Retry-After from mailhook_retry_after');
is($r->{content}, qq({"error":"unavailable"}\n), 'error body');

$t->start_redis;   # same port, empty dataset
my $status = 0;
my $deadline = time + 10;
while (time < $deadline) {
    $status = send_event(2)->{status};
    last if $status == 200;
    sleep 0.1;
}
is($status, 200, 'Redis back: 200 again without restarting nginx');
is($t->event_count, 1, 'the retried event is in the fresh Redis exactly once');

# A Redis that does not answer in time: CLIENT PAUSE holds every command.
$t->redis->client_pause(1500);
my $started = time;
$r = send_event(3);
my $elapsed = time - $started;
is($r->{status}, 503, 'paused Redis: 503');
ok($elapsed >= 0.4 && $elapsed < 1.4, sprintf('answered at the 500 ms timeout (%.2fs)', $elapsed));
sleep 1.2;
# The paused command may still have run afterwards: the ESP's retry is then a
# duplicate, never a second copy.
$r = send_event(3);
is($r->{status}, 200, 'retry after the pause: 200');
is(scalar(grep { $_->{recipient} eq 'r3@example.com' } $t->events), 1, 'stored once');

# A hung Redis (SIGSTOP): each request gives up at the timeout; after three
# in a row the worker drops the connection instead of queueing commands
# forever, and serves again once Redis does.
kill 'STOP', $t->{redis_pid};
my @hung = map { send_event(3 + $_)->{status} } 1 .. 4;
is_deeply(\@hung, [503, 503, 503, 503], 'hung Redis: 503 at the timeout');
like($t->error_log, qr/redis did not answer in time, several times in a row: reconnecting/,
    'the connection is dropped after three timeouts');
kill 'CONT', $t->{redis_pid};
$status = 0;
$deadline = time + 10;
while (time < $deadline) {
    $status = send_event(9)->{status};
    last if $status == 200;
    sleep 0.1;
}
is($status, 200, 'Redis answering again: 200');

$t->finish;
# --- the outage gap (issue 14) ------------------------------------------------
# Two workers, a dynamic connection only one of them has looked up, Redis
# stopped: every worker knows it (shared memory) and spools for it, and an
# nginx restarted during the outage still does (the snapshot in the spool).
# The listener is shared with reuseport, so the kernel spreads the requests
# over both workers.
my $g = Mailhook::Test->new(workers => 2);
my $gap_spool = $g->dir . '/spool';
my $gap_port = Mailhook::Test::free_port();
my $gap_log = $g->dir . '/gap.log';
my @gap_redis = ('--appendonly', 'yes', '--appendfsync', 'always');
$g->start_redis(@gap_redis);
my %gap_nginx = (
    http => "mailhook_spool $gap_spool; log_format gap '\$status \$pid \$mailhook_result';"
        . " server { listen 127.0.0.1:$gap_port reuseport; access_log $gap_log gap;"
        . " location /webhooks/v2/ { mailhook; } }",
);
$g->start_nginx(%gap_nginx);
$g->redis->hset('mailhook:connection:dyn1', vendor => 'inboxroad', secret => 'dyn-secret');
my $gap_n = 0;
sub gap_event {
    my $body = sprintf('{"kind":"delivered","recipient":"g%d@example.com","id":"gap-%d"}', ++$gap_n, $gap_n);
    my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
    return $http->post("http://127.0.0.1:$gap_port/webhooks/v2/inboxroad/dyn1",
        { content => $body, headers => { 'X-Signature' => hmac_b64($body, 'dyn-secret') } });
}
sub gap_lines {
    open my $fh, '<', $gap_log or return ();
    return map { chomp; [split / /] } <$fh>;
}
is(gap_event()->{status}, 200, 'gap: the connection is looked up once, by one worker');
Mailhook::Test::wait_for('gap access log', 5, sub { gap_lines() == 1 });
my ($first) = gap_lines();
$g->stop_redis;
my @gap = map { gap_event() } 1 .. 20;
is_deeply([map { $_->{status} } @gap], [(200) x 20], 'gap: Redis down, 20 requests, 20 acknowledged');
is(scalar(grep { $_->{content} =~ /"spooled":1/ } @gap), 20, 'gap: ... every one spooled');
Mailhook::Test::wait_for('gap access log', 5, sub { gap_lines() == 21 });
my %workers = map { $_->[1] => 1 } gap_lines();
is(scalar(keys %workers), 2, 'gap: ... by both workers, one of which never looked it up');
ok(scalar(grep { $_->[1] ne $first->[1] } gap_lines()) > 0,
    'gap: ... the other worker spooled some of them');

$g->stop_nginx;
$g->start_nginx(%gap_nginx);
my @after_restart = map { gap_event() } 1 .. 5;
is_deeply([map { $_->{status} } @after_restart], [(200) x 5],
    'gap: nginx restarted during the outage: still acknowledged');
like($g->error_log, qr/1 known connection\(s\) loaded from \Q$gap_spool\E\/connections\.snapshot/,
    'gap: ... from the snapshot');

$g->start_redis(@gap_redis);
Mailhook::Test::wait_for('gap: spool replayed', 15, sub {
    my @left = glob("$gap_spool/spool-*.log");
    !@left && $g->event_count == 26 });
my %gap_seen;
$gap_seen{$_->{recipient}}++ for $g->events;
is(scalar(keys %gap_seen), 26, 'gap: 26 events in Redis after it returned');
ok(!grep({ $_ != 1 } values %gap_seen), 'gap: ... each stored once');
$g->finish;

done_testing;
