# SPDX-License-Identifier: BSD-2-Clause
package Mailhook::Certs;

# Certificates for the TLS tests, made by openssl in a test's directory
# (EC P-256, valid for 2 days): $dir/$name.key and $dir/$name.crt.

use strict;
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(make_ca make_cert);

my $ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';

sub _openssl {
    my $out = `openssl @_ 2>&1`;
    die "openssl @_: $out" if $?;
}

# A self-signed CA named $ca.
sub make_ca {
    my ($dir, $ca) = @_;
    _openssl("req -x509 $ec -days 2 -subj /CN=$ca -keyout $dir/$ca.key -out $dir/$ca.crt");
}

# A certificate $cert signed by the CA $ca, with the extension line $ext
# (e.g. "subjectAltName=DNS:redis.test,IP:127.0.0.1").
sub make_cert {
    my ($dir, $ca, $cert, $ext) = @_;
    open my $fh, '>', "$dir/$cert.ext" or die "$dir/$cert.ext: $!";
    print $fh "$ext\n";
    close $fh;
    _openssl("req $ec -subj /CN=$cert -keyout $dir/$cert.key -out $dir/$cert.csr");
    _openssl("x509 -req -in $dir/$cert.csr -CA $dir/$ca.crt -CAkey $dir/$ca.key -CAcreateserial",
        "-days 2 -extfile $dir/$cert.ext -out $dir/$cert.crt");
}

1;
