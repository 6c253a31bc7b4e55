# SPDX-License-Identifier: BSD-2-Clause
# How the mailhook command reaches Redis, the module's way: unix sockets,
# ACL users and passwords (flags, variables, a file), db, the words of the
# mailhook_redis directive, the key prefix, and TLS (CA and name
# verification, client certificates) against a real redis-server with
# --tls-port and certificates made here with openssl.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Certs qw(make_ca make_cert);
use Mailhook::CLI qw(cli cli_bin);
use Mailhook::Test;
use Redis;
use Test::More;

cli_bin();
my $t = Mailhook::Test->new;
my $dir = $t->dir;

# --- certificates -------------------------------------------------------------------

make_ca($dir, $_) for qw(ca other-ca);
make_cert($dir, 'ca', 'server', 'subjectAltName=DNS:redis.test,IP:127.0.0.1');
make_cert($dir, 'ca', 'client', 'extendedKeyUsage=clientAuth');

my $tls_port = Mailhook::Test::free_port();
$t->start_redis('--unixsocket', "$dir/redis.sock", '--unixsocketperm', '700',
    '--tls-port', $tls_port, '--tls-cert-file', "$dir/server.crt",
    '--tls-key-file', "$dir/server.key", '--tls-ca-cert-file', "$dir/ca.crt",
    '--tls-auth-clients', 'no');
my $redis = $t->redis;

sub lists_ok {
    my ($name, @args) = @_;
    my $r = cli($t, 'connection', 'list', @args);
    is($r->{code}, 0, $name) or diag($r->{err});
    return $r;
}
sub fails {
    my ($name, $message, @args) = @_;
    my $r = cli($t, 'connection', 'list', @args);
    is($r->{code}, 1, "$name: exit 1");
    like($r->{err}, $message, "$name: says why");
}

# --- unix socket, db, prefix ----------------------------------------------------------

lists_ok('unix socket', '--redis', "unix:$dir/redis.sock");
my $r = cli($t, qw(connection add d2 --vendor inboxroad --secret s --redis-db 2));
is($r->{code}, 0, '--redis-db 2');
my $db2 = Redis->new(server => '127.0.0.1:' . $t->redis_port);
$db2->select(2);
is($db2->hget('mailhook:connection:d2', 'vendor'), 'inboxroad', 'written to db 2');
is($redis->exists('mailhook:connection:d2'), 0, 'not to db 0');
$r = cli($t, qw(connection add p1 --vendor inboxroad --secret s --key-prefix crm:));
is($r->{code}, 0, '--key-prefix');
is($redis->hget('crm:connection:p1', 'vendor'), 'inboxroad', 'the key under the prefix');
$r = cli($t, qw(connection list), { env => { MAILHOOK_KEY_PREFIX => 'crm:' } });
like($r->{out}, qr/^p1\tinboxroad\t/m, 'MAILHOOK_KEY_PREFIX');
unlike($r->{out}, qr/^d2|^hand/m, 'only the connections under that prefix');

# --- ACL user and password ----------------------------------------------------------

$redis->acl('SETUSER', 'crm', 'on', '>crm-pass', '~*', '&*', '+@all');
lists_ok('--redis-user and --redis-password', '--redis-user', 'crm', '--redis-password', 'crm-pass');
fails('a wrong password', qr/AUTH refused: WRONGPASS/, '--redis-user', 'crm',
    '--redis-password', 'nope');
$r = cli($t, qw(connection list), { env => { MAILHOOK_REDIS_USER => 'crm',
    MAILHOOK_REDIS_PASSWORD => 'nope' } });
is($r->{code}, 1, 'variables: a wrong password fails too');
$r = cli($t, qw(connection list --redis-password crm-pass), { env => { MAILHOOK_REDIS_USER => 'crm',
    MAILHOOK_REDIS_PASSWORD => 'nope' } });
is($r->{code}, 0, 'a flag wins over its variable');
open my $fh, '>', "$dir/password" or die;
print $fh "crm-pass\n";
close $fh;
lists_ok('--redis-password-file', '--redis-user', 'crm', '--redis-password-file', "$dir/password");
$r = cli($t, qw(connection add w1 --vendor inboxroad --secret s), { env => {
    MAILHOOK_REDIS => '127.0.0.1:' . $t->redis_port . ' user=crm password=crm-pass db=3' } });
is($r->{code}, 0, 'the words of mailhook_redis in MAILHOOK_REDIS') or diag($r->{err});
$db2->select(3);
is($db2->hget('mailhook:connection:w1', 'vendor'), 'inboxroad', 'db=3 used');
$r = cli($t, qw(connection list --redis), '127.0.0.1:1 sideways');
is($r->{code}, 2, 'an unknown word: exit 2');
like($r->{err}, qr/unknown word "sideways"/, 'and says which');

# --- TLS ------------------------------------------------------------------------

my @tls = ('--redis', "127.0.0.1:$tls_port", '--redis-tls');
my @ca = ('--redis-ssl-trusted-certificate', "$dir/ca.crt");
lists_ok('TLS: the CA, the IP address in the certificate', @tls, @ca);
lists_ok('TLS: --redis-ssl-name', @tls, @ca, '--redis-ssl-name', 'redis.test');
fails('TLS: a name the certificate lacks', qr/TLS handshake with wrong\.test failed/,
    @tls, @ca, '--redis-ssl-name', 'wrong.test');
fails('TLS: another CA', qr/TLS handshake with 127\.0\.0\.1 failed: .*certificate/,
    @tls, '--redis-ssl-trusted-certificate', "$dir/other-ca.crt");
fails('TLS: the system CAs', qr/TLS handshake .* failed/, @tls);
lists_ok('TLS: --redis-ssl-verify off', @tls, '--redis-ssl-verify', 'off');
fails('TLS to the plaintext port', qr/TLS handshake .* failed: no answer within the timeout/,
    '--redis', '127.0.0.1:' . $t->redis_port, '--redis-tls', @ca, '--redis-timeout', '1s');
fails('plaintext to the TLS port', qr/redis: /, '--redis', "127.0.0.1:$tls_port",
    '--redis-timeout', '1s');
$r = cli($t, qw(connection list), { env => { MAILHOOK_REDIS => "127.0.0.1:$tls_port tls",
    MAILHOOK_REDIS_SSL_TRUSTED_CERTIFICATE => "$dir/ca.crt" } });
is($r->{code}, 0, 'TLS from the variables (tls as a word of MAILHOOK_REDIS)') or diag($r->{err});

$redis->config_set('tls-auth-clients', 'yes');
fails('TLS: a client certificate required, none given', qr/redis: /, @tls, @ca);
lists_ok('TLS: with the client certificate', @tls, @ca,
    '--redis-ssl-certificate', "$dir/client.crt", '--redis-ssl-certificate-key', "$dir/client.key");
$r = cli($t, 'connection', 'list', @tls, @ca, '--redis-ssl-certificate', "$dir/client.crt");
is($r->{code}, 2, 'a certificate without its key: exit 2');

$t->finish;
done_testing;
