# SPDX-License-Identifier: BSD-2-Clause
# The mailhook command against a real Redis and the module in a real nginx:
# connection add/set/show/list/disable/enable/rotate (every secret checked
# with the module's parsers: refusals exit 1, say why, write nothing),
# rotation end to end with the module accepting both secrets, suppression
# get/list/remove, tail, token.
use strict;
use warnings;
use lib 't/lib';

use Crypt::PK::ECC;
use Mailhook::CLI qw(cli cli_bin);
use Mailhook::Sign qw(b64 hmac_b64 postal_key sendgrid_key);
use Mailhook::Test;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep);

cli_bin();
my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(http => 'mailhook_connection_cache 200ms;');
my $redis = $t->redis;

sub fields { +{ $redis->hgetall("mailhook:connection:$_[0]") } }
sub after_cache { sleep 0.3 }

# --- help and the command line -------------------------------------------------

my $r = cli($t, '--help');
is($r->{code}, 0, '--help exits 0');
like($r->{out}, qr/^  $_ /m, "--help lists $_")
    for qw(connection suppression tail token);
like($r->{out}, qr/MAILHOOK_REDIS_PASSWORD/, '--help names the environment variables');
is(cli($t)->{code}, 2, 'no command: exit 2');
$r = cli($t, 'frobnicate');
is($r->{code}, 2, 'unknown command: exit 2');
like($r->{err}, qr/unknown command "frobnicate"/, 'and says so');
$r = cli($t, 'connection', 'show');
is($r->{code}, 2, 'missing argument: exit 2');
like($r->{err}, qr/missing connection ID/, 'and says which');
$r = cli($t, 'connection', 'add', 'x1', '--vendor', 'inboxroad', '--secret', 's', '--option', 'secret=y');
is($r->{code}, 2, '--option cannot set the secret');
is_deeply(fields('x1'), {}, 'nothing written');

# --- add / show / list -----------------------------------------------------------

my ($sg_signer, $sg_key) = sendgrid_key();
my $postal = postal_key();
my $postal_pem = $postal->export_key_pem('public_x509');
my $whsec = 'whsec_' . b64('0123456789abcdef0123456789abcdef');

my @good = (
    ['sg1', '--vendor', 'sendgrid', '--secret', $sg_key, '--tenant', 'acme'],
    ['po1', '--vendor', 'postal', '--secret', $postal_pem],
    ['rs1', '--vendor', 'resend', '--secret', $whsec],
    ['ge1', '--vendor', 'generic', '--secret', 'gen-secret', '--option', 'signature_header=X-Sig',
        '--option', 'encoding=base64'],
    ['se1', '--vendor', 'ses', '--option', 'topic_arn=arn:aws:sns:eu-west-1:123456789012:mail'],
);
for my $case (@good) {
    my ($id, @args) = @$case;
    $r = cli($t, 'connection', 'add', $id, @args);
    is($r->{code}, 0, "add $id ($args[1])") or diag($r->{err});
    like($r->{out}, qr/^connection \Q$id\E added \(\Q$args[1]\E, usable\)/, "add $id says so");
}
is_deeply(fields('sg1'), { vendor => 'sendgrid', secret => $sg_key, tenant => 'acme' },
    'sg1 hash holds exactly the given fields');
is_deeply(fields('ge1'), { vendor => 'generic', secret => 'gen-secret',
    signature_header => 'X-Sig', encoding => 'base64' }, 'options become fields');

$r = cli($t, 'connection', 'show', 'sg1');
is($r->{code}, 0, 'show');
like($r->{out}, qr/^vendor\s+sendgrid$/m, 'show: vendor');
like($r->{out}, qr/^tenant\s+acme$/m, 'show: tenant');
like($r->{out}, qr/^state\s+usable$/m, 'show: state');
like($r->{out}, qr/^secret\s+set \(\d+ bytes\)$/m, 'show: the secret as its length');
unlike($r->{out}, qr/\Q$sg_key\E/, 'show prints no secret');
like($r->{out}, qr{^endpoint\s+POST /webhooks/v2/sendgrid/sg1$}m, 'show: the endpoint');
like(cli($t, 'connection', 'show', 'sg1', '--reveal')->{out}, qr/^secret\s+\Q$sg_key\E$/m,
    'show --reveal prints it');
