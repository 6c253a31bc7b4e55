# SPDX-License-Identifier: BSD-2-Clause
# L1 (security review 2026-12-01): unsigned SNS requests make nginx fetch the
# SigningCertURL they name. Each worker now fetches a URL once at a time
# (other requests wait for that fetch), does not fetch a URL that failed
# again for a minute, runs at most 4 fetches at once and 20 a minute; beyond
# that the answer is 503 at once, without a fetch. The "AWS" here is a local
# server that counts every GET.
use strict;
use warnings;
use lib 't/lib';

use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Mailhook::SNS qw(make_certificate sign_sns);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = Mailhook::Test->new;
my $dir = $t->dir;
my ($good_key, $good_cert) = make_certificate($dir, 'good');
my $good_hex = 'a' x 32;

# "AWS": logs each GET path; names with "5" in the first hex digit answer
# after 0.8 s; the good certificate is served, everything else is a 404.
my $aws = Mailhook::Test::free_port();
my $aws_log = "$dir/aws-gets.log";
my $aws_pid = fork() // die "fork: $!";
if ($aws_pid == 0) {
    my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $aws,
        Listen => 64, ReuseAddr => 1) or POSIX::_exit(1);
    open my $fh, '<', $good_cert or POSIX::_exit(1);
    my $pem = do { local $/; <$fh> };
    $SIG{CHLD} = 'IGNORE';
    while (my $client = $server->accept) {
        next if fork();
        my $request = <$client> // '';
        while (my $line = <$client>) { last if $line =~ /^\r?\n$/ }
        my ($path) = $request =~ m{^GET (\S+)};
        $path //= '?';
        open my $log, '>>', $aws_log; print $log "$path\n"; close $log;
        sleep 0.8 if $path =~ /Service-5/ || $path =~ /\Q$good_hex\E/;
        my ($status, $body) = $path =~ /\Q$good_hex\E/ ? ('200 OK', $pem) : ('404 Not Found', 'no');
        print $client "HTTP/1.1 $status\r\nContent-Length: " . length($body)
            . "\r\nConnection: close\r\n\r\n$body";
        close $client;
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}
END { kill 'TERM', $aws_pid if $aws_pid }

$t->start_redis;
$t->start_nginx(
    log_level => 'info',
    http => 'mailhook_connection ses2 vendor=ses;',
    location => 'mailhook_sns_fetch /_sns_fetch;',
    server => "location = /_sns_fetch { internal; proxy_pass http://127.0.0.1:$aws\$mailhook_fetch_uri; }",
);
Mailhook::Test::wait_for('aws', 5, sub { IO::Socket::INET->new(PeerAddr => "127.0.0.1:$aws") });

my $json = JSON::PP->new->canonical;
sub url_for { "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-$_[0].pem" }
sub gets {
    open my $fh, '<', $aws_log or return 0;
    my @lines = <$fh>;
    return scalar(@lines) unless defined $_[0];
    return scalar(grep { index($_, $_[0]) >= 0 } @lines);
}
my $msg_n = 0;
# An unsigned notification naming $hex's certificate (what anyone can send).
sub unsigned_body {
    my ($hex) = @_;
    return $json->encode({ Type => 'Notification', MessageId => 'l1-' . ++$msg_n,
        TopicArn => 'arn:aws:sns:us-east-1:123456789012:t', Message => '{}',
        Timestamp => '2026-12-01T00:00:00Z', SignatureVersion => '1', Signature => 'AAAA',
        SigningCertURL => url_for($hex) });
}
sub request_bytes {
    my ($body) = @_;
    return "POST /webhooks/v2/ses/ses2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        . "Content-Type: text/plain\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
}
# Sends every body at once (separate connections), then reads every answer.
sub concurrently {
    my @sockets = map {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{nginx_port})
            or die "connect: $!";
        print $s request_bytes($_);
        $s;
    } @_;
    my @statuses;
    for my $s (@sockets) {
        local $/;
        my $answer = <$s> // '';
        push @statuses, $answer =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
    }
    return @statuses;
}
sub hex_n { sprintf('%032x', $_[0]) }

# A: the same failing URL ten times: fetched once, then refused from memory.
my $a_hex = 'b' . ('0' x 31);
my @a = map { $t->post('/webhooks/v2/ses/ses2', unsigned_body($a_hex), 'Content-Type' => 'text/plain')->{status} } 1 .. 10;
is_deeply(\@a, [(503) x 10], 'L1 the same unknown certificate URL ten times: 503 each');
is(gets($a_hex), 1, 'L1 ... fetched once, not ten times (a failed URL is remembered)');
like($t->error_log, qr/not fetching signing certificate \Q${\url_for($a_hex)}\E for vendor=ses connection=ses2: its fetch failed/,
    'L1 ... the refusals say why');

# B: five genuine (signed) notifications naming a certificate not yet known
# arrive together: one fetch, every one of them verified and stored.
my $now = POSIX::strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime);
my @signed = map {
    sign_sns({ Type => 'Notification', MessageId => "l1-signed-$_", TopicArn => 'arn:aws:sns:us-east-1:123456789012:t',
        Message => $json->encode({ notificationType => 'Delivery',
            mail => { messageId => "m-$_", timestamp => $now, destination => ["r$_\@example.com"] },
            delivery => { timestamp => $now, recipients => ["r$_\@example.com"], smtpResponse => '250 ok' } }),
        Timestamp => $now }, $good_key, version => '1', cert_url => url_for($good_hex))
} 1 .. 5;
my @b = concurrently(@signed);
is_deeply(\@b, [(200) x 5], 'L1 five signed notifications for a new certificate at once: all stored');
is(gets($good_hex), 1, 'L1 ... with one fetch (the others waited for it)');
is($t->event_count, 5, 'L1 ... five events');

# C: six distinct slow URLs at once: four fetches run, two are refused at once.
my $started = time;
my @c = concurrently(map { unsigned_body('5' . substr(hex_n($_), 1)) } 1 .. 6);
is_deeply([sort @c], [(503) x 6], 'L1 six slow unknown URLs at once: 503 each');
is(gets('Service-5'), 4, 'L1 ... only four fetched (at most four at once)');
like($t->error_log, qr/4 certificate fetches are under way already/, 'L1 ... the others refused');

# D: distinct failing URLs one after another: the minute's budget (20, of
# which 6 are spent above) runs out, then nothing is fetched.
my @d = map { $t->post('/webhooks/v2/ses/ses2', unsigned_body('c' . substr(hex_n($_), 1)), 'Content-Type' => 'text/plain')->{status} } 1 .. 20;
my $elapsed = time - $started;
is_deeply(\@d, [(503) x 20], 'L1 twenty distinct unknown URLs: 503 each');
my $refills = int($elapsed / 3) + 1;  # 20 a minute: one every 3 s
my $fetched = gets('Service-c');
ok($fetched >= 14 && $fetched <= 14 + $refills, "L1 ... $fetched of them fetched, then the budget of 20 a minute was spent (${\sprintf('%.1f', $elapsed)}s)");
like($t->error_log, qr/budget of 20 certificate fetches a minute is spent/, 'L1 ... refusals logged');
is($t->event_count, 5, 'L1 nothing stored for the unsigned requests');

$t->finish;
done_testing;
