# SPDX-License-Identifier: BSD-2-Clause
# Breaking things for real while an ESP-like client sends signed events and
# retries every non-2xx: SIGKILL Redis (spool on and off) and reload nginx
# five times. Afterwards every event is in the stream exactly once.
use strict;
use warnings;
use lib 't/lib';

use HTTP::Tiny;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(time sleep);

my $EVENTS = $ENV{MAILHOOK_FAULT_EVENTS} // 400;
my $CLIENTS = 4;
my @persistent = ('--appendonly', 'yes', '--appendfsync', 'always');

# Sends events $first..$last; retries each until 2xx like an ESP does.
# Writes "sent acknowledged non2xx stored duplicates" to $out.
sub client {
    my ($port, $first, $last, $out) = @_;
    my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
    my ($ack, $non2xx, $stored, $dups, $spooled) = (0, 0, 0, 0, 0);
    for my $n ($first .. $last) {
        my $body = qq({"kind":"delivered","recipient":"r$n\@example.com","id":"e$n"});
        my %headers = ('X-Signature' => hmac_b64($body, 's1'));
        for my $attempt (1 .. 200) {
            my $r = $http->request('POST', "http://127.0.0.1:$port/webhooks/v2/inboxroad/c1",
                { headers => \%headers, content => $body });
            if ($r->{status} == 200) {
                $ack++;
                $stored++ if $r->{content} =~ /"stored":1|"spooled":1/;
                $dups++ if $r->{content} =~ /"duplicates":1/;
                $spooled++ if $r->{content} =~ /"spooled":1/;
                last;
            }
            $non2xx++;
            sleep 0.05;
        }
    }
    open my $fh, '>', $out or die;
    print $fh join(' ', $last - $first + 1, $ack, $non2xx, $stored, $dups, $spooled), "\n";
    close $fh;
}

# Runs the clients in parallel while $chaos->() breaks things.
sub run_clients {
    my ($t, $chaos) = @_;
    my $per = int($EVENTS / $CLIENTS);
    my @pids;
    for my $c (0 .. $CLIENTS - 1) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            client($t->{nginx_port}, $c * $per + 1, ($c + 1) * $per, $t->dir . "/client$c");
            _exit(0);
        }
        push @pids, $pid;
    }
    $chaos->();
    waitpid($_, 0) for @pids;
    my @totals = (0) x 6;
    for my $c (0 .. $CLIENTS - 1) {
        open my $fh, '<', $t->dir . "/client$c" or die "client $c left no result";
        my @v = split ' ', scalar <$fh>;
        $totals[$_] += $v[$_] for 0 .. 5;
    }
    return { sent => $totals[0], acknowledged => $totals[1], non2xx => $totals[2],
             stored => $totals[3], duplicates => $totals[4], spooled => $totals[5] };
}

sub assert_exactly_once {
    my ($t, $name, $totals) = @_;
    my $deadline = time + 20;
    sleep 0.1 while glob($t->dir . '/spool/spool-*.log') && time < $deadline;
    my %count;
    $count{$_->{recipient}}++ for $t->events;
    my @missing = grep { !$count{"r$_\@example.com"} } 1 .. $totals->{sent};
    my @twice = grep { $count{$_} > 1 } keys %count;
    is($totals->{acknowledged}, $totals->{sent}, "$name: every event acknowledged in the end");
    is(scalar @missing, 0, "$name: none missing") or diag("missing: @missing[0..9]");
    is(scalar @twice, 0, "$name: none stored twice") or diag("twice: @twice[0..9]");
    is($t->event_count, $totals->{sent}, "$name: stream length = events sent");
    diag(sprintf('%s: sent %d, acknowledged %d (%d of them from the spool), non-2xx answers '
        . 'retried %d, stored %d, duplicates %d, stream %d', $name,
        @{$totals}{qw(sent acknowledged spooled non2xx stored duplicates)},
        $t->event_count));
}

sub kill_redis_midway {
    my ($t) = @_;
    return sub {
        sleep 0.3;
        $t->stop_redis('KILL');
        sleep 1.0;
        $t->start_redis(@persistent);
    };
}

for my $spool (1, 0) {
    my $name = $spool ? 'SIGKILL Redis, spool on' : 'SIGKILL Redis, spool off';
    my $t = Mailhook::Test->new(workers => 2);
    $t->start_redis(@persistent);
    $t->start_nginx(
        http => 'mailhook_connection c1 vendor=inboxroad secret=s1;'
            . ($spool ? ' mailhook_spool ' . $t->dir . '/spool;' : ''),
        location => 'mailhook_redis_timeout 500ms;',
    );
    my $totals = run_clients($t, kill_redis_midway($t));
    if ($spool) {
        is($totals->{non2xx}, 0, "$name: no request failed");
        ok($totals->{spooled} > 0, "$name: Redis died mid-run (some answers came from the spool)");
    } else {
        ok($totals->{non2xx} > 0, "$name: Redis died mid-run (requests failed and were retried)");
    }
    assert_exactly_once($t, $name, $totals);
    $t->finish;
}

{
    my $name = 'five reloads';
    my $t = Mailhook::Test->new(workers => 2);
    $t->start_redis(@persistent);
    $t->start_nginx(http => 'mailhook_connection c1 vendor=inboxroad secret=s1;'
        . ' mailhook_spool ' . $t->dir . '/spool;');
    my $totals = run_clients($t, sub { for (1 .. 5) { sleep 0.2; $t->reload } });
    assert_exactly_once($t, $name, $totals);
    $t->finish;
}

done_testing;