like(cli($t, 'connection', 'show', 'ge1')->{out}, qr/^option signature_header\s+X-Sig$/m,
    'show: options');
$r = cli($t, 'connection', 'show', 'nosuch');
is($r->{code}, 1, 'show of an unknown id: exit 1');
like($r->{err}, qr/no connection nosuch/, 'and says so');

$r = cli($t, 'connection', 'list');
is($r->{code}, 0, 'list');
my @rows = map { [split /\t/] } grep { !/^ID\t/ } split /\n/, $r->{out};
is_deeply([map { $_->[0] } @rows], [sort map { $_->[0] } @good], 'list: every connection, sorted');
is_deeply((grep { $_->[0] eq 'sg1' } @rows)[0], ['sg1', 'sendgrid', 'acme', 'usable'],
    'list: vendor, tenant, state');

# The secret from stdin and from a file (out of ps and shell history).
$r = cli($t, 'connection', 'add', 'in1', '--vendor', 'inboxroad', '--secret', '-',
    { stdin => "stdin-secret\n" });
is($r->{code}, 0, '--secret - reads stdin');
is(fields('in1')->{secret}, 'stdin-secret', 'the line without its newline');
my $file = $t->dir . '/secret.pem';
open my $fh, '>', $file or die;
print $fh $postal_pem;
close $fh;
$r = cli($t, 'connection', 'set', 'po1', '--secret-file', $file);
is($r->{code}, 0, '--secret-file');
(my $trimmed = $postal_pem) =~ s/\n+\z//;
is(fields('po1')->{secret}, $trimmed, 'the file, final newline dropped');

# --- refusals: exit 1, the reason, nothing written ------------------------------------

