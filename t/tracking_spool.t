# SPDX-License-Identifier: BSD-2-Clause
# Opens and clicks while Redis is down: answered at once, kept in the spool,
# stored when Redis is back.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use JSON::PP;
use Mailhook::Sign qw(tracking_token);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $key = 'k1-secret-0123456789';
my $t = Mailhook::Test->new;
my $spool = $t->dir . '/spool';
$t->start_redis;
$t->start_nginx(
    http => "mailhook_tracking_key k1 $key; mailhook_spool $spool;",
    server => 'location /t/ { mailhook_tracking; }',
);
my $ua = HTTP::Tiny->new(max_redirect => 0, timeout => 10, keep_alive => 0, agent => 'Reader/1.0');
sub token {
    my (%claims) = @_;
    return tracking_token(JSON::PP->new->canonical->encode(
        { v => 1, k => 'k1', c => 'c1', r => 'reader@example.com', m => 'm-1', %claims }), $key);
}

$t->stop_redis;
my $started = time;
my $open = $ua->get($t->url('/t/o/' . token() . '.gif'));
my $click = $ua->get($t->url('/t/c/' . token(u => 'https://example.com/offer')));
my $elapsed = time - $started;
is($open->{status}, 200, 'pixel served while Redis is down');
is($click->{status}, 302, 'redirect served while Redis is down');
is($click->{headers}{location}, 'https://example.com/offer', 'to the signed URL');
ok($elapsed < 0.5, sprintf('both answered at once (%.3fs)', $elapsed));
my $deadline = time + 5;
sleep 0.05 until glob("$spool/spool-*.log") || time > $deadline;
ok(scalar(glob("$spool/spool-*.log")), 'the events went to the spool');

$t->start_redis;
$deadline = time + 15;
sleep 0.1 until ($t->event_count == 2 && !glob("$spool/spool-*.log")) || time > $deadline;
my %types = map { $_->{type} => $_ } $t->events;
is_deeply([sort keys %types], ['clicked', 'opened'], 'both stored once Redis is back');
is($types{clicked}{click_url}, 'https://example.com/offer', 'click URL kept');
is($types{opened}{user_agent}, 'Reader/1.0', 'user agent kept');

$t->finish;
done_testing;
