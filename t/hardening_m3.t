# SPDX-License-Identifier: BSD-2-Clause
# M3, the spool side (security review 2026-12-01): during an outage, opens
# sent with one email's token filled the spool until verified webhooks got
# 503. Tracking records now have their own share of the spool
# (tracking_max_size, a tenth of max_size by default): past it they are not
# kept (the reader is still answered), and webhooks are never refused
# because of them.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use JSON::PP;
use Mailhook::Sign qw(hmac_b64 tracking_token);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $key = 'k1-secret-0123456789';
my $t = Mailhook::Test->new;
my $spool = $t->dir . '/spool';
$t->start_redis;
$t->start_nginx(
    http => "mailhook_tracking_key k1 $key; mailhook_connection ir vendor=inboxroad secret=s1;"
        . " mailhook_spool $spool max_size=64k;",
    server => 'location /t/ { mailhook_tracking; } location = /status { mailhook_status; }',
);
my $token = tracking_token(JSON::PP->new->canonical->encode(
    { v => 1, k => 'k1', c => 'c1', r => 'reader@example.com', m => 'm-1' }), $key);
my $ua = HTTP::Tiny->new(timeout => 10, keep_alive => 1, agent => 'Mozilla/5.0 ' . ('A' x 8000));
sub tracking_bytes {
    my $bytes = 0;
    $bytes += -s $_ for glob("$spool/spool-*-t.log");
    return $bytes;
}
sub webhook {
    my ($n) = @_;
    my $body = sprintf('{"kind":"delivered","recipient":"w%d@example.com","id":"m3-%d"}', $n, $n);
    return $t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => hmac_b64($body, 's1'));
}

$t->stop_redis;
my %pixels;
$pixels{$ua->get($t->url("/t/o/$token.gif"))->{status}}++ for 1 .. 300;
is_deeply(\%pixels, { 200 => 300 }, 'M3 Redis down: 300 opens of one token, each answered');
Mailhook::Test::wait_for('tracking journals', 5, sub { tracking_bytes() > 0 });
sleep 0.2;  # the last appends of the flood
my $kept = tracking_bytes();
cmp_ok($kept, '<=', 6553, "M3 tracking records hold at most a tenth of the 64k spool ($kept bytes)");
like($t->error_log, qr/tracking spool full \(\d+ of 6553 bytes\), tracking events not stored/,
    'M3 ... and say when they are not kept');

my @webhooks = map { webhook($_) } 1 .. 20;
is_deeply([map { $_->{status} } @webhooks], [(200) x 20], 'M3 twenty verified webhooks after the flood: 200');
is(scalar(grep { $_->{content} =~ /"spooled":1/ } @webhooks), 20, 'M3 ... all spooled, none refused');

$t->start_redis;
Mailhook::Test::wait_for('spool replayed', 15, sub { my @left = glob("$spool/spool-*.log"); !@left });
my @events = $t->events;
is(scalar(grep { $_->{vendor} eq 'inboxroad' } @events), 20, 'M3 the twenty webhooks are stored');
my $opens = grep { $_->{type} eq 'opened' } @events;
ok($opens >= 1 && $opens < 300, "M3 only the opens the tracking share held were kept ($opens)");

$t->finish;
done_testing;