my $p384 = Crypt::PK::ECC->new;
$p384->generate_key('secp384r1');
my @refused = (
    ['sendgrid key that is not a key', [qw(add r1 --vendor sendgrid --secret not-a-key)],
        qr/secret is not a SendGrid verification key/],
    ['sendgrid key that is RSA', ['add', 'r2', '--vendor', 'sendgrid', '--secret',
        b64($postal->export_key_der('public'))], qr/P-256/],
    ['sendgrid key on P-384', ['add', 'r3', '--vendor', 'sendgrid', '--secret',
        b64($p384->export_key_der('public'))], qr/P-256/],
    ['postal key that is EC', ['add', 'r4', '--vendor', 'postal', '--secret', $sg_key],
        qr/not a Postal RSA public key/],
    ['postal key that is text', [qw(add r5 --vendor postal --secret hello)],
        qr/not a Postal RSA public key/],
    ['whsec_ secret not base64', [qw(add r6 --vendor resend --secret whsec_!!!not-base64)],
        qr/not a whsec_ base64 key/],
    ['generic without signature_header', [qw(add r7 --vendor generic --secret s)],
        qr/signature_header is required/],
    ['generic with an unknown algorithm', [qw(add r8 --vendor generic --secret s
        --option signature_header=X-Sig --option algorithm=md5)], qr/algorithm must be sha256 or sha1/],
    ['generic base64 secret that is not', [qw(add r9 --vendor generic --secret ***
        --option signature_header=X-Sig --option secret_encoding=base64)], qr/secret is not base64/],
    ['smtpcom with an unknown encoding', [qw(add r10 --vendor smtpcom --secret s
        --option signature_header=X-Sig --option encoding=rot13)], qr/encoding must be hex or base64/],
    ['sparkpost with an unknown auth', [qw(add r11 --vendor sparkpost --secret s --option auth=cookie)],
        qr/auth must be basic, bearer or token/],
    ['mailgun without a secret', [qw(add r12 --vendor mailgun)], qr/no secret/],
    ['an unknown vendor', [qw(add r13 --vendor nosuch --secret s)],
        qr/unknown vendor "nosuch" \(vendors: .*sendgrid/],
    ['a bad connection id', ['add', 'bad id', '--vendor', 'inboxroad', '--secret', 's'],
        qr/connection ids are/],
);
for my $case (@refused) {
    my ($name, $args, $message) = @$case;
    my $id = $args->[1];
    $r = cli($t, 'connection', @$args);
    is($r->{code}, 1, "$name: exit 1");
    like($r->{err}, qr/refused, nothing written: connection \Q$id\E: .*$message/, "$name: says why")
        or diag($r->{err});
    is($redis->exists("mailhook:connection:$id"), 0, "$name: no key");
}

my $sg_before = fields('sg1');
$r = cli($t, qw(connection add sg1 --vendor inboxroad --secret s));
is($r->{code}, 1, 'add of an existing id: exit 1');
like($r->{err}, qr/exists already/, 'and says so');
$r = cli($t, qw(connection set sg1 --secret not-a-key));
is($r->{code}, 1, 'set with a bad key: exit 1');
like($r->{err}, qr/not a SendGrid verification key/, 'and says why');
$r = cli($t, qw(connection rotate sg1 --secret not-a-key));
is($r->{code}, 1, 'rotate to a bad key: exit 1');
like($r->{err}, qr/secret_next: secret is not a SendGrid verification key/, 'says which secret');
$r = cli($t, qw(connection set sg1 --vendor postal));
is($r->{code}, 1, 'set of a vendor the secret does not fit: exit 1');
$r = cli($t, qw(connection rotate sg1 --finish));
is($r->{code}, 1, 'rotate --finish without a rotation: exit 1');
like($r->{err}, qr/no rotation in progress/, 'and says so');
is_deeply(fields('sg1'), $sg_before, 'sg1 unchanged by every refusal');
$r = cli($t, qw(connection set nosuch --tenant x));
is($r->{code}, 1, 'set of an unknown id: exit 1');
is($redis->exists('mailhook:connection:nosuch'), 0, 'no key made');

# A connection written by hand with a bad key: show says why; it cannot be
# enabled, but can be switched off.
$redis->hset('mailhook:connection:hand', vendor => 'sendgrid', secret => 'typo', enabled => 0);
like(cli($t, qw(connection show hand))->{out}, qr/^state\s+unusable: secret is not a SendGrid/m,
    'show: unusable, and why');
$r = cli($t, qw(connection enable hand));
is($r->{code}, 1, 'enable of an unusable connection: exit 1');
is(fields('hand')->{enabled}, '0', 'still disabled');
$redis->hset('mailhook:connection:hand', enabled => 1);
$r = cli($t, qw(connection disable hand));
is($r->{code}, 0, 'disable of an unusable connection works');
is(fields('hand')->{enabled}, '0', 'enabled=0 written');

# --- rotation end to end, through the module ---------------------------------------

my $n = 0;
sub delivery {
    my ($secret) = @_;
    $n++;
    my $body = qq({"kind":"delivered","recipient":"user$n\@example.com","timestamp":"2025-09-04T10:00:0${\ ($n % 10)}Z"});
    return $t->post('/webhooks/v2/inboxroad/rot', $body, 'X-Signature' => hmac_b64($body, $secret),
        'Content-Type' => 'application/json');
}

is(cli($t, qw(connection add rot --vendor inboxroad --secret old-secret))->{code}, 0, 'add rot');
after_cache();
is(delivery('old-secret')->{status}, 200, 'old secret accepted');
is(cli($t, qw(connection rotate rot --secret new-secret))->{code}, 0, 'rotate starts');
is_deeply(fields('rot'), { vendor => 'inboxroad', secret => 'old-secret', secret_next => 'new-secret' },
    'secret_next stored beside the secret');
like(cli($t, qw(connection show rot))->{out}, qr/^rotation\s+in progress/m, 'show: rotating');
$r = cli($t, qw(connection rotate rot --secret third));
is($r->{code}, 1, 'a second rotation is refused while one is in progress');
after_cache();
is(delivery('old-secret')->{status}, 200, 'during the rotation: old secret accepted');
is(delivery('new-secret')->{status}, 200, 'during the rotation: new secret accepted');
is(delivery('other-secret')->{status}, 401, 'during the rotation: another secret refused');
is(cli($t, qw(connection rotate rot --finish))->{code}, 0, 'rotate --finish');
is_deeply(fields('rot'), { vendor => 'inboxroad', secret => 'new-secret' }, 'secret_next became the secret');
after_cache();
is(delivery('old-secret')->{status}, 401, 'after the rotation: old secret refused');
is(delivery('new-secret')->{status}, 200, 'after the rotation: new secret accepted');
is(cli($t, qw(connection rotate rot --secret newest))->{code}, 0, 'another rotation');
is(cli($t, qw(connection rotate rot --cancel))->{code}, 0, 'rotate --cancel');
is_deeply(fields('rot'), { vendor => 'inboxroad', secret => 'new-secret' }, 'secret_next dropped');
my @stored = grep { $_->{connection} eq 'rot' } $t->events;
is(scalar @stored, 4, 'exactly the four accepted deliveries stored');

is(cli($t, qw(connection disable rot))->{code}, 0, 'disable');
after_cache();
is(delivery('new-secret')->{status}, 404, 'disabled: 404');
is(cli($t, qw(connection enable rot))->{code}, 0, 'enable');
is(fields('rot')->{enabled}, '1', 'enabled=1');
after_cache();
is(delivery('new-secret')->{status}, 200, 'enabled again: 200');

# --- suppression ------------------------------------------------------------------

is(cli($t, qw(connection add sup --vendor inboxroad --secret sup-secret --tenant shop))->{code}, 0,
    'add sup');
after_cache();
my $bounce = '{"kind":"hard_bounce","recipient":"Gone@Example.com","timestamp":"2025-09-04T11:00:00Z",'
    . '"smtp_response":"550 5.1.1 user unknown"}';
is($t->post('/webhooks/v2/inboxroad/sup', $bounce, 'X-Signature' => hmac_b64($bounce, 'sup-secret'),
    'Content-Type' => 'application/json')->{status}, 200, 'hard bounce stored');
my ($bounced) = grep { $_->{type} eq 'bounced' } $t->events;

$r = cli($t, qw(suppression list shop));
is($r->{code}, 0, 'suppression list');
like($r->{out}, qr/^gone\@example\.com\thard_bounce\t2025-09-04T11:00:00Z\tinboxroad\t$bounced->{id}$/m,
    'list: recipient, reason, time, vendor, event id');
$r = cli($t, qw(suppression get shop GONE@example.com));
is($r->{code}, 0, 'suppression get (any case)');
like($r->{out}, qr/^reason\s+hard_bounce$/m, 'get: the reason');
like($r->{out}, qr/^event id\s+$bounced->{id}$/m, 'get: the event id');
like($r->{out}, qr/^event\s+\S+Z bounced inboxroad\/sup gone\@example\.com hard 5\.1\.1 550 5\.1\.1 user unknown$/mi,
    'get: the stored event behind it');
like($r->{out}, qr/^change\s+added hard_bounce at 2025-09-04T11:00:00Z by inboxroad\/sup$/m,
    'get: the change that made it');
$r = cli($t, qw(suppression get shop someone@example.com));
is($r->{code}, 0, 'get of an address not suppressed');
like($r->{out}, qr/is not suppressed/, 'says so');

my $changes = $redis->xlen('mailhook:suppression-events');
$r = cli($t, qw(suppression remove shop gone@example.com));
is($r->{code}, 0, 'suppression remove');
like($r->{out}, qr/removed gone\@example\.com from shop \(was hard_bounce\)/, 'says what it removed');
is($redis->hget('mailhook:suppression:shop', 'gone@example.com'), undef, 'entry gone');
my @entries = $t->stream('mailhook:suppression-events');
is(scalar @entries, $changes + 1, 'one change recorded');
my %removal = %{ $entries[-1]{fields} };
delete $removal{at};
is_deeply(\%removal, { action => 'removed', recipient => 'gone@example.com', reason => 'hard_bounce',
    previous => 'hard_bounce', scope => 'mailhook:suppression:shop', vendor => '', connection => '',
    event_id => '', source => 'cli' }, 'the removal, as the module records its changes');
$r = cli($t, qw(suppression remove shop gone@example.com));
is($r->{code}, 1, 'removing it again: exit 1');
like($r->{err}, qr/not suppressed in shop: nothing removed/, 'and says so');
like(cli($t, qw(suppression get shop gone@example.com))->{out}, qr/is not suppressed/,
    'get: not suppressed any more');

# --- tail -------------------------------------------------------------------------

$r = cli($t, qw(tail --from 0 --count 1 --type bounced));
is($r->{code}, 0, 'tail --from 0 --type bounced');
like($r->{out}, qr/^\S+Z bounced inboxroad\/sup gone\@example\.com hard 5\.1\.1 550 5\.1\.1 user unknown\n\z/i,
    'one line: the bounce');
$r = cli($t, qw(tail --from 0 --count 2 --connection rot --json));
my @lines = split /\n/, $r->{out};
is(scalar @lines, 2, 'tail --json --connection: two lines');
is($t->json->decode($lines[0])->{connection}, 'rot', 'each the event JSON');
$r = cli($t, qw(tail --type nonsense));
is($r->{code}, 2, 'tail with an unknown type: exit 2');
like($r->{err}, qr/unknown event type "nonsense" \(types: .*bounced/, 'lists the types');

# Following: a tail started first sees the event posted after it.
my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    my $out = cli($t, qw(tail --count 1 --type delivered));
    open my $o, '>', $t->dir . '/tail.out' or die;
    print $o $out->{out};
    close $o;
    POSIX::_exit($out->{code});  # not exit: END would tear the harness down
}
sleep 0.5;
is(delivery('new-secret')->{status}, 200, 'a delivery while tail follows');
Mailhook::Test::wait_for('tail', 10, sub { waitpid($pid, 1) == $pid });
is($? >> 8, 0, 'tail exits after --count events');
my $followed = do { local (@ARGV, $/) = ($t->dir . '/tail.out'); <> };
like($followed, qr/^\S+Z delivered inboxroad\/rot user$n\@example\.com\n\z/, 'it printed the new event');

# --- token (mailhook-token is the same command) ----------------------------------

my @key = qw(--key-id k1 --key 0123456789abcdef0123);
$r = cli($t, 'token', 'sign', @key, qw(--connection c1 --recipient a@example.com --ttl 600));
is($r->{code}, 0, 'token sign');
chomp(my $token = $r->{out});
like($token, qr/^[\w-]+\.[\w-]+$/, 'prints a token');
$r = cli($t, 'token', 'verify', @key, $token);
is($r->{code}, 0, 'token verify');
like($r->{out}, qr/"r":"a\@example.com"/, 'prints the payload');
$r = cli($t, 'verify', qw(--key-id k1 --key 0123456789abcdef9999), $token, { argv0 => 'mailhook-token' });
is($r->{code}, 1, 'called as mailhook-token: the token command; a wrong key: exit 1');
like($r->{out}, qr/^invalid: /, 'says invalid');
is(cli($t, 'token', 'sign', '--key-id', 'k1')->{code}, 2, 'token usage error: exit 2');

# --- Redis unreachable ----------------------------------------------------------

$r = cli($t, qw(connection list --redis 127.0.0.1:1));
is($r->{code}, 1, 'Redis unreachable: exit 1');
like($r->{err}, qr/cannot connect to 127\.0\.0\.1:1/, 'and says where it tried');

$t->finish;
done_testing;
