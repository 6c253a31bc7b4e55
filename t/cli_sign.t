# SPDX-License-Identifier: BSD-2-Clause
# mailhook sign: for a connection of every vendor, a request signed as the
# vendor signs it, sent to the module in a real nginx: 200, and the event
# the command announced is the one stored. Printed as curl, it runs as it
# is. A request the module would refuse (a key that does not match, a
# scheme that needs a private key) is neither printed nor sent.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::CLI qw(cli cli_bin);
use Mailhook::SNS qw(pin_certificate);
use Mailhook::Sign qw(b64 postal_key sendgrid_key);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(sleep);

cli_bin();
my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $sns_key = pin_certificate($dir);
my $sns_cert = "$dir/pinned/SimpleNotificationService-test.pem";
$t->start_redis;
$t->start_nginx(http => "mailhook_connection_cache 200ms;\n"
    . "mailhook_sns_certificates $dir/pinned;\n"
    . 'mailhook_connection st1 vendor=inboxroad secret=static-secret;');
my $url = $t->url('');

sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$dir/$name" or die "$name: $!";
    print $fh $text;
    close $fh;
    return "$dir/$name";
}

my ($sg, $sg_public) = sendgrid_key();
my $sg_private = write_file('sendgrid.pem', $sg->export_key_pem('private'));
my $postal = postal_key();
my $postal_private = write_file('postal.pem', $postal->export_key_pem('private'));

# vendor => [connection fields for `connection add`, extra `sign` arguments]
my %cases = (
    brevo => [[qw(--secret brevo-token)]],
    generic => [[qw(--secret gen-secret --option signature_header=X-Hub-Signature-256
        --option prefix=sha256= --option timestamp_header=X-Timestamp --option signed_payload_separator=.)]],
    inboxroad => [[qw(--secret ir-secret --option signature_header=X-Inbox-Sig)]],
    mailersend => [[qw(--secret ms-signing-secret)]],
    mailgun => [[qw(--secret mg-signing-key)]],
    mailtrap => [[qw(--secret mt-signing-secret)]],
    mailjet => [[qw(--secret mj:password)]],
    mandrill => [[qw(--secret md-key)]],
    oci => [[qw(--secret ons:password)]],
    postal => [['--secret', $postal->export_key_pem('public_x509')], ['--private-key', $postal_private]],
    postmark => [[qw(--secret hooks:password)]],
    resend => [['--secret', 'whsec_' . b64('resend-signing-key')]],
    sendgrid => [['--secret', $sg_public], ['--private-key', $sg_private]],
    ses => [[qw(--option topic_arn=arn:aws:sns:eu-west-1:123456789012:mail)],
        ['--private-key', $sns_key, '--certificate', $sns_cert]],
    smartlead => [[qw(--secret sl-key)]],
    smtp2go => [[qw(--secret hook:password)]],
    smtpcom => [[qw(--secret sc-secret --option signature_header=X-Signature --option encoding=base64)]],
    sparkpost => [[qw(--secret sp-token --option auth=token)]],
    unisender_go => [[qw(--secret ug-api-key)]],
);

