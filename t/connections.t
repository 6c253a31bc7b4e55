# SPDX-License-Identifier: BSD-2-Clause
# Connections declared in Redis: no reload needed; cached briefly; disabled
# connections and unusable secrets answered clearly.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Sign qw(hmac_b64 sendgrid_key sendgrid_headers);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(sleep);

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => 'mailhook_connection_cache 300ms;');
my $redis = $t->redis;

sub send_to {
    my ($id, $secret, $recipient) = @_;
    my $body = qq({"kind":"delivered","recipient":"$recipient"});
    return $t->post("/webhooks/v2/inboxroad/$id", $body, 'X-Signature' => hmac_b64($body, $secret));
}

is(send_to('dyn1', 'k1', 'a@x.com')->{status}, 404, 'not yet registered: 404');
$redis->hset('mailhook:connection:dyn1', vendor => 'inboxroad', secret => 'k1', tenant => 'acme');
sleep 1.1;  # the unknown id was remembered for at most a second
is(send_to('dyn1', 'k1', 'a@x.com')->{status}, 200, 'registered with HSET: 200 without reload');
my ($event) = $t->events;
is($event->{tenant}, 'acme', 'tenant from the hash');

# Key rotation: secret_next verifies too, then becomes the only secret.
$redis->hset('mailhook:connection:dyn1', secret_next => 'k2');
sleep 0.4;
is(send_to('dyn1', 'k2', 'b@x.com')->{status}, 200, 'secret_next verifies');
is(send_to('dyn1', 'k1', 'c@x.com')->{status}, 200, 'old secret still verifies');
$redis->hset('mailhook:connection:dyn1', secret => 'k2');
$redis->hdel('mailhook:connection:dyn1', 'secret_next');
sleep 0.4;
is(send_to('dyn1', 'k1', 'd@x.com')->{status}, 401, 'retired secret: 401');

$redis->hset('mailhook:connection:dyn1', enabled => '0');
sleep 0.4;
is(send_to('dyn1', 'k2', 'e@x.com')->{status}, 404, 'disabled: 404');

$redis->hset('mailhook:connection:sg', vendor => 'sendgrid', secret => 'bm90IGEga2V5');
my $r = $t->post('/webhooks/v2/sendgrid/sg', '[]', 'Content-Type' => 'application/json');
is($r->{status}, 500, 'unusable secret: 500 (the vendor retries until it is fixed)');
like($t->error_log, qr/connection=sg status=500 reason=connection_config request_id=[0-9a-f]{32}: secret is not a SendGrid verification key/,
    'logged with the reason, without the secret');
unlike($t->error_log, qr/bm90IGEga2V5/, 'the secret is never logged');

my ($signer, $key) = sendgrid_key();
$redis->hset('mailhook:connection:sg2', vendor => 'sendgrid', secret => $key);
my $body = '[{"email":"x@y.z","event":"open","sg_event_id":"o1","timestamp":1700000000}]';
is($t->post('/webhooks/v2/sendgrid/sg2', $body, sendgrid_headers($signer, $body))->{status}, 200,
    'SendGrid key from Redis parsed and used');
is($t->event_count, 4, 'exactly the accepted events stored');

$t->finish;
done_testing;
