# SPDX-License-Identifier: BSD-2-Clause
# mailhook_redis ... cluster: a Redis Cluster of three primaries the test
# builds (redis-cli --cluster create). Requests for many tenants land on
# every primary, each request's keys in one slot; dedup and suppression work
# as on one Redis; a slot moved by hand (the steps redis-cli --cluster
# reshard takes) is followed through ASK while it moves and MOVED after,
# each redirect counted in mailhook_redis_redirects_total.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::RedisCluster;
use Mailhook::Test;
use POSIX qw(_exit);
use Redis;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $cluster = Mailhook::RedisCluster->new(dir => $dir);
my %node;    # port => Redis client, of every node started
sub make_cluster {
    my @made = $cluster->create(@_);
    $node{$_} = $cluster->node($_) for @{ $made[1] };
    return @made;
}
my @ports = @{ (make_cluster(3, 0))[0] };
my %id = map { $_ => $cluster->id($_) } @ports;
my @tenants = 1 .. 24;

sub owner { $cluster->owner($_[0], $ports[0]) }
sub slot_of { $node{ $ports[0] }->cluster('KEYSLOT', $_[0]) }
sub tag_of { my ($tag) = $_[0] =~ /\{([^}]+)\}/; return $tag }

$t->start_nginx(
    redis => "mailhook_redis 127.0.0.1:$ports[1] cluster;",
    http => join(' ', map { "mailhook_connection c$_ vendor=inboxroad secret=s1 tenant=tenant-$_;" } @tenants),
    location => 'mailhook_soft_bounce_limit 1 1d;',
    server => 'location = /status { mailhook_status; }',
    ready => 'port',
);
$t->wait_workers_ready(redis_connected => 1);
like($t->error_log, qr/redis cluster primaries: (127\.0\.0\.1:\d+ ?){3} \(0 slots unserved\)/,
    'the slot table from one seed: three primaries, every slot');

my $n = 0;
sub events_body {
    my (@kinds) = @_;
    return encode_json([map { { kind => $_, recipient => "r$n\@example.com", id => 'e' . ++$n,
                               message_id => "<m$n\@x>" } } @kinds]);
}
sub post_body {
    my ($connection, $body) = @_;
    return $t->post("/webhooks/v2/inboxroad/$connection", $body,
        'X-Signature' => hmac_b64($body, 's1'));
}
sub redirects {
    return decode_json($t->request('GET', '/status?format=json')->{content})->{redis_redirects};
}
# port => [keys], without the cluster's own.
sub keys_by_node { return { map { $_ => [$node{$_}->keys('mailhook:*')] } @ports } }
sub stored_events {
    my $count = 0;
    for my $port (@ports) {
        $count += $node{$port}->xlen($_) for $node{$port}->keys('mailhook:events:*');
    }
    return $count;
}

my %bodies;
for my $i (@tenants) {
    my $body = events_body(qw(delivered soft_bounce unsubscribe hard_bounce complaint));
    $bodies{$i} = $body;
    my $r = post_body("c$i", $body);
    is($r->{status}, 200, "tenant-$i: five events, every kind of key: 200") or diag($r->{content});
}
is(stored_events(), 5 * @tenants, 'every event stored');
my $keys = keys_by_node();
for my $port (@ports) {
    ok(scalar @{ $keys->{$port} }, "primary $port holds keys (" . scalar(@{ $keys->{$port} }) . ')');
}
my (%slots_of_tag, $misplaced);
for my $port (@ports) {
    for my $key (@{ $keys->{$port} }) {
        my $tag = tag_of($key);
        $misplaced++ unless defined $tag && owner(slot_of($key)) == $port;
        $slots_of_tag{$tag // ''}{ slot_of($key) } = 1;
    }
}
ok(!$misplaced, 'every key tagged and on the primary of its slot');
ok(!grep({ keys %{ $slots_of_tag{$_} } != 1 } keys %slots_of_tag),
    'the keys of one tag (one request) share one slot');

# Dedup and suppression as on one Redis.
my $r = post_body('c1', $bodies{1});
is($r->{status}, 200, 'a resent request: 200');
is(decode_json($r->{content})->{duplicates}, 5, 'all five are duplicates');
is(stored_events(), 5 * @tenants, 'nothing stored twice');
my ($suppression) = grep { /^mailhook:suppression:\{[^}]+\}:tenant-2$/ } map { @$_ } values %$keys;
ok($suppression, "tenant-2's suppression entry ($suppression)");

