# SPDX-License-Identifier: BSD-2-Clause
# Unisender Go: `auth` in the body = MD5 (hex) of the body with the API key
# in place of that value.
use strict;
use warnings;
use lib 't/lib';

use Digest::MD5 qw(md5_hex);
use Mailhook::Test;
use Test::More;

my $key = 'ug-api-key-0123';
my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => "mailhook_connection ug1 vendor=unisender_go secret=$key;");
my $path = '/webhooks/v2/unisender_go/ug1';

# `$with_key` holds the key where the digest goes.
sub signed {
    my ($with_key, $signing_key) = @_;
    $signing_key //= $key;
    (my $keyed = $with_key) =~ s/"auth":"\Q$key\E"/"auth":"$signing_key"/;
    my $digest = md5_hex($keyed);
    (my $body = $with_key) =~ s/"auth":"\Q$key\E"/"auth":"$digest"/;
    return $body;
}

my $data = '{"job_id":"1sn15Z-0007Le-GtVN","email":"reader@example.net","status":"hard_bounced",'
    . '"event_time":"2024-09-08 19:56:41","metadata":{"campaign":"welcome"},'
    . '"delivery_info":{"delivery_status":"err_user_unknown","destination_response":"550 5.1.1 User unknown"}}';
my $with_key = qq({"auth":"$key","events_by_user":[{"user_id":5960727,"project_id":"6862471",)
    . qq("events":[{"event_name":"transactional_email_status","event_data":$data}]}]});
my $body = signed($with_key);
my $r = $t->post($path, $body, 'Content-Type' => 'application/json');
my $event = $t->only_stored_event($r, 'a hard bounce with its auth digest stored');
my $raw = delete $event->{raw};
is_deeply([sort keys %$raw], [qw(delivery_info email event_time job_id metadata status)],
    'raw is event_data (the digest is not stored)');
is_deeply($event, {
    schema => 1, vendor => 'unisender_go', connection => 'ug1', tenant => undef,
    type => 'bounced', bounce_class => 'hard', reject_reason => 'invalid',
    recipient => 'reader@example.net', message_id => '1sn15Z-0007Le-GtVN', event_id => undef,
    timestamp => '2024-09-08T19:56:41Z', smtp_status => '5.1.1',
    mta_response => '550 5.1.1 User unknown', description => 'err_user_unknown',
    click_url => undef, user_agent => undef, ip => undef, campaign_id => undef,
    tags => [], metadata => { campaign => 'welcome' }, vendor_event => 'hard_bounced',
}, 'normalized event, every field');
is($t->post($path, $body)->{content}, qq({"stored":0,"duplicates":1}\n), 'a resent callback is a duplicate');

(my $tampered = $body) =~ s/reader\@/victim\@/;
(my $unsigned = $with_key) =~ s/"auth":"[^"]*",//;
$t->refuses($path, undef, [
    ['digest made with another key', {}, signed($with_key, 'other-key')],
    ['tampered body', {}, $tampered],
    ['no auth', {}, $unsigned],
    ['the API key itself as auth', {}, $with_key],
], status => 401, label => 'signature');
$t->refuses($path, undef, [['not JSON', {}, '{"auth":']], status => 400, label => 'format');

$t->finish;
done_testing;
