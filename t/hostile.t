# SPDX-License-Identifier: BSD-2-Clause
# Hostile-input catalog (docs/design.md §3.5: every bad input gets a clear status
# and stores nothing). One table of cases against a real nginx + redis; each
# case asserts its exact status (and, when the module answers, its error
# label), that Redis is exactly as before (every key, every stream length,
# every value), and nginx keeps serving: a good request is stored every 20
# cases and at the end, and the workers are the ones that started (none
# crashed and was respawned).
#
# It holds every input of the security review of 2026-12-01 that a request
# can carry (SNS certificate URLs, tracking tokens, framing, JSON extremes),
# and, after the catalog, the ones it found accepted, pinned as stored sanely.
#
# Rules the cases pin down (docs/security.md "Hostile input"):
#  - a header a vendor reads, sent twice, counts as absent (ambiguous): 401;
#  - a field the parser reads with the wrong JSON type is a 400; null is
#    absent, but every event needs its event name;
#  - NUL bytes (raw, \u0000, %00) and invalid UTF-8 in JSON or form bodies
#    are a 400;
#  - what nginx refuses before the module runs keeps nginx's own status
#    (400, 413, 414, 501, 505), and a client that closes before sending its
#    whole body gets no answer at all (status 0 here).
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(b64 hmac_b64 sendgrid_key sendgrid_headers mailgun_signature
    standard_webhooks_headers basic_auth tracking_token);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
my ($sg_pk, $sg_pub) = sendgrid_key();
my ($sg_other_pk, $sg_other_pub) = sendgrid_key();
my $mg_key = 'key-hostile-1';
my $rs_secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
my $rs_other = 'whsec_' . b64('another resend signing key!');
my $tk_key = 'k1-secret-0123456789';
# Certificate fetches go to a closed port: a fetch would answer 503, so a 401
# shows that an SNS URL was refused before any fetch.
my $no_aws = Mailhook::Test::free_port();
$t->start_nginx(
    http => join(' ',
        'mailhook_connection ir vendor=inboxroad secret=s1;',
        'mailhook_connection ir2 vendor=inboxroad secret=s2;',
        "mailhook_connection sg vendor=sendgrid secret=$sg_pub;",
        "mailhook_connection sg2 vendor=sendgrid secret=$sg_other_pub;",
        "mailhook_connection mg vendor=mailgun secret=$mg_key;",
        "mailhook_connection rs vendor=resend secret=$rs_secret;",
        'mailhook_connection s2g vendor=smtp2go secret=hook:pa55word;',
        'mailhook_connection s2gb vendor=smtp2go secret=token-123;',
        'mailhook_connection ses2 vendor=ses;',
        "mailhook_tracking_key k1 $tk_key; mailhook_tracking_key k2 k2-secret-0123456789;",
        'client_body_timeout 5s;'),
    location => 'mailhook_sns_fetch /_sns_fetch;',
    server => 'location /small/ { mailhook; client_max_body_size 1k; }'
        . ' location /few/ { mailhook; mailhook_max_events 3; }'
        . " location = /_sns_fetch { internal; proxy_pass http://127.0.0.1:$no_aws\$mailhook_fetch_uri; }"
        . ' location /t/ { mailhook_tracking; }',
);
my @workers = sort $t->worker_pids;
my $json = JSON::PP->new->canonical;

# --- building requests -------------------------------------------------------

my $IR = '/webhooks/v2/inboxroad/ir';
my $SG = '/webhooks/v2/sendgrid/sg';
my $MG = '/webhooks/v2/mailgun/mg';
my $RS = '/webhooks/v2/resend/rs';
my $S2G = '/webhooks/v2/smtp2go/s2g';