# A request of 1,200 events: three script calls, all to its one slot.
{
    my $body = encode_json([map { { kind => 'delivered', recipient => 'bulk@example.com',
                                   id => "bulk-$_", message_id => "<bulk-$_\@x>" } } 1 .. 1200]);
    my $before = stored_events();
    my $r = post_body('c3', $body);
    is($r->{status}, 200, 'a request of 1,200 events: 200') or diag($r->{content});
    is(decode_json($r->{content})->{stored}, 1200, 'every event stored');
    is(stored_events(), $before + 1200, 'and in the streams');
    is(decode_json(post_body('c3', $body)->{content})->{duplicates}, 1200, 'sent again: 1,200 duplicates');
}

# Slots moved the way redis-cli --cluster reshard moves them: the importing
# node first, then the migrating one, the keys migrated, then every node
# told the new owner.
sub begin_move {
    my ($slot, $from, $to) = @_;
    $node{$to}->cluster('SETSLOT', $slot, 'IMPORTING', $id{$from});
    $node{$from}->cluster('SETSLOT', $slot, 'MIGRATING', $id{$to});
    my @in_slot = @{ $node{$from}->cluster('GETKEYSINSLOT', $slot, 1000) };
    $node{$from}->migrate('127.0.0.1', $to, '', 0, 5000, 'KEYS', @in_slot) if @in_slot;
}
sub end_move {
    my ($slot, $from, $to) = @_;
    Redis->new(server => "127.0.0.1:$_", reconnect => 0)->cluster('SETSLOT', $slot, 'NODE', $id{$to})
        for ($to, $from, grep { $_ != $to && $_ != $from } @ports);
}
sub other_than { my ($port) = @_; return (grep { $_ != $port } @ports)[0] }

# A single-key call (a connection looked up) for a slot whose key has moved
# but not the slot yet: ASK, then ASKING + the call on the importing node.
my $dyn_key = 'mailhook:connection:dyn';
my $dyn_slot = slot_of($dyn_key);
my $dyn_from = owner($dyn_slot);
my $dyn_to = other_than($dyn_from);
$node{$dyn_from}->hset($dyn_key, vendor => 'inboxroad', secret => 's1', tenant => 'tenant-1');
begin_move($dyn_slot, $dyn_from, $dyn_to);
my $before = redirects();
$r = post_body('dyn', events_body('delivered'));
is($r->{status}, 200, 'a connection whose key is being moved: looked up, 200') or diag($r->{content});
ok(redirects() > $before, 'ASK counted as a redirect');
end_move($dyn_slot, $dyn_from, $dyn_to);

# A store for a slot being moved: TRYAGAIN (new keys on a slot in
# migration) retried until the move ends, then MOVED to the new owner.
my $moved_key = 'mailhook:events:{' . tag_of($suppression) . '}';
my $slot = slot_of($moved_key);
my $from = owner($slot);
my $to = other_than($from);
my $xlen = $node{$from}->xlen($moved_key);
begin_move($slot, $from, $to);
my $mover = fork() // die "fork: $!";
if ($mover == 0) { sleep 0.2; end_move($slot, $from, $to); _exit(0) }
$before = redirects();
my $during = events_body('delivered');
$r = post_body('c2', $during);
waitpid($mover, 0);
is($r->{status}, 200, 'a store while its slot moves: retried until it has moved, 200') or diag($r->{content});
ok(redirects() > $before, 'MOVED counted as a redirect');
Mailhook::Test::wait_for('slot moved everywhere', 10, sub {
    !grep { my $p = $_; (grep { $_->[0] <= $slot && $slot <= $_->[1] && $_->[2][1] == $to }
                         @{ $node{$p}->cluster('SLOTS') }) == 0 } @ports });
