# SPDX-License-Identifier: BSD-2-Clause
# A request with many events is stored in script calls of at most 500 events
# (managed Redis services cap a command's arguments; one long call blocks a
# shard). Each call deduplicates, so a request retried after some calls
# succeeded stores every event exactly once; calls Redis could not take go to
# the spool together.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(sendgrid_key sendgrid_headers);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my ($signer, $key) = sendgrid_key();
my $t = Mailhook::Test->new;
my $spool = $t->dir . '/spool';
$t->start_redis;
$t->start_nginx(http => "mailhook_connection sg1 vendor=sendgrid secret=$key;"
    . " mailhook_spool $spool;");
my $redis = $t->redis;

sub event {
    my ($id, %extra) = @_;
    return { email => "$id\@example.com", timestamp => 1700000000, event => 'delivered',
             sg_event_id => $id, response => '250 OK', %extra };
}
sub post_batch {
    my $body = encode_json([@_]) . "\r\n";
    return $t->post('/webhooks/v2/sendgrid/sg1', $body, sendgrid_headers($signer, $body));
}
sub evalsha_calls {
    my $stats = $redis->info('commandstats')->{cmdstat_evalsha} // '';
    return $stats =~ /calls=(\d+)/ ? $1 : 0;
}

my @events = map { event("c$_") } 0 .. 1199;
# An unsubscribe in the second call, whose resubscribe-time key has the wrong
# type: the first call stores, the second fails (a script error: 503, not
# spooled).
$events[700] = event('c700', event => 'unsubscribe', email => 'out@example.com');
$redis->hset('mailhook:resubscribed:sg1:out@example.com', 'x', 1);
my $calls = evalsha_calls();
my $r = post_batch(@events);
is($r->{status}, 503, 'the second call fails: 503');
is($t->event_count, 500, 'the first call (500 events) is stored');
is(evalsha_calls() - $calls, 2, 'no third call after the failed second');

$redis->del('mailhook:resubscribed:sg1:out@example.com');
$calls = evalsha_calls();
$r = post_batch(@events);
is($r->{status}, 200, 'the vendor retries: 200');
is($r->{content}, qq({"stored":700,"duplicates":500}\n), 'the 500 stored before are duplicates');
is(evalsha_calls() - $calls, 3, '1200 events in 3 script calls');
is($t->event_count, 1200, 'every event stored exactly once');
like($redis->hget('mailhook:suppression:sg1', 'out@example.com'), qr/"reason":"unsubscribe"/,
    'the second call applied its unsubscribe');

# Redis down: every call goes to the spool, and is replayed in order.
$t->stop_redis;
my @later = map { event("s$_") } 0 .. 1099;
$r = post_batch(@later);
is($r->{status}, 200, 'Redis down: 200 from the spool');
is($r->{content}, qq({"stored":0,"duplicates":0,"spooled":1100}\n), 'all 1100 events spooled');
$t->start_redis;
$redis = $t->redis;
my $deadline = time + 20;
sleep 0.1 until ($t->event_count >= 1100 && !glob("$spool/spool-*.log")) || time > $deadline;
is($t->event_count, 1100, 'replayed: 1100 events, none twice');
my %ids = map { $_->{event_id} => 1 } $t->events;
is(scalar(keys %ids), 1100, 'each spooled event once');

$t->finish;
done_testing;
