# SPDX-License-Identifier: BSD-2-Clause
# mailhook_consumer_group: the groups exist once a worker has connected
# (MKSTREAM: before any event), consumers read and acknowledge with them,
# and after FLUSHALL + a reconnect (CLIENT KILL) they are created again, so
# a consumer never gets NOGROUP; an existing group (a reload) is no error, a
# stream key of the wrong type is logged. mailhook_stream_max_age: the store
# script trims the stream with MINID ~ (now - age).
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time);

my $t = Mailhook::Test->new;
# Small stream nodes: MINID ~ removes whole nodes only.
$t->start_redis('--stream-node-max-entries', 2);
my $redis = $t->redis;

my %config = (
    http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;
             mailhook_consumer_group mailers;
             mailhook_consumer_group audit mailhook:events mailhook:suppression-events;',
    location => 'mailhook_stream_max_age 1h;',
);
$t->start_nginx(%config);

sub groups_of {
    my ($stream) = @_;
    my @groups = eval { $redis->xinfo('GROUPS', $stream) } or return [];
    return [sort map { {@$_}->{name} } @groups];
}
my $n = 0;
sub send_event {
    my $id = 'e' . ++$n;
    return $t->post_delivered("$id\@example.com", $id);
}
sub read_group {
    my ($group) = @_;
    my $reply = $redis->xreadgroup('GROUP', $group, 'c1', 'COUNT', 100, 'STREAMS',
        'mailhook:events', '>');
    return $reply ? [map { $_->[0] } @{$reply->[0][1]}] : [];
}

Mailhook::Test::wait_for('the groups', 5, sub { @{groups_of('mailhook:suppression-events')} });
is_deeply(groups_of('mailhook:events'), ['audit', 'mailers'], 'both groups on the event stream');
is_deeply(groups_of('mailhook:suppression-events'), ['audit'],
    'the audit group on the suppression stream');
is($redis->xlen('mailhook:events'), 0, '... created with MKSTREAM, before any event');

is(send_event()->{status}, 200, 'an event');
my $read = read_group('mailers');
is(scalar(@$read), 1, 'XREADGROUP of the mailers group reads it');
is($redis->xack('mailhook:events', 'mailers', @$read), 1, '... and XACK acknowledges it');

# Redis restarts empty (FLUSHALL) and the connection drops: the groups come back.
$redis->flushall;
is_deeply(groups_of('mailhook:events'), [], 'FLUSHALL: no groups');
$redis->client_kill('TYPE', 'normal');
Mailhook::Test::wait_for('the groups again after the reconnect', 10, sub {
    @{groups_of('mailhook:events')} == 2 && @{groups_of('mailhook:suppression-events')} == 1 });
pass('after the reconnect both groups are there again');
is(send_event()->{status}, 200, 'an event after the reconnect');
is(scalar(@{read_group('mailers')}), 1, '... read by the group without NOGROUP');

# A reload: every group exists (BUSYGROUP, not logged); a stream key that is
# not a stream is logged.
$redis->set('not-a-stream', 'x');
$t->reload(%config, http => $config{http} . ' mailhook_consumer_group bad not-a-stream;');
Mailhook::Test::wait_for('the refusal logged', 10, sub {
    $t->error_log =~ /consumer group "bad" on stream "not-a-stream" not created: WRONGTYPE/ });
pass('a key of the wrong type is logged');
unlike($t->error_log, qr/consumer group "(mailers|audit)".*not created/,
    'existing groups are not an error');

# MINID trimming: entries older than an hour go when the next event is stored.
$redis->del('mailhook:events');
my $old = int(time * 1000) - 2 * 3600 * 1000;
$redis->xadd('mailhook:events', ($old + $_) . '-0', 'event', "old$_") for 1 .. 4;
is(send_event()->{status}, 200, 'an event with entries two hours old in the stream');
my @left = $t->stream;
is(scalar(@left), 1, 'the old entries are trimmed (MINID ~ now - 1h)');
like($left[0]{fields}{event}, qr/"id":"e$n"/, '... the new event stays');

$t->finish;
done_testing;
