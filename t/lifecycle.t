# SPDX-License-Identifier: BSD-2-Clause
# Reload and graceful quit leave nothing behind (no [alert] such as an
# "open socket left"), with requests in between and two workers.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new(workers => 2);
$t->start_redis;
$t->start_nginx(http => 'mailhook_connection c1 vendor=inboxroad secret=s1;');
my $path = '/webhooks/v2/inboxroad/c1';
my $n = 0;
sub send_ok {
    my $body = sprintf('{"kind":"open","recipient":"r%d@example.com"}', ++$n);
    return $t->post($path, $body, 'X-Signature' => hmac_b64($body, 's1'))->{status} == 200;
}

ok(send_ok(), 'stored before reload') for 1 .. 3;
for my $round (1 .. 3) {
    $t->reload;
    ok(send_ok(), "stored after reload $round");
}
# Reload with a changed configuration: a new connection appears.
$t->reload(http => 'mailhook_connection c1 vendor=inboxroad secret=s1;'
    . ' mailhook_connection c2 vendor=inboxroad secret=s2;');
my $body = '{"kind":"open","recipient":"new@example.com"}';
is($t->post('/webhooks/v2/inboxroad/c2', $body, 'X-Signature' => hmac_b64($body, 's2'))->{status},
    200, 'connection added by reload serves');
is($t->event_count, $n + 1, 'every acknowledged event is stored');

# nginx -t with a broken directive fails cleanly.
$t->write_config(http => 'mailhook_connection bad vendor=sendgrid secret=not-a-key;');
my $out = $t->nginx_command("-t -p @{[$t->dir]}/ -c nginx.conf -e check.log");
isnt($?, 0, 'nginx -t rejects an unusable static secret');
like($out, qr/connection "bad": secret is not a SendGrid verification key/, 'and says why');
$t->write_config(http => 'mailhook_connection c1 vendor=inboxroad secret=s1;');

$t->stop_nginx('QUIT');
unlike($t->error_log, qr/open socket/, 'graceful quit: no open socket left');
$t->finish;
done_testing;
