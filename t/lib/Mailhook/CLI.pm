# SPDX-License-Identifier: BSD-2-Clause
package Mailhook::CLI;

# Runs the `mailhook` command (build/bin/mailhook, or MAILHOOK_CLI_BIN)
# against a test's Redis and collects its exit code and output.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter 'import';
use Test::More;

our @EXPORT_OK = qw(cli_bin cli);

sub cli_bin {
    my $bin = $ENV{MAILHOOK_CLI_BIN} // abs_path('build/bin/mailhook');
    plan(skip_all => "mailhook command not built ($bin): run make cli")
        unless $bin && -x $bin;
    return $bin;
}

sub _slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar(<$fh>) // '';
}

# cli($t, @args, {stdin => TEXT, env => {...}, bin => PATH}): runs the
# command with MAILHOOK_REDIS pointing at $t's Redis. Returns
# {code => exit code, out => stdout, err => stderr}.
sub cli {
    my ($t, @args) = @_;
    my %opt = ref $args[-1] eq 'HASH' ? %{ pop @args } : ();
    my $dir = $t->dir;
    my ($in, $out, $err) = map { "$dir/cli.$_" } qw(in out err);
    open my $fh, '>', $in or die "$in: $!";
    print $fh $opt{stdin} // '';
    close $fh;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $ENV{MAILHOOK_REDIS} = '127.0.0.1:' . $t->redis_port;
        $ENV{$_} = $opt{env}{$_} for keys %{ $opt{env} // {} };
        open STDIN, '<', $in or die;
        open STDOUT, '>', $out or die;
        open STDERR, '>', $err or die;
        exec { $opt{bin} // cli_bin() } ($opt{argv0} // 'mailhook'), @args;
        exit 127;
    }
    waitpid($pid, 0);
    my $status = $?;
    return {
        code => $status & 127 ? 128 + ($status & 127) : $status >> 8,
        out => _slurp($out),
        err => _slurp($err),
    };
}

1;
