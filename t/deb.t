# SPDX-License-Identifier: BSD-2-Clause
# The Debian package: install it into the system nginx, check what it put
# where, serve one signed webhook through /usr/sbin/nginx with the module
# loaded by the package's own modules-enabled file, then purge it and check
# that it is gone. Needs root and a built package (`make deb`; `make test`
# builds it first when run as root).
use strict;
use warnings;
use lib 't/lib';

use Cwd qw(abs_path);
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;

my $pkg = 'libnginx-mod-http-mailhook';
my $so = '/usr/lib/nginx/modules/ngx_http_mailhook_module.so';
my $available = '/usr/share/nginx/modules-available/mod-http-mailhook.conf';
my $enabled = '/etc/nginx/modules-enabled/50-mod-http-mailhook.conf';
my $nginx = '/usr/sbin/nginx';

plan(skip_all => 'installs a package into the system: run as root') if $> != 0;
plan(skip_all => "$nginx (Debian's nginx) not installed") unless -x $nginx;
plan(skip_all => 'apt-get not found') unless -x '/usr/bin/apt-get';
plan(skip_all => 'redis-server not installed')
    unless grep { -x "$_/redis-server" } split(/:/, $ENV{PATH} // ''), '/usr/bin';

my $deb = $ENV{MAILHOOK_DEB};
# make test names the package it built: its absence is a failure, not a skip.
if (defined $deb && length $deb) {
    die "MAILHOOK_DEB=$deb: no such package\n" unless -f $deb;
} else {
    my $arch = `dpkg --print-architecture`;
    chomp $arch;
    ($deb) = sort { -M $a <=> -M $b } glob("build/deb/${pkg}_*_$arch.deb");
}
plan(skip_all => 'package not built (' . ($deb // "build/deb/${pkg}_*.deb")
    . '): run make deb') unless defined $deb && -f $deb;
$deb = abs_path($deb);

# One t/deb.t at a time on a machine (several checkouts may run their tests).
use Fcntl qw(:flock);
open(my $lock, '>', '/run/lock/mailhook-deb-test.lock') or die "lock file: $!";
flock($lock, LOCK_EX) or die "flock: $!";

# Someone's own installation is not ours to replace and purge.
if (installed_version() && !$ENV{MAILHOOK_TEST_DEB_FORCE}) {
    plan(skip_all => "$pkg is installed on this machine already; t/deb.t would "
        . 'replace and purge it (MAILHOOK_TEST_DEB_FORCE=1 allows that)');
}

my @apt = ('apt-get', '-y', '-q', '--no-install-recommends',
    '-o', 'DPkg::Lock::Timeout=120');
local $ENV{DEBIAN_FRONTEND} = 'noninteractive';

# Whatever happens below (a failure, a die, Ctrl-C), the machine's package
# state is restored.
my $installed = 0;
my $harness;
$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);
END {
    local $?;
    if ($harness) {
        eval { $harness->stop_nginx; $harness->stop_redis };
    }
    if ($installed) {
        system("apt-get -y -q -o DPkg::Lock::Timeout=120 purge $pkg >/dev/null 2>&1");
    }
}

# --- install -----------------------------------------------------------------

my $out = run(@apt, 'install', $deb);
$installed = 1;
is($?, 0, "apt-get install $deb") or diag($out);
my $version = installed_version();
is($version, deb_field('Version'), 'package installed, version of the .deb');

ok(-f $so, "module in $so");
is(slurp($available), "load_module modules/ngx_http_mailhook_module.so;\n",
    "$available holds the load_module line");
ok(-l $enabled, "$enabled is a symlink");
is(readlink($enabled), $available, 'enabled link points at modules-available');
ok(-f "/usr/share/doc/$pkg/examples/conf.example", 'conf.example shipped as example');
ok(-f "/usr/share/doc/$pkg/README.md.gz", 'README shipped');
ok(-f "/usr/share/doc/$pkg/docs/directives.md.gz" && -f "/usr/share/doc/$pkg/docs/vendors/ses.md.gz",
    'docs/ shipped beside it');
my $cli = '/usr/bin/mailhook';
ok(-x $cli, "the mailhook command in $cli");
$out = `$cli --help 2>&1`;
is($?, 0, 'mailhook --help runs');
like($out, qr/^  connection /m, 'and lists its commands');

# The nginx ABI pin: the package depends on the nginx-abi-* virtual package
# that the installed nginx provides.
my $depends = deb_field('Depends');
my ($abi) = $depends =~ /\b(nginx-abi-[\w.+~-]+)/;
ok($abi, "Depends pins an nginx ABI ($depends)");
my $provides = `dpkg-query -W -f='\${Provides}' nginx 2>/dev/null`;
my $abi_re = quotemeta($abi // 'none');
like($provides, qr/(?:^|[\s,])$abi_re(?:[\s,]|\z)/,
    'the installed nginx provides that ABI');
# hiredis is linked into the module with its symbols hidden (issue 11).
unlike($depends, qr/libhiredis/, 'no Depends on libhiredis (linked statically)');
like($depends, qr/libjansson4/, 'Depends: libjansson4');
like($depends, qr/libssl3/, 'Depends: libssl3');

# The system configuration (it includes modules-enabled) loads the module.
$out = `$nginx -t 2>&1`;
is($?, 0, 'nginx -t with the system configuration') or diag($out);
my $dump = `$nginx -T 2>/dev/null`;
like($dump, qr/^# configuration file \Q$enabled\E:\nload_module modules\/ngx_http_mailhook_module\.so;/m,
    'nginx -T: the system configuration loads the packaged module');

# --- one signed webhook through the system nginx and the packaged module ------

{
    # The harness only wants to know that a module file exists; the module
    # is loaded by the include below, not by a load_module of the harness.
    local $ENV{MAILHOOK_MODULE} = $so;
    local $ENV{NGINX_BIN} = $nginx;
    my $t = $harness = Mailhook::Test->new;
    my $dir = $t->dir;
    $t->start_redis;
    my $port = Mailhook::Test::free_port();
    $t->{nginx_port} = $port;
    my $redis_port = $t->redis_port;
    # No -p: nginx keeps its compiled-in prefix (/usr/share/nginx/), so the
    # package's relative `load_module modules/...` resolves as it does for
    # the system configuration. Every other path is absolute.
    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print $fh <<"CONF";
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
include /etc/nginx/modules-enabled/*.conf;
events { worker_connections 64; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    mailhook_redis 127.0.0.1:$redis_port;
    mailhook_connection deb1 vendor=inboxroad secret=deb-secret tenant=pkg;
    server {
        listen 127.0.0.1:$port;
        location /webhooks/v2/ {
            mailhook;
        }
    }
}
CONF
    close $fh;

    $out = `$nginx -c $dir/nginx.conf -e $dir/error.log 2>&1`;
    my $started = $? == 0;
    ok($started, 'system nginx starts with the packaged module') or diag($out);
    SKIP: {
        skip('nginx did not start', 5) unless $started;
        eval {
            Mailhook::Test::wait_for('nginx pid', 10, sub { -s "$dir/nginx.pid" });
            Mailhook::Test::wait_for('nginx port', 10, sub { Mailhook::Test::_port_open($port) });

            my $body = '{"kind":"bounce","recipient":"user@example.com",'
                . '"message_id":"<deb-test@example.com>","timestamp":"2025-09-04T10:00:00Z"}';
            my $r = $t->post('/webhooks/v2/inboxroad/deb1', $body,
                'X-Signature' => hmac_b64($body, 'deb-secret'),
                'Content-Type' => 'application/json');
            is($r->{status}, 200, 'signed Inboxroad webhook answered 200');
            is($r->{content}, qq({"stored":1,"duplicates":0}\n), 'one event stored');
            my @events = $t->events;
            is(scalar @events, 1, 'one event in the Redis stream');
            is_deeply([map { $_ // 'null' } @{$events[0] // {}}{qw(vendor connection tenant recipient)}],
                ['inboxroad', 'deb1', 'pkg', 'user@example.com'], 'the event as normalized');
            my $line = `MAILHOOK_REDIS=127.0.0.1:$redis_port $cli tail --from 0 --count 1 2>&1`;
            like($line, qr{^\S+Z bounced inboxroad/deb1 user\@example\.com undetermined$},
                'the packaged mailhook command reads it from Redis');
            1;
        } or fail("serving through the packaged module: $@");
    }
    $t->finish;
    undef $harness;
}

# --- purge -------------------------------------------------------------------

$out = run(@apt, 'purge', $pkg);
is($?, 0, "apt-get purge $pkg") or diag($out);
$installed = 0 unless $?;
ok(!installed_version(), 'package no longer installed');
ok(!-e $so, 'module file removed');
ok(!-e $cli, 'mailhook command removed');
ok(!-e $available, 'modules-available file removed');
ok(!-l $enabled && !-e $enabled, 'modules-enabled link removed');
ok(!-l "$enabled.removed", 'no .removed link left');
$out = `$nginx -t 2>&1`;
is($?, 0, 'nginx -t with the system configuration after the purge') or diag($out);

done_testing;

# --- helpers -----------------------------------------------------------------

sub run {
    my @cmd = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or exit 127;
    }
    local $/;
    my $text = <$fh> // '';
    close $fh;
    return $text;
}

sub installed_version {
    my $status = `dpkg-query -W -f='\${db:Status-Status} \${Version}' $pkg 2>/dev/null`;
    return $status =~ /^installed (\S+)/ ? $1 : undef;
}

sub deb_field {
    my ($field) = @_;
    my $value = `dpkg-deb -f '$deb' $field`;
    chomp $value;
    return $value;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return <$fh>;
}
