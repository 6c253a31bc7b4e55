# SPDX-License-Identifier: BSD-2-Clause
# Tracking served by nginx: the open pixel and the click redirect, signed
# tokens, machine flags, the delivery window, Redis down, key rotation, and
# tokens made by mailhook-token and by the Python example in docs/tracking.md.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use JSON::PP;
use Mailhook::Sign qw(hmac_b64 tracking_token);
use Mailhook::Test;
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(time sleep);

my $GIF = pack('H*', '47494638396101000100800100000000ffffff21f90401000001002c00000000'
    . '010001000002024c01003b');
my $K1 = 'k1-secret-0123456789';
my $K2 = 'k2-secret-9876543210';

my $t = Mailhook::Test->new;
$t->start_redis;
my %nginx = (
    http => "mailhook_connection ir1 vendor=inboxroad secret=ir-secret;"
        . " mailhook_tracking_key k1 $K1; mailhook_tracking_key k2 $K2;"
        . " mailhook_tracking_click_window 60s;"
        # these tests repeat tokens: every hit stored (the window: tracking_store.t)
        . " mailhook_tracking_repeat_window 0;"
        . " log_format tracking '\$mailhook_tracking_result \$status';",
    server => 'location /t/ { mailhook_tracking;'
        . ' access_log ' . $t->dir . '/tracking.log tracking;'
        . ' set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For; }'
        . ' location = /status { mailhook_status; }',
);
$t->start_nginx(%nginx);
my $redis = $t->redis;
my $base = $t->url('');
my $ua = HTTP::Tiny->new(max_redirect => 0, timeout => 10, keep_alive => 0,
    agent => 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36');
my $reader_ua = $ua->agent;

sub token {
    my (%claims) = @_;
    my $key = delete $claims{_secret} // $K1;
    my %payload = (v => 1, k => 'k1', c => 'ir1', r => 'reader@example.com', %claims);
    delete $payload{$_} for grep { !defined $payload{$_} } keys %payload;
    return tracking_token(JSON::PP->new->canonical->encode(\%payload), $key);
}
sub get {
    my ($path, %headers) = @_;
    my $method = delete $headers{_method} // 'GET';
    return $ua->request($method, "$base$path", { headers => \%headers });
}
sub wait_events {
    my ($n) = @_;
    my $deadline = time + 5;
    sleep 0.02 while $t->event_count < $n && time < $deadline;
    return $t->event_count;
}
sub last_event { my @e = $t->events; return $e[-1] }
# Async stores keep their order on the worker's one Redis connection: once a
# later valid hit is stored, an earlier rejected one would have been too.
sub sentinel {
    my $before = $t->event_count;
    get('/t/o/' . token(r => 'sentinel@example.com') . '.gif');
    is(wait_events($before + 1), $before + 1, 'sentinel stored');
    my $e = last_event();
    is($e->{recipient}, 'sentinel@example.com', 'the only new event is the sentinel');
}

# --- open -------------------------------------------------------------------
my $open_claims = { m => '<msg-1@example.com>', cp => 'spring-sale' };
my $open_token = token(%$open_claims);
my $r = get("/t/o/$open_token.gif", 'X-Forwarded-For' => '203.0.113.7');
is($r->{status}, 200, 'pixel: 200');
is($r->{content}, $GIF, 'pixel: exactly the 43-byte transparent GIF');
is($r->{headers}{'content-type'}, 'image/gif', 'pixel: Content-Type image/gif');
is($r->{headers}{'cache-control'}, 'no-store', 'pixel: Cache-Control no-store');
is($r->{headers}{'content-length'}, 43, 'pixel: Content-Length 43');

is(wait_events(1), 1, 'open stored asynchronously');
my ($entry) = $t->stream;
is($entry->{fields}{type}, 'opened', 'routing field type');
is($entry->{fields}{vendor}, 'tracking', 'routing field vendor');
my $event = decode_json($entry->{fields}{event});
my $id = delete $event->{id};
like($id, qr/^[0-9a-f]{32}$/, 'random 128-bit id, hex');
my $received = delete $event->{received_at};
like($received, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'received_at with milliseconds');
is(delete $event->{timestamp}, substr($received, 0, 19) . 'Z', 'timestamp: the hit time');
is_deeply($event, {
    schema => 1, vendor => 'tracking', connection => 'ir1', tenant => undef,
    type => 'opened', bounce_class => undef, reject_reason => undef,
    recipient => 'reader@example.com', message_id => '<msg-1@example.com>',
    event_id => undef, smtp_status => undef, mta_response => undef, description => undef,
    click_url => undef, user_agent => $reader_ua, ip => '203.0.113.7',
    campaign_id => 'spring-sale', tags => [], metadata => { machine => JSON::PP::false },
    vendor_event => 'open',
    raw => { v => 1, k => 'k1', c => 'ir1', r => 'reader@example.com',
             m => '<msg-1@example.com>', cp => 'spring-sale' },
}, 'opened event, every field (ip from X-Forwarded-For via realip)');

# the same pixel again: a second, distinct event (opens are not deduplicated)
get("/t/o/$open_token.gif");
is(wait_events(2), 2, 'second open stored too');
my $again = last_event();
isnt($again->{id}, $id, 'with its own id');
is($again->{ip}, '127.0.0.1', 'without X-Forwarded-For: the connection address');

# --- click ------------------------------------------------------------------
my $target = "http://127.0.0.1:$t->{nginx_port}/landing?utm_source=mail&x=%C3%A9#top";
my $click_token = token(m => 'msg-1@example.com', cp => 'spring-sale', u => $target,
    t => 'acme');
$r = get("/t/c/$click_token");
is($r->{status}, 302, 'click: 302');
is($r->{headers}{location}, $target, 'click: Location is exactly the signed URL');
is($r->{headers}{'cache-control'}, 'no-store', 'click: Cache-Control no-store');
is(wait_events(3), 3, 'click stored');
$event = last_event();
delete @$event{qw(id received_at timestamp)};
is_deeply($event, {
    schema => 1, vendor => 'tracking', connection => 'ir1', tenant => 'acme',
    type => 'clicked', bounce_class => undef, reject_reason => undef,
    recipient => 'reader@example.com', message_id => 'msg-1@example.com',
    event_id => undef, smtp_status => undef, mta_response => undef, description => undef,
    click_url => $target, user_agent => $reader_ua, ip => '127.0.0.1',
    campaign_id => 'spring-sale', tags => [], metadata => { machine => JSON::PP::false },
    vendor_event => 'click',
    raw => { v => 1, k => 'k1', c => 'ir1', r => 'reader@example.com',
             m => 'msg-1@example.com', cp => 'spring-sale', u => $target, t => 'acme' },
}, 'clicked event, every field');

# --- refused tokens -----------------------------------------------------------
my $count = $t->event_count;
(my $tampered_click = $click_token) =~ s/^(.{10})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
my @bad_clicks = (
    ['tampered payload', $tampered_click],
    ['tampered signature', substr($click_token, 0, -1) . (substr($click_token, -1) eq 'A' ? 'B' : 'A')],
    ['unknown key id', token(k => 'k9', u => $target)],
    ['wrong secret', token(u => $target, _secret => $K2)],
    ['expired', token(u => $target, x => int(time) - 10)],
    ['javascript: URL', token(u => 'javascript:alert(1)')],
    ['protocol-relative URL', token(u => '//evil.example/')],
    ['no URL', token()],
    ['garbage', 'not-a-token'],
);
for my $case (@bad_clicks) {
    my ($name, $bad) = @$case;
    $r = get("/t/c/$bad");
    is($r->{status}, 404, "click $name: 404");
    ok(!defined $r->{headers}{location}, "click $name: no Location");
}
(my $tampered_open = $open_token) =~ s/^(.{5})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
for my $bad ($tampered_open, 'garbage', token(k => 'k9')) {
    $r = get("/t/o/$bad.gif");
    is($r->{status}, 200, 'invalid open token: 200');
    is($r->{content}, $GIF, 'invalid open token: still the GIF');
}
is(get('/t/x/' . token())->{status}, 404, 'unknown kind: 404');
is(get('/t/o/' . token() . '.gif', _method => 'POST')->{status}, 405, 'POST: 405');
sentinel();
is($t->event_count, $count + 1, 'refused tokens stored nothing');
my $log = $t->error_log;
like($log, qr/tracking click token rejected: signature: .*nothing stored/, 'tampered click logged');
like($log, qr/tracking click token rejected: unknown_key/, 'unknown key logged');
like($log, qr/tracking click token rejected: expired/, 'expired logged');
like($log, qr/tracking click token rejected: url/, 'unsafe URL logged');
like($log, qr/tracking open token rejected: \w+: .*nothing stored/, 'invalid opens logged');
like($t->request('GET', '/status')->{content},
    qr/^mailhook_tracking_invalid_tokens_total\{kind="open"\} 3$/m, 'invalid opens counted');
unlike($log, qr/k1-secret|k2-secret/, 'secrets never logged');
my $results = do { local $/; open my $fh, '<', $t->dir . '/tracking.log' or die $!; <$fh> };
like($results, qr/^opened 200$/m, '$mailhook_tracking_result: opened');
like($results, qr/^clicked 302$/m, '$mailhook_tracking_result: clicked');
like($results, qr/^rejected:signature 404$/m, '$mailhook_tracking_result: rejected click');
like($results, qr/^rejected:malformed 200$/m, '$mailhook_tracking_result: rejected open');

# --- machine traffic ----------------------------------------------------------
$count = $t->event_count;
$r = get("/t/o/$open_token.gif", _method => 'HEAD');
is($r->{status}, 200, 'HEAD pixel: 200');
is($r->{content} // '', '', 'HEAD pixel: no body');
is(wait_events($count + 1), $count + 1, 'HEAD open stored');
is_deeply(last_event()->{metadata}, { machine => JSON::PP::true, machine_reason => 'head' },
    'HEAD: machine');

$r = get("/t/o/$open_token.gif",
    'User-Agent' => 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)');
is(wait_events($count + 2), $count + 2, 'proxied open stored');
is_deeply(last_event()->{metadata},
    { machine => JSON::PP::true, machine_reason => 'user_agent',
      machine_agent => 'google_image_proxy' }, 'Google image proxy: machine');

$r = get("/t/c/$click_token", 'User-Agent' => 'Mozilla/5.0 BingPreview/1.0b');
is($r->{status}, 302, 'scanner click still redirected');
is(wait_events($count + 3), $count + 3, 'scanner click stored');
is(last_event()->{metadata}{machine_agent}, 'bing_preview', 'BingPreview: machine');

$r = get("/t/c/$click_token", _method => 'HEAD');
is($r->{status}, 302, 'HEAD click: 302');
is(wait_events($count + 4), $count + 4, 'HEAD click stored');
is(last_event()->{metadata}{machine_reason}, 'head', 'HEAD click: machine');

# --- clicks right after delivery ----------------------------------------------
sub deliver {
    my ($message_id, $at) = @_;
    my $body = encode_json({ kind => 'delivered', recipient => 'reader@example.com',
        message_id => $message_id, timestamp => strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $at) });
    return $t->post('/webhooks/v2/inboxroad/ir1', $body,
        'X-Signature' => hmac_b64($body, 'ir-secret'), 'Content-Type' => 'application/json');
}
is(deliver('<fresh-1@example.com>', time)->{status}, 200, 'delivered webhook stored');
my $key = 'mailhook:delivered:ir1:fresh-1@example.com';
ok($redis->exists($key), 'delivery time recorded');
my $ttl = $redis->ttl($key);
ok($ttl > 0 && $ttl <= 60, "kept for the click window only (ttl $ttl)");
is(deliver('<old-1@example.com>', time - 3600)->{status}, 200, 'an old delivery');

$count = $t->event_count;
get('/t/c/' . token(m => 'fresh-1@example.com', u => $target));   # brackets ignored
is(wait_events($count + 1), $count + 1, 'click after a fresh delivery stored');
is_deeply(last_event()->{metadata},
    { machine => JSON::PP::true, machine_reason => 'after_delivery' },
    'click within the window after delivered: machine');
get('/t/c/' . token(m => '<old-1@example.com>', u => $target));
is(wait_events($count + 2), $count + 2, 'click long after delivery stored');
is_deeply(last_event()->{metadata}, { machine => JSON::PP::false }, 'outside the window: human');
get('/t/c/' . token(m => 'never-delivered@example.com', u => $target));
is(wait_events($count + 3), $count + 3, 'click without a known delivery stored');
is_deeply(last_event()->{metadata}, { machine => JSON::PP::false }, 'unknown delivery: human');
get('/t/o/' . token(m => 'fresh-1@example.com') . '.gif');
is(wait_events($count + 4), $count + 4, 'open after delivery stored');
is_deeply(last_event()->{metadata}, { machine => JSON::PP::false },
    'the delivery window applies to clicks only');

# --- tokens from the tool and from docs/tracking.md's Python example ----------
SKIP: {
    my $tool = $ENV{MAILHOOK_TOKEN_BIN} // 'build/bin/mailhook-token';
    skip "mailhook-token not built ($tool)", 4 unless -x $tool;
    chomp(my $url = `$tool sign --key-id k2 --key $K2 --connection ir1 --recipient cli\@example.com --message-id m-cli --campaign c --url '$target' --ttl 600 --base $base/t/`);
    like($url, qr{^\Q$base\E/t/c/[\w-]+\.[\w-]+$}, 'mailhook-token prints the click URL');
    $r = $ua->get($url);
    is($r->{status}, 302, 'nginx accepts the tool\'s token (signed with k2)');
    is($r->{headers}{location}, $target, 'and redirects to its URL');
    (my $token = $url) =~ s{.*/}{};
    is(system("$tool verify --key-id k2 --key $K2 $token > /dev/null"), 0,
        'mailhook-token verify accepts it');
}
SKIP: {
    my $python = Mailhook::Test::_which('python3');
    skip 'python3 not installed', 2 unless $python;
    open my $fh, '<', 'docs/tracking.md' or die $!;
    my $page = do { local $/; <$fh> };
    my ($example) = $page =~ /```python\n((?:(?!```).)*?def tracking_token.*?)```/s;
    ok($example, 'docs/tracking.md has the Python token example');
    my $script = "$example\nprint(tracking_token('k1', '$K1', 'ir1', 'py\@example.com', 'm-py', url='$target'))\n";
    open my $py, '>', $t->dir . '/example.py' or die $!;
    print $py $script;
    close $py;
    chomp(my $token = `$python ${\ $t->dir}/example.py`);
    is(get("/t/c/$token")->{status}, 302, 'a token from the docs/tracking.md example redirects');
}

# --- key rotation in nginx ----------------------------------------------------
my $k1_click = token(u => $target);
my $k2_click = token(k => 'k2', u => $target, _secret => $K2);
is(get("/t/c/$k1_click")->{status}, 302, 'both keys configured: k1 token redirects');
is(get("/t/c/$k2_click")->{status}, 302, 'both keys configured: k2 token redirects');
(my $http = $nginx{http}) =~ s/mailhook_tracking_key k1 \S+;//;
$t->reload(http => $http);
is(get("/t/c/$k1_click")->{status}, 404, 'k1 removed: its token is refused');
is(get("/t/c/$k2_click")->{status}, 302, 'k2 still redirects');

# --- Redis down: answered at once, logged --------------------------------------
$open_token = token(k => 'k2', _secret => $K2);
$click_token = token(k => 'k2', u => $target, _secret => $K2);
$t->stop_redis;
$t->wait_workers_ready(redis_connected => 0);
for my $case (['open', "/t/o/$open_token.gif", 200], ['click', "/t/c/$click_token", 302]) {
    my ($name, $path, $status) = @$case;
    my $started = time;
    $r = get($path);
    my $elapsed = time - $started;
    is($r->{status}, $status, "Redis down: $name answered $status");
    ok($elapsed < 0.2, sprintf("Redis down: $name answered at once (%.3fs)", $elapsed));
}
is(get("/t/o/$open_token.gif")->{content}, $GIF, 'Redis down: still the GIF');
like($t->error_log, qr/event not stored vendor=tracking connection=ir1 type=opened id=[0-9a-f]{32}: /,
    'the lost event is logged');

# back up (fresh Redis, empty script cache): stored again, through EVAL
$t->start_redis;
my $stored = 0;
my $deadline = time + 10;
while (time < $deadline && !$stored) {
    get("/t/o/$open_token.gif");
    sleep 0.1;
    $stored = $t->event_count;
}
ok($stored >= 1, 'Redis back: opens stored again');

$t->finish;
done_testing;
