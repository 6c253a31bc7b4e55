# SPDX-License-Identifier: BSD-2-Clause
# The shipped Prometheus rules (docs/ops/) pass `promtool check rules` and
# their unit tests (`promtool test rules`); a live mailhook_status page, after
# accepted, rejected and spooled requests, passes `promtool check metrics`.
# Every metric the rules and the Grafana dashboard query is one the module
# serves.
use strict;
use warnings;
use lib 't/lib';

use JSON::PP;
use Mailhook::Sign qw(hmac_b64);
use Mailhook::Test;
use Test::More;

my $promtool = `command -v promtool 2>/dev/null`;
chomp $promtool;
plan(skip_all => 'promtool not installed (Debian package prometheus)') unless $promtool;

my $rules = 'docs/ops/mailhook-alerts.yml';
my $dashboard = 'docs/ops/mailhook-dashboard.json';

my $out = `$promtool check rules $rules 2>&1`;
is($?, 0, 'promtool check rules') or diag($out);
like($out, qr/SUCCESS: \d+ rules found/, 'rules found');
$out = `$promtool test rules docs/ops/mailhook-alerts.test.yml 2>&1`;
is($?, 0, 'promtool test rules: the alerts fire when they should') or diag($out);

my $t = Mailhook::Test->new;
my $spool = $t->dir . '/spool';
$t->start_redis;
$t->start_nginx(http => "mailhook_connection ir vendor=inboxroad secret=s1; mailhook_spool $spool;",
    server => 'location = /metrics { mailhook_status; allow 127.0.0.1; deny all; }');
my $body = '{"kind":"hard_bounce","recipient":"ann@example.net","timestamp":"2025-09-04T10:00:00Z"}';
is($t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => hmac_b64($body, 's1'))->{status}, 200, 'stored');
is($t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => hmac_b64($body, 's1'))->{status}, 200, 'duplicate');
is($t->post('/webhooks/v2/inboxroad/ir', $body, 'X-Signature' => 'AAAA')->{status}, 401, 'rejected');
is($t->post('/webhooks/v2/inboxroad/nosuch', $body)->{status}, 404, 'unknown');
$t->stop_redis;
$t->wait_workers_ready(redis_connected => 0);
my $other = '{"kind":"delivered","recipient":"bob@example.net","timestamp":"2025-09-04T10:00:00Z"}';
is($t->post('/webhooks/v2/inboxroad/ir', $other, 'X-Signature' => hmac_b64($other, 's1'))->{status}, 200, 'spooled');

my $page = $t->request('GET', '/metrics');
is($page->{status}, 200, '/metrics: 200');
my $file = $t->dir . '/metrics.txt';
open my $fh, '>', $file or die $!;
print $fh $page->{content};
close $fh;
$out = `$promtool check metrics < $file 2>&1`;
is($?, 0, 'promtool check metrics on the live page') or diag($out);
is($out, '', 'no lint finding');

# The names the rules and the dashboard query are metrics of the module:
# on the live page, or (counters not incremented yet) in the metrics table
# of docs/operations.md, which t/docs.t keeps equal to the code's.
my %served = map { /^(\w+)/ ? ($1 => 1) : () } grep { !/^#/ } split /\n/, $page->{content};
$served{$_ =~ s/_(bucket|sum|count)$//r} = 1 for keys %served;
my $operations = do { local $/; open my $o, '<', 'docs/operations.md' or die; <$o> };
my %documented;
for my $row ($operations =~ /^\| (`mailhook_\w+`(?:, `mailhook_\w+`)*) \|/mg) {
    $documented{$_} = 1 for $row =~ /`(\w+)`/g;
}
my $queries = join "\n", (do { local $/; open my $r, '<', $rules or die; <$r> } =~ /expr: (?:\|\n)?((?:.+\n)+?)\s+(?:for|labels):/g),
    map { $_->{expr} } map { @{ $_->{targets} // [] } }
        @{ decode_json(do { local $/; open my $d, '<', $dashboard or die; <$d> })->{panels} };
my %used = map { $_ => 1 } $queries =~ /\b(mailhook_[a-z_]+?)(?:_bucket)?\b/g;
my @missing = grep { !$served{$_} && !$documented{$_} } sort keys %used;
is_deeply(\@missing, [], 'every metric the rules and the dashboard query is the module\'s')
    or diag("served: @{[sort keys %served]}");
my @live = grep { $served{$_} } keys %used;
ok(@live >= 15, scalar(@live) . ' of them on the live page');
ok(scalar(keys %used) >= 10, scalar(keys %used) . ' metrics used');
my $json = eval { decode_json(do { local $/; open my $d, '<', $dashboard or die; <$d> }) };
ok($json && ref $json->{panels} eq 'ARRAY' && @{ $json->{panels} } >= 8, 'the dashboard is JSON with its panels');

$t->finish;
done_testing;
