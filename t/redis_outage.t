# SPDX-License-Identifier: BSD-2-Clause
# Redis down: 503 + Retry-After and nothing acknowledged; back up: 200 again
# without restarting nginx. A slow Redis: 503 when the timeout passes.
use strict;
use warnings;
use lib 't/lib';

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
done_testing;
