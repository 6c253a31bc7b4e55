# SPDX-License-Identifier: BSD-2-Clause
# mailhook_redis ... sentinel=mymaster: a primary, a replica and three
# Sentinels that need a password (t/lib/Mailhook/Sentinel.pm). The worker
# finds the primary through them; the primary is killed (-9) while a
# sender that retries every non-2xx like an ESP keeps sending: the Sentinels
# promote the replica, +switch-master moves the worker to it, and every
# acknowledged event is on the new primary exactly once (mailhook_redis_wait
# 1: an answer means the replica had it too). The old primary, back as a
# replica, is never written to. A wrong Sentinel password finds nothing.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sentinel;
use Mailhook::Test;
use POSIX qw(_exit);
use Redis;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $old_primary = $t->start_redis;
my $sentinel = Mailhook::Sentinel->new($dir, $old_primary);
my $new_primary = $sentinel->replica;

my %config = (
    redis => $sentinel->directive . ' mailhook_redis_wait 1 timeout=1s;',
    http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;',
    location => 'mailhook_retry_after 1s;',
);
$t->start_nginx(%config);
like($t->error_log, qr/the primary "mymaster" is 127\.0\.0\.1:$old_primary/,
    'the worker asked the Sentinels (with their password) for the primary');

sub send_event {
    my ($id) = @_;
    return $t->post_delivered("$id\@example.com", $id);
}
sub recipients_on {
    my ($port) = @_;
    my %count;
    $count{decode_json({@{$_->[1]}}->{event})->{recipient}}++
        for Redis->new(server => "127.0.0.1:$port")->xrange('mailhook:events', '-', '+');
    return \%count;
}

my $r = send_event('first');
is($r->{status}, 200, 'stored through the primary the Sentinels named');
is($r->{content}, qq({"stored":1,"duplicates":0}\n), '... by Redis');
is_deeply(recipients_on($old_primary), { 'first@example.com' => 1 }, '... on the primary');

# The sender: events f1, f2, ... each sent until it gets a 2xx, its id
# then appended to acked.log; it stops when the file "stop" exists.
my $sender = fork() // die "fork: $!";
if ($sender == 0) {
    open my $acked, '>>', "$dir/acked.log" or _exit(1);
    $acked->autoflush(1);
    for (my $n = 1; !-e "$dir/stop"; ++$n) {
        until (-e "$dir/stop") {
            my $answer = send_event("f$n");
            if ($answer->{status} =~ /^2/) { print $acked "f$n\n"; last }
            sleep 0.05;
        }
    }
    _exit(0);
}
END { local $?; if ($sender) { open my $fh, '>', "$dir/stop"; close $fh; waitpid($sender, 0) } }
sub acked { open my $fh, '<', "$dir/acked.log" or return (); return map { chomp; $_ } <$fh> }
sub acked_count { my @acked = acked(); return scalar @acked }

