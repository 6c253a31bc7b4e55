# SPDX-License-Identifier: BSD-2-Clause
# Resend (Standard Webhooks / Svix): HMAC-SHA256 over "id.timestamp.body".
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(standard_webhooks_headers);
use Mailhook::Test;
use Test::More;

my $secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
my $next = 'whsec_' . MIME::Base64::encode_base64('rotated-key-material-0123456789', '');
my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => "mailhook_connection rs1 vendor=resend secret=$secret secret_next=$next;");
my $path = '/webhooks/v2/resend/rs1';

# vendors.md §12, verbatim sample
my $body = <<'JSON';
{
  "type": "email.bounced",
  "created_at": "2024-11-22T23:41:12.126Z",
  "data": {
    "broadcast_id": "8b146471-e88e-4322-86af-016cd36fd216",
    "created_at": "2024-11-22T23:41:11.894719+00:00",
    "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
    "from": "Acme <onboarding@resend.dev>",
    "to": ["delivered@resend.dev"],
    "subject": "Sending this example",
    "template_id": "43f68331-0622-4e15-8202-246a0388854b",
    "bounce": {
      "message": "The recipient's email address is on the suppression list because it has a recent history of producing hard bounces.",
      "subType": "Suppressed",
      "type": "Permanent"
    },
    "tags": {
      "category": "confirm_email"
    }
  }
}
JSON

my $r = $t->post($path, $body, standard_webhooks_headers($secret, 'msg_1', $body));
is($r->{status}, 200, 'signed bounce stored');
my ($event) = map { Mailhook::Test::comparable($_) } $t->events;
delete $event->{id};
is_deeply($event, {
    schema => 1, vendor => 'resend', connection => 'rs1', tenant => undef,
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'delivered@resend.dev', message_id => '56761188-7520-42d8-8898-ff6fc54ce618',
    event_id => 'msg_1', timestamp => '2024-11-22T23:41:12Z', smtp_status => undef,
    mta_response => undef,
    description => "The recipient's email address is on the suppression list because it has a recent history of producing hard bounces.",
    click_url => undef, user_agent => undef, ip => undef,
    campaign_id => '8b146471-e88e-4322-86af-016cd36fd216', tags => [],
    metadata => { category => 'confirm_email' }, vendor_event => 'email.bounced',
    raw => decode_json($body),
}, 'Permanent bounce is hard, every field');

my $count = $t->event_count;
my $click = '{"type":"email.clicked","created_at":"2024-11-22T23:45:00.000Z","data":{"email_id":"e2","to":["a@x.com"],'
    . '"click":{"link":"https://x.com/p","ipAddress":"203.0.113.9","userAgent":"UA/1.0","timestamp":"2024-11-22T23:45:00.000Z"}}}';
$r = $t->post($path, $click,
    standard_webhooks_headers($secret, 'msg_2', $click, prefix => 'svix-'));
is($r->{status}, 200, 'svix-* header names accepted');
$r = $t->post($path, $click, standard_webhooks_headers($next, 'msg_3', $click,
    extra_signatures => ['v1,bm90LXRoZS1zaWduYXR1cmU=', 'v1a,ignored']));
is($r->{status}, 200, 'secret_next verifies; any v1 entry of several may match');
is($t->event_count, $count + 2, 'both stored');

my %signed = standard_webhooks_headers($secret, 'msg_4', $click);
my %other_id = (%signed, 'webhook-id' => 'msg_other');
my %unsigned = %other_id;
delete $unsigned{'webhook-signature'};
my $wrong_key = 'whsec_' . MIME::Base64::encode_base64('wrong', '');
$t->refuses($path, $click, [
    ['tampered body', \%signed, $click . ' '],
    ['wrong key', { standard_webhooks_headers($wrong_key, 'msg_4', $click) }],
    ['id is signed', \%other_id],
    ['no signature header', \%unsigned],
], status => 401, label => 'signature');
$t->refuses($path, $click, [
    ['ten minutes old',
        { standard_webhooks_headers($secret, 'msg_4', $click, timestamp => time - 600) }],
    ['ten minutes ahead',
        { standard_webhooks_headers($secret, 'msg_4', $click, timestamp => time + 600) }],
], status => 401, label => 'timestamp');
$t->refuses($path, '{"type":"email.sent"}', [['signed but no data object',
    sub { return { standard_webhooks_headers($secret, 'msg_5', $_[0]) } }]],
    status => 400, label => 'format');

$t->finish;
done_testing;
