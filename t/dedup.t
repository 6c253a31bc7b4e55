# SPDX-License-Identifier: BSD-2-Clause
# Stored once, stored wholly: duplicates, in-batch repeats, all-or-nothing
# batches, the NOSCRIPT fallback, key names with variables, and the Mailgun
# replay guard (security review L6).
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA;
use JSON::PP;
use Digest::SHA qw(hmac_sha256_hex);
use Mailhook::Sign qw(sendgrid_key sendgrid_headers);
use Mailhook::Test;
use Test::More;

my ($signer, $key) = sendgrid_key();
my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(
    http => "mailhook_connection sg1 vendor=sendgrid secret=$key;"
        . " mailhook_connection sg2 vendor=sendgrid secret=$key tenant=acme;"
        . " mailhook_connection mg1 vendor=mailgun secret=mg-key timestamp_tolerance=0;"
        . " mailhook_connection mg2 vendor=mailgun secret=mg-key timestamp_tolerance=0;",
    server => 'location /per-tenant/ { mailhook; mailhook_stream events:$mailhook_tenant; }',
);
my $redis = $t->redis;

sub batch { encode_json([@_]) . "\r\n" }
sub event {
    my ($id, %extra) = @_;
    return { email => "$id\@example.com", timestamp => 1700000000, event => 'delivered',
             sg_event_id => $id, response => '250 OK', %extra };
}
sub post_batch {
    my ($body, $path) = @_;
    return $t->post($path // '/webhooks/v2/sendgrid/sg1', $body, sendgrid_headers($signer, $body));
}

# The same signed request five times.
my $body = batch(event('e1'));
my @answers = map { post_batch($body) } 1 .. 5;
is_deeply([map { $_->{status} } @answers], [200, 200, 200, 200, 200], 'five deliveries: five 200s');
is($answers[0]{content}, qq({"stored":1,"duplicates":0}\n), 'first stores');
is($answers[$_]{content}, qq({"stored":0,"duplicates":1}\n), "delivery @{[$_ + 1]} is a duplicate")
    for 1 .. 4;
is($t->event_count, 1, 'one stream entry');
my ($stored) = $t->events;
is($redis->ttl("mailhook:dedup:$stored->{id}") > 25 * 3600, 1, 'dedup key lives for the dedup TTL (26h)');

# One event twice inside a batch, next to a new one and an old one.
my $r = post_batch(batch(event('e2'), event('e2'), event('e1'), event('e3')));
is($r->{status}, 200, 'batch with repeats: 200');
is($r->{content}, qq({"stored":2,"duplicates":2}\n), 'repeat and already-stored counted as duplicates');
is($t->event_count, 3, 'e2 and e3 added once each');

# The same vendor event on another connection is another delivery.
$r = post_batch(batch(event('e1')), '/webhooks/v2/sendgrid/sg2');
is($r->{content}, qq({"stored":1,"duplicates":0}\n), 'same sg_event_id on another connection is stored');

# A stream per tenant through a variable in mailhook_stream.
$r = post_batch(batch(event('t1')), '/per-tenant/sendgrid/sg2');
is($r->{status}, 200, 'stored into the tenant stream');
is($t->event_count('events:acme'), 1, 'stream events:acme holds it');

# A batch that cannot be stored wholly is not stored at all: the suppression
# hash (written after XADD in the script) has the wrong type.
my $before = $t->event_count;
$redis->set('mailhook:suppression:sg1', 'not a hash');
$r = post_batch(batch(event('f1'), event('f2', event => 'bounce', type => 'bounce', status => '5.1.1')));
is($r->{status}, 503, 'script error: 503');
ok($r->{headers}{'retry-after'}, 'with Retry-After');
is($t->event_count, $before, 'no stream entry from the failed batch');
for my $failed ('f1', 'f2') {
    my $id = substr(Digest::SHA::sha256_hex("sendgrid\0sg1\0sg:$failed"), 0, 32);
    is($redis->exists("mailhook:dedup:$id"), 0, "no dedup key left behind for $failed");
}
is(scalar(my @keys = $redis->keys('mailhook:dedup:*')), 5, 'dedup keys only for the stored events');
like($t->error_log, qr/refused EVALSHA store script, keys .*: WRONGTYPE mailhook key mailhook:suppression:sg1/,
    'the Redis error is logged');
$redis->del('mailhook:suppression:sg1');
$r = post_batch(batch(event('f1'), event('f2', event => 'bounce', type => 'bounce', status => '5.1.1')));
is($r->{content}, qq({"stored":2,"duplicates":0}\n), 'the vendor retry stores the whole batch');
my ($f1) = grep { $_->{event_id} eq 'f1' } $t->events;
is($f1->{id}, substr(Digest::SHA::sha256_hex("sendgrid\0sg1\0sg:f1"), 0, 32),
    'id = first 128 bits of SHA-256(vendor NUL connection NUL vendor key)');

# The stream key itself of another type: the first XADD fails, before any
# other write.
$redis->del('events:acme');
$redis->set('events:acme', 'not a stream');
$r = post_batch(batch(event('w1'), event('w2', event => 'bounce', type => 'bounce')),
    '/per-tenant/sendgrid/sg2');
is($r->{status}, 503, 'stream key of the wrong type: 503');
my $w1 = substr(Digest::SHA::sha256_hex("sendgrid\0sg2\0sg:w1"), 0, 32);
is($redis->exists("mailhook:dedup:$w1"), 0, 'no dedup key written');
is($redis->hlen('mailhook:suppression:acme'), 0, 'no suppression written');
$redis->del('events:acme');
is(post_batch(batch(event('w1')), '/per-tenant/sendgrid/sg2')->{status}, 200, 'fixed: stored');

# Out of memory: Redis refuses the first write, nothing is half-stored.
$before = $t->event_count;
$redis->config_set('maxmemory', 1);
$r = post_batch(batch(event('m1'), event('m2')));
is($r->{status}, 503, 'Redis out of memory: 503');
$redis->config_set('maxmemory', 0);
is($t->event_count, $before, 'nothing stored');

# Script cache flushed (as after a Redis restart): EVALSHA gets NOSCRIPT and
# the module falls back to EVAL.
$redis->script_flush;
$r = post_batch(batch(event('n1')));
is($r->{status}, 200, 'after SCRIPT FLUSH: 200 through the EVAL fallback');
is($r->{content}, qq({"stored":1,"duplicates":0}\n), 'stored');
$t->stop_redis;
$t->start_redis;
$r = post_batch(batch(event('n2')));
for (1 .. 50) {
    last if $r->{status} == 200;
    select(undef, undef, undef, 0.1);
    $r = post_batch(batch(event('n2')));
}
is($r->{status}, 200, 'Redis restarted with an empty script cache: 200');
is($t->event_count, 1, 'stored in the fresh Redis');

# --- L6: the Mailgun replay guard ----------------------------------------------
my $json = JSON::PP->new->canonical;
sub mailgun {
    my ($connection, $timestamp, $token, $id, %o) = @_;
    my $signature = $o{signature} // hmac_sha256_hex($timestamp . $token, 'mg-key');
    my $body = $json->encode({
        signature => { timestamp => $timestamp, token => $token, signature => $signature },
        'event-data' => { event => $o{event} // 'delivered', id => $id,
                          timestamp => 1700000000, recipient => $o{recipient} // 'a@example.com',
                          severity => 'permanent' },
    });
    return $t->post("/webhooks/v2/mailgun/$connection", $body,
        'Content-Type' => 'application/json');
}
my $ts = '1700000000';
my $token = '7' . ('a' x 49);
is(mailgun('mg1', $ts, $token, 'mg-e1')->{status}, 200, 'L6: a signed Mailgun event: 200');
is(mailgun('mg1', $ts, $token, 'mg-e1')->{content}, qq({"stored":0,"duplicates":1}
),
    'L6: its retry is a duplicate');
is(mailgun('mg1', $ts, $token, 'mg-e2')->{status}, 401, 'L6: its token for another event: 401');
is(mailgun('mg2', $ts, $token, 'mg-e1')->{status}, 200,
    'L6: the same token on another connection is that connection\'s own');
# The review's forgery: a digit moved from the token to the timestamp keeps
# the signed bytes, so the captured signature verifies.
my $captured = hmac_sha256_hex($ts . $token, 'mg-key');
my $before_forgery = $t->event_count;
my $forged = mailgun('mg1', $ts . '7', substr($token, 1), 'mg-forged', signature => $captured,
    event => 'failed', recipient => 'victim@example.com');
is($forged->{status}, 401, 'L6: a captured signature with a digit moved: 401 replay');
is($t->event_count, $before_forgery, 'L6: nothing stored for it');
is($redis->hget('mailhook:suppression:mg1', 'victim@example.com'), undef, 'L6: no suppression');
is($redis->exists("mailhook:replay:mg1:token:$token"), 1, 'L6: the token key is per connection');
is($redis->exists("mailhook:replay:mg1:signed:$ts$token"), 1, 'L6: and so is the signed-text key');

$t->finish;
done_testing;
