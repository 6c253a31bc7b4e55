# SPDX-License-Identifier: BSD-2-Clause
# MailerSend: Signature = hex HMAC-SHA256(signing secret, raw body), one
# activity per request.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(hmac_sha256_hex);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => 'mailhook_connection ms1 vendor=mailersend secret=ms-secret tenant=acme;');

my $path = '/webhooks/v2/mailersend/ms1';
# The shape of MailerSend's activity.hard_bounced (django-anymail's fixture of it).
my $body = '{"type":"activity.hard_bounced","domain_id":"7nxe3yjmxpx2p0qs","created_at":"2023-02-27T21:48:15.000000Z",'
    . '"webhook_id":"ms-hook","url":"https://example.com/webhooks","data":{"object":"activity","id":"63fd251d5c00f8e52001fce6",'
    . '"type":"hard_bounced","created_at":"2023-02-27T21:48:13.593000Z","email":{"object":"email","id":"63fd2519f1dd4b5e1f0bb2b7",'
    . '"status":"rejected","tags":["welcome"],"message":{"object":"message","id":"63fd25194d5edba3da09e044"},'
    . '"recipient":{"object":"recipient","email":"invalid@example.com"}},'
    . '"morph":{"object":"recipient_bounce","reason":"550 5.1.1 Host or domain name not found"}}}';

my $r = $t->post($path, $body, Signature => hmac_sha256_hex($body, 'ms-secret'),
    'Content-Type' => 'application/json');
my $event = $t->only_stored_event($r, 'signed hard bounce stored');
my $raw = delete $event->{raw};
is($raw->{data}{id}, '63fd251d5c00f8e52001fce6', 'raw is the whole request body');
is_deeply($event, {
    schema => 1, vendor => 'mailersend', connection => 'ms1', tenant => 'acme',
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'invalid@example.com', message_id => '63fd25194d5edba3da09e044',
    event_id => '63fd251d5c00f8e52001fce6', timestamp => '2023-02-27T21:48:13Z',
    smtp_status => '5.1.1', mta_response => '550 5.1.1 Host or domain name not found',
    description => undef, click_url => undef, user_agent => undef, ip => undef,
    campaign_id => undef, tags => ['welcome'], metadata => {},
    vendor_event => 'activity.hard_bounced',
}, 'normalized event, every field');
is($t->post($path, $body, Signature => hmac_sha256_hex($body, 'ms-secret'))->{content},
    qq({"stored":0,"duplicates":1}\n), 'a retry is a duplicate');

my $maintenance = '{"type":"maintenance.start","created_at":"2024-05-01T00:00:00.000000Z","data":{}}';
is($t->post($path, $maintenance, Signature => hmac_sha256_hex($maintenance, 'ms-secret'))->{status},
    200, 'maintenance.start accepted');
my ($control) = $t->stream('mailhook:control');
is($control && $control->{fields}{vendor}, 'mailersend', '... and kept in the control stream');

sub signed { return { Signature => hmac_sha256_hex($_[0], $_[1] // 'ms-secret') } }
$t->refuses($path, $body, [
    ['wrong secret', signed($body, 'other-secret')],
    ['tampered body', signed($body), $body . ' '],
    ['no signature', {}],
    ['garbage signature', { Signature => 'zz' }],
], status => 401, label => 'signature');
$t->refuses($path, '{"type":', [['signed but malformed JSON', \&signed]],
    status => 400, label => 'format');
$t->refuses($path, '[]', [['signed but not an object', \&signed]], status => 400, label => 'format');

$t->finish;
done_testing;