Mailhook::Test::wait_for('events acknowledged before the kill', 20, sub { acked_count() >= 20 });
$t->stop_redis('KILL');
my $killed = time;
Mailhook::Test::wait_for('the Sentinels to promote the replica', 30, sub {
    ($sentinel->primary // 0) == $new_primary });
my $promoted = time;
# The old primary comes back empty; the Sentinels make it a replica.
$t->start_redis;
my $old = Redis->new(server => "127.0.0.1:$old_primary", reconnect => 2);
# The Sentinels convert it when they next poll it (INFO every 10 s while it
# is down): allow for a loaded machine.
eval {
    Mailhook::Test::wait_for('the old primary to be a replica in sync', 90, sub {
        my $info = eval { $old->info('replication') } // {};
        ($info->{role} // '') eq 'slave' && ($info->{master_link_status} // '') eq 'up'
            && ($info->{master_port} // 0) == $new_primary;
    });
    1;
} or do {
    my $error = $@;
    diag($sentinel->describe($old_primary));
    die $error;
};
my $before = acked_count();
Mailhook::Test::wait_for('events acknowledged after the failover', 30, sub {
    acked_count() >= $before + 20 });
{ open my $fh, '>', "$dir/stop"; close $fh; }
waitpid($sender, 0);
$sender = 0;
diag(sprintf('promoted %.1fs after the kill; %d events acknowledged', $promoted - $killed,
    acked_count()));

like($t->error_log, qr/\+switch-master mymaster 127\.0\.0\.1 $old_primary 127\.0\.0\.1 $new_primary/,
    'the worker followed +switch-master');
my @acked = acked();
my $count = recipients_on($new_primary);
is_deeply([grep { !$count->{"$_\@example.com"} } @acked], [],
    'every acknowledged event is on the new primary');
is_deeply([grep { $count->{$_} > 1 } sort keys %$count], [], '... none twice');
ok($count->{'first@example.com'}, '... with what the old primary had replicated');

# Writes to the old primary would show as script calls (replicas get a
# script's effects, not the call) or READONLY refusals.
my $stats = $old->info('commandstats');
my $errors = $old->info('errorstats');
is_deeply([grep { /^cmdstat_(evalsha|eval)$/ } keys %$stats], [],
    'the old primary, back as a replica, was never sent a script call');
ok(!exists $errors->{errorstat_READONLY}, '... nor refused one with READONLY');

$r = send_event('after');
is($r->{status}, 200, 'after the failover: stored');
is(recipients_on($new_primary)->{'after@example.com'}, 1, '... on the new primary');

# A graceful failover back (SENTINEL FAILOVER): the primary is demoted
# while the worker may still write to it (WAIT falls short once its replica
# is promoted, then READONLY); +switch-master moves the worker, and every
# acknowledged event is on the old primary, promoted again, once.
my @graceful;
my $switched;
for (my $n = 1; !$switched || @graceful < $switched + 10; ++$n) {
    die "no switch back\n" if $n > 2000;
    until (send_event("g$n")->{status} == 200) { sleep 0.05 }
    push @graceful, "g$n";
    if (@graceful == 5) {
        $sentinel->sentinel(($sentinel->sentinels)[0])->sentinel('failover', 'mymaster');
    }
    $switched //= @graceful if @graceful > 5 && ($sentinel->primary // 0) == $old_primary;
}
like($t->error_log, qr/\+switch-master mymaster 127\.0\.0\.1 $new_primary 127\.0\.0\.1 $old_primary/,
    'SENTINEL FAILOVER: the worker followed +switch-master back');
$count = recipients_on($old_primary);
is_deeply([grep { !$count->{"$_\@example.com"} } @graceful, @acked], [],
    '... every acknowledged event is on the old primary, promoted again');
is_deeply([grep { $count->{$_} > 1 } sort keys %$count], [], '... none twice');

# A wrong Sentinel password: no Sentinel answers, nothing is connected.
$t->reload(redis => $sentinel->directive(password => 'wrong'), ready => 'port');
$t->wait_workers_ready(redis_connected => 0);
like($t->error_log, qr/AUTH or SELECT failed: WRONGPASS/,
    'a wrong sentinel_password is refused by the Sentinels');
like($t->error_log, qr/redis sentinel: .* for "mymaster"; asking again/,
    '... and the worker says it cannot find the primary');
$r = send_event('refused');
is($r->{status}, 503, '... requests get a 503');

# An ACL user with only what docs/redis.md lists for the Sentinels.
$t->reload(redis => $sentinel->directive(user => $Mailhook::Sentinel::acl_user,
    password => $Mailhook::Sentinel::acl_password) . ' mailhook_redis_wait 1 timeout=1s;');
is(send_event('acl')->{status}, 200, 'sentinel_user= with the documented ACL: stored');
Mailhook::Test::wait_for('the ACL user subscribed', 10, sub {
    grep { (eval { $sentinel->sentinel($_)->client_list } // '') =~ /cmd=subscribe user=watcher/ }
        $sentinel->sentinels });
unlike($t->error_log, qr/refused SUBSCRIBE/, '... and may subscribe to +switch-master');

$t->finish;
$sentinel->stop;
done_testing;
