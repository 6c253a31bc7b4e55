# SPDX-License-Identifier: BSD-2-Clause
package Mailhook::SNS;

# Amazon SNS the way SNS does it, for the integration tests: a self-signed
# signing certificate made with openssl, the canonical string to sign, and
# RSA-SHA1/RSA-SHA256 signatures (Crypt::PK::RSA).

use strict;
use warnings;

use Crypt::PK::RSA;
use Exporter 'import';
use JSON::PP;
use MIME::Base64 qw(encode_base64);

our @EXPORT_OK = qw(make_certificate pin_certificate string_to_sign sign_sns);

# A fresh RSA key and a self-signed certificate: returns (key file, cert file).
# With a host name, the certificate is also good for a TLS server of that name.
sub make_certificate {
    my ($dir, $name, $host) = @_;
    my ($key, $cert) = ("$dir/$name.key", "$dir/$name.pem");
    my $cn = $host // 'sns.amazonaws.com';
    my $san = $host ? "-addext 'subjectAltName=DNS:$host'" : '';
    my $out = `openssl req -x509 -newkey rsa:2048 -nodes -keyout '$key' -out '$cert' -days 2 -subj '/CN=$cn' $san 2>&1`;
    die "openssl failed: $out" if $?;
    return ($key, $cert);
}

# A certificate in $dir/pinned (for mailhook_sns_certificates) under the name
# sign_sns's default SigningCertURL ends in; returns its key file.
sub pin_certificate {
    my ($dir) = @_;
    mkdir "$dir/pinned" or die "mkdir: $!" unless -d "$dir/pinned";
    my ($key) = make_certificate($dir, 'test');
    rename "$dir/test.pem", "$dir/pinned/SimpleNotificationService-test.pem" or die $!;
    return $key;
}

my @NOTIFICATION_KEYS = qw(Message MessageId Subject Timestamp TopicArn Type);
my @CONFIRMATION_KEYS = qw(Message MessageId SubscribeURL Timestamp Token TopicArn Type);

sub string_to_sign {
    my ($message) = @_;
    my @keys = $message->{Type} eq 'Notification' ? @NOTIFICATION_KEYS : @CONFIRMATION_KEYS;
    return join '', map { "$_\n$message->{$_}\n" } grep { defined $message->{$_} } @keys;
}

# Adds SignatureVersion, SigningCertURL and Signature to the message (a hash)
# and returns the JSON body.
sub sign_sns {
    my ($message, $key_file, %opt) = @_;
    my $version = $opt{version} // '2';
    $message->{SignatureVersion} = $version;
    $message->{SigningCertURL} = $opt{cert_url}
        // 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem';
    my $pk = Crypt::PK::RSA->new($key_file);
    my $hash = $version eq '1' ? 'SHA1' : 'SHA256';
    my $text = string_to_sign($message);
    utf8::encode($text);  # SNS signs the UTF-8 bytes
    $message->{Signature} = encode_base64($pk->sign_message($text, $hash, 'v1.5'), '');
    return JSON::PP->new->utf8->canonical->encode($message);
}

1;