sub chunked {
    my ($body, @sizes) = @_;
    my $out = '';
    while (length $body) {
        my $piece = substr($body, 0, shift(@sizes) // 7, '');
        $out .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
    }
    return $out . "0\r\n\r\n";
}

# Exact request bytes: headers is a list of [name, value] (repeats allowed).
sub req {
    my (%o) = @_;
    my $body = $o{body} // '';
    my $bytes = sprintf("%s %s %s\r\n", $o{method} // 'POST', $o{path} // $IR,
        $o{proto} // 'HTTP/1.1');
    $bytes .= "Host: hooks.test\r\nConnection: close\r\n" unless $o{no_host};
    $bytes .= "$_->[0]: $_->[1]\r\n" for @{$o{headers} // []};
    if ($o{chunked}) {
        return $bytes . "Transfer-Encoding: chunked\r\n\r\n" . chunked($body);
    }
    $bytes .= 'Content-Length: ' . length($body) . "\r\n" unless $o{no_length};
    return $bytes . "\r\n" . $body;
}

sub pairs { my @kv = @_; return [map { [$kv[2 * $_], $kv[2 * $_ + 1]] } 0 .. $#kv / 2] }

sub ir_sig { [['X-Signature', hmac_b64($_[0], $_[1] // 's1')], ['Content-Type', 'application/json']] }
sub sg_sig { pairs(sendgrid_headers($_[1] // $sg_pk, $_[0], $_[2])) }
sub rs_sig {
    my ($body, %o) = @_;
    return pairs(standard_webhooks_headers($o{secret} // $rs_secret, $o{id} // 'msg_h1',
        $o{signed_body} // $body, %o));
}
sub s2g_auth { [['Authorization', basic_auth('hook:pa55word')], ['Content-Type', $_[0] // 'application/json']] }

my $token_n = 0;
sub mg_body {
    my ($event, %o) = @_;
    my $token = $o{token} // sprintf('hostiletoken%04d%s', ++$token_n, 'x' x 30);
    my $signature = mailgun_signature($o{key} // $mg_key, $token, $o{timestamp});
    %$signature = (%$signature, %{$o{signature} // {}});
    return $json->encode({ signature => $signature, 'event-data' => $event });
}

my $ir_event = '{"kind":"delivered","recipient":"a@example.com"}';
my $sg_events = '[{"email":"a@example.com","event":"delivered","sg_event_id":"hostile-1","timestamp":1700000000}]';
my $mg_event = { event => 'delivered', id => 'hostile-mg', timestamp => 1700000000.5,
    recipient => 'a@example.com', message => { headers => { 'message-id' => 'm1@example.com' } },
    'delivery-status' => { code => 250, message => 'OK' }, tags => [], 'user-variables' => {} };
my $rs_event = '{"type":"email.delivered","created_at":"2024-11-22T23:41:12Z","data":{"email_id":"e1","to":["a@example.com"]}}';
my $s2g_event = '{"event":"delivered","rcpt":"a@example.com","id":"s2g-h1","time":"2024-01-15T10:30:00Z"}';

# --- the catalog -------------------------------------------------------------
# [name, status, request bytes, error label (module answers) or regex]

my @cases;
sub case { push @cases, [@_] }
sub ir_case { my ($name, $status, $body, $label) = @_; case($name, $status, req(headers => ir_sig($body), body => $body), $label) }
sub sg_case { my ($name, $status, $body, $label) = @_; case($name, $status, req(path => $SG, headers => sg_sig($body), body => $body), $label) }
sub rs_case { my ($name, $status, $body, $label) = @_; case($name, $status, req(path => $RS, headers => rs_sig($body), body => $body), $label) }
sub mg_case { my ($name, $status, $event, $label, %o) = @_; case($name, $status, req(path => $MG, headers => [['Content-Type', 'application/json']], body => mg_body($event, %o)), $label) }
sub s2g_case { my ($name, $status, $body, $label, $type) = @_; case($name, $status, req(path => $S2G, headers => s2g_auth($type), body => $body), $label) }

# Methods (405 from the module, with Allow: POST; TRACE is refused by nginx
# itself; a lower-case method is not HTTP at all).
for my $method (qw(GET PUT DELETE PATCH OPTIONS PROPFIND FOO)) {
    case("method $method", 405, req(method => $method, headers => ir_sig($ir_event), body => $ir_event), 'method');
}
case('method HEAD (inboxroad does not probe)', 405, req(method => 'HEAD', no_length => 1), qr/^HTTP\/1\.1 405/);
case('method TRACE', 405, req(method => 'TRACE', no_length => 1), qr/405 Not Allowed/);
case('method in lower case', 400, req(method => 'post', headers => ir_sig($ir_event), body => $ir_event), qr/400 Bad Request/);

# Vendors and connection ids: unknown is 404; what nginx cannot parse as a
# URI is its own 400 (%00, too many ..), an over-long URI its 414.
my %paths = (
    'unknown vendor' => ['/webhooks/v2/nosuchvendor/ir', 404],
    'vendor name in another case' => ['/webhooks/v2/InboxRoad/ir', 404],
    'vendor with NUL (%00)' => ['/webhooks/v2/inboxroad%00/ir', 400],
    'connection of another vendor' => ['/webhooks/v2/sendgrid/ir', 404],
    'unknown connection' => ['/webhooks/v2/inboxroad/nobody', 404],
    'no connection id' => ['/webhooks/v2/inboxroad', 404],
    'empty connection id (trailing slash)' => ['/webhooks/v2/inboxroad/', 404],
    'empty vendor (merged slashes)' => ['/webhooks/v2//ir', 404],
    'connection id ..' => ['/webhooks/v2/inboxroad/..', 404],
    'connection id .' => ['/webhooks/v2/inboxroad/.', 404],
    'path traversal ../' => ['/webhooks/v2/inboxroad/../ir', 404],
    'path traversal %2e%2e' => ['/webhooks/v2/inboxroad/%2e%2e/ir', 404],
    'path traversal %2e%2e%2f' => ['/webhooks/v2/inboxroad/%2e%2e%2fir', 404],
    # nginx decodes and merges it to /webhooks/etc/passwd: outside the
    # webhook location, nginx's own 404.
    'path traversal ..%2F..%2Fetc%2Fpasswd' => ['/webhooks/v2/inboxroad/..%2F..%2Fetc%2Fpasswd', 404, qr/404 Not Found<\/title>/],
    'path traversal above the root' => ['/webhooks/../../../../ir', 400],
    'connection id with %00' => ['/webhooks/v2/inboxroad/ir%00', 400],
    'connection id with %00 inside' => ['/webhooks/v2/inboxroad/i%00r', 400],
    'connection id with %0a' => ['/webhooks/v2/inboxroad/ir%0a', 404],
    'connection id with space' => ['/webhooks/v2/inboxroad/i%20r', 404],
    'connection id with %2F' => ['/webhooks/v2/inboxroad/i%2Fr', 404],
    'connection id with quote' => ['/webhooks/v2/inboxroad/i%22r', 404],
    'connection id with *' => ['/webhooks/v2/inboxroad/ir*', 404],
    'connection id unicode (%C3%A9)' => ['/webhooks/v2/inboxroad/%C3%A9', 404],
    'connection id raw UTF-8' => ["/webhooks/v2/inboxroad/\xc3\xa9t\xc3\xa9", 404],
    'connection id invalid UTF-8' => ["/webhooks/v2/inboxroad/\xff\xfe", 404],
    'connection id of 129 characters' => ['/webhooks/v2/inboxroad/' . ('a' x 129), 404],
    'connection id of 128 characters (valid, unknown)' => ['/webhooks/v2/inboxroad/' . ('a' x 128), 404],
    'connection id of 4000 characters' => ['/webhooks/v2/inboxroad/' . ('a' x 4000), 404],
    'URI over large_client_header_buffers (9000)' => ['/webhooks/v2/inboxroad/' . ('a' x 9000), 414],
    'connection id with a query string only' => ['/webhooks/v2/inboxroad/?id=ir', 404],
    # Security review L3: log injection through decoded segments (the log
    # side is t/hardening_l3.t).
    'L3: LF and a forged log line in the connection id' => ['/webhooks/v2/inboxroad/ir%0A[notice]%20forged:%20worker%20exited', 404],
    'L3: CR and a forged log line in the vendor' => ['/webhooks/v2/sendgrid%0D[notice]%20forged-cr/ir', 404],
    'L3: ANSI escapes in the vendor' => ['/webhooks/v2/x%1B%5B31mRED%1B%5B0m/ir', 404],
    'L3: C1 CSI in the vendor' => ['/webhooks/v2/x%C2%9B31m/ir', 404],
    'connection id with %7B' => ['/webhooks/v2/inboxroad/i%7Br', 404],
);
for my $name (sort keys %paths) {
    my ($path, $status, $expect) = @{$paths{$name}};
    case($name, $status, req(path => $path, headers => ir_sig($ir_event), body => $ir_event),
        $expect // ($status == 404 ? 'unknown_connection' : undef));
}

# HTTP framing: nginx answers before the module (no error label).
my $good_sig = ir_sig($ir_event);
case('Content-Length twice', 400, req(headers => [@$good_sig, ['Content-Length', length $ir_event]], body => $ir_event), qr/400 Bad Request/);
case('Content-Length and Transfer-Encoding', 400, req(headers => [@$good_sig, ['Content-Length', 5]], body => $ir_event, chunked => 1), qr/400 Bad Request/);
case('Transfer-Encoding twice', 400, req(headers => [@$good_sig, ['Transfer-Encoding', 'chunked']], body => $ir_event, chunked => 1), qr/400 Bad Request/);
case('Transfer-Encoding gzip', 501, req(headers => [@$good_sig, ['Transfer-Encoding', 'gzip']], body => $ir_event, no_length => 1), qr/501 Not Implemented/);
case('Content-Length negative', 400, req(headers => [@$good_sig, ['Content-Length', -1]], body => $ir_event, no_length => 1), qr/400 Bad Request/);
case('Content-Length not a number', 400, req(headers => [@$good_sig, ['Content-Length', '12abc']], body => $ir_event, no_length => 1), qr/400 Bad Request/);
case('Content-Length overflowing', 400, req(headers => [@$good_sig, ['Content-Length', '9' x 30]], body => $ir_event, no_length => 1), qr/400 Bad Request/);
case('Content-Length shorter than the body (signature covers all of it)', 401, req(headers => [@$good_sig, ['Content-Length', 10]], body => $ir_event, no_length => 1), 'signature');
case('Content-Length 0 with a body', 401, req(headers => [@$good_sig, ['Content-Length', 0]], body => $ir_event, no_length => 1), 'signature');
case('Content-Length longer than the body, then close', 0, req(headers => [@$good_sig, ['Content-Length', 500]], body => $ir_event, no_length => 1), undef);
case('no Content-Length: no body', 401, req(headers => $good_sig, body => $ir_event, no_length => 1), 'signature');
case('HTTP/2.0 request line', 505, req(proto => 'HTTP/2.0', headers => $good_sig, body => $ir_event), qr/505/);
case('HTTP/1.1 without Host', 400, req(no_host => 1, headers => $good_sig, body => $ir_event), qr/400 Bad Request/);
case('Host twice', 400, req(headers => [['Host', 'other.test'], @$good_sig], body => $ir_event), qr/400 Bad Request/);
case('NUL byte in a header value', 400, req(headers => [['X-Signature', "a\0b"]], body => $ir_event), qr/400 Bad Request/);
case('space in a header name', 400, req(headers => [['X Signature', 'a'], @$good_sig], body => $ir_event), qr/400 Bad Request/);
case('obsolete header line folding', 400, req(headers => [['X-Signature', "a\r\n b"]], body => $ir_event), qr/400 Bad Request/);
case('header over large_client_header_buffers (9000 bytes)', 400, req(headers => [['X-Big', 'a' x 9000], @$good_sig], body => $ir_event), qr/Request Header Or Cookie Too Large/);
case('signature header of 9000 bytes', 400, req(headers => [['X-Signature', 'A' x 9000]], body => $ir_event), qr/Request Header Or Cookie Too Large/);
case('40 headers of 1000 bytes (over all buffers)', 400, req(headers => [(map { ["X-H$_", 'b' x 1000] } 1 .. 40), @$good_sig], body => $ir_event), qr/Request Header Or Cookie Too Large/);

# Chunked bodies: malformed framing is nginx's 400; a well-framed body is
# verified whole; a client that stops mid-chunk gets no answer.
my $framed = sub { my ($chunks) = @_; "POST $IR HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Signature: $good_sig->[0][1]\r\nTransfer-Encoding: chunked\r\n\r\n$chunks" };
case('chunk size not hex', 400, $framed->("zz\r\n$ir_event\r\n0\r\n\r\n"), qr/400 Bad Request/);
case('chunk size of 20 hex digits', 400, $framed->(('f' x 20) . "\r\n$ir_event\r\n0\r\n\r\n"), qr/400 Bad Request/);
case('chunk size negative', 400, $framed->("-5\r\n$ir_event\r\n0\r\n\r\n"), qr/400 Bad Request/);
case('chunk longer than its size', 400, $framed->("5\r\n$ir_event\r\n0\r\n\r\n"), qr/400 Bad Request/);
case('chunk without CRLF after the data', 400, $framed->(sprintf("%x\r\n%s0\r\n\r\n", length $ir_event, $ir_event)), qr/400 Bad Request/);
case('chunk shorter than its size, then close', 0, $framed->("100\r\n$ir_event\r\n0\r\n\r\n"), undef);
case('no last chunk, then close', 0, $framed->(sprintf("%x\r\n%s\r\n", length $ir_event, $ir_event)), undef);
case('chunked body with a wrong signature', 401, req(headers => ir_sig($ir_event, 'nope'), body => $ir_event, chunked => 1), 'signature');
case('chunked body (7-byte chunks), changed after signing', 401, req(headers => $good_sig, body => $ir_event . ' ', chunked => 1), 'signature');

# Sizes (docs/security.md "Limits").
my $two_k = '[' . join(',', ($ir_event) x 40) . ']';
case('body over client_max_body_size', 413, req(path => '/small/inboxroad/ir', headers => ir_sig($two_k), body => $two_k), qr/413 Request Entity Too Large/);
case('chunked body over client_max_body_size', 413, req(path => '/small/inboxroad/ir', headers => ir_sig($two_k), body => $two_k, chunked => 1), qr/413 Request Entity Too Large/);
case('Content-Length over client_max_body_size, no body sent', 413, req(path => '/small/inboxroad/ir', headers => [@$good_sig, ['Content-Length', 5_000_000]], no_length => 1), qr/413/);
my $four = '[' . join(',', ($ir_event) x 4) . ']';
case('more events than mailhook_max_events', 413, req(path => '/few/inboxroad/ir', headers => ir_sig($four), body => $four), 'size');
my $sg_four = '[' . join(',', map { qq({"email":"a\@example.com","event":"open","sg_event_id":"f$_"}) } 1 .. 4) . ']';
case('SendGrid batch over mailhook_max_events', 413, req(path => '/few/sendgrid/sg', headers => sg_sig($sg_four), body => $sg_four), 'size');

# Signatures and credentials (401; "timestamp" for stale ones).
case('inboxroad: body changed after signing', 401, req(headers => $good_sig, body => $ir_event =~ s/delivered/bounce/r), 'signature');
case('inboxroad: no signature header', 401, req(body => $ir_event), 'signature');
case('inboxroad: empty signature', 401, req(headers => [['X-Signature', '']], body => $ir_event), 'signature');
case('inboxroad: signature of the other connection', 401, req(headers => ir_sig($ir_event, 's2'), body => $ir_event), 'signature');
case('inboxroad: right signature, other connection', 401, req(path => '/webhooks/v2/inboxroad/ir2', headers => $good_sig, body => $ir_event), 'signature');
case('inboxroad: truncated signature', 401, req(headers => [['X-Signature', substr($good_sig->[0][1], 0, 20)]], body => $ir_event), 'signature');
case('inboxroad: signature with trailing garbage', 401, req(headers => [['X-Signature', $good_sig->[0][1] . 'AA']], body => $ir_event), 'signature');
case('inboxroad: signature header twice, both right', 401, req(headers => [@$good_sig, ['x-signature', $good_sig->[0][1]]], body => $ir_event), 'signature');
case('inboxroad: signature header twice, one right', 401, req(headers => [['X-Signature', 'AAAA'], @$good_sig], body => $ir_event), 'signature');
case('sendgrid: no signature headers', 401, req(path => $SG, body => $sg_events), 'signature');
case('sendgrid: no timestamp header', 401, req(path => $SG, headers => [grep { $_->[0] !~ /Timestamp/ } @{sg_sig($sg_events)}], body => $sg_events), 'signature');
case('sendgrid: signature not base64', 401, req(path => $SG, headers => [['X-Twilio-Email-Event-Webhook-Signature', '!!!'], ['X-Twilio-Email-Event-Webhook-Timestamp', time]], body => $sg_events), 'signature');
case('sendgrid: signature by another key', 401, req(path => $SG, headers => sg_sig($sg_events, $sg_other_pk), body => $sg_events), 'signature');
case('sendgrid: right signature, other connection', 401, req(path => '/webhooks/v2/sendgrid/sg2', headers => sg_sig($sg_events), body => $sg_events), 'signature');
case('sendgrid: signature reused with another body', 401, req(path => $SG, headers => sg_sig($sg_events), body => $sg_events =~ s/delivered/bounce/r), 'signature');
case('sendgrid: signature reused with another timestamp', 401, req(path => $SG, headers => [map { $_->[0] =~ /Timestamp/ ? [$_->[0], $_->[1] + 1] : $_ } @{sg_sig($sg_events)}], body => $sg_events), 'signature');
case('sendgrid: signature header twice', 401, req(path => $SG, headers => [@{sg_sig($sg_events)}, ['X-Twilio-Email-Event-Webhook-Signature', sg_sig($sg_events)->[0][1]]], body => $sg_events), 'signature');
case('sendgrid: timestamp header twice', 401, req(path => $SG, headers => [@{sg_sig($sg_events, undef, 1700000000)}, ['X-Twilio-Email-Event-Webhook-Timestamp', 1700000000]], body => $sg_events), 'signature');
case('resend: no signature headers', 401, req(path => $RS, body => $rs_event), 'signature');
case('resend: wrong secret', 401, req(path => $RS, headers => rs_sig($rs_event, secret => $rs_other), body => $rs_event), 'signature');
case('resend: signature over another id', 401, req(path => $RS, headers => [map { $_->[0] eq 'webhook-id' ? [$_->[0], 'msg_other'] : $_ } @{rs_sig($rs_event)}], body => $rs_event), 'signature');
case('resend: signature reused with another body', 401, req(path => $RS, headers => rs_sig($rs_event), body => $rs_event =~ s/delivered/bounced/r), 'signature');
case('resend: only a v2 signature', 401, req(path => $RS, headers => [map { $_->[0] eq 'webhook-signature' ? [$_->[0], $_->[1] =~ s/^v1,/v2,/r] : $_ } @{rs_sig($rs_event)}], body => $rs_event), 'signature');
case('resend: svix headers, wrong signature', 401, req(path => $RS, headers => [map { [$_->[0], $_->[0] =~ /signature/ ? 'v1,AAAA' : $_->[1]] } @{rs_sig($rs_event, prefix => 'svix-')}], body => $rs_event), 'signature');
case('resend: webhook-id twice', 401, req(path => $RS, headers => [@{rs_sig($rs_event)}, ['webhook-id', 'msg_h1']], body => $rs_event), 'signature');
case('resend: timestamp 10 minutes old', 401, req(path => $RS, headers => rs_sig($rs_event, timestamp => time - 600), body => $rs_event), 'timestamp');
case('resend: timestamp 10 minutes ahead', 401, req(path => $RS, headers => rs_sig($rs_event, timestamp => time + 600), body => $rs_event), 'timestamp');
case('resend: fractional timestamp', 401, req(path => $RS, headers => rs_sig($rs_event, timestamp => time . '.5'), body => $rs_event), 'timestamp');
mg_case('mailgun: wrong key', 401, $mg_event, 'signature', key => 'key-wrong');
mg_case('mailgun: empty token', 401, $mg_event, 'signature', token => '');
mg_case('mailgun: signature fields are numbers', 401, $mg_event, 'signature', signature => { timestamp => 1700000000 });
mg_case('mailgun: timestamp an hour old', 401, $mg_event, 'timestamp', timestamp => time - 3600);
mg_case('mailgun: timestamp not a number', 401, $mg_event, 'timestamp', timestamp => 'yesterday');
case('mailgun: no signature object', 401, req(path => $MG, body => $json->encode({ 'event-data' => $mg_event })), 'signature');
case('smtp2go: no credentials', 401, req(path => $S2G, body => $s2g_event), 'auth');
case('smtp2go: wrong password', 401, req(path => $S2G, headers => [['Authorization', basic_auth('hook:wrong')]], body => $s2g_event), 'auth');
case('smtp2go: credentials of the other connection', 401, req(path => $S2G, headers => [['Authorization', 'Bearer token-123']], body => $s2g_event), 'auth');
case('smtp2go: Basic that is not base64', 401, req(path => $S2G, headers => [['Authorization', 'Basic ***']], body => $s2g_event), 'auth');
case('smtp2go: Digest scheme', 401, req(path => $S2G, headers => [['Authorization', 'Digest username="hook"']], body => $s2g_event), 'auth');
case('smtp2go: empty Bearer', 401, req(path => '/webhooks/v2/smtp2go/s2gb', headers => [['Authorization', 'Bearer ']], body => $s2g_event), 'auth');
# nginx refuses a repeated Authorization header itself ("client sent
# duplicate header line"): the same rule, applied before the module.
case('smtp2go: Authorization twice, one right', 400, req(path => $S2G, headers => [['Authorization', basic_auth('hook:pa55word')], ['Authorization', 'Basic eA==']], body => $s2g_event), qr/400 Bad Request/);

# Bodies that are not JSON at all, or not the vendor's JSON (400).
my %not_json = (
    'empty' => '', 'truncated object' => '{"kind":', 'truncated array' => '[{"kind":"delivered"}',
    'unterminated string' => '{"kind":"delivered', 'only an opening brace' => '{',
    'bare word' => 'delivered', 'single quotes' => "{'kind':'delivered'}", 'trailing comma' => '[{"kind":"delivered"},]',
    'two documents' => '{"kind":"delivered"}{"kind":"open"}', 'trailing garbage' => "$ir_event xyz",
    'comment' => "/* c */$ir_event", 'byte order mark' => "\xef\xbb\xbf$ir_event",
    'NaN' => '{"kind":"delivered","n":NaN}', 'leading zero' => '{"kind":"delivered","n":01}',
    'number overflow' => '{"kind":"delivered","n":1e999}', 'bad escape' => '{"kind":"deli\\xvered"}',
    'lone surrogate escape' => '{"kind":"delivered","r":"\\ud800"}', 'raw control character' => "{\"kind\":\"deli\x01vered\"}",
    'XML' => '<event kind="delivered"/>', 'form body' => 'kind=delivered&recipient=a%40example.com',
);
ir_case("not JSON: $_", 400, $not_json{$_}, 'format') for sort keys %not_json;
my %not_vendor = (
    'a number' => '1', 'a string' => '"delivered"', 'true' => 'true', 'null' => 'null',
    'array of numbers' => '[1,2]', 'array of arrays' => '[[]]', 'array with null' => '[null]',
    'batch of no readable element' => '[5,{}]', 'empty object (no event name)' => '{}',
);
# A batch with bad elements among good ones stores the good (docs/events.md):
# t/vendor_brevo.t.
ir_case("inboxroad body $_", 400, $not_vendor{$_}, 'format') for sort keys %not_vendor;
sg_case('sendgrid: object instead of an array', 400, '{"email":"a@example.com","event":"delivered"}', 'format');
sg_case('sendgrid: array of strings', 400, '["delivered"]', 'format');
sg_case('sendgrid: empty body', 400, '', 'format');
sg_case('sendgrid: truncated batch', 400, substr($sg_events, 0, -3), 'format');
rs_case('resend: empty body', 400, '', 'format');
rs_case('resend: array instead of an object', 400, "[$rs_event]", 'format');
rs_case('resend: no data', 400, '{"type":"email.sent"}', 'format');
rs_case('resend: type is not a string', 400, '{"type":5,"data":{}}', 'format');
rs_case('resend: empty type', 400, '{"type":"","data":{"to":["a@example.com"]}}', 'format');
case('mailgun: empty body', 400, req(path => $MG, body => ''), 'format');
case('mailgun: array body', 400, req(path => $MG, body => '[' . mg_body($mg_event) . ']'), 'format');
mg_case('mailgun: event-data is an array', 400, [$mg_event], 'format');
mg_case('mailgun: no event-data', 400, undef, 'format');
s2g_case('smtp2go: empty body', 400, '', 'format');
s2g_case('smtp2go: text/plain', 400, 'event=delivered', 'format', 'text/plain');
s2g_case('smtp2go: form body labelled JSON', 400, 'event=delivered&rcpt=a%40example.com', 'format', 'application/json');
s2g_case('smtp2go: form body without a content type', 400, 'event=delivered&rcpt=a%40example.com', 'format', '');
s2g_case('smtp2go: multipart body', 400, "--b\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\ndelivered\r\n--b--\r\n", 'format', 'multipart/form-data; boundary=b');
s2g_case('smtp2go: JSON labelled as a form', 400, '{"rcpt":"a@example.com"}', 'format', 'application/x-www-form-urlencoded');
s2g_case('smtp2go: form with a bad escape', 400, 'event=delivered&rcpt=%zz', 'format', 'application/x-www-form-urlencoded');

# Wrong JSON types at the fields the vendors read (400); null where the
# event name belongs (every event needs one). null elsewhere is absent.
my %sg_types = (
    'event a number' => { event => 5 }, 'event null' => { event => undef },
    'event an object' => { event => { a => 1 } }, 'email a number' => { email => 5 },
    'email an array' => { email => ['a@example.com'] }, 'sg_event_id an object' => { sg_event_id => {} },
    'timestamp an object' => { timestamp => { s => 1 } }, 'category an object' => { category => { a => 'b' } },
    'category with a number' => { category => ['a', 5] }, 'reason an array' => { reason => ['x'] },
    'response an object (delivered)' => { event => 'delivered', response => {} },
    'useragent a boolean' => { useragent => JSON::PP::true }, 'url an array' => { url => [] },
    'marketing_campaign_id an object' => { marketing_campaign_id => {} },
    'bounce type an array' => { type => ['bounce'] },
);
for my $name (sort keys %sg_types) {
    my $item = { email => 'a@example.com', event => 'bounce', sg_event_id => 't1', %{$sg_types{$name}} };
    sg_case("sendgrid: $name", 400, $json->encode([$item]), 'format');
}
my %mg_types = (
    'event a number' => { event => 5 }, 'event null' => { event => undef },
    'recipient an object' => { recipient => { a => 1 } }, 'id an array' => { id => ['x'] },
    'timestamp an object' => { timestamp => {} }, 'delivery-status a string' => { 'delivery-status' => '550 no' },
    'delivery-status.message an object' => { 'delivery-status' => { message => {} } },
    'message a string' => { message => 'm' }, 'message.headers an array' => { message => { headers => [] } },
    'tags an object' => { tags => { a => 1 } }, 'user-variables an array' => { 'user-variables' => [1] },
    'client-info a string' => { 'client-info' => 'Mozilla' }, 'severity a number' => { event => 'failed', severity => 1 },
    'reason an array' => { event => 'failed', reason => ['generic'] }, 'url an object' => { url => {} },
);
for my $name (sort keys %mg_types) {
    mg_case("mailgun: $name", 400, { %$mg_event, %{$mg_types{$name}} }, 'format');
}
my %rs_types = (
    'data a string' => '"data":"x"', 'data.to an object' => '"data":{"to":{"a":1}}',
    'data.to with a number' => '"data":{"to":["a@example.com",5]}', 'data.bounce a string' => '"data":{"to":["a@example.com"],"bounce":"x"}',
    'data.click an array' => '"data":{"to":["a@example.com"],"click":[]}', 'data.email_id an object' => '"data":{"to":["a@example.com"],"email_id":{}}',
    'data.tags a string' => '"data":{"to":["a@example.com"],"tags":"x"}', 'data.tags with a non-object' => '"data":{"to":["a@example.com"],"tags":[5]}',
    'created_at an object' => '"created_at":{},"data":{"to":["a@example.com"]}',
);
rs_case("resend: $_", 400, qq({"type":"email.bounced",$rs_types{$_}}), 'format') for sort keys %rs_types;
my %ir_types = (
    'kind a number' => '"kind":5', 'kind null' => '"kind":null', 'kind an array' => '"kind":["delivered"]',
    'recipient an object' => '"kind":"delivered","recipient":{"a":1}', 'recipient a number' => '"kind":"delivered","recipient":5',
    'tags an object' => '"kind":"delivered","tags":{"a":"b"}', 'metadata a string' => '"kind":"delivered","metadata":"x"',
    'metadata an array' => '"kind":"delivered","metadata":[]', 'timestamp an array' => '"kind":"delivered","timestamp":[1]',
    'campaign.id an object' => '"kind":"delivered","campaign":{"id":{}}', 'url a boolean' => '"kind":"click","url":false',
    'smtp_response an object' => '"kind":"bounce","smtp_response":{}',
);
ir_case("inboxroad: $_", 400, "{$ir_types{$_}}", 'format') for sort keys %ir_types;
my %s2g_types = (
    'event an array' => '"event":["delivered"]', 'event null' => '"event":null', 'rcpt a number' => '"event":"delivered","rcpt":5',
    'time an object' => '"event":"delivered","time":{}', 'message an object' => '"event":"bounce","message":{}',
    'id an array' => '"event":"delivered","id":[]', 'user-agent an object' => '"event":"open","user-agent":{}',
);
s2g_case("smtp2go: $_", 400, "{$s2g_types{$_}}", 'format') for sort keys %s2g_types;

# Deep nesting: more than mailhook_max_json_depth (64) levels is 400.
my $deep = 10_000;
ir_case('10k nested arrays', 400, ('[' x $deep) . (']' x $deep), 'format');
ir_case('10k nested objects', 400, ('{"a":' x $deep) . '1' . ('}' x $deep), 'format');
ir_case('2049 levels inside an event', 400, '{"kind":"delivered","x":' . ('[' x 2048) . (']' x 2048) . '}', 'format');
sg_case('sendgrid: 10k nested arrays', 400, ('[' x $deep) . (']' x $deep), 'format');
rs_case('resend: 10k nested objects in data', 400, '{"type":"email.sent","data":' . ('{"a":' x $deep) . '1' . ('}' x $deep) . '}', 'format');
case('mailgun: 10k nested objects in event-data', 400, req(path => $MG, body => '{"signature":{},"event-data":' . ('{"a":' x $deep) . '1' . ('}' x $deep) . '}'), 'format');

# NUL bytes and invalid UTF-8 (400).
ir_case('raw NUL in a JSON string', 400, "{\"kind\":\"deli\0vered\"}", 'format');
ir_case('raw NUL between JSON tokens', 400, "{\"kind\":\"delivered\"}\0", 'format');
ir_case('\\u0000 in a JSON string', 400, '{"kind":"delivered","recipient":"a\\u0000@example.com"}', 'format');
ir_case('\\u0000 in a JSON key', 400, '{"kind":"delivered","a\\u0000b":1}', 'format');
ir_case('invalid UTF-8 in a JSON string', 400, "{\"kind\":\"delivered\",\"recipient\":\"\xff\xfe\@example.com\"}", 'format');
ir_case('overlong UTF-8 in a JSON string', 400, "{\"kind\":\"delivered\",\"recipient\":\"\xc0\xaf\"}", 'format');
ir_case('UTF-8 surrogate in a JSON string', 400, "{\"kind\":\"delivered\",\"recipient\":\"\xed\xa0\x80\"}", 'format');
ir_case('invalid UTF-8 in a JSON key', 400, "{\"kind\":\"delivered\",\"\xff\":1}", 'format');
sg_case('sendgrid: invalid UTF-8 in a batch', 400, "[{\"email\":\"\xe9\@example.com\",\"event\":\"open\"}]", 'format');
s2g_case('smtp2go form: invalid UTF-8 (%FF)', 400, 'event=delivered&rcpt=%FF%FE', 'format', 'application/x-www-form-urlencoded');
s2g_case('smtp2go form: raw invalid UTF-8', 400, "event=delivered&rcpt=\xff", 'format', 'application/x-www-form-urlencoded');
s2g_case('smtp2go form: %00 in a value', 400, 'event=delivered&rcpt=a%00b', 'format', 'application/x-www-form-urlencoded');
s2g_case('smtp2go form: raw NUL in a name', 400, "event=delivered&rc\0pt=a", 'format', 'application/x-www-form-urlencoded');
s2g_case('smtp2go form: no event name', 400, 'rcpt=a%40example.com', 'format', 'application/x-www-form-urlencoded');

# --- more inputs of the security review (2026-12-01) -------------------------

case('method CONNECT', 405, "CONNECT /webhooks/v2/inboxroad/ir HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", qr/^HTTP\/1\.1 405/);
case('CONNECT with an authority', 400, "CONNECT example.com:443 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", qr/400 Bad Request/);
case('HTTP/0.9 request line', 0, "POST /webhooks/v2/inboxroad/ir\r\n", undef);
case('HTTP/1.0 without Host, wrong signature', 401, req(proto => 'HTTP/1.0', no_host => 1, headers => ir_sig($ir_event, 'nope'), body => $ir_event), 'signature');
case('Host with ESC', 400, req(no_host => 1, headers => [['Host', "a\x1bb"], ['Connection', 'close'], @$good_sig], body => $ir_event), qr/400 Bad Request/);
case('Host with DEL', 400, req(no_host => 1, headers => [['Host', "a\x7fb"], ['Connection', 'close'], @$good_sig], body => $ir_event), qr/400 Bad Request/);
ir_case('timestamp one above int64 max', 400, '{"kind":"delivered","recipient":"a@example.com","timestamp":9223372036854775808}', 'format');
ir_case('lone low surrogate (\\udce7)', 400, '{"kind":"delivered","recipient":"a\\udce7@example.com"}', 'format');

# SNS SigningCertURL forms: refused (401) before any fetch (which would be a
# 503 here), except a NUL, which is no JSON text for us (400).
sub sns_body {
    my ($url) = @_;
    return JSON::PP->new->utf8->canonical->encode({ Type => 'Notification', MessageId => 'hostile-sns', Message => '{}',
        TopicArn => 'arn:aws:sns:us-east-1:123456789012:t', Timestamp => '2026-12-01T00:00:00Z',
        SignatureVersion => '1', Signature => 'AAAA', SigningCertURL => $url });
}
my $sns = 'sns.us-east-1.amazonaws.com';
my %sns_urls = (
    'userinfo' => "https://user\@$sns/x.pem",
    'the host in the path' => "https://evil.example/$sns/x.pem",
    'a port' => "https://$sns:8443/x.pem",
    'http' => "http://$sns/x.pem",
    'upper-case host' => 'https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem',
    'trailing dot' => "https://$sns./x.pem",
    'amazonaws.com inside another domain' => "https://$sns.evil.example/x.pem",
    'nip.io' => "https://$sns.127.0.0.1.nip.io/x.pem",
    'a query' => "https://$sns/x.pem?a=b",
    'a fragment' => "https://$sns/x.pem#f",
    '/../' => "https://$sns/a/../x.pem",
    '//' => "https://$sns//x.pem",
    '%2e%2e' => "https://$sns/%2e%2e/x.pem",
    'backslash' => "https://$sns\\x.pem",
    'Cyrillic homoglyph' => "https://sns.us-east-1.am\x{430}zonaws.com/x.pem",
    'two-letter region' => 'https://sns.ab.amazonaws.com/x.pem',
    'nothing before .pem' => "https://$sns/.pem",
    'space' => "https://$sns/x .pem",
    'IPv6 literal' => 'https://[::1]/x.pem',
    'upper-case .PEM' => "https://$sns/x.PEM",
    'HTTPS:' => "HTTPS://$sns/x.pem",
    'https:/' => "https:/$sns/x.pem",
    'empty label' => 'https://sns..amazonaws.com/x.pem',
    'trailing slash' => "https://$sns/x.pem/",
    'not .pem' => "https://$sns/x.crt",
    'no path' => "https://$sns",
);
for my $name (sort keys %sns_urls) {
    my $body = sns_body($sns_urls{$name});
    case("SNS SigningCertURL: $name", 401, req(path => '/webhooks/v2/ses/ses2', headers => [['Content-Type', 'text/plain']], body => $body), 'signature');
}
case('SNS SigningCertURL: NUL', 400, req(path => '/webhooks/v2/ses/ses2', headers => [['Content-Type', 'text/plain']], body => sns_body("https://$sns/x\x{0}.pem")), 'format');

# Tracking tokens: a refused click is a 404 and never a redirect; a refused
# open still gets the GIF; neither stores anything (checked again at the end,
# since tracking stores are asynchronous).
sub tk {
    my (%claims) = @_;
    my $secret = delete $claims{_secret} // $tk_key;
    my %payload = (v => 1, k => 'k1', c => 'c1', r => 'reader@example.com', m => 'm-1', %claims);
    delete @payload{grep { !defined $payload{$_} } keys %payload};
    return tracking_token(JSON::PP->new->canonical->encode(\%payload), $secret);
}
my $click_ok = tk(u => 'https://example.com/');
my ($tk_payload, $tk_mac) = split /\./, $click_ok;
my %bad_clicks = (
    'expired' => tk(u => 'https://example.com/', x => time - 10),
    'expiry a float' => tk(u => 'https://example.com/', x => 1e12 + 0.5),
    'expiry a string' => tk(u => 'https://example.com/', x => '99999999999'),
    'expiry huge' => tk(u => 'https://example.com/', x => 1e30),
    'expiry negative' => tk(u => 'https://example.com/', x => -5),
    'javascript: URL' => tk(u => 'javascript:alert(1)'),
    'data: URL' => tk(u => 'data:text/html,<b>x</b>'),
    'protocol-relative URL' => tk(u => '//evil.example/'),
    'https:\\\\ URL' => tk(u => 'https:\\\\evil.example/'),
    'CRLF in the URL' => tk(u => "https://example.com/\r\nX-Evil: 1"),
    'https:/// URL' => tk(u => 'https:///path'),
    'tab in the URL' => tk(u => "https://example.com/\tx"),
    'ftp: URL' => tk(u => 'ftp://example.com/'),
    'version 2' => tk(u => 'https://example.com/', v => 2),
    'version 1.0' => tracking_token('{"c":"c1","k":"k1","m":"m-1","r":"reader@example.com","u":"https://example.com/","v":1.0}', $tk_key),
    'version true' => tk(u => 'https://example.com/', v => JSON::PP::true),
    'invalid connection id' => tk(u => 'https://example.com/', c => 'bad id'),
    'LF in the connection id' => tk(u => 'https://example.com/', c => "c1\n"),
    'empty recipient' => tk(u => 'https://example.com/', r => ''),
    'numeric recipient' => tk(u => 'https://example.com/', r => 5),
    'unknown key id' => tk(u => 'https://example.com/', k => 'k9'),
    'an open token' => tk(),
    'tampered MAC' => $tk_payload . '.' . ($tk_mac =~ s/^(.)/$1 eq 'A' ? 'B' : 'A'/er),
    "another key's MAC" => tk(u => 'https://example.com/', _secret => 'k2-secret-0123456789'),
    'added =' => "$click_ok=",
    'three parts' => "$click_ok.x",
    'empty MAC' => "$tk_payload.",
    '5000 characters' => 'A' x 5000,
);
# Non-canonical base64: the last character's unused bits set.
my %next = map { substr('AEIMQUYcgkosw048', $_, 1) => substr('BFJNRVZdhlptx159', $_, 1) } 0 .. 15;
if (length($tk_mac) % 4 == 3 && exists $next{substr($tk_mac, -1)}) {
    $bad_clicks{'non-canonical base64'} = $tk_payload . '.' . substr($tk_mac, 0, -1) . $next{substr($tk_mac, -1)};
}
sub tk_req { my ($path, %o) = @_; return "$o{method} $path HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" }
for my $name (sort keys %bad_clicks) {
    case("tracking click: $name", 404, tk_req("/t/c/$bad_clicks{$name}", method => 'GET'), qr/^HTTP\/1\.1 404/);
}
for my $name ('expired', 'unknown key id', 'tampered MAC', "another key's MAC", 'version 2', 'empty MAC') {
    my $token = $name eq 'expired' ? tk(x => time - 10) : $name eq 'unknown key id' ? tk(k => 'k9')
        : $name eq 'version 2' ? tk(v => 2) : $bad_clicks{$name};
    case("tracking open: $name", 200, tk_req("/t/o/$token.gif", method => 'GET'), qr/Content-Type: image\/gif/);
}
case('tracking: .gif on a click', 404, tk_req("/t/c/$click_ok.gif", method => 'GET'), qr/^HTTP\/1\.1 404/);
case('tracking: extra segments', 404, tk_req("/t/o/extra/" . tk() . '.gif', method => 'GET'), qr/^HTTP\/1\.1 404/);
case('tracking: POST', 405, tk_req('/t/o/' . tk() . '.gif', method => 'POST'), qr/^HTTP\/1\.1 405/);

# Replays that need something stored first: run_case() stores the genuine
# request (as one of the good requests) before taking the snapshot.
my $used_token = 'replayedtoken' . ('r' x 37);
push @cases, ['mailgun: token reused for another event', 401,
    req(path => $MG, headers => [['Content-Type', 'application/json']],
        body => mg_body({ %$mg_event, id => 'other-event' }, token => $used_token)), 'replay',
    sub {
        my $r = $t->raw(req(path => $MG, headers => [['Content-Type', 'application/json']],
            body => mg_body($mg_event, token => $used_token)));
        is($r, 200, 'mailgun: the token\'s first event is stored');
    }];

# --- running -----------------------------------------------------------------

# Everything in Redis, as one string: every key with its type and content
# (but the health hashes, which record rejections).
sub snapshot {
    my $redis = $t->redis;
    my @out;
    for my $key (sort grep { !/^mailhook:health:/ } $redis->keys('*')) {
        my $type = $redis->type($key);
        my $content = $type eq 'stream' ? $redis->xlen($key)
            : $type eq 'hash' ? join(',', sort map { $_ // '' } $redis->hgetall($key))
            : $type eq 'zset' ? join(',', $redis->zrange($key, 0, -1))
            : $type eq 'string' ? $redis->get($key) : '?';
        push @out, "$key [$type] $content";
    }
    return join "\n", @out;
}

my $good_n = 0;
sub good_request {
    my $body = sprintf('{"kind":"delivered","recipient":"good-%d@example.com"}', ++$good_n);
    my $before = $t->event_count;
    my ($status, $response) = $t->raw(req(headers => ir_sig($body), body => $body,
        chunked => $good_n % 2));
    is($status, 200, "good request $good_n (" . ($good_n % 2 ? 'chunked' : 'plain') . ') is stored')
        or diag($response);
    is($t->event_count, $before + 1, "good request $good_n: one more event");
}

good_request();
my $n = 0;
for my $case (@cases) {
    my ($name, $status, $bytes, $expect, $setup) = @$case;
    $setup->() if $setup;
    my $before = snapshot();
    my ($got, $response) = $t->raw($bytes);
    my $ok = is($got, $status, "$name: $status");
    if (defined $expect && $got == $status) {
        if (ref $expect) {
            like($response, $expect, "$name: answer") or $ok = 0;
        } else {
            like($response, qr/\r\n\r\n\{"error":"\Q$expect\E"\}\n\z/, "$name: error \"$expect\"")
                or $ok = 0;
        }
    }
    is(snapshot(), $before, "$name: nothing stored") or $ok = 0;
    diag(substr($response, 0, 300)) unless $ok;
    good_request() if ++$n % 20 == 0;
}
good_request();

# Inputs the review found accepted, and rightly: each is stored once, with a
# sane timestamp (RFC 3339; the JSON Schema check at the end sees the rest).
my $held = '{"kind":"delivered","recipient":"a@example.com"';
my %accepted = (
    'timestamp int64 max' => "$held,\"timestamp\":9223372036854775807}",
    'timestamp 1e308' => "$held,\"timestamp\":1e308}",
    'timestamp 1e300' => "$held,\"timestamp\":1e300}",
    'timestamp underflow (1e-400)' => "$held,\"timestamp\":1e-400}",
    'timestamp -0' => "$held,\"timestamp\":-0}",
    'timestamp -1' => "$held,\"timestamp\":-1}",
    'timestamp with a leap second at 9999-12-31' => "$held,\"timestamp\":\"9999-12-31T23:59:60Z\"}",
    'timestamp year 0000 with an offset' => "$held,\"timestamp\":\"0000-01-01T00:00:00+01:00\"}",
    'timestamp with a 5000-digit fraction' => "$held,\"timestamp\":\"2024-01-01T00:00:00." . ('1' x 5000) . 'Z"}',
    'timestamp a 24-digit epoch' => "$held,\"timestamp\":\"170000000000000000000000\"}",
    'brackets and escaped quotes in a string' => "$held,\"x\":\"]}\\\"{[\\\\\"}",
    'surrogate pair' => '{"kind":"delivered","recipient":"a\\ud83d\\udce7@example.com"}',
    'a 100k-character key' => "$held,\"" . ('k' x 100_000) . '":1}',
    'a list of 100k nulls' => "$held,\"tags\":[" . join(',', ('null') x 100_000) . ']}',
);
for my $name (sort keys %accepted) {
    my $before = $t->event_count;
    my ($status) = $t->raw(req(headers => ir_sig($accepted{$name}), body => $accepted{$name}));
    is($status, 200, "accepted: $name: 200");
    is($t->event_count, $before + 1, "accepted: $name: one event");
    my ($last) = reverse $t->events;
    like($last->{timestamp} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "accepted: $name: sane timestamp");
}

# Three requests pipelined on one connection, the middle one forged: each
# gets its own answer, and only the two genuine ones are stored.
my $before_pipeline = $t->event_count;
my @pipelined = map { sprintf('{"kind":"delivered","recipient":"pipe-%d@example.com"}', $_) } 1 .. 3;
my $pipeline = join '', map {
    my $sig = $_ == 1 ? ir_sig($pipelined[$_], 'nope') : ir_sig($pipelined[$_]);
    my $bytes = req(headers => $sig, body => $pipelined[$_]);
    $bytes =~ s/Connection: close\r\n// unless $_ == 2;
    $bytes;
} 0 .. 2;
my (undef, $answers) = $t->raw($pipeline);
is_deeply([$answers =~ m{^HTTP/1\.1 (\d+)}mg], [200, 401, 200], 'pipeline with a forged middle request: 200, 401, 200');
is($t->event_count, $before_pipeline + 2, 'pipeline: the two genuine requests stored');

# Tracking stores are asynchronous: a genuine open after all the refused
# tokens is stored after anything they could have stored. Only it may be
# there.
is($t->raw(tk_req('/t/o/' . tk(m => 'sentinel') . '.gif', method => 'GET')), 200, 'tracking: a genuine open');
Mailhook::Test::wait_for('the genuine open', 5, sub { grep { $_->{vendor} eq 'tracking' } $t->events });
is_deeply([map { $_->{message_id} } grep { $_->{vendor} eq 'tracking' } $t->events], ['sentinel'],
    'tracking: no refused token stored anything');

cmp_ok(scalar(@cases), '>=', 150, scalar(@cases) . ' hostile cases');
is_deeply([sort $t->worker_pids], \@workers, 'the same workers served everything (none crashed)');
like($t->error_log, qr/reason=signature request_id=[0-9a-f]{32}: .*X-Signature sent more than once/,
    'a repeated signature header is logged as such');
$t->finish;
done_testing;
