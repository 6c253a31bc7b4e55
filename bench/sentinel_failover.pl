#!/usr/bin/env perl
# SPDX-License-Identifier: BSD-2-Clause
# The Sentinel failover gap, measured (not a test): a primary, a replica and
# three Sentinels (t/lib/Mailhook/Sentinel.pm: quorum 2,
# down-after-milliseconds 1000), one nginx worker with `mailhook_redis ...
# sentinel=mymaster`, and a sender that posts events back to back and
# retries every non-2xx. The primary is killed (-9); per round it prints
#   promoted: kill -> the Sentinels name the replica
#   stored:   kill -> the first event stored on the new primary (the ms part
#             of its first stream entry id newer than the kill)
#   answered: kill -> the first 2xx to a request sent after the kill
# and the median of each over the rounds.
#
#   MAILHOOK_MODULE=... NGINX_BIN=... perl bench/sentinel_failover.pl [rounds]

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";

use Mailhook::Sentinel;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use POSIX qw(_exit);
use Redis;
use Test::More ();
use Time::HiRes qw(sleep time);

my $rounds = $ARGV[0] // 3;
Test::More->builder->no_ending(1);
Test::More->builder->output('/dev/null');

sub round {
    my $t = Mailhook::Test->new;
    my $dir = $t->dir;
    my $old = $t->start_redis;
    my $sentinel = Mailhook::Sentinel->new($dir, $old);
    $t->start_nginx(
        log_level => 'warn',
        redis => $sentinel->directive,
        http => 'mailhook_connection ir1 vendor=inboxroad secret=s1;',
    );
    my $sender = fork() // die "fork: $!";
    if ($sender == 0) {
        open my $log, '>>', "$dir/answers.log" or _exit(1);
        $log->autoflush(1);
        for (my $n = 1; !-e "$dir/stop"; ++$n) {
            my $body = qq({"kind":"delivered","recipient":"b$n\@example.com","id":"b$n"});
            until (-e "$dir/stop") {
                my $sent = time;
                my $r = $t->post('/webhooks/v2/inboxroad/ir1', $body,
                    'X-Signature' => hmac_b64($body, 's1'));
                printf $log "%.3f %.3f %d\n", $sent, time, $r->{status};
                last if $r->{status} =~ /^2/;
                sleep 0.01;
            }
        }
        _exit(0);
    }
    sleep 1;
    $t->stop_redis('KILL');
    my $killed = time;
    Mailhook::Test::wait_for('promotion', 60, sub {
        ($sentinel->primary // 0) == $sentinel->replica });
    my $promoted = time;
    my $new = Redis->new(server => '127.0.0.1:' . $sentinel->replica);
    Mailhook::Test::wait_for('a stored event', 30, sub {
        my ($last) = $new->xrevrange('mailhook:events', '+', '-', 'COUNT', 1);
        $last && (split /-/, $last->[0])[0] >= $killed * 1000;
    });
    sleep 0.5;
    { open my $fh, '>', "$dir/stop"; close $fh; }
    waitpid($sender, 0);
    my ($first) = $new->xrange('mailhook:events', int($killed * 1000), '+', 'COUNT', 1);
    my $stored = (split /-/, $first->[0])[0] / 1000;
    open my $fh, '<', "$dir/answers.log" or die $!;
    my ($answered) = map { my ($sent, $at, $s) = split;
                           $sent > $killed && $s =~ /^2/ ? $at : () } <$fh>;
    $t->finish;
    $sentinel->stop;
    return { promoted => $promoted - $killed, stored => $stored - $killed,
             answered => $answered - $killed };
}

sub median { my @s = sort { $a <=> $b } @_; return $s[$#s / 2] }

my @results;
for my $i (1 .. $rounds) {
    my $r = round();
    push @results, $r;
    printf "round %d: promoted %.2fs, stored %.2fs, answered %.2fs after the kill\n",
        $i, @$r{qw(promoted stored answered)};
}
printf "median of %d: promoted %.2fs, first event stored on the new primary %.2fs, first 2xx %.2fs "
    . "(down-after-milliseconds 1000)\n", $rounds,
    map { my $k = $_; median(map { $_->{$k} } @results) } qw(promoted stored answered);
