# SPDX-License-Identifier: BSD-2-Clause
# Redis over TLS (Redis 7 --tls-port): certificates made here by openssl.
# The right CA and name store; a wrong CA, a wrong mailhook_redis_ssl_name
# and plaintext to the TLS port store nothing, are logged as TLS failures and
# answer 503 (or go to the spool, never 200 unspooled). Client certificates
# with --tls-auth-clients yes. A reconnect resumes the TLS session; Redis
# restarted with a new certificate from the same CA is reconnected to.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Certs qw(make_ca make_cert);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my $name = 'redis.mailhook.test';

make_ca($dir, 'test-ca');
make_ca($dir, 'other-ca');
make_cert($dir, 'test-ca', 'server', "subjectAltName=DNS:$name,IP:127.0.0.2");
make_cert($dir, 'test-ca', 'server2', "subjectAltName=DNS:$name");
make_cert($dir, 'test-ca', 'client', 'extendedKeyUsage=clientAuth');

# Redis keeps its plaintext port (for the test to look) beside the TLS one.
my $tls_port = Mailhook::Test::free_port();
sub start_tls_redis {
    my ($cert, @more) = @_;
    $t->start_redis('--tls-port', $tls_port, '--tls-cert-file', "$dir/$cert.crt",
        '--tls-key-file', "$dir/$cert.key", '--tls-ca-cert-file', "$dir/test-ca.crt",
        '--tls-auth-clients', 'no', '--bind', '127.0.0.1 127.0.0.2', @more);
}
start_tls_redis('server');

my $connection = 'mailhook_connection ir1 vendor=inboxroad secret=s1;';
sub tls_config {
    my (%opt) = @_;
    my $address = $opt{address} // "127.0.0.1:$tls_port tls";
    my $extra = join ' ', map { "mailhook_redis_$_;" } @{$opt{directives} // []};
    # ready => 'port': the harness's Redis is not the one nginx talks to
    return (redis => "mailhook_redis $address; $extra", http => $connection . ($opt{http} // ''),
        location => 'mailhook_redis_timeout 2s;', ready => 'port');
}
my @trusted = ("ssl_trusted_certificate $dir/test-ca.crt", "ssl_name $name");

my $n = 0;
sub send_event {
    $n++;
    return $t->post_delivered("r$n\@example.com", "e$n");
}
sub until_stored {
    my $deadline = time + 15;
    my $r;
    while (time < $deadline) {
        $r = send_event();
        return $r if $r->{status} == 200;
        sleep 0.1;
    }
    return $r;
}
my $log_seen = 0;
sub new_log { my $log = $t->error_log; my $new = substr($log, $log_seen); $log_seen = length $log; return $new }

# Right CA, right name.
$t->start_nginx(tls_config(directives => \@trusted));
my $r = until_stored();
is($r->{status}, 200, 'right CA and name: stored');
is($r->{content}, qq({"stored":1,"duplicates":0}\n), '... by Redis, not the spool');
is($t->event_count, 1, 'the event is in Redis');

# By IP address with no mailhook_redis_ssl_name: the address is the name,
# matched against the certificate's IP addresses.
$t->reload(tls_config(address => "127.0.0.2:$tls_port tls",
    directives => ["ssl_trusted_certificate $dir/test-ca.crt"]));
is(until_stored()->{status}, 200, 'by IP address: matched against the IP in the certificate');
$t->reload(tls_config(directives => ["ssl_trusted_certificate $dir/test-ca.crt"]));
is(send_event()->{status}, 503, 'by an IP address the certificate does not carry: 503');
$t->reload(tls_config(directives => \@trusted));

# A reconnect offers the saved session.
$t->redis->client_kill('TYPE', 'normal');
is(until_stored()->{status}, 200, 'stored again after the connection was killed');
like(new_log(), qr/SSL reused session/, 'the reconnect resumed the TLS session');

# Failures: nothing stored, 503, logged as a TLS failure.
my @failures = (
    ['wrong CA', ["ssl_trusted_certificate $dir/other-ca.crt", "ssl_name $name"], undef,
     qr/TLS certificate verify error: \(\d+:[^)]+\)/],
    ['wrong name', ["ssl_trusted_certificate $dir/test-ca.crt", 'ssl_name other.mailhook.test'], undef,
     qr/TLS certificate does not match "other\.mailhook\.test"/],
    ['plaintext to the TLS port', [], "127.0.0.1:$tls_port",
     qr/(closed the connection|read failed|protocol error: .*) during set-up \(a TLS port\? then add "tls"\)/],
);
for my $case (@failures) {
    my ($what, $directives, $address, $logged) = @$case;
    my $before = $t->event_count;
    new_log();
    $t->reload(tls_config(directives => $directives, address => $address));
    my $r = send_event();
    is($r->{status}, 503, "$what: 503");
    is($r->{headers}{'retry-after'}, '10', "$what: Retry-After");
    is($t->event_count, $before, "$what: nothing stored");
    sleep 0.3;
    my $log = join "\n", grep { /mailhook: redis/ } split /\n/, new_log();
    like($log, $logged, "$what: logged");
}

# With a spool the request is answered from it, and nothing reaches Redis
# through a link that is not trusted.
$t->reload(tls_config(directives => $failures[0][1], http => " mailhook_spool $dir/spool;"));
my $before = $t->event_count;
$r = send_event();
is($r->{status}, 200, 'wrong CA, spool on: 200');
like($r->{content}, qr/"spooled":1/, '... from the spool');
is($t->event_count, $before, '... nothing stored in Redis');

# Redis asks for client certificates. Without one the connection is
# refused (TLS 1.2 here: with TLS 1.3 the refusal comes after the handshake,
# as an alert nginx itself logs at [crit]).
$t->stop_redis;
start_tls_redis('server', '--tls-auth-clients', 'yes', '--tls-protocols', 'TLSv1.2');
new_log();
$t->reload(tls_config(directives => \@trusted));
$r = send_event();
is($r->{status}, 503, 'no client certificate: 503');
sleep 0.3;
like(join("\n", grep { /mailhook: redis/ } split /\n/, new_log()), qr/TLS handshake failed/,
    'no client certificate: logged');
$t->reload(tls_config(directives => [@trusted, "ssl_certificate $dir/client.crt",
    "ssl_certificate_key $dir/client.key"]));
$t->stop_redis;
start_tls_redis('server', '--tls-auth-clients', 'yes');
$before = $t->event_count;
is(until_stored()->{status}, 200, 'with a client certificate: stored');
is($t->event_count, $before + 1, '... in Redis');

# Redis restarted with a new certificate from the same CA.
$t->stop_redis;
start_tls_redis('server2', '--tls-auth-clients', 'yes');
is(until_stored()->{status}, 200, 'Redis with a new certificate: reconnected and stored');
is($t->event_count, 1, '... in the restarted (empty) Redis');

$t->finish;
done_testing;
