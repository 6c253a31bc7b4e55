# SPDX-License-Identifier: BSD-2-Clause
# End to end in a real browser: headless Chromium opens an HTML email served by
# the test nginx, loads its tracking pixel, follows its rewritten link through
# the 302 and lands on the target page; the stream then holds one `opened` and
# one `clicked` event with Chromium's own user agent.
#
# How the click is driven: the email page's load handler calls .click() on the
# rewritten <a>. That runs the anchor's activation behaviour, the very
# navigation a user's click starts: Chromium's network stack requests
# /t/c/{token}, gets our 302 and loads the Location, as it would for a person.
# `--dump-dom` with a virtual time budget keeps the browser alive until that
# navigation has finished and prints the DOM of the page it ended on, so no
# DevTools client is needed.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(tracking_token);
use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time sleep);

my $chromium = $ENV{CHROMIUM_BIN}
    // (grep { defined } map { Mailhook::Test::_which($_) } qw(chromium chromium-browser))[0];
plan(skip_all => 'chromium not installed (Debian package "chromium"; make test installs it)')
    unless $chromium;

my $secret = 'browser-secret-0123456789';
my $t = Mailhook::Test->new;
my $dir = $t->dir;
$t->start_redis;
$t->start_nginx(
    http => "mailhook_tracking_key kb $secret;",
    server => "location /t/ { mailhook_tracking; }"
        . " location /www/ { alias $dir/www/; }",
);
my $base = $t->url('');

sub token {
    my (%claims) = @_;
    my %payload = (v => 1, k => 'kb', c => 'smtp1', r => 'reader@example.com',
        m => '<browser-1@example.com>', cp => 'browser-test', %claims);
    return tracking_token(JSON::PP->new->canonical->encode(\%payload), $secret);
}

my $target = "$base/www/landing.html?from=mail";
my $pixel = "$base/t/o/" . token() . '.gif';
my $link = "$base/t/c/" . token(u => $target);

mkdir "$dir/www" or die $!;
sub write_file {
    my ($name, $content) = @_;
    open my $fh, '>', "$dir/www/$name" or die $!;
    print $fh $content;
    close $fh;
}
write_file('email.html', <<"HTML");
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Spring sale</title></head>
<body>
<p>Hello reader, our spring sale has started.</p>
<p><a id="cta" href="$link">Shop the sale</a></p>
<img src="$pixel" width="1" height="1" alt="" style="display:block;border:0">
<script>
  // The reader clicks the link once the mail (and its pixel) has loaded.
  window.addEventListener('load', function () { document.getElementById('cta').click(); });
</script>
</body></html>
HTML
write_file('landing.html', <<'HTML');
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sale</title></head>
<body><h1 id="landed">Welcome to the spring sale</h1></body></html>
HTML

mkdir "$dir/chromium-profile" or die $!;
my @command = ($chromium, '--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', "--user-data-dir=$dir/chromium-profile",
    # loopback only, whatever proxy the environment names
    '--no-proxy-server',
    '--virtual-time-budget=10000', '--dump-dom', "$base/www/email.html");
my $started = time;
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    open STDOUT, '>', "$dir/dom.html" or die $!;
    open STDERR, '>', "$dir/chromium.log" or die $!;
    exec 'timeout', '-k', '5', '90', @command;
    exit 127;
}
waitpid($pid, 0);
my $status = $? >> 8;
is($status, 0, sprintf('chromium ran and exited (%.1fs)', time - $started))
    or diag(`tail -20 $dir/chromium.log`);

my $dom = do { local $/; open my $fh, '<', "$dir/dom.html" or die $!; <$fh> } // '';
like($dom, qr{<h1 id="landed">Welcome to the spring sale</h1>},
    'the browser ended on the target page');

my $access = do { local $/; open my $fh, '<', "$dir/access.log" or die $!; <$fh> };
my ($pixel_line) = grep { m{"GET /t/o/\S+\.gif HTTP/1\.1" 200 43 } } split /\n/, $access;
my ($click_line) = grep { m{"GET /t/c/\S+ HTTP/1\.1" 302 } } split /\n/, $access;
my ($landing_line) = grep { m{"GET /www/landing\.html\?from=mail HTTP/1\.1" 200 } } split /\n/, $access;
ok($pixel_line, 'the pixel was loaded: 200 and 43 bytes');
ok($click_line, 'the link went through the redirect: 302');
ok($landing_line, 'the target page was requested: 200')
    or diag($access);
my ($browser_ua) = ($landing_line // '') =~ /"([^"]*)"$/;
like($browser_ua // '', qr{Chrome/\d+}, "Chromium's user agent: " . ($browser_ua // 'none'));

my $deadline = time + 5;
sleep 0.05 while $t->event_count < 2 && time < $deadline;
my @events = $t->events;
is(scalar @events, 2, 'two events in the stream');
my ($opened) = grep { $_->{type} eq 'opened' } @events;
my ($clicked) = grep { $_->{type} eq 'clicked' } @events;
ok($opened, 'one opened event');
ok($clicked, 'one clicked event');
is($opened->{user_agent}, $browser_ua, "opened: Chromium's user agent");
is($clicked->{user_agent}, $browser_ua, "clicked: Chromium's user agent");
is($clicked->{click_url}, $target, 'clicked: the target URL');
for my $event ($opened, $clicked) {
    is($event->{vendor}, 'tracking', "$event->{type}: vendor tracking");
    is($event->{connection}, 'smtp1', "$event->{type}: connection from the token");
    is($event->{recipient}, 'reader@example.com', "$event->{type}: recipient");
    is($event->{message_id}, '<browser-1@example.com>', "$event->{type}: message id");
    is($event->{campaign_id}, 'browser-test', "$event->{type}: campaign");
    is($event->{ip}, '127.0.0.1', "$event->{type}: ip");
    is_deeply($event->{metadata}, { machine => JSON::PP::false },
        "$event->{type}: a real browser is not machine traffic");
}

$t->finish;
done_testing;
