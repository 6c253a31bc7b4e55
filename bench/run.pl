#!/usr/bin/env perl
# SPDX-License-Identifier: BSD-2-Clause
# make bench: mailhook beside, in the same run and the same nginx,
#   - the ceiling: a `return 204` location fed the same requests;
#   - the peer a user would write instead: an ngx_lua location doing the same
#     verification and storage work (bench/lua/mailhook_peer.lua, scenario A);
#   - the Redis limit: the module's own store commands for the same requests
#     driven straight into Redis, pipelined (bench/redis_limit.cpp).
# For each run: req/s, latency, and the CPU time of the nginx workers and of
# redis-server per request (from /proc/<pid>/stat before and after the run).
# Numbers, not pass/fail.
#
#   A  Inboxroad single event (~300 B, HMAC), 64 connections
#   B  SendGrid batch of 100 events (ECDSA)
#   C  Mailgun single event, a fresh token per request
#
# BENCH_REDIS_INSTRUCTIONS=1 (make bench-redis): redis-server's instructions
# per store call under callgrind instead of the runs; BENCH_NGINX_INSTRUCTIONS=1
# (make bench-nginx): the nginx worker's, per request.
# Environment: BENCH_VERBOSE=1 prints wrk's output, BENCH_DURATION (s, default 10), BENCH_WORKERS ("1 2"),
# BENCH_SCENARIOS ("A B C"), BENCH_REDIS_WAIT=N (a --replicaof replica of the
# bench's Redis and `mailhook_redis_wait N`: what replica-acknowledged writes cost), BENCH_REDIS_LIMIT_MB (commands built for the
# Redis limit, default 128), BENCH_REDIS_LIMIT_BATCH (its requests per script call, default 8), BENCH_SOAK=1 for the 1,000,000-request soak
# instead. MAILHOOK_REDIS_LIMIT_BIN: the built bench/redis_limit.cpp.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";

use Digest::SHA qw(hmac_sha256_hex);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use List::Util qw(max);
use Redis;
use Mailhook::Sign qw(hmac_b64 sendgrid_key sendgrid_headers);
use Mailhook::Test;
use Test::More ();   # the harness reports through Test::More
use POSIX ();
use Time::HiRes qw(time sleep);

