# SPDX-License-Identifier: BSD-2-Clause
# Keys for a Redis Cluster (mailhook_key_hash_tag): every key one request
# touches carries one hash tag (a bucket of its tenant, or the tenant), so
# the script's keys share a slot. A cluster-enabled redis-server owning every
# slot checks it: it refuses a script call whose keys span slots (CROSSSLOT),
# which is what the standalone names do.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use JSON::PP;
use Mailhook::Sign qw(hmac_b64 tracking_token);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = Mailhook::Test->new;
# The cluster bus gets a free port of its own (the default, port + 10000, may be taken).
$t->start_redis('--cluster-enabled', 'yes', '--cluster-config-file', $t->dir . '/nodes.conf',
    '--cluster-port', Mailhook::Test::free_port());
my $redis = $t->redis;
$redis->cluster('ADDSLOTSRANGE', 0, 16383);
my $deadline = time + 10;
sleep 0.05 until $redis->cluster('INFO') =~ /cluster_state:ok/ || time > $deadline;
like($redis->cluster('INFO'), qr/cluster_state:ok/, 'a one-node cluster owns every slot');

my @tenants = map { "tenant-$_" } 1 .. 12;
my $secret = 'k1-secret-0123456789';
my %nginx = (
    http => join(' ', map { "mailhook_connection c$_ vendor=inboxroad secret=s1 tenant=tenant-$_;" } 1 .. 12)
        . ' mailhook_connection solo vendor=inboxroad secret=s1;'
        . " mailhook_tracking_key k1 $secret; mailhook_key_hash_tag buckets;",
    location => 'mailhook_soft_bounce_limit 1 1d;',
    server => 'location /t/ { mailhook_tracking; }',
);
$t->start_nginx(%nginx);
my $n = 0;

# One request touching every kind of key: an event stream entry, dedup,
# suppression, soft-bounce set, delivered time (and the unsubscribe reads the
# resubscribe time).
sub post_all {
    my ($connection) = @_;
    my $body = encode_json([map { { kind => $_, recipient => "r\@example.com", id => 'e' . ++$n,
                                    message_id => "<m$n\@x>" } }
                            qw(delivered soft_bounce unsubscribe hard_bounce complaint)]);
    return $t->post("/webhooks/v2/inboxroad/$connection", $body,
        'X-Signature' => hmac_b64($body, 's1'));
}
# The keys of Redis, without the connection registry, by their hash tag.
sub keys_by_tag {
    my %tags;
    for my $key ($redis->keys('*')) {
        my ($tag) = $key =~ /\{([^}]+)\}/;
        push @{ $tags{$tag // '(none)'} }, $key;
    }
    return \%tags;
}
sub slot { $redis->cluster('KEYSLOT', $_[0]) }

for my $i (1 .. 12) {
    my $r = post_all("c$i");
    is($r->{status}, 200, "buckets: tenant-$i: every kind of key in one call: 200")
        or diag($r->{content});
}
is(post_all('solo')->{status}, 200, 'buckets: a connection without tenant: 200');
my $tags = keys_by_tag();
ok(!$tags->{'(none)'}, 'buckets: every key carries a hash tag');
my @buckets = grep { $_ ne '(none)' } keys %$tags;
ok(@buckets > 4, scalar(@buckets) . ' buckets for 13 scopes');
for my $tag (@buckets) {
    my @slots = do { my %s = map { slot($_) => 1 } @{ $tags->{$tag} }; keys %s };
    is_deeply(\@slots, [slot("{$tag}")], "buckets: every key tagged {$tag} in its slot");
    ok((grep { $_ eq "mailhook:events:{$tag}" } @{ $tags->{$tag} }),
        "buckets: the bucket's own stream mailhook:events:{$tag}");
}
my $stored = 0;
$stored += $redis->xlen("mailhook:events:{$_}") for @buckets;
is($stored, 13 * 5, 'buckets: every event in the stream of its bucket');
# A tenant's keys are in one bucket.
my ($bucket) = grep { grep { /suppression:\{[^}]+\}:tenant-1$/ } @{ $tags->{$_} } } @buckets;
ok($bucket, 'buckets: tenant-1 has its bucket');
ok((grep { $_ eq "mailhook:softbounce:{$bucket}:tenant-1:r\@example.com" } @{ $tags->{$bucket} }),
    'buckets: its soft-bounce set in the same bucket');
ok((grep { /^mailhook:delivered:\{\Q$bucket\E\}:c1:m\d+\@x$/ } @{ $tags->{$bucket} }),
    'buckets: and its delivered times');

# An open of a tenant-1 token: stored in tenant-1's bucket stream.
my $token = tracking_token(JSON::PP->new->canonical->encode(
    { v => 1, k => 'k1', c => 'c1', t => 'tenant-1', r => 'reader@example.com', m => 'm-1' }), $secret);
my $before = $redis->xlen("mailhook:events:{$bucket}");
my $ua = HTTP::Tiny->new(timeout => 10);
is($ua->get($t->url("/t/o/$token.gif"))->{status}, 200, 'tracking: pixel');
$deadline = time + 5;
sleep 0.05 until $redis->xlen("mailhook:events:{$bucket}") > $before || time > $deadline;
is($redis->xlen("mailhook:events:{$bucket}"), $before + 1, 'tracking: the open in the tenant\'s bucket stream');

# One tag per tenant.
$redis->flushall;
$nginx{http} =~ s/mailhook_key_hash_tag buckets;/mailhook_key_hash_tag tenant;/;
$t->reload(%nginx);
is(post_all('c3')->{status}, 200, 'tenant: 200');
is_deeply([sort keys %{ keys_by_tag() }], ['tenant-3'], 'tenant: every key tagged {tenant-3}');
is($redis->xlen('mailhook:events:{tenant-3}'), 5, 'tenant: its own stream');

# The standalone names span slots: the cluster refuses them.
$redis->flushall;
$nginx{http} =~ s/mailhook_key_hash_tag tenant;/mailhook_key_hash_tag off;/;
$t->reload(%nginx);
my $r = post_all('c1');
is($r->{status}, 503, 'standalone names on a cluster: 503');
like($t->error_log, qr/CROSSSLOT/, 'Redis said CROSSSLOT');
is_deeply([$redis->keys('*')], [], 'nothing stored');

$t->finish;
done_testing;
