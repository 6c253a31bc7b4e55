# SPDX-License-Identifier: BSD-2-Clause
# Suppression state after event sequences (docs/design.md §3.4), and the stream
# of suppression changes a CRM mirrors.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(hmac_b64 basic_auth);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
# Two connections of one tenant share its suppression list.
$t->start_nginx(
    http => 'mailhook_connection ir vendor=inboxroad secret=s1 tenant=acme;'
        . ' mailhook_connection s2g vendor=smtp2go secret=u:p tenant=acme;'
        . ' mailhook_connection solo vendor=inboxroad secret=s1;',
    location => 'mailhook_soft_bounce_limit 3 1d;',
);
my $redis = $t->redis;
my $n = 0;

sub inboxroad {
    my ($kind, $recipient, $time, $connection) = @_;
    my $body = encode_json({ kind => $kind, recipient => $recipient, id => 'ir-' . ++$n,
                             timestamp => $time // '2025-03-01T12:00:00Z' });
    my $r = $t->post('/webhooks/v2/inboxroad/' . ($connection // 'ir'), $body,
        'X-Signature' => hmac_b64($body, 's1'));
    die "unexpected $r->{status}" unless $r->{status} == 200;
}
sub smtp2go {
    my ($event, $recipient, $time) = @_;
    my $body = encode_json({ event => $event, rcpt => $recipient, id => 's2g-' . ++$n,
                             time => $time // '2025-03-02T12:00:00Z' });
    my $r = $t->post('/webhooks/v2/smtp2go/s2g', $body, Authorization => basic_auth('u:p'));
    die "unexpected $r->{status}" unless $r->{status} == 200;
}
sub entry {
    my ($recipient, $scope) = @_;
    my $value = $redis->hget('mailhook:suppression:' . ($scope // 'acme'), $recipient);
    return defined $value ? decode_json($value) : undef;
}
sub reason { my $e = entry(@_); $e ? $e->{reason} : undef }
sub changes {
    return map { my $f = $_->{fields}; "$f->{action} $f->{recipient} $f->{reason}" }
        $t->stream('mailhook:suppression-events');
}

inboxroad('hard_bounce', 'Hard@Example.COM');
my $hard = entry('hard@example.com');
is($hard->{reason}, 'hard_bounce', 'hard bounce → entry, recipient lower-cased');
is($hard->{vendor}, 'inboxroad', 'entry names the vendor');
is($hard->{at}, '2025-03-01T12:00:00Z', 'entry carries the event time');
my ($hard_event) = grep { $_->{recipient} eq 'Hard@Example.COM' } $t->events;
is($hard->{event_id}, $hard_event->{id}, 'entry points at the stored event id');
inboxroad('delivered', 'hard@example.com');
is(reason('hard@example.com'), 'hard_bounce', 'a later delivery does not clear it');

inboxroad('unsubscribe', 'unsub@example.com');
is(reason('unsub@example.com'), 'unsubscribe', 'unsubscribe → entry');
smtp2go('resubscribe', 'unsub@example.com');
is(entry('unsub@example.com'), undef, 'resubscribe (through another connection of the tenant) removes it');

inboxroad('complaint', 'angry@example.com');
smtp2go('resubscribe', 'angry@example.com');
is(reason('angry@example.com'), 'complaint', 'resubscribe does not remove a complaint');
inboxroad('unsubscribe', 'angry@example.com');
is(reason('angry@example.com'), 'complaint', 'a milder reason never replaces a complaint');

inboxroad('soft_bounce', 'soft@example.com', "2025-03-0${_}T08:00:00Z") for 1 .. 2;
is(entry('soft@example.com'), undef, 'two soft bounces: no entry');
inboxroad('soft_bounce', 'soft@example.com', '2025-03-01T20:00:00Z');
is(reason('soft@example.com'), 'soft_bounce_limit', 'third soft bounce within a day → soft_bounce_limit');
inboxroad('hard_bounce', 'soft@example.com');
is(reason('soft@example.com'), 'hard_bounce', 'a hard bounce raises it');

inboxroad('soft_bounce', 'spread@example.com', "2025-03-0${_}T08:00:00Z") for (1, 3, 5);
is(entry('spread@example.com'), undef, 'three soft bounces two days apart: no entry');

inboxroad('hard_bounce', 'solo@example.com', undef, 'solo');
is(reason('solo@example.com', 'solo'), 'hard_bounce', 'without a tenant the list is per connection');
is(entry('solo@example.com'), undef, 'and not in the tenant list');

is_deeply([changes()], [
    'added hard@example.com hard_bounce',
    'added unsub@example.com unsubscribe',
    'removed unsub@example.com unsubscribe',
    'added angry@example.com complaint',
    'added soft@example.com soft_bounce_limit',
    'updated soft@example.com hard_bounce',
    'added solo@example.com hard_bounce',
], 'every change, and only changes, in mailhook:suppression-events');
my ($updated) = grep { $_->{fields}{action} eq 'updated' } $t->stream('mailhook:suppression-events');
is_deeply([@{$updated->{fields}}{qw(previous scope vendor connection)}],
    ['soft_bounce_limit', 'mailhook:suppression:acme', 'inboxroad', 'ir'], 'change entry fields');

# A duplicate delivery of a suppressing event changes nothing.
my $count = () = changes();
my $body = encode_json({ kind => 'complaint', recipient => 'dup@example.com', id => 'fixed' });
$t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => hmac_b64($body, 's1')) for 1 .. 3;
is(scalar(my @after = changes()), $count + 1, 'three deliveries of one complaint: one change');

# --- M5: suppression in event order ---------------------------------------------
# The security review's reproduction: a resubscribe older than the
# unsubscribe, delivered after it (a vendor retry, out-of-order delivery).
$count = () = changes();
inboxroad('unsubscribe', 'ooo@example.com', '2025-03-10T11:50:00Z');
smtp2go('resubscribe', 'ooo@example.com', '2025-03-10T11:00:00Z');
is(reason('ooo@example.com'), 'unsubscribe', 'M5: an older resubscribe keeps the newer unsubscribe');
my $ooo = entry('ooo@example.com');
is($ooo->{at}, '2025-03-10T11:50:00Z', 'M5: the entry keeps its time');
is($ooo->{epoch}, 1741607400, 'M5: and its epoch second');
smtp2go('resubscribe', 'ooo@example.com', '2025-03-10T11:50:00Z');
is(reason('ooo@example.com'), 'unsubscribe', 'M5: a tie goes to the unsubscribe');
smtp2go('resubscribe', 'ooo@example.com', '2025-03-10T12:00:00Z');
is(entry('ooo@example.com'), undef, 'M5: a newer resubscribe removes it');
inboxroad('unsubscribe', 'ooo@example.com', '2025-03-10T11:55:00Z');
is(entry('ooo@example.com'), undef,
    'M5: an unsubscribe older than the last resubscribe is not applied');
inboxroad('unsubscribe', 'ooo@example.com', '2025-03-10T12:05:00Z');
is(reason('ooo@example.com'), 'unsubscribe', 'M5: a newer one is');
inboxroad('unsubscribe', 'ooo@example.com', '2025-03-10T12:30:00Z');
is(entry('ooo@example.com')->{at}, '2025-03-10T12:30:00Z', 'M5: a later unsubscribe renews the entry');
smtp2go('resubscribe', 'ooo@example.com', '2025-03-10T12:10:00Z');
is(reason('ooo@example.com'), 'unsubscribe', 'M5: so a resubscribe between the two keeps it');
inboxroad('hard_bounce', 'ooo@example.com', '2025-03-01T00:00:00Z');
is(reason('ooo@example.com'), 'hard_bounce', 'M5: a more severe reason applies whatever its time');
my @m5 = (changes())[$count .. $count + 5];
is_deeply(\@m5, [
    'added ooo@example.com unsubscribe',
    'removed ooo@example.com unsubscribe',
    'added ooo@example.com unsubscribe',
    'updated ooo@example.com unsubscribe',
    'updated ooo@example.com hard_bounce',
    undef,
], 'M5: every change in mailhook:suppression-events, in order');

$t->finish;
done_testing;
