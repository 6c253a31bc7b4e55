# SPDX-License-Identifier: BSD-2-Clause
# Beside Debian's nchan module (libnginx-mod-nchan, pulled in by
# nginx-extras), which embeds and exports its own hiredis: in either
# load_module order, signed webhooks are stored, no worker dies, and nchan's
# publish/subscribe (on its memory store and on Redis) keeps working. Before
# mailhook linked hiredis statically with hidden symbols, one module's
# hiredis calls bound to the other's copy and workers exited on SIGSEGV.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;

my $nchan = '/usr/lib/nginx/modules/ngx_nchan_module.so';
plan(skip_all => "$nchan not installed (libnginx-mod-nchan)") unless -f $nchan;

# Under make test-asan: nchan leaks a hiredis reply at worker exit (its
# nchan_reaper_stop() calls redisCommand on its own hiredis), and its frames
# are unloaded (dlclose) before LeakSanitizer reports, so no suppression can
# name them. Leak checking is off in this file only; ASan still checks
# every memory access, and the other files leak-check mailhook.
$ENV{MAILHOOK_ASAN_OPTIONS} .= ':detect_leaks=0' if $ENV{MAILHOOK_SANITIZER_PRELOAD};

for my $order ('nchan first', 'mailhook first') {
    my $t = Mailhook::Test->new;
    my $port = $t->start_redis;
    my $load = "load_module $nchan;";
    $t->start_nginx(
        $order eq 'nchan first' ? (load_first => $load) : (main => $load),
        http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;',
        server => qq{
            location ~ ^/pub/(\\w+)\$ { nchan_publisher; nchan_channel_id \$1; }
            location ~ ^/sub/(\\w+)\$ {
                nchan_subscriber longpoll; nchan_channel_id \$1;
                nchan_subscriber_first_message oldest;
            }
            location ~ ^/rpub/(\\w+)\$ {
                nchan_publisher; nchan_channel_id \$1;
                nchan_redis_url redis://127.0.0.1:$port; nchan_use_redis on;
            }
            location ~ ^/rsub/(\\w+)\$ {
                nchan_subscriber longpoll; nchan_channel_id \$1;
                nchan_subscriber_first_message oldest;
                nchan_redis_url redis://127.0.0.1:$port; nchan_use_redis on;
            }
        },
    );
    my @workers = $t->worker_pids;

    for my $n (1 .. 5) {
        my $body = qq({"kind":"delivered","recipient":"r$n\@example.com","id":"e$n"});
        my $r = $t->post('/webhooks/v2/inboxroad/ir1', $body, 'X-Signature' => hmac_b64($body, 's1'));
        is($r->{status}, 200, "$order: signed request $n stored");
    }
    is_deeply([sort map { $_->{recipient} } $t->events],
        [map { "r$_\@example.com" } 1 .. 5], "$order: every event in the stream once");

    for my $store (['memory', 'pub', 'sub'], ['redis', 'rpub', 'rsub']) {
        my ($name, $pub, $sub) = @$store;
        my $published = $t->request('POST', "/$pub/news$name", body => "hello over $name");
        like($published->{status}, qr/^20[12]$/, "$order: nchan publishes ($name store)");
        my $received = $t->request('GET', "/$sub/news$name", timeout => 5);
        is($received->{status}, 200, "$order: nchan subscriber gets it ($name store)");
        is($received->{content}, "hello over $name", "$order: the message ($name store)")
            or diag(explain($received));
    }
    {
        ok(scalar(grep { /^\{channel:\/newsredis\}/ } $t->redis->keys('*')) > 0,
            "$order: nchan's own Redis keys are there") or diag(join ' ', $t->redis->keys('*'));
    }

    is_deeply([sort $t->worker_pids], [sort @workers], "$order: the same workers still run");
    unlike($t->error_log, qr/exited on signal/, "$order: no worker exited on a signal");
    $t->finish;
}

done_testing;
