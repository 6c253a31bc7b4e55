# SPDX-License-Identifier: BSD-2-Clause
# The mailhook command with MAILHOOK_REDIS holding a Sentinel line of
# mailhook_redis (t/lib/Mailhook/Sentinel.pm: a primary, a replica, three
# Sentinels with a password): it asks the Sentinels in turn (one down is
# passed over), writes on the primary they name, and after a failover on
# the promoted replica. A wrong Sentinel password, or `cluster`, fails
# with a message and writes nothing.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::CLI qw(cli cli_bin);
use Mailhook::Sentinel;
use Mailhook::Test;
use Redis;
use Test::More;

cli_bin();
my $t = Mailhook::Test->new;
my $primary = $t->start_redis;
my $sentinel = Mailhook::Sentinel->new($t->dir, $primary);
my $replica = $sentinel->replica;
my $down = Mailhook::Test::free_port();    # nothing listens there

sub line {
    my ($password) = @_;
    return join(' ', "127.0.0.1:$down", map({ "127.0.0.1:$_" } $sentinel->sentinels),
        'sentinel=mymaster', "sentinel_password=$password");
}
sub add {
    my ($id, $line) = @_;
    return cli($t, 'connection', 'add', $id, '--vendor', 'inboxroad', '--secret', 's1',
        { env => { MAILHOOK_REDIS => $line } });
}
sub ids_on {
    my ($port) = @_;
    return [sort map { s/^mailhook:connection://r }
        Redis->new(server => "127.0.0.1:$port")->keys('mailhook:connection:*')];
}

my $r = add('c1', line($Mailhook::Sentinel::password));
is($r->{code}, 0, 'connection add through the Sentinels: exit 0') or diag($r->{err});
is_deeply(ids_on($primary), ['c1'], '... written on the primary they name');

$r = add('c2', line('wrong'));
is($r->{code}, 1, 'a wrong Sentinel password: exit 1');
like($r->{err}, qr/no Sentinel named the primary "mymaster" \(127\.0\.0\.1:$down: .*; 127\.0\.0\.1:\d+: .*(WRONGPASS|invalid|NOAUTH|AUTH)/,
    '... naming each Sentinel and why');
is_deeply(ids_on($primary), ['c1'], '... and nothing written');

$r = add('c3', "127.0.0.1:$primary cluster");
is($r->{code}, 2, '`cluster`: a usage error');
like($r->{err}, qr/does not speak Redis Cluster/, '... saying so');

# NOGOODSLAVE until the Sentinel has seen the replica's state once more.
Mailhook::Test::wait_for('SENTINEL FAILOVER accepted', 30, sub {
    eval { $sentinel->sentinel(($sentinel->sentinels)[0])->sentinel('failover', 'mymaster') } });
pass('SENTINEL FAILOVER');
Mailhook::Test::wait_for('the replica promoted', 30, sub { ($sentinel->primary // 0) == $replica });
Mailhook::Test::wait_for('the replica a primary', 10, sub {
    (Redis->new(server => "127.0.0.1:$replica")->role)[0] eq 'master' });
$r = add('c4', line($Mailhook::Sentinel::password));
is($r->{code}, 0, 'after the failover: exit 0') or diag($r->{err});
is_deeply(ids_on($replica), ['c1', 'c4'], '... written on the promoted replica');

$sentinel->stop;
$t->finish;
done_testing;
