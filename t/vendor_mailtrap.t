# SPDX-License-Identifier: BSD-2-Clause
# Mailtrap: Mailtrap-Signature = hex HMAC-SHA256(signing secret, raw body),
# for both payload formats: JSON ({"events": [...]}) and JSON Lines.
use strict;
use warnings;
use lib 't/lib';

use Digest::SHA qw(hmac_sha256_hex);
use Mailhook::Test;
use Test::More;

my $secret = '0123456789abcdef0123456789abcdef';
my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => "mailhook_connection mt1 vendor=mailtrap secret=$secret;");
my $path = '/webhooks/v2/mailtrap/mt1';
sub signed { return { 'Mailtrap-Signature' => hmac_sha256_hex($_[0], $_[1] // $secret) } }

# docs.mailtrap.io webhooks, the Soft Bounce payload.
my $soft = '{"event":"soft bounce","timestamp":1728669700,"sending_stream":"transactional",'
    . '"message_id":"1df37d17-0286-4d8b-8edf-bc4ec5be86e6","email":"receiver@example.com",'
    . '"event_id":"bede7236-2284-43d6-a953-1fdcafd0fdbc","response":"4.7.1 Temporary error, please retry",'
    . '"response_code":451,"bounce_category":"greylisting","sending_domain_name":"examplesender.com"}';
my $body = qq({"events":[$soft]});
my $r = $t->post($path, $body, %{ signed($body) }, 'Content-Type' => 'application/json');
my $event = $t->only_stored_event($r, 'signed JSON batch stored');
my $raw = delete $event->{raw};
is($raw->{bounce_category}, 'greylisting', 'raw is the event object');
is_deeply($event, {
    schema => 1, vendor => 'mailtrap', connection => 'mt1', tenant => undef,
    type => 'deferred', bounce_class => 'soft', reject_reason => 'other',
    recipient => 'receiver@example.com', message_id => '1df37d17-0286-4d8b-8edf-bc4ec5be86e6',
    event_id => 'bede7236-2284-43d6-a953-1fdcafd0fdbc', timestamp => '2024-10-11T18:01:40Z',
    smtp_status => '4.7.1', mta_response => '4.7.1 Temporary error, please retry',
    description => undef, click_url => undef, user_agent => undef, ip => undef,
    campaign_id => undef, tags => [], metadata => {}, vendor_event => 'soft bounce',
}, 'normalized event, every field');

# The JSON Lines format: one event per line, the same signature scheme.
my $lines = '{"event":"delivery","timestamp":1728669927,"message_id":"abc-123","email":"user1@example.com","event_id":"evt-1","sending_stream":"transactional","sending_domain_name":"example.com"}' . "\n"
    . '{"event":"click","timestamp":1728669935,"message_id":"abc-123","email":"user1@example.com","event_id":"evt-3","sending_stream":"transactional","url":"https://example.com","sending_domain_name":"example.com"}' . "\n";
$r = $t->post($path, $lines, %{ signed($lines) }, 'Content-Type' => 'application/jsonl');
is($r->{status}, 200, 'JSON Lines accepted');
is($r->{content}, qq({"stored":2,"duplicates":0}\n), '... one event per line');
my %by_type = map { $_->{type} => $_ } $t->events;
is($by_type{clicked}{click_url}, 'https://example.com', 'the click line read');
is($by_type{delivered}{recipient}, 'user1@example.com', 'the delivery line read');
is($t->post($path, $lines, %{ signed($lines) })->{content}, qq({"stored":0,"duplicates":2}\n),
    'a resent batch is duplicates');

$t->refuses($path, $body, [
    ['wrong secret', signed($body, 'ffffffffffffffffffffffffffffffff')],
    ['tampered body', signed($body), $body . ' '],
    ['no signature', {}],
    ['signature of another body', signed($lines)],
], status => 401, label => 'signature');
$t->refuses($path, undef, [
    ['signed JSON without events', \&signed, '{"x":1}'],
    ['signed JSON Lines with a broken line', \&signed, $soft . "\n{\"event\":\n"],
], status => 400, label => 'format');

$t->finish;
done_testing;
