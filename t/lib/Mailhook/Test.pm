# SPDX-License-Identifier: BSD-2-Clause
package Mailhook::Test;

# Test harness in the spirit of nginx-tests: a temp dir per test file, free
# loopback ports (held with a lock), a real redis-server and a real nginx with
# the built module. The end-of-file checks (schema, error log, sanitizers) run
# from finish() or, when the file dies half-way, from END.

use strict;
use warnings;

use Cwd qw(abs_path);
use Fcntl qw(:flock);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Mailhook::Sign ();
use POSIX qw(WNOHANG);
use Redis;
use Scalar::Util qw(weaken);
use Test::More;
use Time::HiRes qw(sleep time);

# Live harnesses, so a test that dies half-way is checked and torn down from
# END: that runs before File::Temp's own END removes the test directory and
# before Test::More's END counts the assertions (END blocks run in reverse
# order of definition), while pid file and reports exist.
my @live;
END { for my $self (grep { defined } @live) { $self->teardown } }

sub new {
    my ($class, %opt) = @_;
    for my $bin ('redis-server') {
        plan(skip_all => "$bin not installed") unless _which($bin);
    }
    my $module = $ENV{MAILHOOK_MODULE}
        // abs_path('build/modules/ngx_http_mailhook_module.so');
    plan(skip_all => "module not built ($module): run make module")
        unless $module && -f $module;
    my $dir = tempdir('mailhook-test-XXXXXXXX', TMPDIR => 1,
        CLEANUP => !$ENV{MAILHOOK_TEST_LEAVE});
    chmod 0755, $dir;
    my $self = bless {
        dir => $dir,
        module => $module,
        nginx_bin => $ENV{NGINX_BIN} // '/usr/sbin/nginx',
        workers => $opt{workers} // 1,
        owner => $$,
        json => JSON::PP->new->canonical,
    }, $class;
    diag("test dir: $dir") if $ENV{MAILHOOK_TEST_LEAVE};
    push @live, $self;
    weaken($live[-1]);
    return $self;
}

sub dir { $_[0]{dir} }

# --- sanitizers ----------------------------------------------------------------
#
# `make test-asan` loads an ASan/UBSan-built module into Debian's nginx, which
# is not instrumented: the ASan runtime must be the first library of the
# process, so it is preloaded (MAILHOOK_SANITIZER_PRELOAD, the path of
# libasan.so). Only nginx gets it, never perl or redis-server. ASan and LSan
# reports go to files in the test directory (asan.<pid>), which finish()
# reads. UBSan reports go to stderr, which nginx points at error.log: GCC's
# libubsan is a separate runtime whose report-path setter is shadowed by the
# preloaded libasan's, so its log_path has no effect. The module is built
# with -fno-sanitize-recover, so UB also kills the worker.

sub sanitized { !!$ENV{MAILHOOK_SANITIZER_PRELOAD} }

# Leaks are checked when each nginx process exits (see
# t/sanitizers/lsan.supp for what belongs to nginx itself).
sub sanitizer_env {
    my ($self) = @_;
    return () unless $self->sanitized;
    my $opts = sub {
        my ($base, $file, @more) = @_;
        return join ':', grep { length } $base // '', @more,
            "log_path=$self->{dir}/$file";
    };
    return (
        LD_PRELOAD => $ENV{MAILHOOK_SANITIZER_PRELOAD},
        ASAN_OPTIONS => $opts->($ENV{MAILHOOK_ASAN_OPTIONS}, 'asan'),
        UBSAN_OPTIONS => $opts->($ENV{MAILHOOK_UBSAN_OPTIONS}, 'ubsan'),
        LSAN_OPTIONS => $ENV{MAILHOOK_LSAN_OPTIONS} // '',
    );
}

# Runs an nginx command line (start, -s reload, -t) with the sanitizer
# environment; returns its output, $? set.
sub nginx_command {
    my ($self, $args) = @_;
    local %ENV = (%ENV, $self->sanitizer_env);
    return `$self->{nginx_bin} $args 2>&1`;
}

