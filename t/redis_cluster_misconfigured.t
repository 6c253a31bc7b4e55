# SPDX-License-Identifier: BSD-2-Clause
# mailhook_redis ... cluster pointed at a Redis with cluster support
# disabled. With no slot table calls go to a seed node, so this one Redis
# stores the events; the log says what is wrong once, then once a minute,
# not at every refresh (one a second).
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(sleep);

my $t = Mailhook::Test->new;
my $port = $t->start_redis;
$t->start_nginx(
    redis => "mailhook_redis 127.0.0.1:$port cluster;",
    http => 'mailhook_connection ir vendor=inboxroad secret=s1;',
    ready => 'port',
);
$t->wait_workers_ready(redis_connected => 0);

my $body = '[{"kind":"delivered","recipient":"a@example.com","id":"m1"}]';
is($t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => hmac_b64($body, 's1'))->{status},
    200, 'stored on the seed');
like($t->stored_summary, qr/, 1 stream entries$/, 'one stream entry');

sleep 3.5;    # three more refreshes
my @warnings = $t->error_log =~ /(\[warn\].*gave no slot table.*)/g;
is(scalar @warnings, 1, 'one warning in 3.5 s of refreshes, one a second')
    or diag(join "\n", @warnings);
like($warnings[0] // '', qr/127\.0\.0\.1:$port \(ERR .*cluster support disabled\) gave no slot table: it is not a cluster node \(drop "cluster" from mailhook_redis\)/,
    'it names the node, its answer and the fix');

$t->finish;
done_testing;