my $duration = $ENV{BENCH_DURATION} // 10;
my @worker_counts = split ' ', ($ENV{BENCH_WORKERS} // '1 2');
my @scenarios = split ' ', ($ENV{BENCH_SCENARIOS} // 'A B C');
my $limit_mb = $ENV{BENCH_REDIS_LIMIT_MB} // 128;
# Requests per script call of the Redis limit: about what the module's
# batches carry with wrk's 64 connections on one worker (its commandstats
# line shows how many it had).
my $limit_batch = $ENV{BENCH_REDIS_LIMIT_BATCH} // 8;
my $redis_limit_bin = $ENV{MAILHOOK_REDIS_LIMIT_BIN};
my $lua_modules = '/usr/share/nginx/modules';
my $clock_ticks = POSIX::sysconf(POSIX::_SC_CLK_TCK());
my $cpus = `nproc` =~ s/\s+//gr;
my $connections = 64;
# wrk starts each thread as soon as its own init (loading the pre-signed
# requests, seconds) is done, and its clock after the last one's: without
# bench/requests.lua's delay() hold the first thread sent for seconds outside
# the measured run, and req/s read up to 1.6x too high (A: ~6 s of a 5 s run).
my $wrk_threads = 2;
my $dir = Mailhook::Test->new->dir;   # the request files, profiles

Test::More->builder->no_ending(1);
Test::More->builder->output('/dev/null');

my ($sg_signer, $sg_key) = sendgrid_key();
my $mailgun_key = 'key-bench-0123456789';

# --- pre-signed request files -------------------------------------------------
sub write_requests {
    my ($file, $count, $make) = @_;
    open my $fh, '>', $file or die $!;
    for my $n (1 .. $count) {
        my ($path, $headers, $body) = $make->($n);
        my $h = join "\x01", map { "$_: $headers->{$_}" } sort keys %$headers;
        (my $escaped = $body) =~ s/\n/\\n/g;
        $escaped =~ s/\r/\\r/g;
        print $fh "$path\t$h\t$escaped\n";
    }
    close $fh;
}

sub inboxroad_request {
    my ($n) = @_;
    my $body = sprintf('{"kind":"delivered","sender":"news@example.com","recipient":"user%d@example.net",'
        . '"message_id":"<%d.bench@example.com>","timestamp":"2025-09-04T10:00:00Z",'
        . '"campaign":{"id":"9d76d4b4-660f-422b-9437-282c31506f7f","name":"September"},"id":"a%d"}',
        $n, $n, $n);
    return ('/webhooks/v2/inboxroad/ir', { 'X-Signature' => hmac_b64($body, 'ir-secret'),
        'Content-Type' => 'application/json' }, $body);
}

sub sendgrid_request {
    my ($n) = @_;
    my @events = map {
        my $i = $n * 100 + $_;
        { email => "user$i\@example.net", timestamp => 1700000000 + $i, event => 'delivered',
          'smtp-id' => "<$i\@ismtpd>", sg_event_id => "b$i", sg_message_id => "m$i.filter0001",
          response => '250 OK', category => ['bench'] }
    } 0 .. 99;
    my $body = encode_json(\@events) . "\r\n";
    my %h = sendgrid_headers($sg_signer, $body, int(time));   # within the tolerance
    return ('/webhooks/v2/sendgrid/sg', \%h, $body);
}

sub mailgun_request {
    my ($n) = @_;
    my $token = sprintf('%050d', $n);
    my $timestamp = int(time);   # 10 digits (Time::HiRes), within the tolerance
    my $body = encode_json({
        signature => { timestamp => "$timestamp", token => $token,
                       signature => hmac_sha256_hex($timestamp . $token, $mailgun_key) },
        'event-data' => { event => 'delivered', id => "c$n", timestamp => 1700000000.5,
                          recipient => "user$n\@example.net",
                          message => { headers => { 'message-id' => "$n\@example.com" } } },
    });
    return ('/webhooks/v2/mailgun/mg', { 'Content-Type' => 'application/json' }, $body);
}

# --- one nginx (mailhook, ceiling, Lua peer) + redis ---------------------------
sub start {
    my ($workers) = @_;
    my $t = Mailhook::Test->new(workers => $workers);
    $t->{baseline_port} = Mailhook::Test::free_port();
    $t->{peer_port} = Mailhook::Test::free_port();
    my $redis_port = $t->start_redis;
    # BENCH_REDIS_WAIT: a replica of the bench's Redis, and WAIT for it
    $t->start_replica if $ENV{BENCH_REDIS_WAIT};
    my $wait = $ENV{BENCH_REDIS_WAIT} ? " mailhook_redis_wait $ENV{BENCH_REDIS_WAIT};" : '';
    my $body = 'client_max_body_size 4m; client_body_buffer_size 256k;';
    $t->start_nginx(
        main => 'worker_rlimit_nofile 8192;'
            . " load_module $lua_modules/ndk_http_module.so;"
            . " load_module $lua_modules/ngx_http_lua_module.so;",
        log_level => 'warn',
        server => $body,
        http => "mailhook_connection ir vendor=inboxroad secret=ir-secret;"
            . " mailhook_connection sg vendor=sendgrid secret=$sg_key;"
            . " mailhook_connection mg vendor=mailgun secret=$mailgun_key;"
            # requests are signed once before all runs
            . " mailhook_timestamp_tolerance mailgun 1h;$wait"
            . " access_log off;"
            . " server { listen 127.0.0.1:$t->{baseline_port}; $body location / { return 204; } }"
            . " lua_package_path '$FindBin::Bin/lua/?.lua;/usr/share/lua/5.1/?.lua;;';"
            . " lua_package_cpath '/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;';"
            . " init_by_lua_block { require('mailhook_peer').setup({"
            . " redis_port = $redis_port, secrets = { ir = 'ir-secret' } }) }"
            . " server { listen 127.0.0.1:$t->{peer_port}; $body"
            . " location = /webhooks/v2/inboxroad/ir {"
            . " content_by_lua_block { require('mailhook_peer').inboxroad('ir') } } }",
    );
    return $t;
}

# VmRSS, or with $field another line of /proc/<pid>/status (RssAnon: the
# worker's own memory, without the pages of code it mapped from files).
sub rss_kb {
    my ($pid, $field) = @_;
    $field //= 'VmRSS';
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) { return $1 if /^$field:\s+(\d+)/ }
    return 0;
}

sub workers_rss {
    my ($t, $field) = @_;
    my $sum = 0;
    $sum += rss_kb($_, $field) for $t->worker_pids;
    return $sum;
}

# CPU time (user + system, µs) the processes have used so far.
sub cpu_us {
    my $ticks = 0;
    for my $pid (@_) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $stat = <$fh>;
        my @f = split ' ', substr($stat, rindex($stat, ')') + 2);
        $ticks += $f[11] + $f[12];   # utime, stime
    }
    return $ticks * 1e6 / $clock_ticks;
}

