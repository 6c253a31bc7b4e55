# SPDX-License-Identifier: BSD-2-Clause
# SMTP2GO: no signature; Basic or Bearer credentials; JSON or form bodies.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(basic_auth);
use Mailhook::Test;
use Test::More;

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => 'mailhook_connection s2g vendor=smtp2go secret=hook:pa55word;'
    . ' mailhook_connection s2b vendor=smtp2go secret=token-123;');
my $path = '/webhooks/v2/smtp2go/s2g';

my $json_body = '{"event":"bounce","time":"2024-01-15T10:30:00Z","sendtime":"2024-01-15T10:29:58Z",'
    . '"sender":"news@example.com","rcpt":"gone@example.net","email_id":"1rXyz-abc","id":"evt-100",'
    . '"bounce":"hard","host":"mx.example.net","message":"550 5.1.1 <gone@example.net>: Recipient address rejected",'
    . '"context":"RCPT TO","subject":"Hello","X-Campaign":"spring"}';
my $r = $t->post($path, $json_body, Authorization => basic_auth('hook:pa55word'),
    'Content-Type' => 'application/json');
is($r->{status}, 200, 'basic auth, JSON body stored');
my ($event) = map { Mailhook::Test::comparable($_) } $t->events;
delete $event->{id};
is_deeply($event, {
    schema => 1, vendor => 'smtp2go', connection => 's2g', tenant => undef,
    type => 'bounced', bounce_class => 'hard', reject_reason => 'bounced',
    recipient => 'gone@example.net', message_id => undef, event_id => 'evt-100',
    timestamp => '2024-01-15T10:30:00Z', smtp_status => '5.1.1',
    mta_response => '550 5.1.1 <gone@example.net>: Recipient address rejected',
    description => 'RCPT TO', click_url => undef, user_agent => undef, ip => undef,
    campaign_id => undef, tags => [], metadata => { 'X-Campaign' => 'spring' },
    vendor_event => 'bounce', raw => decode_json($json_body),
}, 'hard bounce, every field');

my $form = 'event=click&time=2024-01-15+10%3A31%3A00&rcpt=reader%40example.net&id=evt-101'
    . '&url=https%3A%2F%2Fexample.com%2Fa%3Fb%3Dc&user-agent=Mozilla%2F5.0&srchost=198.51.100.7';
$r = $t->post('/webhooks/v2/smtp2go/s2b', $form, Authorization => 'Bearer token-123',
    'Content-Type' => 'application/x-www-form-urlencoded');
is($r->{status}, 200, 'bearer token, form body stored');
my ($click) = grep { $_->{type} eq 'clicked' } $t->events;
is_deeply([@{$click}{qw(recipient click_url user_agent ip timestamp event_id)}],
    ['reader@example.net', 'https://example.com/a?b=c', 'Mozilla/5.0', '198.51.100.7',
     '2024-01-15T10:31:00Z', 'evt-101'], 'form fields decoded');

$t->refuses($path, $json_body, [
    ['wrong password', { Authorization => basic_auth('hook:wrong') }],
    ['no credentials', {}],
], status => 401, label => 'auth');
$t->refuses('/webhooks/v2/smtp2go/s2b', $json_body,
    [['wrong bearer token', { Authorization => 'Bearer token-1234' }]],
    status => 401, label => 'auth');
my %auth = (Authorization => basic_auth('hook:pa55word'));
$t->refuses($path, undef, [
    ['malformed form encoding',
        { %auth, 'Content-Type' => 'application/x-www-form-urlencoded' }, 'event=bounce&rcpt=%zz'],
    ['neither JSON nor form', { %auth, 'Content-Type' => 'text/plain' }, 'plain text'],
], status => 400, label => 'format');

$t->finish;
done_testing;
