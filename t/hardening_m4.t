# SPDX-License-Identifier: BSD-2-Clause
# M4 (security review 2026-12-01): a record Redis refuses no longer jams the
# spool. The review's reproductions: (1) a journal of good records with one
# that always fails (its suppression key has the wrong type): the good ones
# are stored once each, the failing one is tried max_attempts times, then
# quarantined into spool/failed/ with an error line and a metric, and the
# journal is never sent again; (2) a record naming a script this version
# does not have, ahead of a genuine spooled webhook: it goes to failed/ at
# once and the webhook is stored. Also: a journal from another version
# replays through the script source it carries (EVAL), and a damaged record
# in the middle of a journal is set aside while the records around it are
# replayed (I6).
use strict;
use warnings;
use lib 't/lib';

use Compress::Zlib qw(crc32);
use Digest::SHA qw(sha1_hex);
use JSON::PP;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = Mailhook::Test->new;
my $spool = $t->dir . '/spool';
my @persistent = ('--appendonly', 'yes', '--appendfsync', 'always');
$t->start_redis(@persistent);
my %nginx = (
    http => "mailhook_connection ir vendor=inboxroad secret=s1 tenant=demo; mailhook_spool $spool;",
    location => 'mailhook_redis_timeout 400ms;',
    server => 'location = /status { mailhook_status; }',
);
$t->start_nginx(%nginx);

