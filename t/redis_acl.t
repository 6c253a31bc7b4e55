# SPDX-License-Identifier: BSD-2-Clause
# The least-privilege ACL user of docs/redis.md on a real Redis (the line is
# read from the page, so the two cannot drift apart): every path works with
# it (webhooks with suppression, soft bounces and a one-time token, a
# connection looked up in Redis, tracking with the delivery window, SELECT,
# spool replay). A wrong password stores nothing, is logged and answers 503
# (or spools); a key outside the ACL pattern surfaces as NOPERM, a 503
# logged once, never spooled.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use JSON::PP;
use Mailhook::Sign qw(hmac_b64 basic_auth mailgun_signature tracking_token);
use Mailhook::Test;
use Redis;
use Test::More;
use Time::HiRes qw(sleep time);

open my $page, '<', 'docs/redis.md' or die "docs/redis.md: $!";
my ($acl) = grep { /^ACL SETUSER mailhook / } <$page>;
close $page;
ok(defined $acl, 'docs/redis.md has the ACL line');
chomp $acl;
my $password = 'acl-test-password';
(my $setuser = $acl) =~ s/>CHANGE-ME/>$password/ or die 'no >CHANGE-ME in the ACL line';
my @setuser = split ' ', $setuser;
shift @setuser;  # ACL

