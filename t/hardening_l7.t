# SPDX-License-Identifier: BSD-2-Clause
# L7 (security review 2026-12-01): a captured request must not become new
# again once its dedup key expires (mailhook_dedup_ttl, 26 h by default).
# SendGrid signs a timestamp: its default tolerance is now 25 h (SendGrid
# retries for 24 h), so a replay is a duplicate until then and stale after.
# Vendors that sign no time, or connections whose check is off, are declared
# with a configuration-time warning naming the risk.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Sign qw(sendgrid_key sendgrid_headers);
use Mailhook::Test;
use Test::More;

my ($signer, $public) = sendgrid_key();
my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(
    http => join(' ',
        "mailhook_connection sg vendor=sendgrid secret=$public;",
        "mailhook_connection sgoff vendor=sendgrid secret=$public timestamp_tolerance=0;",
        'mailhook_connection ir vendor=inboxroad secret=ir-l7;',
        'mailhook_connection mg vendor=mailgun secret=key-l7;'),
    server => 'location /off/ { mailhook; mailhook_timestamp_tolerance sendgrid 0; }',
);

my $n = 0;
sub batch {
    ++$n;
    return qq([{"email":"l7-$n\@example.com","timestamp":1700000000,"event":"group_resubscribe",)
        . qq("sg_event_id":"l7-$n","asm_group_id":1}]);
}

# The review's reproduction: a resubscribe signed 28 h ago.
my $old = batch();
$t->refuses('/webhooks/v2/sendgrid/sg', $old,
    [['L7 a SendGrid request signed 28 h ago', { sendgrid_headers($signer, $old, time - 28 * 3600) }]],
    status => 401, label => 'timestamp');
my $day = batch();
is($t->post('/webhooks/v2/sendgrid/sg', $day, sendgrid_headers($signer, $day, time - 24 * 3600))->{status},
    200, 'L7 signed 24 h ago (a SendGrid retry): stored');
my $late = batch();
$t->refuses('/webhooks/v2/sendgrid/sg', $late,
    [['L7 signed 25 h and a minute ago', { sendgrid_headers($signer, $late, time - 25 * 3600 - 60) }]],
    status => 401, label => 'timestamp');
my $off = batch();
is($t->post('/webhooks/v2/sendgrid/sgoff', $off, sendgrid_headers($signer, $off, time - 28 * 3600))->{status},
    200, 'L7 timestamp_tolerance=0 on the connection turns the check off');
my $location_off = batch();
is($t->post('/off/sendgrid/sg', $location_off,
    sendgrid_headers($signer, $location_off, time - 28 * 3600))->{status},
    200, 'L7 mailhook_timestamp_tolerance sendgrid 0 turns it off for a location');

my $log = $t->error_log;
like($log, qr/\[warn\].*connection "ir": inboxroad signs no timestamp: a captured request is stored again once its dedup key expires/,
    'L7 a vendor without a signed time is declared with a warning');
like($log, qr/\[warn\].*connection "sgoff": sendgrid: the signed timestamp is not checked/,
    'L7 so is a connection whose check is off');
unlike($log, qr/connection "(sg|mg)":/, 'L7 no warning where replays are stale or duplicates');

$t->finish;
done_testing;