sub post_event {
    my ($n, $kind) = @_;
    my $body = sprintf('{"kind":"%s","recipient":"r%d@example.com","id":"m4-%d"}',
        $kind // 'delivered', $n, $n);
    return $t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => hmac_b64($body, 's1'));
}
sub journals { my @j = glob("$spool/spool-*.log"); return @j }
sub failed { my @f = glob("$spool/failed/spool-*.log"); return @f }
sub script_calls {
    my $stats = $t->redis->info('commandstats');
    my $calls = 0;
    for my $cmd (qw(cmdstat_evalsha cmdstat_eval)) {
        $calls += $1 if ($stats->{$cmd} // '') =~ /calls=(\d+)/;
    }
    return $calls;
}
sub command_calls {
    my ($name) = @_;
    return ($t->redis->info('commandstats')->{"cmdstat_$name"} // '') =~ /calls=(\d+)/ ? $1 : 0;
}
sub wait_until {
    my ($what, $check, $timeout) = @_;
    my $deadline = time + ($timeout // 15);
    until ($check->()) {
        return fail($what) if time > $deadline;
        sleep 0.05;
    }
    pass($what);
}
sub status_value {
    my ($name) = @_;
    my $json = decode_json($t->request('GET', '/status?format=json')->{content});
    return $json->{$name};
}

# --- (1) a poison record among good ones -------------------------------------

$t->stop_redis;
my @answers = map { post_event($_) } 1 .. 5;
push @answers, post_event(6, 'hard_bounce');
push @answers, map { post_event($_) } 7 .. 11;
is_deeply([map { $_->{status} } @answers], [(200) x 11], 'M4 Redis down: eleven requests spooled');
$t->stop_nginx;
$t->start_redis(@persistent);
$t->redis->set('mailhook:suppression:demo', 'not-a-hash');  # what the review did
$t->redis->config_resetstat;
$t->start_nginx(%nginx);

wait_until('M4 the poison record is quarantined', sub { scalar(failed()) == 1 });
wait_until('M4 ... and the journals are gone', sub { !journals() });
is($t->event_count, 10, 'M4 the ten good requests are stored');
my %seen;
$seen{$_->{recipient}}++ for $t->events;
is_deeply(\%seen, { map { ("r$_\@example.com" => 1) } 1 .. 5, 7 .. 11 }, 'M4 ... each exactly once');
# Replayed calls may share a script call (the batch script): the good ones
# are counted by their dedup claims (one SET NX each, so none was resent).
my $calls = script_calls();
ok($calls >= 1 && $calls <= 10 + 3,
    "M4 at most ten good calls and three tries of the poison one ($calls script calls)");
is(command_calls('set'), 10, 'M4 ... each good one claimed once: nothing resent');
sleep 2.2;  # two more replay intervals
is(script_calls(), $calls, 'M4 ... and nothing is sent again later');
is($t->event_count, 10, 'M4 ... no copies');
my ($quarantined) = failed();
open my $fh, '<', "$quarantined.error" or die "$quarantined.error: $!";
my $note = do { local $/; <$fh> };
like($note, qr/3 attempt\(s\): WRONGTYPE/, 'M4 the quarantined record has its error beside it');
like($t->error_log, qr/spooled record quarantined to \Q$spool\E\/failed\/spool-\S+ after 3 attempt\(s\): WRONGTYPE/,
    'M4 ... and an error line');
is(status_value('spool_quarantined'), 1, 'M4 ... and a metric');

# The operator fixes the key and moves the record back: it replays.
$t->redis->del('mailhook:suppression:demo');
my $back = "$spool/" . ($quarantined =~ s{.*/}{}r);
rename $quarantined, $back or die "rename: $!";
wait_until('M4 a quarantined record moved back is replayed', sub { $t->event_count == 11 });
ok($t->redis->hexists('mailhook:suppression:demo', 'r6@example.com'), 'M4 ... its suppression is written');

# --- (2) a record naming an unknown script, ahead of a genuine webhook -------

sub v1_record {
    my ($sha, $args, $count) = @_;
    my $payload = $sha . $args;
    return 'MHS1' . pack('VVV', $count, length $payload, crc32($payload)) . $payload;
}
sub v2_record {
    my ($kind, $sha, $body, $count) = @_;
    my $payload = $sha . $body;
    my $fields = pack('CCvVV', $kind, 0, 0, $count, length $payload);
    return 'MHS2' . $fields . pack('V', crc32($fields . $payload)) . $payload;
}
sub write_journal {
    my ($name, $bytes) = @_;
    open my $out, '>', "$spool/$name" or die $!;
    binmode $out;
    print $out $bytes;
    close $out;
}

$t->stop_redis;
write_journal('spool-0000000000001-0000000001-000001.log', v1_record('a' x 40, "\$1\r\n0\r\n", 1));
my $r = post_event(12);
is($r->{content}, qq({"stored":0,"duplicates":0,"spooled":1}\n), 'M4 a genuine webhook spooled behind it');
$t->start_redis(@persistent);
wait_until('M4 the genuine webhook is stored (no head-of-line blocking)', sub { $t->event_count == 12 }, 5);
wait_until('M4 the foreign record is quarantined at once', sub { scalar(failed()) == 1 });
like($t->error_log, qr/calls script a{40}, which neither this version nor the journal has/,
    'M4 ... saying why');

# --- (3) a journal of another version carries its script ---------------------

my $source = "redis.call('SET', KEYS[1], ARGV[1]) return {1, 0}";
my $sha = sha1_hex($source);
write_journal('spool-0000000000002-0000000001-000001.log',
    v2_record(2, $sha, $source, 0)
    . v2_record(1, $sha, "\$1\r\n1\r\n\$10\r\nm4:foreign\r\n\$2\r\nok\r\n", 3));
wait_until('M4 a script only the journal knows is replayed from its source',
    sub { ($t->redis->get('m4:foreign') // '') eq 'ok' });

# --- (4) damage in the middle of a journal (I6) ------------------------------

$t->stop_redis;
is(post_event($_)->{status}, 200, "M4 event $_ spooled") for 13 .. 15;
$t->stop_nginx;
my ($journal) = journals();
open my $in, '<', $journal or die $!;
binmode $in;
my $bytes = do { local $/; <$in> };
close $in;
# The second call record of the journal gets one flipped byte in its arguments.
my @starts;
push @starts, $-[0] while $bytes =~ /MHS2\x01/g;
is(scalar @starts, 3, 'M4 three call records in the journal');
substr($bytes, $starts[1] + 60, 1) ^= "\x01";
write_journal($journal =~ s{.*/}{}r, $bytes);
$t->start_redis(@persistent);
$t->start_nginx(%nginx);
wait_until('M4 the records around a damaged one are replayed', sub { $t->event_count == 14 });
my %after;
$after{$_->{recipient}}++ for $t->events;
ok($after{'r13@example.com'} && $after{'r15@example.com'} && !$after{'r14@example.com'},
    'M4 ... the first and the third, not the damaged second');
wait_until('M4 the damaged record is set aside in failed/', sub { scalar(failed()) == 2 });
wait_until('M4 ... and the journal is gone', sub { !journals() });

# --- (5) a record of this version's store script that is no store call ------
# Replayed records share batch script calls; one the batch cannot carry goes
# alone, Redis refuses it, and it is quarantined; the link stays up.

$t->stop_redis;
is(post_event($_)->{status}, 200, "M4 event $_ spooled") for 16 .. 17;
$t->stop_nginx;
($journal) = journals();
open $in, '<', $journal or die $!;
binmode $in;
$bytes = do { local $/; <$in> };
close $in;
my $store_sha = substr($bytes, index($bytes, "MHS2\x01") + 20, 40);
like($store_sha, qr/^[0-9a-f]{40}$/, 'M4 the journal names the store script');
write_journal($journal =~ s{.*/}{}r, $bytes . v2_record(1, $store_sha, "\$1\r\n1\r\n\$3\r\nkey\r\n", 2));
my $log_before = length $t->error_log;
$t->start_redis(@persistent);
$t->start_nginx(%nginx);
wait_until('M4 the store calls around it are replayed', sub { $t->event_count == 16 });
wait_until('M4 the record that is no store call is quarantined', sub { scalar(failed()) == 3 });
unlike(substr($t->error_log, $log_before), qr/redis connection lost|redis .*failed/,
    'M4 ... and the Redis link never dropped');

$t->finish;
done_testing;