# Sanitizer report files written so far: { file => first lines }.
sub sanitizer_reports {
    my ($self) = @_;
    my %reports;
    for my $file (glob("$self->{dir}/asan.* $self->{dir}/ubsan.*")) {
        open my $fh, '<', $file or next;
        my @lines = <$fh>;
        next unless @lines;
        $reports{$file} = join '', @lines[0 .. ($#lines < 40 ? $#lines : 40)];
    }
    return \%reports;
}

sub _which {
    my ($bin) = @_;
    for my $path (split /:/, $ENV{PATH} // '', -1) {
        return "$path/$bin" if -x "$path/$bin";
    }
    for my $path ('/usr/sbin', '/usr/bin') {
        return "$path/$bin" if -x "$path/$bin";
    }
    return;
}

# A free loopback port, held for the rest of this process: several test runs
# share the machine (prove -j2 in several checkouts), so each port comes with
# an flock'd file under /tmp that other runs see, as nginx-tests' port()
# holds one. Ports are drawn below the kernel's ephemeral range, where client
# sockets get their local ports, so a connect() cannot take one either.
my $port_lock_dir = '/tmp/mailhook-test-ports';
my %held_ports;    # port => lock file handle

sub free_port {
    mkdir $port_lock_dir, 01777;
    my ($low, $high) = (20000, _ephemeral_low() - 1);
    for (1 .. 200) {
        my $port = $low + int(rand($high - $low + 1));
        next if $held_ports{$port};
        open my $lock, '>>', "$port_lock_dir/$port" or next;
        next unless flock($lock, LOCK_EX | LOCK_NB);
        my $probe = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
            LocalPort => $port, Proto => 'tcp', ReuseAddr => 1) or next;
        close $probe;
        $held_ports{$port} = $lock;
        return $port;
    }
    die "no free port between $low and $high\n";
}

sub _ephemeral_low {
    open my $fh, '<', '/proc/sys/net/ipv4/ip_local_port_range' or return 32768;
    my ($low) = split ' ', <$fh> // '';
    return $low && $low > 21000 ? $low : 32768;
}

sub wait_for {
    my ($what, $timeout, $check) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 if $check->();
        sleep 0.02;
    }
    die "timed out waiting for $what\n";
}

sub _port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# --- redis -------------------------------------------------------------------

sub start_redis {
    my ($self, @extra) = @_;
    $self->{redis_port} //= free_port();
    my $port = $self->{redis_port};
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>>', "$self->{dir}/redis.log";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-server', '--bind', '127.0.0.1', '--port', $port,
            '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
            '--protected-mode', 'no', @extra;
        exit 127;
    }
    $self->{redis_pid} = $pid;
    wait_for('redis', 10, sub {
        my $r = eval { Redis->new(server => "127.0.0.1:$port", reconnect => 0) };
        return 0 unless $r;
        my $ok = eval { $r->ping } // 0;
        $r->quit;
        return $ok;
    });
    delete $self->{redis};
    return $port;
}