# Every command the scripts call is in the line.
my %allowed = map { lc($_) => 1 } map { /^\+(\S+)$/ ? $1 : () } @setuser;
my %called;
for my $file ('src/core/store_script.cpp', 'src/core/tracking_store.cpp') {
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    my $source = <$fh>;
    $called{lc $1} = 1 while $source =~ /redis\.p?call\('(\w+)'/g;
    $called{lc $1} = 1 while $source =~ /\{'(\w+)', stream/g;  # a command built as a table
}
my @missing = grep { !$allowed{$_} } sort keys %called;
is_deeply(\@missing, [], 'the ACL line allows every command the scripts call')
    or diag("missing: @missing");

my $t = Mailhook::Test->new;
$t->start_redis;
sub create_user { $t->redis->acl(@setuser) }
create_user();
my $K1 = 'k1-secret-0123456789';
my $mailgun_key = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
my $port = $t->redis_port;
my %config = (
    redis => "mailhook_redis 127.0.0.1:$port user=mailhook password=$password db=3;",
    http => 'mailhook_connection ir vendor=inboxroad secret=s1 tenant=acme;'
        . ' mailhook_connection s2g vendor=smtp2go secret=u:p tenant=acme;'
        . " mailhook_connection mg vendor=mailgun secret=$mailgun_key;"
        . " mailhook_tracking_key k1 $K1; mailhook_tracking_click_window 60s;"
        . ' mailhook_spool ' . $t->dir . '/spool;',
    location => 'mailhook_soft_bounce_limit 2 1d; mailhook_redis_timeout 1s;',
    server => 'location /t/ { mailhook_tracking; }'
        . ' location /outside/ { mailhook; mailhook_stream other:events; }',
);
$t->start_nginx(%config);
my $db3 = Redis->new(server => "127.0.0.1:$port");
$db3->select(3);

my $n = 0;
sub inboxroad {
    my ($kind, $recipient, %opt) = @_;
    my $body = encode_json({ kind => $kind, recipient => $recipient, id => 'ir-' . ++$n,
                             timestamp => $opt{time} // '2025-03-01T12:00:00Z',
                             message_id => $opt{message_id} });
    return $t->post(($opt{prefix} // '/webhooks/v2/') . 'inboxroad/' . ($opt{connection} // 'ir'),
        $body, 'X-Signature' => hmac_b64($body, 's1'));
}
sub status_of { $_[0]->{status} }
sub suppression { my $v = $db3->hget('mailhook:suppression:acme', $_[0]); $v ? decode_json($v)->{reason} : undef }

# Webhooks through every branch of the store script.
is(status_of(inboxroad('delivered', 'a@example.com', message_id => 'm1@example.com')), 200,
    'delivered');
is(status_of(inboxroad('hard_bounce', 'hard@example.com')), 200, 'hard bounce');
is(suppression('hard@example.com'), 'hard_bounce', '... suppressed');
is(status_of(inboxroad('unsubscribe', 'u@example.com')), 200, 'unsubscribe');
my $resub = encode_json({ event => 'resubscribe', rcpt => 'u@example.com', id => 's2g-1',
                          time => '2025-03-02T12:00:00Z' });
is($t->post('/webhooks/v2/smtp2go/s2g', $resub, Authorization => basic_auth('u:p'))->{status},
    200, 'resubscribe');
is(suppression('u@example.com'), undef, '... removed');
is(status_of(inboxroad('soft_bounce', 's@example.com', time => "2025-03-0${_}T08:00:00Z")), 200,
    "soft bounce $_") for 1 .. 2;
is(suppression('s@example.com'), 'soft_bounce_limit', '... soft bounce limit reached');

# A one-time token (the replay key), accepted once, refused for another event.
my $token = 'b' x 50;
my $mailgun = sub {
    my ($id) = @_;
    my $body = encode_json({ signature => mailgun_signature($mailgun_key, $token),
        'event-data' => { event => 'delivered', id => $id, timestamp => time,
                          recipient => 'mg@example.com' } });
    return $t->post('/webhooks/v2/mailgun/mg', $body);
};
is($mailgun->('mg-1')->{status}, 200, 'one-time token: first use');
is($mailgun->('mg-2')->{status}, 401, 'one-time token: used again for another event');

# A connection looked up in Redis (HGETALL).
$db3->hset('mailhook:connection:dyn', vendor => 'inboxroad', secret => 's1');
is(status_of(inboxroad('delivered', 'dyn@example.com', connection => 'dyn')), 200,
    'connection looked up in Redis');

# Tracking: an open, and a click compared with the delivery time (GET).
my $claims = JSON::PP->new->canonical->encode({ v => 1, k => 'k1', c => 'ir', r => 'a@example.com',
    m => 'm1@example.com', u => 'https://example.com/x' });
my $tracking_token = tracking_token($claims, $K1);
is($t->request('GET', "/t/o/$tracking_token.gif")->{status}, 200, 'tracking open');
is(HTTP::Tiny->new(max_redirect => 0)->get($t->url("/t/c/$tracking_token"))->{status}, 302,
    'tracking click');

my $stored = 0;
Mailhook::Test::wait_for('tracking events', 5, sub {
    $stored = $db3->xlen('mailhook:events');
    return $stored >= 10;
});
is($stored, 10, 'every event is in db 3');
is($t->event_count, 0, 'none in db 0');
unlike($t->error_log, qr/NOPERM|NOSCRIPT|WRONGPASS|refused/, 'no command was refused');

# Spool replay as the ACL user: Redis restarts (empty, the user recreated).
$t->stop_redis;
my $r = inboxroad('delivered', 'spooled@example.com');
is($r->{status}, 200, 'Redis down: 200');
like($r->{content}, qr/"spooled":1/, '... from the spool');
$t->start_redis;
create_user();
$db3 = Redis->new(server => "127.0.0.1:$port");
$db3->select(3);
Mailhook::Test::wait_for('spool replay', 15, sub { $db3->xlen('mailhook:events') >= 1 });
is(scalar(grep { /spooled\@example\.com/ } map { {@{$_->[1]}}->{event} }
    $db3->xrange('mailhook:events', '-', '+')), 1, 'the spooled event was replayed');

# A key prefix outside the ACL pattern: NOPERM, a 503, never the spool.
my @journals_before = glob($t->dir . '/spool/spool-*.log');
for my $i (1 .. 2) {
    $r = inboxroad('delivered', "out$i\@example.com", prefix => '/outside/');
    is($r->{status}, 503, "key outside the ACL: 503 ($i)");
    unlike($r->{content}, qr/spooled/, "... not spooled ($i)");
}
is(scalar(() = $t->error_log =~ /refused EVALSHA store script, keys other:events [^\n]*?: NOPERM/g),
    1, 'the NOPERM cause is logged once, with the command and its keys');
like($t->error_log, qr/not stored .*redis refused the store script \(NOPERM/,
    'each request says why it was not stored');
# Only new journals count: the replayed one may be removed meanwhile.
my %before = map { $_ => 1 } @journals_before;
is_deeply([grep { !$before{$_} } glob($t->dir . '/spool/spool-*.log')], [],
    'nothing went to the spool');

# A wrong password: nothing stored, logged; 503 without a spool.
$t->reload(%config, redis => "mailhook_redis 127.0.0.1:$port user=mailhook password=wrong db=3;",
    http => $config{http} =~ s/ mailhook_spool \S+;//r, ready => 'port');
my $before = $db3->xlen('mailhook:events');
$r = inboxroad('delivered', 'wrongpass@example.com');
is($r->{status}, 503, 'wrong password: 503');
is($db3->xlen('mailhook:events'), $before, 'wrong password: nothing stored');
like($t->error_log, qr/AUTH or SELECT failed: WRONGPASS/, 'wrong password: logged');

$t->finish;
done_testing;
