# SPDX-License-Identifier: BSD-2-Clause
# Postal: X-Postal-Signature-256 = base64(RSA-SHA256(raw body)) with the
# installation's signing key; X-Postal-Signature (SHA-1) when the former is absent.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP qw(decode_json encode_json);
use Mailhook::Sign qw(b64 postal_key postal_headers);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
my $key = postal_key();
my $other = postal_key();
(my $pem = $key->export_key_pem('public_x509')) =~ s/\s+$//;

$t->start_redis;
# A PEM key spans lines: quoted, it is one nginx argument.
$t->start_nginx(http => "mailhook_connection pl1 vendor=postal 'secret=$pem' tenant=acme;");

my $path = '/webhooks/v2/postal/pl1';
my $message = {
    id => 12345, token => 'abcdef123', direction => 'outgoing',
    message_id => '5817a64332f44_4ec93ff59e79d154565eb@app34.mail',
    to => 'test@example.com', from => 'sales@awesomeapp.com',
    subject => 'Welcome to AwesomeApp', timestamp => 1477945177.5,
    spam_status => 'NotSpam', tag => 'welcome',
};
my $json = JSON::PP->new->canonical;
sub envelope {
    my ($event, $uuid, $payload) = @_;
    return $json->encode({ event => $event, timestamp => 1477945180,
        uuid => $uuid, payload => $payload });
}

my $sent = envelope('MessageSent', '820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd', {
    status => 'Sent',
    details => 'Message sent by SMTP to aspmx.l.google.com (2a00:1450:400c:c0b::1b) (from 2a00:67a0:a:15::2)',
    output => '250 2.0.0 OK 1477944899 ly2si31746747wjb.95 - gsmtp',
    time => 0.22, sent_with_ssl => JSON::PP::true, timestamp => 1477945177.5,
    message => $message,
});

my $r = $t->post($path, $sent, postal_headers($key, $sent));
my $event = $t->only_stored_event($r, 'signed MessageSent stored');
is_deeply($event, {
    schema => 1, vendor => 'postal', connection => 'pl1', tenant => 'acme',
    type => 'delivered', bounce_class => undef, reject_reason => undef,
    recipient => 'test@example.com',
    message_id => '5817a64332f44_4ec93ff59e79d154565eb@app34.mail',
    event_id => '820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd',
    timestamp => '2016-10-31T20:19:37Z',
    smtp_status => '2.0.0',
    mta_response => '250 2.0.0 OK 1477944899 ly2si31746747wjb.95 - gsmtp',
    description => 'Message sent by SMTP to aspmx.l.google.com (2a00:1450:400c:c0b::1b) (from 2a00:67a0:a:15::2)',
    click_url => undef, user_agent => undef, ip => undef, campaign_id => undef,
    tags => ['welcome'], metadata => {}, vendor_event => 'MessageSent',
    raw => decode_json($sent),
}, 'normalized event, every field');

$r = $t->post($path, $sent, postal_headers($key, $sent));
is($r->{content}, qq({"stored":0,"duplicates":1}\n), 'a retry of the same uuid is a duplicate');

my $failed = envelope('MessageDeliveryFailed', '9a1e2b3c-0000-4000-8000-000000000001', {
    status => 'HardFail', details => 'Permanent SMTP delivery error',
    output => '550 5.1.1 The email account that you tried to reach does not exist',
    time => 0.3, sent_with_ssl => JSON::PP::false, timestamp => 1477945190,
    message => $message,
});
my %legacy = postal_headers($key, $failed, legacy => 1);
ok(!exists $legacy{'X-Postal-Signature-256'}, 'legacy request has only the SHA-1 header');
is($t->post($path, $failed, %legacy)->{status}, 200, 'SHA-1 signature accepted without the SHA-256 header');
my ($bounce) = grep { $_->{vendor_event} eq 'MessageDeliveryFailed' } $t->events;
is($bounce->{type} . '/' . $bounce->{bounce_class}, 'bounced/hard', 'delivery failure is a hard bounce');
is($bounce->{smtp_status}, '5.1.1', 'enhanced status from the SMTP output');
my $suppressed = $t->redis->hget('mailhook:suppression:acme', 'test@example.com');
like($suppressed // '', qr/"reason":"hard_bounce"/, 'hard bounce suppresses the recipient');

my $loaded = envelope('MessageLoaded', '9a1e2b3c-0000-4000-8000-000000000002', {
    ip_address => '185.22.208.2', user_agent => 'Mozilla/5.0', message => $message });
my %good = postal_headers($key, $loaded);
$t->refuses($path, $loaded, [
    ['another key signed it', { postal_headers($other, $loaded) }],
    ['tampered body', \%good, $loaded . ' '],
    ['no signature header', {}],
    ['garbage signature', { 'X-Postal-Signature-256' => '!!!' }],
    ['good SHA-1 but bad SHA-256', {
        'X-Postal-Signature-256' => b64($other->sign_message($loaded, 'SHA256', 'v1.5')),
        'X-Postal-Signature' => $good{'X-Postal-Signature'} }],
], status => 401, label => 'signature');
my $signed = sub { return { postal_headers($key, $_[0]) } };
$t->refuses($path, undef, [
    ['signed but not JSON', $signed, '{"event":'],
    ['signed but no payload', $signed, '{"event":"MessageSent"}'],
    ['signed but an array', $signed, '[]'],
], status => 400, label => 'format');

# Dynamic connections: the base64 DER key, and Postal's JWK Set with a
# rotation to a second key.
$t->redis->hset('mailhook:connection:pl2', vendor => 'postal',
    secret => b64($key->export_key_der('public')));
is($t->post('/webhooks/v2/postal/pl2', $loaded, %good)->{status}, 200,
    'dynamic connection with a base64 DER key');
my ($dynamic) = grep { $_->{connection} eq 'pl2' } $t->events;
is_deeply([@$dynamic{qw(type recipient ip user_agent tenant)}],
    ['opened', 'test@example.com', '185.22.208.2', 'Mozilla/5.0', undef],
    'dynamic connection event normalized');

$t->redis->hset('mailhook:connection:pl3', vendor => 'postal',
    secret => encode_json({ keys => [decode_json($key->export_key_jwk('public'))] }),
    secret_next => $other->export_key_jwk('public'));
my $clicked = envelope('MessageLinkClicked', '9a1e2b3c-0000-4000-8000-000000000003', {
    url => 'https://atech.media', token => 'VJzsFA0S', ip_address => '185.22.208.2',
    user_agent => 'Mozilla/5.0', message => $message });
is($t->post('/webhooks/v2/postal/pl3', $clicked, postal_headers($other, $clicked))->{status},
    200, 'JWK connection: the next key verifies');
is($t->post('/webhooks/v2/postal/pl3', $clicked, postal_headers($key, $clicked))->{status},
    200, 'JWK connection: the current key verifies (a duplicate)');
is($t->post('/webhooks/v2/postal/pl3', $clicked, postal_headers(postal_key(), $clicked))->{status},
    401, 'JWK connection: a third key does not');

$t->redis->hset('mailhook:connection:pl4', vendor => 'postal', secret => 'not a key');
is($t->post('/webhooks/v2/postal/pl4', $clicked, postal_headers($key, $clicked))->{status},
    500, 'a connection whose secret is no key answers 500');

$t->finish;
done_testing;