sub redis_port { $_[0]{redis_port} //= free_port() }

# A redis-server replicating 127.0.0.1:$opt{of} (default: this harness's
# Redis) on a free port, its log and dump named $opt{name} ('replica'),
# stopped by finish(), with $opt{args} (an array ref) as more arguments.
# Returns (port, pid) once its link to the primary is up.
sub start_replica {
    my ($self, %opt) = @_;
    my $primary = $opt{of} // $self->redis_port;
    my $name = $opt{name} // 'replica';
    my $port = free_port();
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$self->{dir}/$name.log";
        open STDERR, '>&', \*STDOUT;
        { exec 'redis-server', '--bind', '127.0.0.1', '--port', $port, '--save', '',
            '--appendonly', 'no', '--dir', $self->{dir}, '--dbfilename', "$name.rdb",
            '--protected-mode', 'no', '--replicaof', '127.0.0.1', $primary,
            @{ $opt{args} // [] } };
        POSIX::_exit(127);
    }
    push @{ $self->{replica_pids} }, $pid;
    wait_for("$name, a replica of $primary", 20, sub {
        (eval { Redis->new(server => "127.0.0.1:$port", reconnect => 0)
                    ->info('replication')->{master_link_status} } // '') eq 'up' });
    return ($port, $pid);
}

# Stops the replicas start_replica() started (a test may have paused one).
sub stop_replicas {
    my ($self) = @_;
    for my $pid (@{ delete $self->{replica_pids} // [] }) {
        kill 'CONT', $pid;
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
}

sub redis {
    my ($self) = @_;
    $self->{redis} //= Redis->new(server => "127.0.0.1:$self->{redis_port}",
        reconnect => 2, every => 50_000);
    return $self->{redis};
}

sub stop_redis {
    my ($self, $signal) = @_;
    my $pid = delete $self->{redis_pid} or return;
    delete $self->{redis};
    kill($signal // 'TERM', $pid);
    waitpid($pid, 0);
}

# --- nginx -------------------------------------------------------------------

# $http: directives inside http{}; $location: inside the webhook location.
# Returns once nginx listens and, when this harness's Redis runs, every
# worker is connected to it (ready => 'port': only the listening socket).
sub start_nginx {
    my ($self, %opt) = @_;
    $self->{nginx_port} //= free_port();
    $self->{nginx_opt} = \%opt;
    $self->write_config(%opt);
    my $out = $self->nginx_command("-p $self->{dir}/ -c nginx.conf -e error.log");
    die "nginx failed to start: $out" if $?;
    wait_for('nginx pid', 10, sub { -s "$self->{dir}/nginx.pid" });
    $self->{nginx_master} = $self->nginx_pid;
    wait_for('nginx port', 10, sub { _port_open($self->{nginx_port}) });
    $self->check_sanitized if $self->sanitized;
    $self->wait_workers_ready;
    return $self->{nginx_port};
}

# The harness's own status page (every server has it; not logged).
my $status_path = '/.mailhook-test/status';

# mailhook_status as JSON: { family => [samples] }.
sub status {
    my ($self) = @_;
    my $r = $self->request('GET', "$status_path?format=json", timeout => 2);
    die "status page: $r->{status} $r->{content}\n" unless $r->{status} == 200;
    return $self->json->decode($r->{content});
}

# Waits until the master has all its workers and each reports its Redis
# connection as redis_connected => 1 (connected) or 0 (not). Without that
# option: connected when this harness's Redis runs and the configuration
# ($opt: start_nginx's options) does not say ready => 'port'.
sub wait_workers_ready {
    my ($self, %opt) = @_;
    my $config = $opt{config} // $self->{nginx_opt};
    my $workers = $config->{workers} // $self->{workers};
    my $probe_redis = defined $opt{redis_connected}
        || ($self->{redis_pid} && ($config->{ready} // '') ne 'port');
    my $want = $opt{redis_connected} // 1;
    wait_for("$workers nginx workers" . ($probe_redis ? " with redis_connected $want" : ''),
        10, sub {
        my @pids = $self->worker_pids;
        return 0 unless @pids == $workers;
        return 1 unless $probe_redis;
        my $samples = eval { $self->status->{redis_connected} } // [];
        my %connected = map { ($_->{pid} => $_->{value}) } @$samples;
        return !grep { ($connected{$_} // -1) != $want } @pids;
    });
}

sub write_config {
    my ($self, %opt) = @_;
    my $dir = $self->{dir};
    my $user = $> == 0 ? 'user root;' : '';
    my $redis = $opt{redis} // "mailhook_redis 127.0.0.1:" . $self->redis_port . ";";
    my $workers = $opt{workers} // $self->{workers};
    my $location = $opt{location} // '';
    my $http = $opt{http} // '';
    my $server = $opt{server} // '';
    my $prefix = $opt{prefix} // "/webhooks/v2/";
    my $main = $opt{main} // "";
    my $log_level = $opt{log_level} // 'debug';
    my $load_first = $opt{load_first} // '';  # modules loaded before mailhook
    my $conf = <<"CONF";
$load_first
load_module $self->{module};
$user
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log $log_level;
$main
events { worker_connections 1024; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/body;
    client_body_buffer_size 16k;
    $redis
    $http
    server {
        listen 127.0.0.1:$self->{nginx_port};
        location = $status_path { mailhook_status; access_log off; }
        location $prefix {
            mailhook;
            $location
        }
        $server
    }
}
CONF
    $conf =~ s/\n\s*\n/\n/g;
    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print $fh $conf;
    close $fh;
}

sub nginx_pid {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/nginx.pid" or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub worker_pids {
    my ($self) = @_;
    my $master = $self->nginx_pid or return ();
    my @pids = split ' ', `pgrep -P $master 2>/dev/null`;
    return @pids;
}

sub reload {
    my ($self, %opt) = @_;
    my %config = (%{$self->{nginx_opt}}, %opt);
    $self->write_config(%config) if %opt;
    my @old = $self->worker_pids;
    my $out = $self->nginx_command("-p $self->{dir}/ -c nginx.conf -e error.log -s reload");
    die "reload failed: $out" if $?;
    # new workers are up when the old ones are gone
    wait_for('old workers to exit', 20, sub {
        my %now = map { $_ => 1 } $self->worker_pids;
        return !grep { $now{$_} } @old;
    });
    $self->wait_workers_ready(config => \%config);
}

# A sanitizer run that silently ran without the runtime would prove nothing:
# the master must have libasan mapped.
sub check_sanitized {
    my ($self) = @_;
    my $pid = $self->nginx_pid or die "no nginx pid";
    open my $fh, '<', "/proc/$pid/maps" or die "/proc/$pid/maps: $!";
    local $/;
    my $maps = <$fh>;
    die "nginx runs without the ASan runtime (LD_PRELOAD not applied?)\n"
        unless $maps =~ /libasan/;
}

sub stop_nginx {
    my ($self, $signal) = @_;
    my $pid = $self->nginx_pid // delete $self->{nginx_master} or return;
    kill($signal // 'QUIT', $pid);
    wait_for('nginx exit', 20, sub { !kill(0, $pid) });
    unlink "$self->{dir}/nginx.pid";
}

sub error_log {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/error.log" or return '';
    local $/;
    return <$fh>;
}

# A test file that dies half-way (e.g. a worker killed by a sanitizer) is
# still checked like one that reached finish(), and its daemons stopped: the
# file then fails on an [alert] too, not only on the die. Only the process
# that made the harness does this (forked clients exit through here too).
sub teardown {
    my ($self) = @_;
    local ($?, $@, $!);
    return if $self->{finished} || !$self->{dir} || $$ != $self->{owner};
    if (!$self->{nginx_master} && !$self->{redis_pid}) {
        $self->{finished} = 1;    # nothing ran (e.g. skip_all): nothing to check
        return;
    }
    diag('the test file ended before finish(): checking what it left');
    kill 'CONT', $self->{redis_pid} if $self->{redis_pid};    # a test may have paused it
    eval { $self->finish; 1 } or diag("finish: $@");
}

sub DESTROY { $_[0]->teardown }

# Every event in every stream of this Redis, as JSON text.
sub all_event_json {
    my ($self) = @_;
    my @events;
    my $redis = $self->redis;
    my ($cursor, @keys) = (0);
    do {
        ($cursor, my $batch) = $redis->scan($cursor, 'TYPE', 'stream', 'COUNT', 1000);
        push @keys, @$batch;
    } while ($cursor);
    for my $key (@keys) {
        for my $entry ($redis->xrange($key, '-', '+')) {
            my %fields = @{$entry->[1]};
            push @events, $fields{event} if defined $fields{event};
        }
    }
    return @events;
}

# Every stored event must match schema/event-1.schema.json.
sub validate_events {
    my ($self) = @_;
    return unless $self->{redis_pid};
    my @events = $self->all_event_json or return;
    my $schema = abs_path('schema/event-1.schema.json');
    my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    my $input = "$self->{dir}/events.jsonl";
    open my $fh, '>', $input or die $!;
    print $fh "$_\n" for @events;
    close $fh;
    my $out = `$python t/lib/validate_events.py $schema < $input 2>&1`;
    ok($? == 0, scalar(@events) . ' stored events match the JSON Schema') or diag($out);
}

# Ends the test file: validate the events, stop everything, then assert the
# error log and the sanitizers are clean.
sub finish {
    my ($self) = @_;
    return if $self->{finished};
    $self->{finished} = 1;
    eval { $self->validate_events; 1 } or fail("stored events validated: $@");
    eval { $self->stop_nginx; 1 } or fail("nginx stopped: $@");
    $self->stop_replicas;
    $self->stop_redis;
    my $log = $self->error_log;
    my @bad = grep { /\[(alert|emerg|crit)\]/ } split /\n/, $log;
    ok(!@bad, 'no alert, crit or emerg in error.log')
        or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
    unlike($log, qr/AddressSanitizer|LeakSanitizer|runtime error:/,
        'no sanitizer reports in error.log');
    my $reports = $self->sanitizer_reports;
    ok(!%$reports, 'no sanitizer report files')
        or diag(join "\n", map { "$_:\n$reports->{$_}" } sort keys %$reports);
}

# --- HTTP --------------------------------------------------------------------

sub url {
    my ($self, $path) = @_;
    return "http://127.0.0.1:$self->{nginx_port}$path";
}

# POST (or another method) to the module; returns {status, headers, content}.
sub request {
    my ($self, $method, $path, %opt) = @_;
    my $http = HTTP::Tiny->new(timeout => $opt{timeout} // 10, keep_alive => 0);
    my %args = (headers => $opt{headers} // {});
    $args{content} = $opt{body} if defined $opt{body};
    return $http->request($method, $self->url($path), \%args);
}

sub post {
    my ($self, $path, $body, %headers) = @_;
    return $self->request('POST', $path, body => $body, headers => \%headers);
}

# The Redis tests' event: a signed Inboxroad "delivered" for $recipient with
# event id $id, to connection ir1 (secret s1).
sub post_delivered {
    my ($self, $recipient, $id) = @_;
    my $body = qq({"kind":"delivered","recipient":"$recipient","id":"$id"});
    return $self->post('/webhooks/v2/inboxroad/ir1', $body,
        'X-Signature' => Mailhook::Sign::hmac_b64($body, 's1'));
}

# Raw bytes on a socket (chunked bodies, duplicate headers, ...). Returns
# the status code (0 when the server closed without answering) and, in list
# context, the response. Reads until the server closes, for at most
# timeout seconds (10): a server that keeps the connection open fails the
# test instead of hanging it.
sub raw {
    my ($self, $bytes, %opt) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $self->{nginx_port}, Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    $s->autoflush(1);
    print $s $bytes;
    shutdown($s, 1) unless $opt{keep_open};
    my ($response, $select) = ('', IO::Select->new($s));
    my $deadline = time + ($opt{timeout} // 10);
    while (1) {
        my $left = $deadline - time;
        if ($left <= 0 || !$select->can_read($left)) {
            diag('raw: no end of the response within ' . ($opt{timeout} // 10) . 's');
            last;
        }
        last unless sysread($s, $response, 65536, length $response);
    }
    close $s;
    return wantarray ? ($response =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0, $response)
                     : ($response =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0);
}

# --- Redis content -----------------------------------------------------------

# Entries of a stream as [{id => ..., fields => {...}}].
sub stream {
    my ($self, $key) = @_;
    $key //= 'mailhook:events';
    my @out;
    for my $entry ($self->redis->xrange($key, '-', '+')) {
        my ($id, $fields) = @$entry;
        push @out, { id => $id, fields => { @$fields } };
    }
    return @out;
}

# Normalized events stored in the stream, decoded.
sub events {
    my ($self, $key) = @_;
    return map { decode_json($_->{fields}{event}) } $self->stream($key);
}

sub event_count {
    my ($self, $key) = @_;
    return $self->redis->xlen($key // 'mailhook:events');
}

# An event without its receive time (checked for format), for is_deeply.
sub comparable {
    my ($event) = @_;
    my %copy = %$event;
    my $received = delete $copy{received_at};
    die "bad received_at: " . ($received // 'undef')
        unless defined $received && $received =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    return \%copy;
}

# The answer to a request that stored one event, and that event: asserts the
# 200 (named $name), the counts in the answer, that the stream holds exactly
# that entry and that its id is 32 hex digits. Returns it without `id` and
# `received_at` (checked for format), for is_deeply.
sub only_stored_event {
    my ($self, $r, $name) = @_;
    is($r->{status}, 200, $name);
    is($r->{content}, qq({"stored":1,"duplicates":0}\n), 'answer counts the event');
    my @events = $self->events;
    is(scalar @events, 1, 'one stream entry');
    my $event = comparable($events[0] // {});
    like(delete $event->{id} // '', qr/^[0-9a-f]{32}$/, 'stable id');
    return $event;
}

# What this Redis holds, in one comparable line: the number of keys and of
# entries over all streams. A refused request must leave it as it was (but
# for the connection's health hash, which records the rejection).
sub stored_summary {
    my ($self) = @_;
    my $redis = $self->redis;
    my ($cursor, %seen) = (0);
    # One pass, health keys left out by name: a refused request's health
    # write may land after its answer, so counting them apart (SCAN, then
    # DBSIZE) could see it in one count and not the other.
    do {
        ($cursor, my $keys) = $redis->scan($cursor, 'COUNT', 1000);
        $seen{$_} = 1 for grep { !/health:/ } @$keys;
    } while ($cursor);
    my $entries = 0;
    for my $key (keys %seen) {
        $entries += $redis->xlen($key) if $redis->type($key) eq 'stream';
    }
    return sprintf('%d keys, %d stream entries', scalar(keys %seen), $entries);
}

# The rejection loop of the vendor tests: POSTs each case to $path, asserts
# the status, with label the error body {"error":"<label>"}, with answer
# => {header => value} those response headers (undef: absent), then that
# nothing was stored (stored_summary unchanged). A case is [$name, \%headers]
# (POSTing $body) or [$name, \%headers, $case_body]; \%headers may be a code
# ref that gets the body and returns the headers (a signature over it).
#   $t->refuses($path, $body, [['no credentials', {}], ...],
#       status => 401, label => 'auth');
sub refuses {
    my ($self, $path, $body, $cases, %opt) = @_;
    my $status = $opt{status} or die "refuses: no status\n";
    my $before = $self->stored_summary;
    for my $case (@$cases) {
        my ($name, $headers, $payload) = @$case;
        $payload //= $body;
        $headers = $headers->($payload) if ref $headers eq 'CODE';
        my $r = $self->post($path, $payload, %{ $headers // {} });
        is($r->{status}, $status, "$name: $status");
        is($r->{content}, qq({"error":"$opt{label}"}\n), "$name: error body")
            if defined $opt{label};
        for my $header (sort keys %{ $opt{answer} // {} }) {
            is($r->{headers}{lc $header}, $opt{answer}{$header}, "$name: $header");
        }
    }
    is($self->stored_summary, $before,
        'refused (' . ($opt{label} // $status) . ') requests stored nothing');
}

sub json { $_[0]{json} }

1;
