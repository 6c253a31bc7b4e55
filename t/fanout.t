# SPDX-License-Identifier: BSD-2-Clause
# Security review M1: one vendor event naming many recipients (an SES
# notification). Its raw text is stored once per request, the recipients of
# one notification are capped (mailhook_max_recipients, 100) and so is what a
# request may store (4 x body + 1 KiB per event + 64 KiB): both answer 413
# and store nothing.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(sha256_hex);
use JSON::PP;
use Mailhook::SNS qw(pin_certificate sign_sns);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $key = pin_certificate($dir);
$t->start_redis;
$t->start_nginx(
    http => "mailhook_sns_certificates $dir/pinned; mailhook_connection ses1 vendor=ses;"
        . ' client_max_body_size 4m;',
    server => 'location /capped/ { mailhook; mailhook_max_recipients 3; }',
);
my $redis = $t->redis;
my $sns_n = 0;

sub event_id { substr(sha256_hex(join "\0", @_), 0, 32) }

# An SNS notification of an SES event naming $n recipients.
sub notification {
    my ($type, $n, %o) = @_;
    my @to = map { "r$_\@example.com" } 1 .. $n;
    my %detail = $type eq 'Bounce'
        ? (bounce => { bounceType => 'Permanent', bounceSubType => 'General',
                       feedbackId => 'fb', timestamp => '2026-12-01T10:00:00.000Z',
                       bouncedRecipients => [map { { emailAddress => $_ } } @to] })
        : (complaint => { complaintFeedbackType => 'abuse', userAgent => $o{agent} // 'FBL',
                          feedbackId => 'fb', timestamp => '2026-12-01T10:00:00.000Z',
                          complainedRecipients => [map { { emailAddress => $_ } } @to] });
    my $message = JSON::PP->new->canonical->encode({
        notificationType => $type, %detail,
        mail => { messageId => 'm1', timestamp => '2026-12-01T09:59:00.000Z',
                  source => 'sender@example.com', pad => 'x' x ($o{pad} // 0) },
    });
    my $message_id = 'sns-' . ++$sns_n;
    my $body = sign_sns({ Type => 'Notification', MessageId => $message_id,
        TopicArn => 'arn:aws:sns:us-east-1:123456789012:ses', Message => $message,
        Timestamp => '2026-12-01T10:00:01.000Z' }, $key);
    return ($body, $message_id, decode_json($message));
}
sub post {
    my ($body, $path) = @_;
    return $t->post($path // '/webhooks/v2/ses/ses1', $body,
        'x-amz-sns-message-type' => 'Notification');
}
sub nothing_stored {
    my ($name) = @_;
    is($t->event_count, 0, "$name: no event stored");
    is_deeply([$redis->keys('mailhook:dedup:*')], [], "$name: no dedup key");
    is_deeply([$redis->keys('mailhook:suppression*')], [], "$name: no suppression");
}

# --- the raw notification once, in the last event ------------------------------
my ($body, $message_id, $message) = notification('Bounce', 3, pad => 20000);
my $r = post($body);
is($r->{status}, 200, 'M1: three recipients: 200');
is($r->{content}, qq({"stored":3,"duplicates":0}\n), 'M1: three events');
my @events = $t->events;
my @ids = map { event_id('ses', 'ses1', "sns:$message_id:r$_\@example.com") } 1 .. 3;
is_deeply([map { $_->{id} } @events], \@ids, 'M1: one event per recipient, in order');
is_deeply($events[2]{raw}, $message, 'M1: the last event holds the raw notification');
is_deeply([map { $_->{raw_ref} } @events[0, 1]],
    [{ id => $ids[2], after => 2 }, { id => $ids[2], after => 1 }],
    'M1: the others name it and how many entries later it comes');
ok(!exists $events[$_]{raw}, "M1: event $_ carries no copy") for 0, 1;
# A consumer finds it as raw_ref says.
my ($first) = $t->stream;
my $held = $redis->xrange('mailhook:events', "($first->{id}", '+', 'COUNT', 2);
is(decode_json({ @{$held->[-1][1]} }->{event})->{id}, $ids[2],
    'M1: XRANGE (entry + COUNT after: its last entry is the holder');
my $stored_bytes = 0;
$stored_bytes += length($_->{fields}{event}) for $t->stream;
ok($stored_bytes < length($body) + 3 * 1500,
    "M1: stored $stored_bytes bytes for a ${\ length $body}-byte body");
$redis->flushall;

# --- the recipient cap -------------------------------------------------------------
($body) = notification('Bounce', 101);
$r = post($body);
is($r->{status}, 413, 'M1: 101 recipients in one notification: 413');
is($r->{content}, qq({"error":"size"}\n), 'M1: answered as too large');
nothing_stored('M1: 101 recipients');
like($t->error_log, qr/one vendor event names more than 100 recipients/,
    'M1: the reason is logged');
($body) = notification('Bounce', 100);
is(post($body)->{status}, 200, 'M1: 100 recipients (twice what SES sends): 200');
is($t->event_count, 100, 'M1: 100 events');
$redis->flushall;
($body) = notification('Bounce', 4);
is(post($body, '/capped/ses/ses1')->{status}, 413, 'M1: mailhook_max_recipients 3: 4 refused');
nothing_stored('M1: over a configured cap');

# --- the store limit ------------------------------------------------------------------
# A complaint's userAgent is copied into every recipient's event.
($body) = notification('Complaint', 100, agent => 'A' x 5000);
$r = post($body);
is($r->{status}, 413, 'M1: 100 copies of a 5 KB field: 413');
nothing_stored('M1: over the store limit');
like($t->error_log, qr/the events would store more than \d+ bytes/, 'M1: the reason is logged');
($body) = notification('Complaint', 10, agent => 'A' x 5000);
is(post($body)->{status}, 200, 'M1: 10 copies fit');
is($t->event_count, 10, 'M1: 10 events');

$t->finish;
done_testing;
