# SPDX-License-Identifier: BSD-2-Clause
# M2 (security review 2026-12-01): work before authentication. Mailgun,
# SmartLead and SNS carry their credential in the JSON body, and Mandrill's
# signature covers the parsed form, so their bodies are read before anything
# is authenticated. The review's bodies (about 1 MB of empty objects, or
# 500,000 empty form fields) cost 79 MB of worker memory and 140-200 ms each;
# now a scan of the bytes refuses them (413 `size`) before any parser runs:
# nothing stored, and the worker's peak memory (VmHWM) grows by at most a few
# MB. Peak growth and time per request are printed (diag) for the report.
use strict;
use warnings;
use lib 't/lib';

use Mailhook::Test;
use Test::More;
use Time::HiRes qw(time);

my $t = Mailhook::Test->new;
$t->start_redis;
$t->start_nginx(
    workers => 1,
    log_level => 'info',
    http => join(' ',
        'mailhook_connection mg vendor=mailgun secret=key-m2;',
        'mailhook_connection sl vendor=smartlead secret=sl-m2;',
        'mailhook_connection ses2 vendor=ses;',
        'mailhook_connection md vendor=mandrill secret=md-m2;',
        'client_max_body_size 2m;'),
);

sub peak_kb {
    my ($pid) = $t->worker_pids;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) { return $1 if /^VmHWM:\s+(\d+) kB/ }
    return 0;
}
sub empty_objects { my ($head) = @_; return $head . '"x":[' . join(',', ('{}') x 340_000) . ']}' }

my @cases = (
    ['mailgun', '/webhooks/v2/mailgun/mg', empty_objects('{"signature":{},'),
        { 'Content-Type' => 'application/json' }],
    ['ses', '/webhooks/v2/ses/ses2', empty_objects('{"Type":"Notification","Signature":"A",'),
        { 'Content-Type' => 'text/plain' }],
    ['smartlead', '/webhooks/v2/smartlead/sl', empty_objects('{"secret_key":"no",'),
        { 'Content-Type' => 'application/json' }],
    ['mandrill', '/webhooks/v2/mandrill/md', join('&', ('a') x 500_000),
        { 'Content-Type' => 'application/x-www-form-urlencoded', 'X-Mandrill-Signature' => 'AAAA' }],
);

my $before = $t->stored_summary;
for my $case (@cases) {
    my ($vendor, $path, $body, $headers) = @$case;
    # A fresh worker per case (as the review measured), warmed by one small
    # refused request so its buffers exist before the peak is read.
    $t->reload;
    $t->post($path, '{}', %$headers);
    my $peak = peak_kb();
    my $started = time;
    my $r = $t->post($path, $body, %$headers);
    my $ms = (time - $started) * 1000;
    my $growth = peak_kb() - $peak;
    diag(sprintf('M2 %s: %d bytes, peak worker RSS +%d kB, %.0f ms', $vendor, length $body,
        $growth, $ms));
    is($r->{status}, 413, "M2 $vendor: refused before authentication (413)");
    is($r->{content}, qq({"error":"size"}\n), "M2 $vendor: error body");
    SKIP: {
        skip 'ASan keeps freed memory in quarantine', 1 if Mailhook::Test->sanitized;
        cmp_ok($growth, '<', 8192, "M2 $vendor: worker peak memory bounded (+$growth kB, was +79 MB)");
    }
}
is($t->stored_summary, $before, 'M2 nothing stored');
like($t->error_log, qr/before authentication/, 'M2 the refusals say why');

$t->finish;
done_testing;
