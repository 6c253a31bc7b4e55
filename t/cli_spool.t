# SPDX-License-Identifier: BSD-2-Clause
# mailhook spool status|list|retry on a spool the module wrote: requests
# spooled while Redis is down are counted as records to replay; a record
# Redis keeps refusing is shown in failed/ with its error; retry moves it
# back and the module replays it. status and list change nothing.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::CLI qw(cli cli_bin);
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(sleep time);

cli_bin();
my $t = Mailhook::Test->new;
my $spool = $t->dir . '/spool';
my @persistent = ('--appendonly', 'yes', '--appendfsync', 'always');
$t->start_redis(@persistent);
my %nginx = (http => "mailhook_connection ir vendor=inboxroad secret=s1 tenant=demo; mailhook_spool $spool;");
$t->start_nginx(%nginx);

sub post_event {
    my ($n, $kind) = @_;
    my $body = sprintf('{"kind":"%s","recipient":"r%d@example.com","id":"sp-%d"}', $kind // 'delivered', $n, $n);
    return $t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => hmac_b64($body, 's1'))->{status};
}
sub journals { map { s{.*/}{}r } glob("$spool/spool-*.log") }
sub failed { map { s{.*/}{}r } glob("$spool/failed/spool-*.log") }
sub wait_until {
    my ($what, $check) = @_;
    my $deadline = time + 20;
    sleep 0.05 until $check->() || time > $deadline;
    ok($check->(), $what);
}
# Every file of the spool with its size and mtime.
sub files {
    join ',', map { my @s = stat $_; "$_:$s[7]:$s[9]" } sort glob("$spool/* $spool/failed/*");
}
sub spool { cli($t, 'spool', @_, '--dir', $spool) }

# --- refusals --------------------------------------------------------------------

is(cli($t, qw(spool status))->{code}, 2, 'no --dir: usage error');
like(cli($t, qw(spool status))->{err}, qr/--dir PATH/, '... naming the flag');
my $r = cli($t, qw(spool status --dir), $t->dir . '/nosuch');
is($r->{code}, 1, 'no such directory: exit 1');
like($r->{err}, qr/no spool directory .*nosuch: No such file or directory/, '... says so');
is(cli($t, qw(spool frobnicate --dir), $spool)->{code}, 2, 'unknown subcommand: exit 2');
is(cli($t, qw(spool status extra --dir), $spool)->{code}, 2, 'status takes no argument');

# --- an empty spool --------------------------------------------------------------

$r = spool('status');
is($r->{code}, 0, 'status: exit 0') or diag($r->{err});
like($r->{out}, qr/^journals\s+0, 0 bytes$/m, 'no journal');
like($r->{out}, qr/^to replay\s+0 record\(s\)/m, 'nothing to replay');
like($r->{out}, qr/^quarantined\s+0 record\(s\)/m, 'nothing quarantined');

# --- Redis down: spooled requests ---------------------------------------------------

$t->stop_redis;
is_deeply([map { post_event($_, $_ == 3 ? 'hard_bounce' : undef) } 1 .. 5], [(200) x 5],
    'Redis down: five requests spooled');
my @journals = journals();
ok(@journals >= 1, scalar(@journals) . ' journal(s)');
my $bytes = 0;
$bytes += -s "$spool/$_" for @journals;
my $before = files();
$r = spool('status');
like($r->{out}, qr/^journals\s+\Q${\ scalar @journals}\E, $bytes bytes$/m, 'status: the journals and their bytes');
like($r->{out}, qr/^to replay\s+5 record\(s\) \(5 webhooks, 0 tracking\)$/m, 'five records to replay');
like($r->{out}, qr/^oldest\s+\S+Z \(\d+s ago\)$/m, 'the oldest journal\'s time');
$r = spool('list');
is($r->{code}, 0, 'list: exit 0');
my %listed = $r->{out} =~ /^(spool-\S+\.log)\twebhooks\t\d+\t(\d+)\t0\t-$/mg;
is_deeply([sort keys %listed], [sort @journals], 'list: every journal, webhooks lane, none replayed');
my $records = 0;
$records += $_ for values %listed;
is($records, 5, 'list: five records in all');
is(files(), $before, 'status and list changed no file');

# --- a record Redis refuses: quarantined -------------------------------------------

$t->stop_nginx;
$t->start_redis(@persistent);
$t->redis->set('mailhook:suppression:demo', 'not-a-hash');  # the hard bounce's key
$t->start_nginx(%nginx);
wait_until('the refused record is quarantined', sub { failed() == 1 && !journals() });
is($t->event_count, 4, 'the four others are stored');
my ($poison) = failed();
$r = spool('status');
like($r->{out}, qr/^journals\s+0, 0 bytes$/m, 'status: the journals are done');
like($r->{out}, qr/^quarantined\s+1 record\(s\), \d+ bytes in \Q$spool\E\/failed \(mailhook spool list; retry\)$/m,
    'status: one quarantined record');
$r = spool('list');
like($r->{out}, qr/^QUARANTINED\tLANE\tBYTES\tERROR\n\Q$poison\E\twebhooks\t\d+\tspool-\S+ offset \d+, 3 attempt\(s\): WRONGTYPE/m,
    'list: the quarantined record with the error behind it');

# --- retry ------------------------------------------------------------------------

$before = files();
$r = spool('retry', 'spool-0000000000000-0000000000-000000-q1.log');
is($r->{code}, 1, 'retry of a record that is not there: exit 1');
like($r->{err}, qr/no quarantined record spool-0000000000000-0000000000-000000-q1\.log/, '... says so');
$r = spool('retry', '../' . $poison);
is($r->{code}, 1, 'a path, not a name: refused');
is(files(), $before, 'nothing moved');

$t->redis->del('mailhook:suppression:demo');  # the operator fixes what Redis refused
$r = spool('retry');
is($r->{code}, 0, 'retry: exit 0') or diag($r->{err});
is($r->{out}, "moved back $poison\n1 record(s) back in $spool: the module replays them once Redis answers\n",
    'retry: says what it moved');
is_deeply([failed()], [], 'failed/ is empty');
ok(!-e "$spool/failed/$poison.error", 'the error note went with it');
wait_until('the record is replayed', sub { $t->event_count == 5 });
ok($t->redis->hexists('mailhook:suppression:demo', 'r3@example.com'), 'its suppression is written');
wait_until('the spool is empty again', sub { !journals() });
is(spool('retry')->{out}, "nothing quarantined in $spool/failed\n", 'retry with nothing quarantined');

$t->finish;
done_testing;