$r = post_body('c2', events_body('delivered'));
is($r->{status}, 200, 'a request for the moved slot: 200');
is($node{$to}->xlen($moved_key), $xlen + 2, "the bucket's stream on its new primary holds the old and new events");
$r = post_body('c2', $during);
is(decode_json($r->{content})->{duplicates}, 1, 'dedup keys moved with the slot: a resent event is a duplicate');
$before = redirects();
post_body('c2', events_body('delivered'));
is(redirects(), $before, 'the slot table learnt the new owner: no more redirects');
unlike($t->error_log, qr/refused .*(MOVED|ASK)/, 'redirects are not logged as refusals');

# --- under load ------------------------------------------------------------
# A sender that retries like an ESP: one new event after another, each sent
# again (same body) until it is answered 200; the acknowledged recipients go
# to a file. It stops when the stop file appears.
sub start_sender {
    my ($label) = @_;
    my ($acked, $stop) = ("$dir/acked-$label", "$dir/stop-$label");
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open my $out, '>>', $acked or _exit(1);
        $out->autoflush(1);
        for (my $i = 1; !-e $stop; ++$i) {
            my $recipient = "$label-$i\@example.com";
            my $body = encode_json([{ kind => 'delivered', recipient => $recipient,
                                      id => "$label-$i", message_id => "<$label-$i\@x>" }]);
            my $connection = 'c' . $tenants[$i % @tenants];
            # A shard that cannot take it (its primary dead, no replica to
            # confirm) is tried for a second, then the next event.
            for (1 .. 20) {
                my $r = post_body($connection, $body);
                if ($r->{status} == 200) { print $out "$recipient\n"; last }
                sleep 0.05;
            }
        }
        _exit(0);
    }
    return sub {
        open my $fh, '>', $stop or die $!;
        close $fh;
        waitpid($pid, 0);
        open my $in, '<', $acked or die $!;
        chomp(my @lines = <$in>);
        return @lines;
    };
}
# recipient => times stored, over the bucket streams of the given primaries.
sub stored_recipients {
    my (@primaries) = @_;
    my %count;
    for my $port (@primaries) {
        for my $stream ($node{$port}->keys('mailhook:events:*')) {
            $count{ decode_json({ @{ $_->[1] } }->{event})->{recipient} }++
                for $node{$port}->xrange($stream, '-', '+');
        }
    }
    return \%count;
}
sub check_exactly_once {
    my ($what, $acked, $stored, $label) = @_;
    ok(@$acked > 20, "$what: " . scalar(@$acked) . ' events acknowledged under load');
    my @lost = grep { ($stored->{$_} // 0) == 0 } @$acked;
    is(scalar @lost, 0, "$what: every acknowledged event stored") or diag("lost: @lost[0 .. 4]");
    my @twice = grep { /^\Q$label\E-/ && $stored->{$_} > 1 } keys %$stored;
    is(scalar @twice, 0, "$what: none stored twice") or diag("twice: @twice[0 .. 4]");
}

# Reshard under load: redis-cli moves a third of a primary's slots.
{
    my $before = redirects();
    my $stop = start_sender('reshard');
    sleep 0.5;
    my ($from, $to) = @ports[0, 1];
    my $out = `redis-cli --cluster reshard 127.0.0.1:$from --cluster-from $id{$from} --cluster-to $id{$to} --cluster-slots 2000 --cluster-yes 2>&1`;
    is($?, 0, 'redis-cli --cluster reshard moved 2000 slots') or diag($out);
    sleep 0.5;
    my @acked = $stop->();
    check_exactly_once('reshard', \@acked, stored_recipients(@ports), 'reshard');
    ok(redirects() > $before, 'redirects during the reshard counted: ' . (redirects() - $before));
}

# A primary killed under load, mailhook_redis_wait 1: a 200 means a replica
# has the events, so every one is there once the replica is promoted.
{
    my ($primaries, $all) = make_cluster(3, 1);
    $t->reload(redis => "mailhook_redis 127.0.0.1:$primaries->[1] cluster; mailhook_redis_wait 1 timeout=500ms;",
        ready => 'port');
    $t->wait_workers_ready(redis_connected => 1);
    my $stop = start_sender('failover');
    sleep 1;
    my $victim = $primaries->[0];
    $cluster->kill_node($victim);
    delete $node{$victim};
    my @alive = grep { $_ != $victim } @$all;
    Mailhook::Test::wait_for('a replica promoted', 30, sub {
        (grep { my @r = eval { $node{$_}->role }; @r && $r[0] eq 'master' } @alive) == 3
            && $node{ $alive[0] }->cluster('INFO') =~ /cluster_state:ok/ });
    # The killed node comes back as a replica of the promoted one: its shard
    # confirms writes again.
    $node{$victim} = $cluster->node($cluster->start_node($victim));
    Mailhook::Test::wait_for('the old primary back as a replica', 30, sub {
        my @role = eval { $node{$victim}->role };
        @role && $role[0] eq 'slave' && $role[3] eq 'connected' });
    my $acked_so_far = () = do { open my $in, '<', "$dir/acked-failover"; <$in> };
    Mailhook::Test::wait_for('events acknowledged after the promotion', 30, sub {
        my @acked = do { open my $in, '<', "$dir/acked-failover"; <$in> };
        return @acked > $acked_so_far + 30;
    });
    my @acked = $stop->();
    my @primaries_now = grep { ($node{$_}->role)[0] eq 'master' } @$all;
    check_exactly_once('failover', \@acked, stored_recipients(@primaries_now), 'failover');
}

# TLS: nodes found through CLUSTER SHARDS are reached on their tls-port,
# their certificates (a test CA's, naming 127.0.0.1) verified.
{
    for my $args ("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=test-ca -keyout $dir/ca.key -out $dir/ca.crt",
                  "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=node -keyout $dir/node.key -out $dir/node.csr",
                  "x509 -req -in $dir/node.csr -CA $dir/ca.crt -CAkey $dir/ca.key -CAcreateserial -days 2 -extfile $dir/node.ext -out $dir/node.crt") {
        if ($args =~ /^x509/) { open my $ext, '>', "$dir/node.ext" or die $!; print $ext "subjectAltName=IP:127.0.0.1\n"; close $ext }
        my $out = `openssl $args 2>&1`;
        die "openssl $args: $out" if $?;
    }
    my $tls = Mailhook::RedisCluster->new(dir => $dir,
        tls => { cert => "$dir/node.crt", key => "$dir/node.key", ca => "$dir/ca.crt" });
    my ($primaries) = $tls->create(3, 0);
    my %tls_port = map { $_ => $tls->tls_port($_) } @$primaries;
    $t->reload(redis => "mailhook_redis 127.0.0.1:$tls_port{ $primaries->[2] } cluster tls;"
        . " mailhook_redis_ssl_trusted_certificate $dir/ca.crt;", ready => 'port');
    $t->wait_workers_ready(redis_connected => 1);
    my $primaries_line = join ' ', sort map { "127.0.0.1:$_" } values %tls_port;
    ok((grep { join(' ', sort split / /, $_) eq $primaries_line }
        $t->error_log =~ /redis cluster primaries: ([\d.: ]+) \(/g),
        'over TLS: the primaries at their tls-ports');
    my @statuses = map { post_body("c$_", events_body('delivered'))->{status} } @tenants;
    is_deeply(\@statuses, [(200) x @tenants], 'over TLS: every tenant stored');
    ok(!grep({ !$tls->node($_)->keys('mailhook:events:*') } @$primaries), 'over TLS: on every primary');
    $tls->stop;
}

# What a cluster cannot do is a configuration error.
for my $case (["mailhook_redis 127.0.0.1:$ports[0] cluster db=1;", qr/"db=" with "cluster"/],
              ["mailhook_redis 127.0.0.1:$ports[0] 127.0.0.1:$ports[1];", qr/more than one address/],
              ["mailhook_redis 127.0.0.1:$ports[0] cluster; mailhook_key_hash_tag off;",
               qr/"mailhook_key_hash_tag off" with a "cluster"/]) {
    my ($redis, $error) = @$case;
    $t->write_config(redis => $redis, http => 'mailhook_connection c1 vendor=inboxroad secret=s1;');
    my $out = $t->nginx_command("-t -p $dir/ -c nginx.conf -e check.log");
    isnt($?, 0, "nginx -t refuses: $redis");
    like($out, $error, 'and says why');
}

$t->finish;
done_testing;