sub wrk {
    my ($port, $file, $seconds, %opt) = @_;
    my $c = $opt{connections} // $connections;
    my $wanted = $opt{threads} // $wrk_threads;
    my $threads = $c < $wanted ? $c : $wanted;
    local $ENV{MAILHOOK_BENCH_REQUESTS} = $file;
    local $ENV{MAILHOOK_BENCH_THREADS} = $threads;
    local $ENV{MAILHOOK_BENCH_READY} = "$dir/wrk-ready";
    unlink "$dir/wrk-ready";
    my $out = `wrk -t$threads -c$c -d${seconds}s --latency -s $FindBin::Bin/requests.lua http://127.0.0.1:$port 2>&1`;
    my %r = (output => $out);
    ($r{rps}) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    ($r{requests}, $r{runtime}) = $out =~ /(\d+) requests in ([\d.]+)s/;
    ($r{non2xx}) = $out =~ /Non-2xx or 3xx responses: (\d+)/;
    ($r{distinct}) = $out =~ /distinct requests sent: (\d+)/;
    my ($init, $total) = $out =~ /wrk cpu seconds: init ([\d.]+) total ([\d.]+)/;
    $r{wrk_us} = ($total - $init) * 1e6 if defined $total;
    $r{non2xx} //= 0;
    for my $p (50, 99) {
        my ($v, $unit) = $out =~ /^\s+$p(?:\.000)?%\s+([\d.]+)(us|ms|s)/m;
        $r{"p$p"} = !defined $v ? undef : $unit eq 'us' ? $v / 1000 : $unit eq 's' ? $v * 1000 : $v;
    }
    die "wrk failed:\n$out" unless $r{rps};
    print $out if $ENV{BENCH_VERBOSE};
    return \%r;
}

# One wrk run against $port with the CPU the nginx workers and redis-server
# used during it, and what it stored into $stream (undef: nothing to count).
# Redis is emptied afterwards, so every run starts from the same Redis.
sub measure {
    my ($t, $port, $file, $seconds, %opt) = @_;
    my @workers = $t->worker_pids;
    my $stream = $opt{stream};
    my $xlen_before = $stream ? $t->event_count($stream) : 0;
    my ($nginx_before, $redis_before) = (cpu_us(@workers), cpu_us($t->{redis_pid}));
    $t->redis->config_resetstat if $stream;
    $t->redis->slowlog('reset') if $stream;
    my $perf = $opt{profile} && $ENV{BENCH_PERF} && start_perf($seconds, @workers);
    my $r = wrk($port, $file, $seconds, %opt);
    sleep 0.2;   # requests still in flight when wrk stops
    $r->{profile} = perf_report($perf) if $perf;
    $r->{commandstats} = commandstats($t) if $stream;
    $r->{nginx_us} = cpu_us(@workers) - $nginx_before;
    $r->{redis_us} = cpu_us($t->{redis_pid}) - $redis_before;
    $r->{stored} = $stream ? $t->event_count($stream) - $xlen_before : 0;
    $t->redis->flushall if $stream;
    return $r;
}

# BENCH_PERF=1: where the workers' CPU goes during the mailhook run (perf
# with the cpu-clock software event, a sample every 100 µs of CPU: this VM
# has no hardware counters).
sub start_perf {
    my ($seconds, @workers) = @_;
    my $data = "$dir/perf.data";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec 'perf', 'record', '-q', '-e', 'cpu-clock', '-c', '100000', '-o', $data,
            '-p', join(',', @workers), '--', 'sleep', $seconds;
        exit 127;
    }
    return { pid => $pid, data => $data };
}

