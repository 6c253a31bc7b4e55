# SPDX-License-Identifier: BSD-2-Clause
# Limits (docs/security.md "Limits"): each one at its boundary, accepted at the limit
# and answered with the documented status one step over it, nothing stored.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(
    http => 'mailhook_connection ir vendor=inboxroad secret=s1;',
    server => 'location /small/ { mailhook; client_max_body_size 1k; }'
        . ' location /few/ { mailhook; mailhook_max_events 3; }',
);

my $n = 0;
sub event { sprintf('{"kind":"delivered","recipient":"limit-%d@example.com"}', ++$n) }

# Raw request bytes with the inboxroad signature.
sub req {
    my ($path, $body, %o) = @_;
    my $head = "POST $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        . 'X-Signature: ' . hmac_b64($body, 's1') . "\r\n" . ($o{headers} // '');
    if ($o{chunked}) {
        my $chunks = '';
        for (my $i = 0; $i < length $body; $i += 300) {
            my $piece = substr($body, $i, 300);
            $chunks .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
        }
        return $head . "Transfer-Encoding: chunked\r\n\r\n$chunks" . "0\r\n\r\n";
    }
    return $head . 'Content-Length: ' . length($body) . "\r\n\r\n" . $body;
}

sub check {
    my ($name, $bytes, $status, $expect, $stored) = @_;
    my $before = $t->event_count;
    my ($got, $response) = $t->raw($bytes);
    is($got, $status, "$name: $status") or diag(substr($response, 0, 300));
    like($response, $expect, "$name: answer") if $expect;
    is($t->event_count, $before + ($stored // 0), "$name: " . ($stored ? "$stored stored" : 'nothing stored'));
}

# A body of exactly $size bytes: one event padded with JSON whitespace.
sub body_of {
    my ($size) = @_;
    my $event = event();
    return $event . (' ' x ($size - length $event));
}

# Body size: client_max_body_size (nginx) -> 413, before the module runs.
check('body of exactly client_max_body_size (1k)', req('/small/inboxroad/ir', body_of(1024)), 200, undef, 1);
check('body one byte over client_max_body_size', req('/small/inboxroad/ir', body_of(1025)), 413,
    qr/413 Request Entity Too Large/);
check('chunked body of exactly client_max_body_size', req('/small/inboxroad/ir', body_of(1024), chunked => 1), 200, undef, 1);
check('chunked body one byte over client_max_body_size', req('/small/inboxroad/ir', body_of(1025), chunked => 1), 413,
    qr/413 Request Entity Too Large/);

# Events per request: mailhook_max_events -> 413 {"error":"size"}.
my $batch = sub { '[' . join(',', map { event() } 1 .. $_[0]) . ']' };
check('exactly mailhook_max_events (3)', req('/few/inboxroad/ir', $batch->(3)), 200, undef, 3);
check('one event over mailhook_max_events', req('/few/inboxroad/ir', $batch->(4)), 413, qr/\{"error":"size"\}/);
check('one event over the default mailhook_max_events (10000)',
    req('/webhooks/v2/inboxroad/ir', $batch->(10001)), 413, qr/\{"error":"size"\}/);

# JSON depth: mailhook_max_json_depth (64) -> 400 {"error":"format"}; jansson
# itself would parse 2048 levels, more than consumers such as Python's json
# module can read back.
my $nested = sub { my ($levels) = @_;    # the event object is level 1
    sprintf('{"kind":"delivered","recipient":"deep-%d@example.com","x":%s%s}', $levels,
        '[' x ($levels - 1), ']' x ($levels - 1)) };
check('JSON nested 64 levels deep', req('/webhooks/v2/inboxroad/ir', $nested->(64)), 200, undef, 1);
check('JSON nested 65 levels deep', req('/webhooks/v2/inboxroad/ir', $nested->(65)), 400, qr/\{"error":"format"\}/);
check('JSON nested 2049 levels deep', req('/webhooks/v2/inboxroad/ir', $nested->(2049)), 400, qr/\{"error":"format"\}/);
check('brackets inside strings do not count',
    req('/webhooks/v2/inboxroad/ir', '{"kind":"delivered","recipient":"s@example.com","x":"' . ('[' x 100) . '"}'),
    200, undef, 1);
my ($deepest) = grep { $_->{recipient} eq 'deep-64@example.com' }
    map { decode_json($_->{fields}{event}) } $t->stream;
my $depth = 0;
for (my $x = $deepest && $deepest->{raw}{x}; ref $x eq 'ARRAY'; $x = $x->[0]) { ++$depth }
is($depth, 63, 'the 64-level event is stored whole in raw');

# Header sizes: large_client_header_buffers (nginx, 4 x 8k) -> 400 "Request
# Header Or Cookie Too Large" (494 inside nginx), 414 for the request line.
check('7000-byte header line', req('/webhooks/v2/inboxroad/ir', event(), headers => 'X-Pad: ' . ('a' x 7000) . "\r\n"),
    200, undef, 1);
check('9000-byte header line', req('/webhooks/v2/inboxroad/ir', event(), headers => 'X-Pad: ' . ('a' x 9000) . "\r\n"),
    400, qr/Request Header Or Cookie Too Large/);
check('headers over all four 8k buffers',
    req('/webhooks/v2/inboxroad/ir', event(), headers => join('', map { "X-Pad-$_: " . ('a' x 1000) . "\r\n" } 1 .. 40)),
    400, qr/Request Header Or Cookie Too Large/);
check('9000-byte request line', req('/webhooks/v2/inboxroad/' . ('a' x 9000), event()), 414,
    qr/414 Request-URI Too Large/);

# Connection ids: at most 128 characters of [A-Za-z0-9._:-] -> else 404.
check('connection id of 129 characters', req('/webhooks/v2/inboxroad/' . ('a' x 129), event()), 404,
    qr/\{"error":"unknown_connection"\}/);

$t->finish;
done_testing;
