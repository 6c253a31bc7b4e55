# SPDX-License-Identifier: BSD-2-Clause
# L6 (security review 2026-12-01): Mailgun signs timestamp + token with
# nothing between them. The review's reproduction, on a connection with
# timestamp_tolerance=0 (so freshness cannot hide it): a captured signature
# with a digit moved from the token into the timestamp carried a forged
# "failed permanent" event and was stored. Now the timestamp must be 10
# digits and the token alphanumeric, so the split is unambiguous; the
# one-time token is kept per connection (the same token on another
# connection is not a replay there), and per signed text.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(mailgun_signature);
use Mailhook::Test;
use Test::More;

my $key = 'key-l6-0123456789abcdef';
my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => join(' ',
    "mailhook_connection mg0 vendor=mailgun secret=$key timestamp_tolerance=0;",
    "mailhook_connection mg1 vendor=mailgun secret=$key timestamp_tolerance=0;"));

my $json = JSON::PP->new->canonical;
sub body { my ($signature, $event) = @_; $json->encode({ signature => $signature, 'event-data' => $event }) }
my $delivered = { event => 'delivered', id => 'l6-d', timestamp => time, recipient => 'bob@example.com' };
my $forged = { event => 'failed', severity => 'permanent', id => 'l6-f', timestamp => time,
    recipient => 'victim@example.com' };

my $ts = time;
my $token = '7' . join '', map { (0 .. 9, 'a' .. 'f')[rand 16] } 1 .. 49;
my $genuine = mailgun_signature($key, $token, $ts);

my $r = $t->post('/webhooks/v2/mailgun/mg0', body($genuine, $delivered));
is($r->{status}, 200, 'L6 genuine request on mg0: stored');
is($t->post('/webhooks/v2/mailgun/mg0', body($genuine, $delivered))->{content},
    qq({"stored":0,"duplicates":1}\n), 'L6 its retry: a duplicate');

my %moved = (timestamp => $ts . substr($token, 0, 1), token => substr($token, 1),
    signature => $genuine->{signature});
my %nine = (timestamp => substr($ts, 0, 9), token => substr($ts, 9) . $token,
    signature => $genuine->{signature});
$t->refuses('/webhooks/v2/mailgun/mg0', undef, [
    ['L6 review reproduction: a digit moved from the token into the timestamp', {},
        body(\%moved, $forged)],
    ['L6 a digit moved from the timestamp into the token', {}, body(\%nine, $forged)],
], status => 401, label => 'timestamp');
$t->refuses('/webhooks/v2/mailgun/mg0', undef, [
    ['L6 the captured signature with another event', {}, body($genuine, $forged)],
], status => 401, label => 'replay');
$t->refuses('/webhooks/v2/mailgun/mg0', undef, [
    ['L6 a token with a separator', {}, body(mailgun_signature($key, 'ab-cd', time), $forged)],
    ['L6 a token with a space', {}, body(mailgun_signature($key, 'ab cd', time), $forged)],
], status => 401, label => 'signature');

# The same Mailgun token posted to another connection (another webhook URL
# signed with the same key) is that connection's first use: not a replay.
my $other = { %$delivered, id => 'l6-d1' };
$r = $t->post('/webhooks/v2/mailgun/mg1', body($genuine, $other));
is($r->{status}, 200, 'L6 the same token on mg1: stored, the replay key is per connection');
is($r->{content}, qq({"stored":1,"duplicates":0}\n), 'L6 ... as a new event');
my @victim = grep { ($_->{recipient} // '') eq 'victim@example.com' } $t->events;
is(scalar @victim, 0, 'L6 no forged event stored');

$t->finish;
done_testing;