sub perf_report {
    my ($perf) = @_;
    waitpid $perf->{pid}, 0;
    my $report = sub {
        my ($sort, $max) = @_;
        my @lines = grep { /^\s+\d/ } split /\n/,
            `perf report -q -i $perf->{data} --no-children --sort $sort --stdio 2>/dev/null`;
        $#lines = $max - 1 if @lines > $max;
        return join '', map { s/[\s-]+$//r . "\n" } @lines;
    };
    my ($samples) = `perf report -i $perf->{data} --stdio 2>/dev/null` =~ /# Samples: (\S+)/;
    return "    $samples samples; by object:\n" . $report->('dso', 6)
        . "    by symbol:\n" . $report->('dso,symbol', 25);
}

# What Redis says the run's commands cost (INFO commandstats, SLOWLOG):
# the script call's own time beside the commands it ran.
sub commandstats {
    my ($t) = @_;
    my $info = $t->redis->info('commandstats');
    my @parts;
    for my $name (qw(evalsha eval set exists xadd type get hget)) {
        my $line = $info->{"cmdstat_$name"} or next;
        my ($calls) = $line =~ /calls=(\d+)/;
        my ($per) = $line =~ /usec_per_call=([\d.]+)/;
        push @parts, "$name $calls x $per µs";
    }
    my @slow = @{ $t->redis->slowlog('get', 128) // [] };
    my $longest = 0;
    for (@slow) { $longest = $_->[2] if $_->[2] > $longest }
    return join(', ', @parts) . sprintf('; SLOWLOG (> 10 ms): %d, longest %d µs', scalar @slow, $longest);
}

# The Redis limit: the module's store commands for the first requests of
# $file (up to $limit_mb MB of them), pipelined straight into Redis.
sub redis_limit {
    my ($t, $file, @connection) = @_;
    return undef unless $redis_limit_bin;
    my $before = cpu_us($t->{redis_pid});
    # as start()'s mailhook_timestamp_tolerance
    local $ENV{BENCH_TIMESTAMP_TOLERANCE} = 3600 if grep { $_ eq 'vendor=mailgun' } @connection;
    local $ENV{BENCH_REDIS_LIMIT_BATCH} = $limit_batch;
    my $out = `$redis_limit_bin $t->{redis_port} $file $limit_mb $connections @connection 2>&1`;
    my $redis_us = cpu_us($t->{redis_pid}) - $before;
    my %r = $out =~ /(\w+) ([\d.]+)/g;
    die "redis_limit failed:\n$out" if $? || !$r{seconds};
    $t->redis->flushall;
    return { requests_per_s => $r{requests} / $r{seconds}, events_per_s => $r{stored} / $r{seconds},
             redis_us => $redis_us, requests => $r{requests}, stored => $r{stored},
             seconds => $r{seconds},
             # what Redis takes when the CPU it used is a whole core
             one_core_events_per_s => $redis_us ? $r{stored} / ($redis_us / 1e6) : 0 };
}

sub row { printf "%-28s %7s %9s %7s %7s %7s %8s %8s %7s\n", @_ }
sub fmt_ms { defined $_[0] ? sprintf('%.2f', $_[0]) : '-' }
sub per { my ($us, $n) = @_; $n ? sprintf('%.1f', $us / $n) : '-' }
sub ratio { my ($a, $b) = @_; $b ? sprintf('%.2f', $a / $b) : '-' }

# Events answered 200 per second of wrk's run (the stored count, checked
# separately, also holds what was still in flight when wrk stopped).
sub events_per_s {
    my ($r, $events_per_request) = @_;
    return ($r->{requests} - $r->{non2xx}) * $events_per_request / $r->{runtime};
}

sub wrk_row {
    my ($name, $r, $events_per_request) = @_;
    my $n = ($r->{requests} || 1) * ($events_per_request // 1);
    row($name, sprintf('%.0f', $r->{rps}),
        $r->{stored} ? sprintf('%.0f', events_per_s($r, $events_per_request)) : '-',
        fmt_ms($r->{p50}), fmt_ms($r->{p99}), $r->{non2xx},
        per($r->{nginx_us}, $n), per($r->{redis_us}, $n), per($r->{wrk_us}, $n));
}

print "mailhook benchmark: wrk -t$wrk_threads -c$connections, ${duration}s per run, ",
    "$cpus CPUs, ", `uname -r` =~ s/\n//r, ", load average ", (split ' ', `cat /proc/loadavg`)[0], "\n";
print "pre-signing requests...\n";
my %files = (A => "$dir/a.req", B => "$dir/b.req", C => "$dir/c.req");
my %makers = (A => \&inboxroad_request, B => \&sendgrid_request, C => \&mailgun_request);
# Enough distinct requests that no run starts over: a repeat is a duplicate,
# CPU spent and no event stored, which skews CPU per stored event. mailhook
# reaches ~55,000 req/s here, the peer less; B ~1,500 batches/s.
my %counts = (A => max(400_000, 80_000 * $duration), B => max(6_000, 1_600 * $duration),
              C => max(300_000, 60_000 * $duration));
unless ($ENV{BENCH_REDIS_INSTRUCTIONS} || $ENV{BENCH_NGINX_INSTRUCTIONS}) {
    write_requests($files{$_}, $counts{$_}, $makers{$_}) for @scenarios;
}
my %events_per_request = (A => 1, B => 100, C => 1);
my %names = (A => 'A inboxroad 1 event (HMAC)', B => 'B sendgrid 100 events (ECDSA)',
             C => 'C mailgun 1 event (token)');
my %connection_fields = (A => ['ir', 'vendor=inboxroad', 'secret=ir-secret'],
                         B => ['sg', 'vendor=sendgrid', "secret=$sg_key"],
                         C => ['mg', 'vendor=mailgun', "secret=$mailgun_key"]);

# Starts @argv under callgrind, its output in $log; returns its pid. With
# $ENV{$keep}=DIR the profile is kept as DIR/callgrind.$name (for
# callgrind_annotate), else dropped.
sub under_callgrind {
    my ($log, $keep, $name, @argv) = @_;
    my $out = $ENV{$keep} ? "$ENV{$keep}/callgrind.$name" : '/dev/null';
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $log;
        open STDERR, '>&', \*STDOUT;
        exec 'valgrind', '--tool=callgrind', "--callgrind-out-file=$out", @argv;
        exit 127;
    }
    return $pid;
}

# make bench-redis: redis-server's own instructions per store call, counted
# by callgrind (reproducible whatever else the machine does): Redis runs the
# Redis limit's commands for $small and then $large requests; the difference
# over the difference in requests leaves out start-up and loading the script.
sub redis_instructions {
    my ($small, $large, $count_small, $count_large, @connection) = @_;
    my @refs;
    for my $file ($small, $large) {
        my $port = Mailhook::Test::free_port();
        my $log = "$dir/callgrind-redis.log";
        my $pid = under_callgrind($log, 'BENCH_REDIS_PROFILE', 'redis.' . ($file =~ s{.*/}{}r),
                'redis-server', '--port', $port, '--bind', '127.0.0.1', '--save', '',
                '--appendonly', 'no', '--dir', $dir);
        Mailhook::Test::wait_for('redis under callgrind', 60, sub {
            my $r = eval { Redis->new(server => "127.0.0.1:$port", reconnect => 0) };
            $r && eval { $r->ping };
        });
        local $ENV{BENCH_TIMESTAMP_TOLERANCE} = 3600 if grep { $_ eq 'vendor=mailgun' } @connection;
        my $out = `$redis_limit_bin $port $file 1024 $connections @connection 2>&1`;
        die "redis_limit failed:\n$out" if $?;
        eval { Redis->new(server => "127.0.0.1:$port", reconnect => 0)->shutdown };
        waitpid($pid, 0);
        open my $fh, '<', $log or die $!;
        my ($refs) = join('', <$fh>) =~ /refs:\s+([\d,]+)/ or die "no callgrind total in $log";
        push @refs, $refs =~ tr/,//dr;
    }
    return ($refs[1] - $refs[0]) / ($count_large - $count_small);
}

# make bench-nginx: the nginx worker's own instructions per request, counted
# by callgrind (reproducible like bench-core, but the whole worker: nginx,
# the module's glue, the Redis link, the core). One worker process
# (master_process off) under valgrind, fed $count requests of $file over
# $parallel keep-alive connections, each sending its next request once
# answered: with 1 connection every store call goes alone, with 16 they
# share batch script calls.
sub nginx_instructions {
    my ($file, $count, $parallel, @connection) = @_;
    my $t = Mailhook::Test->new;
    my $redis_port = $t->start_redis;
    my $port = Mailhook::Test::free_port();
    my $conf = $t->dir . '/callgrind-nginx.conf';
    my ($id, @fields) = @connection;
    open my $fh, '>', $conf or die $!;
    print $fh "load_module $t->{module};\n", ($> == 0 ? "user root;\n" : ''),
        "daemon off; master_process off; worker_processes 1;\n",
        'pid ', $t->dir, "/callgrind-nginx.pid;\n",
        'error_log ', $t->dir, "/error.log warn;\n",
        "events { worker_connections 1024; }\n",
        "http { access_log off; keepalive_requests 1000000; client_body_temp_path ", $t->dir, "/body;\n",
        "  mailhook_redis 127.0.0.1:$redis_port;\n",
        "  mailhook_connection $id @fields;\n",
        "  mailhook_timestamp_tolerance mailgun 1h;\n",
        "  server { listen 127.0.0.1:$port; client_max_body_size 4m;",
        " client_body_buffer_size 256k; location /webhooks/v2/ { mailhook; } } }\n";
    close $fh;
    my $log = $t->dir . '/callgrind-nginx.log';
    my $pid = under_callgrind($log, 'BENCH_NGINX_PROFILE', "nginx.$count.$parallel",
        $t->{nginx_bin}, '-p', $t->dir . '/', '-c', $conf);
    Mailhook::Test::wait_for('nginx under callgrind', 60, sub {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) });
    my %statuses = eval { drive_requests($port, $file, $count, $parallel) };
    die $@ . `tail -5 $log; tail -5 @{[$t->dir]}/error.log` if $@;
    kill 'QUIT', $pid;
    waitpid($pid, 0);
    $t->stop_redis;
    die "not every request stored: " . join(' ', %statuses) . "\n"
        unless keys %statuses == 1 && $statuses{200};
    open my $in, '<', $log or die $!;
    my ($refs) = join('', <$in>) =~ /refs:\s+([\d,]+)/ or die "no callgrind total in $log";
    return $refs =~ tr/,//dr;
}

# $count requests of $file (write_requests' lines) over $parallel keep-alive
# connections; returns { status => count }.
sub drive_requests {
    my ($port, $file, $count, $parallel) = @_;
    open my $fh, '<', $file or die "$file: $!";
    my @requests;
    while (my $line = <$fh>) {
        chomp $line;
        my ($path, $headers, $body) = split /\t/, $line, 3;
        $body =~ s/\\n/\n/g;
        $body =~ s/\\r/\r/g;
        push @requests, "POST $path HTTP/1.1\r\nHost: bench\r\n"
            . join('', map { "$_\r\n" } split /\x01/, $headers)
            . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    }
    my ($select, %buffer, %statuses) = (IO::Select->new);
    my ($sent, $answered) = (0, 0);
    for (1 .. $parallel) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die $!;
        $select->add($s);
        $buffer{$s} = '';
        syswrite $s, $requests[$sent++ % @requests];
    }
    while ($answered < $count) {
        my @ready = $select->can_read(60) or die "no answer in 60 s\n";
        for my $s (@ready) {
            last if $answered >= $count;
            sysread($s, $buffer{$s}, 65536, length $buffer{$s})
                or die "nginx closed a connection after $answered answers\n";
            while ($buffer{$s} =~ /\A(HTTP\/1\.1 (\d+).*?\r\n\r\n)/s) {
                my ($head, $status) = ($1, $2);
                my ($length) = $head =~ /Content-Length: (\d+)/i;
                last if length($buffer{$s}) < length($head) + ($length // 0);
                substr($buffer{$s}, 0, length($head) + ($length // 0), '');
                ++$answered;
                ++$statuses{$status};
                syswrite $s, $requests[$sent++ % @requests] if $sent < $count;
            }
        }
    }
    return %statuses;
}

if ($ENV{BENCH_NGINX_INSTRUCTIONS}) {
    my %sizes = (A => [1000, 5000], B => [20, 100], C => [1000, 5000]);
    for my $s (@scenarios) {
        my ($n1, $n2) = @{$sizes{$s}};
        my $file = "$dir/$s-nginx.req";
        write_requests($file, $n2, $makers{$s});
        for my $parallel (1, 16) {
            my @refs = map { nginx_instructions($file, $_, $parallel, @{$connection_fields{$s}}) }
                $n1, $n2;
            my $per_request = ($refs[1] - $refs[0]) / ($n2 - $n1);
            printf "%-30s %9.0f nginx worker instructions per request, %.0f per event (%d connection%s)\n",
                $names{$s}, $per_request, $per_request / $events_per_request{$s}, $parallel,
                $parallel == 1 ? '' : 's';
        }
    }
    exit 0;
}

if ($ENV{BENCH_REDIS_INSTRUCTIONS}) {
    die "MAILHOOK_REDIS_LIMIT_BIN is not set\n" unless $redis_limit_bin;
    my %sizes = (A => [1000, 3000], B => [30, 90], C => [1000, 3000]);
    for my $s (@scenarios) {
        my ($n1, $n2) = @{$sizes{$s}};
        my @files = map { my $f = "$dir/$s-$_.req"; write_requests($f, $_, $makers{$s}); $f } $n1, $n2;
        # B's calls (100 events) are too big to be batched
        for my $batch ($s eq 'B' ? (1) : (1, $limit_batch)) {
            local $ENV{BENCH_REDIS_LIMIT_BATCH} = $batch;
            my $per_request = redis_instructions(@files, $n1, $n2, @{$connection_fields{$s}});
            printf "%-30s %9.0f Redis instructions per request, %.0f per event (%d request%s per script call)\n",
                $names{$s}, $per_request, $per_request / $events_per_request{$s}, $batch,
                $batch == 1 ? '' : 's';
        }
    }
    exit 0;
}

if ($ENV{BENCH_SOAK}) {
    my $total = $ENV{BENCH_SOAK_REQUESTS} // 1_000_000;
    my $t = start(1);
    my ($worker) = $t->worker_pids;
    wrk($t->{nginx_port}, $files{A}, 2);   # warm up: pools, caches, connection
    my $rss_before = rss_kb($worker);
    my $xlen_before = $t->event_count;
    my $sent = 0;
    my $started = time;
    while ($sent < $total) {
        my $r = wrk($t->{nginx_port}, $files{A}, 5);
        $sent += $r->{requests};
    }
    my $elapsed = time - $started;
    my $rss_after = rss_kb($worker);
    printf "soak: %d requests in %.0fs (%.0f req/s); worker RSS %d kB -> %d kB (%+d kB); "
        . "stream %d -> %d entries (%d unique events of %d signed requests, the rest duplicates)\n",
        $sent, $elapsed, $sent / $elapsed, $rss_before, $rss_after, $rss_after - $rss_before,
        $xlen_before, $t->event_count, $t->event_count, 400_000;
    $t->stop_nginx;
    $t->stop_replicas;
    $t->stop_redis;
    exit 0;
}

print "nginx µs, redis µs, wrk µs: CPU time (user + system) of all nginx workers,\n",
      "of redis-server (/proc/<pid>/stat) and of wrk (os.clock(), less loading the\n",
      "requests) per request (B: per event).\n";
for my $workers (@worker_counts) {
    print "\n== $workers worker(s)\n";
    for my $s (@scenarios) {
        my $t = start($workers);
        my $seconds = $s eq 'B' ? int($duration / 2) || 1 : $duration;
        my $events = $events_per_request{$s};
        print "\n";
        row($names{$s}, 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'non-2xx', 'nginx µs', 'redis µs',
            'wrk µs');
        # B's requests take ~100 ms each: delay()'s 20 ms hold barely slows
        # a waiting thread, so B runs one (~30 µs of wrk per request).
        my @threads = $s eq 'B' ? (threads => 1) : ();
        my $base = measure($t, $t->{baseline_port}, $files{$s}, $seconds, @threads);
        wrk_row('  ceiling (return 204)', $base, $events);
        my @rss_before = (workers_rss($t), workers_rss($t, 'RssAnon'));
        my $r = measure($t, $t->{nginx_port}, $files{$s}, $seconds, stream => 'mailhook:events',
                        profile => 1, @threads);
        my @rss_after = (workers_rss($t), workers_rss($t, 'RssAnon'));
        sleep 2;   # the workers give freed memory back once a second
        my @rss_settled = (workers_rss($t), workers_rss($t, 'RssAnon'));
        wrk_row('  mailhook', $r, $events);
        my $peer;
        if ($s eq 'A') {
            $peer = measure($t, $t->{peer_port}, $files{$s}, $seconds, stream => 'peer:events');
            wrk_row('  ngx_lua peer (same work)', $peer, $events);
        }
        my $limit = redis_limit($t, $files{$s}, @{$connection_fields{$s}});
        if ($limit) {
            row("  Redis limit ($limit_batch per call)", sprintf('%.0f', $limit->{requests_per_s}),
                sprintf('%.0f', $limit->{events_per_s}), '-', '-', '-', '-',
                per($limit->{redis_us}, $limit->{requests} * $events), '-');
            printf "  Redis limit: Redis busy %.0f%% of the run; with one core to itself %.0f events/s\n",
                100 * $limit->{redis_us} / 1e6 / $limit->{seconds}, $limit->{one_core_events_per_s};
        }

        # Past the pre-signed requests wrk starts over: repeats are duplicates.
        # wrk does not count requests still in flight when it stops, but
        # nginx stores them: stored may exceed the 200s wrk saw.
        my $ok = $r->{requests} - $r->{non2xx};
        my $unique = $r->{distinct} // $ok;
        $unique = $ok if $ok < $unique;
        my $expected = $unique * $events;
        printf "  stored %d events for %d 200s of %d distinct requests (%s)\n",
            $r->{stored}, $ok, $unique,
            $r->{stored} >= $expected ? 'every 200 stored' : "MISSING " . ($expected - $r->{stored});
        print "  Redis commandstats: $r->{commandstats}\n";
        print "  perf (nginx workers, cpu-clock):\n$r->{profile}" if $r->{profile};
        printf "  worker RSS (anonymous) before %d (%d) kB, at the end %d (%d) kB, 2 s later %d (%d) kB\n",
            @rss_before, @rss_after, @rss_settled;

        my $cpu_per_event = sub { my ($x) = @_; ($x->{nginx_us} + $x->{redis_us}) / ($x->{stored} || 1) };
        printf "  ratios: req/s to ceiling %s", ratio($r->{rps}, $base->{rps});
        printf "; CPU per stored event to the Lua peer's %s (%.0f vs %.0f µs)",
            ratio($cpu_per_event->($r), $cpu_per_event->($peer)),
            $cpu_per_event->($r), $cpu_per_event->($peer) if $peer;
        printf "; events/s to the Redis limit %s (to its one-core figure %s); Redis CPU per event to the limit's %s",
            ratio(events_per_s($r, $events), $limit->{events_per_s}),
            ratio(events_per_s($r, $events), $limit->{one_core_events_per_s}),
            ratio($r->{redis_us} / ($r->{stored} || 1), $limit->{redis_us} / ($limit->{stored} || 1))
            if $limit;
        # What the two CPUs allow when nginx, Redis and wrk share them.
        my $demand = ($r->{nginx_us} + $r->{redis_us} + $r->{wrk_us}) / ($r->{requests} || 1);
        printf "\n  CPU-bound: nginx + Redis + wrk take %.0f µs per request: at most %.0f req/s on %d CPUs",
            $demand, $cpus * 1e6 / $demand, $cpus;
        print "\n";
        if ($s eq 'A') {
            # p99 at about half the maximum rate: fewer connections, each
            # pausing between requests (wrk has no fixed-rate mode).
            my $half = measure($t, $t->{nginx_port}, $files{A}, $seconds, connections => 4,
                               stream => 'mailhook:events');
            printf "  mailhook at %.0f req/s (%.0f%% of max, 4 connections): p50 %s ms, p99 %s ms\n",
                $half->{rps}, 100 * $half->{rps} / $r->{rps}, fmt_ms($half->{p50}),
                fmt_ms($half->{p99});
        }
        $t->stop_nginx;
        $t->stop_replicas;
        $t->stop_redis;
    }
}
