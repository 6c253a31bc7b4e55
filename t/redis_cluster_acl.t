# SPDX-License-Identifier: BSD-2-Clause
# mailhook_redis ... cluster user=: a 3-primary cluster whose nodes know only
# docs/redis.md's least-privilege user with the additions the page names for
# a cluster (both read from the page). The worker gets the slot table and
# stores on every primary as that user; a wrong password stores nothing.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::RedisCluster;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;

open my $page, '<', 'docs/redis.md' or die "docs/redis.md: $!";
my $text = do { local $/; <$page> };
close $page;
my ($acl) = $text =~ /^(ACL SETUSER mailhook .*)$/m or die 'no ACL line in docs/redis.md';
my ($extra) = $text =~ /With `cluster` a worker also sends .*?add `([^`]+)` to that line/s
    or die 'no cluster additions in docs/redis.md';
my $password = 'cluster-acl-password';
(my $setuser = "$acl $extra") =~ s/>CHANGE-ME/>$password/ or die 'no >CHANGE-ME';
my @setuser = split ' ', $setuser;
shift @setuser;    # ACL

my $t = Mailhook::Test->new;
my $cluster = Mailhook::RedisCluster->new(dir => $t->dir);
my @primaries = @{ ($cluster->create(3, 0))[0] };
$cluster->node($_)->acl(@setuser) for @primaries;

my @tenants = 1 .. 24;
sub config {
    my ($pw) = @_;
    return (redis => "mailhook_redis 127.0.0.1:$primaries[0] cluster user=mailhook password=$pw;",
        http => join(' ', map { "mailhook_connection c$_ vendor=inboxroad secret=s1 tenant=tenant-$_;" }
            @tenants),
        location => 'mailhook_redis_timeout 2s;', ready => 'port');
}
sub send_events {
    my %statuses;
    for my $tenant (@tenants) {
        my $body = qq({"kind":"delivered","recipient":"r$tenant\@example.com","id":"e$tenant"});
        $statuses{ $t->post("/webhooks/v2/inboxroad/c$tenant", $body,
            'X-Signature' => hmac_b64($body, 's1'))->{status} }++;
    }
    return \%statuses;
}
sub entries_on {
    my ($port) = @_;
    my $node = $cluster->node($port);
    my $count = 0;
    $count += $node->xlen($_) for $node->keys('mailhook:events:*');
    return $count;
}

$t->start_nginx(config('wrong-password'));
is_deeply(send_events(), { 503 => scalar @tenants }, 'a wrong password: every request 503');
is((grep { entries_on($_) } @primaries), 0, '... and nothing stored');
like($t->error_log, qr/mailhook: redis.*(WRONGPASS|invalid username-password)/,
    'the refused AUTH is logged');
$t->stop_nginx;

$t->start_nginx(config($password));
$t->wait_workers_ready(redis_connected => 1);
like($t->error_log, qr/redis cluster primaries: (127\.0\.0\.1:\d+ ?){3} \(0 slots unserved\)/,
    'the slot table, asked for as the ACL user');
is_deeply(send_events(), { 200 => scalar @tenants }, 'every tenant stored as the ACL user');
my @counts = map { entries_on($_) } @primaries;
is(eval { my $sum = 0; $sum += $_ for @counts; $sum }, scalar @tenants,
    'one stream entry per event over the cluster');
is((grep { $_ > 0 } @counts), 3, '... on all three primaries') or diag("@counts");
unlike($t->error_log, qr/NOPERM/, 'no command refused');

$t->finish;
done_testing;
