# SPDX-License-Identifier: BSD-2-Clause
# Inboxroad: X-Signature = base64(HMAC-SHA256(secret, raw body)).
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => 'mailhook_connection ir1 vendor=inboxroad secret=ir-secret tenant=acme;');

my $path = '/webhooks/v2/inboxroad/ir1';
my $body = '{ "kind": "delivered", "sender": "sender@example.com", "recipient": "user@example.com",'
    . ' "message_id": "<335026fa-0b4d-4fb3-a92c-8193ac2636b8@example.com>", "timestamp": "2025-09-04T10:00:00Z",'
    . ' "campaign": { "id": "9d76d4b4-660f-422b-9437-282c31506f7f", "name": "September campaign" } }';

my $r = $t->post($path, $body, 'X-Signature' => hmac_b64($body, 'ir-secret'),
    'Content-Type' => 'application/json');
my $event = $t->only_stored_event($r, 'signed delivery stored');
is_deeply($event, {
    schema => 1, vendor => 'inboxroad', connection => 'ir1', tenant => 'acme',
    type => 'delivered', bounce_class => undef, reject_reason => undef,
    recipient => 'user@example.com',
    message_id => '<335026fa-0b4d-4fb3-a92c-8193ac2636b8@example.com>',
    event_id => undef, timestamp => '2025-09-04T10:00:00Z',
    smtp_status => undef, mta_response => undef, description => undef,
    click_url => undef, user_agent => undef, ip => undef,
    campaign_id => '9d76d4b4-660f-422b-9437-282c31506f7f',
    tags => [], metadata => {}, vendor_event => 'delivered',
    raw => {
        kind => 'delivered', sender => 'sender@example.com',
        recipient => 'user@example.com',
        message_id => '<335026fa-0b4d-4fb3-a92c-8193ac2636b8@example.com>',
        timestamp => '2025-09-04T10:00:00Z',
        campaign => { id => '9d76d4b4-660f-422b-9437-282c31506f7f',
                      name => 'September campaign' },
    },
}, 'normalized event, every field');
my ($entry) = $t->stream;
is($entry->{fields}{type}, 'delivered', 'routing field type');
is($entry->{fields}{vendor}, 'inboxroad', 'routing field vendor');

# hex encoding of the same HMAC is accepted too
my $open = '{"kind":"open","recipient":"user@example.com","timestamp":"2025-09-04T10:05:00Z"}';
my $hex = Digest::SHA::hmac_sha256_hex($open, 'ir-secret');
is($t->post($path, $open, 'X-Signature' => $hex)->{status}, 200, 'hex signature accepted');

sub signed { return { 'X-Signature' => hmac_b64($_[0], $_[1] // 'ir-secret') } }
$t->refuses($path, $body, [
    ['wrong key', signed($body, 'other-secret')],
    ['tampered body', signed($body), $body . ' '],
    ['no signature', {}],
    ['garbage signature', { 'X-Signature' => '!!!' }],
], status => 401, label => 'signature');
$t->refuses($path, '{"kind":', [['signed but malformed JSON', \&signed]],
    status => 400, label => 'format');

$t->finish;
done_testing;
