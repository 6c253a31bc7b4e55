# SPDX-License-Identifier: BSD-2-Clause
# Every vendor page's "Try it" block, run as a reader would run it against
# `make run`: the same shell commands, pointed at this test's nginx and Redis.
# The page promises one stored event, and a duplicate when run again.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Test;
use Test::More;

sub which {
    my ($bin) = @_;
    my ($path) = grep { -x "$_/$bin" } split /:/, $ENV{PATH} // '';
    return $path ? "$path/$bin" : undef;
}
for my $bin (qw(bash curl openssl redis-cli)) {
    plan(skip_all => "$bin not installed") unless which($bin);
}

my $t = Mailhook::Test->new;
$t->start_redis;
my $port = $t->start_nginx;
my $dir = $t->dir;

# redis-cli as the page calls it, but talking to this test's Redis.
my $redis_cli = which('redis-cli');
mkdir "$dir/bin";
open my $wrapper, '>', "$dir/bin/redis-cli" or die $!;
print $wrapper "#!/bin/sh\nexec $redis_cli -p ${\ $t->redis_port} \"\$\@\"\n";
close $wrapper;
chmod 0755, "$dir/bin/redis-cli";

sub try_block {
    my ($page) = @_;
    open my $fh, '<', $page or die "$page: $!";
    my $text = do { local $/; <$fh> };
    my ($section) = $text =~ /^## Try it\n(.*)/ms;
    my ($block) = ($section // '') =~ /^```sh\n(.*?)^```/ms;
    return $block;
}

sub run_block {
    my ($block) = @_;
    (my $here = $block) =~ s{http://127\.0\.0\.1:8080/}{http://127.0.0.1:$port/}g;
    open my $sh, '>', "$dir/try.sh" or die $!;
    print $sh $here;
    close $sh;
    my $out = `cd $dir && PATH=$dir/bin:\$PATH bash try.sh 2>&1`;
    return ($?, $out);
}

my @pages = grep { !/README\.md\z/ } sort glob 'docs/vendors/*.md';
ok(@pages, 'vendor pages found');
for my $page (@pages) {
    my ($vendor) = $page =~ m{/(\w+)\.md\z};
    my $block = try_block($page);
    ok($block, "$page has a Try it block") or next;
    like($block, qr{http://127\.0\.0\.1:8080/webhooks/v2/\Q$vendor\E/}, "$vendor: posts to make run's nginx");
    my $before = $t->event_count;
    my ($rc, $out) = run_block($block);
    is($rc, 0, "$vendor: the block runs") or diag($out);
    like($out, qr/\{"stored":1,"duplicates":0\}/, "$vendor: one event stored") or diag($out);
    is($t->event_count, $before + 1, "$vendor: the stream holds it");
    my ($event) = grep { $_->{vendor} eq $vendor } reverse $t->events;
    ok($event && $event->{recipient} eq 'reader@example.net', "$vendor: the reader's event");
    ($rc, $out) = run_block($block);
    like($out, qr/\{"stored":0,"duplicates":1\}/, "$vendor: again, a duplicate") or diag($out);
    is($t->event_count, $before + 1, "$vendor: and stored once");
}

$t->finish;
done_testing;