# Every vendor of the registry has a case (the registry's list is in the
# message for an unknown vendor).
my ($vendors) = cli($t, qw(connection add x --vendor nosuch --secret s))->{err} =~ /\(vendors: ([^)]+)\)/;
is_deeply([sort keys %cases], [sort split /, /, $vendors // ''], 'a case for every vendor');

for my $vendor (sort keys %cases) {
    my ($fields, $sign) = @{ $cases{$vendor} };
    my $id = "$vendor-1";
    my $r = cli($t, 'connection', 'add', $id, '--vendor', $vendor, @$fields);
    is($r->{code}, 0, "$vendor: connection added") or diag($r->{err});
}
sleep 0.3;

for my $vendor (sort keys %cases) {
    my (undef, $sign) = @{ $cases{$vendor} };
    my $id = "$vendor-1";
    my $before = $t->event_count;
    my $r = cli($t, 'sign', $vendor, $id, '--send', $url, '--recipient', "Reader+$vendor\@example.net",
        @{ $sign // [] });
    is($r->{code}, 0, "$vendor: sign --send exits 0") or diag($r->{err});
    is($r->{out}, qq(200 {"stored":1,"duplicates":0}\n), "$vendor: the module answers 200, one stored");
    my ($type, $recipient, $event_id) = $r->{err} =~ /^# (\w+) (\S+) \(event id ([0-9a-f]{32})\)$/m;
    is($recipient, "reader+$vendor\@example.net", "$vendor: the command names the event");
    is($t->event_count, $before + 1, "$vendor: one stream entry more");
    my ($stored) = grep { $_->{connection} eq $id } $t->events;
    is_deeply([@{$stored // {}}{qw(id type vendor recipient)}],
        [$event_id, $type, $vendor, "Reader+$vendor\@example.net"],
        "$vendor: the stored event is the one announced");
}

# --- printed as curl, the request runs as it is --------------------------------

my $r = cli($t, qw(sign inboxroad inboxroad-1 --url), $url);
is($r->{code}, 0, 'sign prints');
like($r->{out}, qr{^curl -sS '\Q$url\E/webhooks/v2/inboxroad/inboxroad-1' \\\n}, 'a curl command for the URL');
like($r->{out}, qr{-H 'X-Inbox-Sig: [^']+'}, 'with the signature header the connection names');
my $before = $t->event_count;
my $answer = `$r->{out}`;
is($answer, qq({"stored":1,"duplicates":0}\n), 'the printed command stores its event');
is($t->event_count, $before + 1, 'one more entry');
like(cli($t, qw(sign inboxroad inboxroad-1))->{out},
    qr{^curl -sS 'http://127\.0\.0\.1:8080/webhooks/v2/inboxroad/inboxroad-1'}, 'default URL: make run');

# A body of one's own, signed as it is; the same twice is a duplicate.
my $body = write_file('event.json',
    '{"kind":"hard_bounce","recipient":"own@example.net","timestamp":"2025-09-04T10:00:00Z"}');
$r = cli($t, qw(sign inboxroad inboxroad-1 --send), $url, '--body', $body);
is($r->{out}, qq(200 {"stored":1,"duplicates":0}\n), '--body: stored');
like($r->{err}, qr/^# bounced own\@example\.net /m, 'the body\'s event');
$r = cli($t, qw(sign inboxroad inboxroad-1 --send), $url, '--body', '-',
    { stdin => '{"kind":"hard_bounce","recipient":"own@example.net","timestamp":"2025-09-04T10:00:00Z"}' });
is($r->{out}, qq(200 {"stored":0,"duplicates":1}\n), '--body - (stdin): the same event again is a duplicate');

# A static connection (nginx.conf), described by flags.
$r = cli($t, qw(sign inboxroad st1 --secret static-secret --send), $url);
is($r->{out}, qq(200 {"stored":1,"duplicates":0}\n), 'static connection: --secret instead of Redis');
is($t->redis->exists('mailhook:connection:st1'), 0, 'nothing read from or written to Redis for it');

# During a rotation: either secret.
is(cli($t, qw(connection rotate mailgun-1 --secret mg-next-key))->{code}, 0, 'rotation started');
sleep 0.3;
$r = cli($t, qw(sign mailgun mailgun-1 --secret-next --send), $url);
is($r->{out}, qq(200 {"stored":1,"duplicates":0}\n), 'signed with secret_next: accepted');
$r = cli($t, qw(sign mailgun mailgun-1 --send), $url);
is($r->{out}, qq(200 {"stored":1,"duplicates":0}\n), 'signed with secret: accepted too');

# --- what is refused before anything is sent ---------------------------------

my ($stranger) = sendgrid_key();
my $stranger_private = write_file('stranger.pem', $stranger->export_key_pem('private'));
my @refused = (
    ['a key that is not the connection\'s', [qw(sign sendgrid sendgrid-1 --send), $url,
        '--private-key', $stranger_private], qr/the module would refuse this request \(401 signature\)/],
    ['no private key', [qw(sign sendgrid sendgrid-1 --send), $url], qr/give the P-256 key .* --private-key/],
    ['an RSA key for SendGrid', [qw(sign sendgrid sendgrid-1 --send), $url, '--private-key', $postal_private],
        qr/P-256 key: --private-key is not one/],
    ['a connection of another vendor', [qw(sign postmark mailgun-1 --send), $url],
        qr/connection mailgun-1 is a mailgun connection, not postmark/],
    ['an unknown connection', [qw(sign inboxroad nosuch --send), $url], qr/no connection nosuch in Redis/],
    ['a body that is not the vendor\'s format', [qw(sign sendgrid sendgrid-1 --send), $url,
        '--private-key', $sg_private, '--body', write_file('object.json', '{"not":"an array"}')],
        qr/the module would refuse this request \(400 format\): body is not a JSON array/],
    ['SES without the certificate', [qw(sign ses ses-1 --send), $url, '--private-key', $sns_key],
        qr/SES needs --certificate FILE/],
    ['secret_next without a rotation', [qw(sign inboxroad inboxroad-1 --secret-next --send), $url],
        qr/no secret_next/],
);
for my $case (@refused) {
    my ($name, $args, $message) = @$case;
    my $count = $t->event_count;
    my $requests = () = $t->error_log =~ /mailhook: rejected/g;
    $r = cli($t, @$args);
    is($r->{code}, 1, "$name: exit 1");
    like($r->{err}, $message, "$name: says why") or diag($r->{err});
    is($r->{out}, '', "$name: nothing printed");
    is($t->event_count, $count, "$name: nothing stored");
    is(scalar(() = $t->error_log =~ /mailhook: rejected/g), $requests, "$name: nothing sent");
}
is(cli($t, qw(sign nosuch x))->{code}, 2, 'an unknown vendor: exit 2');

$t->finish;
done_testing;
