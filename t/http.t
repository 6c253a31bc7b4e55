# SPDX-License-Identifier: BSD-2-Clause
# HTTP answers that do not depend on the vendor (docs/design.md §3.5).
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(
    http => 'mailhook_connection c1 vendor=inboxroad secret=s1;',
    server => 'location /small/ { mailhook; client_max_body_size 1k; }'
        . ' location /few/ { mailhook; mailhook_max_events 3; }',
);

sub signed {
    my ($path, $body) = @_;
    return $t->post($path, $body, 'X-Signature' => hmac_b64($body, 's1'));
}
my $event = '{"kind":"delivered","recipient":"a@example.com"}';

my $r = $t->request('GET', '/webhooks/v2/inboxroad/c1');
is($r->{status}, 405, 'GET: 405');
is($r->{headers}{allow}, 'POST', 'Allow: POST');
is($t->request('PUT', '/webhooks/v2/inboxroad/c1', body => $event)->{status}, 405, 'PUT: 405');
is($t->request('HEAD', '/webhooks/v2/inboxroad/c1')->{status}, 405, 'HEAD where the vendor does not probe: 405');

is(signed('/webhooks/v2/inboxroad/unknown', $event)->{status}, 404, 'unknown connection: 404');
is(signed('/webhooks/v2/nosuchvendor/c1', $event)->{status}, 404, 'unknown vendor: 404');
is(signed('/webhooks/v2/sendgrid/c1', $event)->{status}, 404, 'connection of another vendor: 404');
is(signed('/webhooks/v2/inboxroad/c1/', $event)->{status}, 404, 'trailing slash: 404');
is(signed('/webhooks/v2/inboxroad/c%201', $event)->{status}, 404, 'space in connection id: 404');
is(signed('/webhooks/v2/inboxroad', $event)->{status}, 404, 'no connection id: 404');
is($t->raw("POST /webhooks/v2/inboxroad/..%2F..%2Fetc HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}"),
    404, 'encoded path traversal in the connection id: 404');

my $r413 = signed('/small/inboxroad/c1', '[' . join(',', ($event) x 40) . ']');
is($r413->{status}, 413, 'body over client_max_body_size: 413');
is(signed('/few/inboxroad/c1', '[' . join(',', ($event) x 4) . ']')->{status}, 413,
    'more events than mailhook_max_events: 413');
is(signed('/few/inboxroad/c1', '[' . join(',', ($event) x 3) . ']')->{status}, 200,
    'exactly mailhook_max_events: 200');

is(signed('/webhooks/v2/inboxroad/c1', '{"kind":')->{status}, 400, 'malformed JSON: 400');
is(signed('/webhooks/v2/inboxroad/c1', '')->{status}, 400, 'empty body: 400');
is(signed('/webhooks/v2/inboxroad/c1', '[1,2]')->{status}, 400, 'array of non-objects: 400');
is(signed('/webhooks/v2/inboxroad/c1', '[]')->{status}, 200, 'empty batch: 200');

# Chunked transfer encoding: the body is whole before it is verified.
my $sig = hmac_b64($event, 's1');
my $chunked = sprintf("POST /webhooks/v2/inboxroad/c1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    . "X-Signature: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
    $sig, 10, substr($event, 0, 10), length($event) - 10, substr($event, 10));
my ($status, $response) = $t->raw($chunked);
is($status, 200, 'chunked body verified');
like($response, qr/\{"stored":0,"duplicates":1\}/, 'same event as stored before: a duplicate');

my $count = $t->event_count;
is($count, 1, 'only the accepted requests stored events (the same event each time)');

$t->finish;
done_testing;
