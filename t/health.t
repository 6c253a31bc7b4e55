# SPDX-License-Identifier: BSD-2-Clause
# Connection health (docs/events.md "Connection health"): the store script
# records accepted requests in <prefix>health:<id>, the module records
# rejections of known connections at most once a second per connection and
# worker; unknown ids write nothing. `mailhook health` shows it.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::CLI qw(cli cli_bin);
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use POSIX qw(ceil);
use Test::More;
use Time::HiRes qw(sleep time);

cli_bin();
my $workers = 2;
my $t = Mailhook::Test->new;
$t->start_redis;
my $redis = $t->redis;
$redis->hset('mailhook:connection:ir1', vendor => 'inboxroad', secret => 'ir-secret');
$t->start_nginx(workers => $workers, http => 'mailhook_connection st1 vendor=inboxroad secret=st-secret;');

my $path = '/webhooks/v2/inboxroad/ir1';
my $bounce = '{"kind":"hard_bounce","recipient":"ann@example.net","timestamp":"2025-09-04T10:00:00Z"}';
sub signed { $t->post($_[0] // $path, $_[1] // $bounce, 'X-Signature' => hmac_b64($_[1] // $bounce, $_[2] // 'ir-secret')) }
sub forged { $t->post($_[0] // $path, $bounce, 'X-Signature' => hmac_b64($bounce, 'not-the-secret')) }
sub health { my %h = $redis->hgetall($_[0] // 'mailhook:health:ir1'); \%h }
sub wait_until {
    my ($what) = @_;
    my $deadline = time + 5;
    sleep 0.02 until $what->() || time > $deadline;
    return $what->();
}
my $rfc3339_ms = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

# --- accepted, duplicate, rejected ---------------------------------------------

is(cli($t, qw(health ir1))->{code}, 1, 'no health before any request: exit 1');
like(cli($t, qw(health ir1))->{err}, qr{no health recorded for ir1 .*no request for it has reached the module},
    '... and says what that means');

my $before = time;
is(signed()->{status}, 200, 'a signed bounce: 200');
my $h = health();
like($h->{last_accepted_at}, $rfc3339_ms, 'last_accepted_at, RFC 3339 with milliseconds');
is_deeply([@$h{qw(accepted stored last_event_type)}], [1, 1, 'bounced'],
    'accepted: one request, one event stored, its type');
ok(!exists $h->{last_rejected_at} && !exists $h->{rejected}, 'no rejection yet');
is(signed()->{status}, 200, 'the same request again: 200');
is_deeply([@{ health() }{qw(accepted stored duplicates)}], [2, 1, 1], 'counted as a duplicate');

is(forged()->{status}, 401, 'a forged signature: 401');
ok(wait_until(sub { health()->{last_rejection} }), 'the rejection is recorded');
$h = health();
is($h->{last_rejection}, '401 signature', 'last_rejection: status and reason label');
like($h->{last_rejected_at}, $rfc3339_ms, 'last_rejected_at');
is($h->{rejected}, 1, 'rejected: 1');
is_deeply([@$h{qw(accepted stored duplicates)}], [2, 1, 1], 'the accepted side is kept');
ok(!grep({ /secret|ann\@/ } values %$h), 'no secret, no body in the hash');

# A static connection (nginx.conf) is known too.
is(forged('/webhooks/v2/inboxroad/st1')->{status}, 401, 'static connection: 401');
ok(wait_until(sub { health('mailhook:health:st1')->{rejected} }), 'its rejection is recorded');

# --- mailhook health ------------------------------------------------------------

my $r = cli($t, qw(health ir1));
is($r->{code}, 0, 'mailhook health ir1: exit 0') or diag($r->{err});
like($r->{out}, qr/^connection\s+ir1 \(inboxroad\)$/m, 'names the connection and its vendor');
like($r->{out}, qr/^last accepted\s+\S+Z \(\d+s ago\), last event bounced$/m, 'the last accepted request');
like($r->{out}, qr/^last rejected\s+\S+Z \(\d+s ago\): 401 signature$/m, 'the last rejection');
like($r->{out}, qr/^requests\s+accepted 2, rejected 1$/m, 'request counts');
like($r->{out}, qr/^events\s+stored 1, duplicates 1$/m, 'event counts');
$r = cli($t, qw(health));
is($r->{code}, 0, 'mailhook health: exit 0');
like($r->{out}, qr/^ir1\t\S+Z\tbounced\t\S+Z\t401 signature\t2\t1\t1\t1$/m, 'a line for ir1');
like($r->{out}, qr/^st1\t-\t-\t\S+Z\t401 signature\t0\t1\t0\t0$/m, 'and one for st1');
is(scalar(() = $r->{out} =~ /\n/g), 3, 'a header and two connections');
is(cli($t, qw(health a b))->{code}, 2, 'two ids: usage error');

# --- unknown ids write nothing ---------------------------------------------------

my $keys = $redis->dbsize;
my %statuses;
for my $i (1 .. 1000) {
    $statuses{ forged("/webhooks/v2/inboxroad/nosuch-$i")->{status} }++;
}
is_deeply([grep { $_ != 404 && $_ != 503 } keys %statuses], [],
    '1,000 unknown ids: 404 (or 503 lookup_budget)') or diag(explain(\%statuses));
is($statuses{404} // 0, 1000 - ($statuses{503} // 0), 'all answered');
sleep 0.3;
is($redis->dbsize, $keys, '1,000 unknown ids: no key more');
is_deeply([sort $redis->keys('*health:*')], ['mailhook:health:ir1', 'mailhook:health:st1'],
    'health only for the two known connections');

# --- 1,000 rejections of one connection: at most one write a second per worker ----

sleep 1.1;  # the writes above are more than a second old
$redis->config('RESETSTAT');
my $rejected_before = health()->{rejected};
my $start = time;
my $refused = 0;
$refused += forged()->{status} == 401 for 1 .. 1000;
my $elapsed = time - $start;
is($refused, 1000, '1,000 forged requests for ir1: 401');
sleep 0.3;
my $stats = $redis->info('commandstats');
my ($writes) = ($stats->{cmdstat_hincrby} // 'calls=0') =~ /calls=(\d+)/;
my ($evals) = ($stats->{cmdstat_evalsha} // 'calls=0') =~ /calls=(\d+)/;
my $bound = $workers * (ceil($elapsed) + 1);
note(sprintf('1,000 rejections in %.2fs: %d health writes (bound %d)', $elapsed, $writes, $bound));
ok($writes >= 1, 'the rejections were written');
ok($writes <= $bound, "at most one write a second per worker ($writes in ${\ sprintf('%.1f', $elapsed)}s, $workers workers)");
is($evals, $writes, 'each write is one script call');
my $counted = health()->{rejected} - $rejected_before;
ok($counted >= $writes && $counted <= 1000,
    "the rejected counter counts the held-back rejections with the writes ($counted)");

$t->finish;
done_testing;
