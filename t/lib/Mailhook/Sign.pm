# SPDX-License-Identifier: BSD-2-Clause
package Mailhook::Sign;

# Signing the way each vendor signs, for the integration tests.

use strict;
use warnings;

use Crypt::PK::ECC;
use Crypt::PK::RSA;
use Digest::SHA qw(hmac_sha256 hmac_sha256_hex hmac_sha1);
use Exporter 'import';
use MIME::Base64 qw(encode_base64 decode_base64);

our @EXPORT_OK = qw(b64 sendgrid_key sendgrid_headers mailgun_signature
    standard_webhooks_headers hmac_b64 basic_auth postal_key postal_headers tracking_token);

sub b64 { encode_base64($_[0], '') }

# A fresh P-256 key: (signer, base64 DER public key as SendGrid shows it).
sub sendgrid_key {
    my $pk = Crypt::PK::ECC->new;
    $pk->generate_key('secp256r1');
    return ($pk, b64($pk->export_key_der('public')));
}

sub sendgrid_headers {
    my ($pk, $body, $timestamp) = @_;
    $timestamp //= time;
    return (
        'X-Twilio-Email-Event-Webhook-Signature' =>
            b64($pk->sign_message($timestamp . $body, 'SHA256')),
        'X-Twilio-Email-Event-Webhook-Timestamp' => $timestamp,
        'Content-Type' => 'application/json',
    );
}

sub mailgun_signature {
    my ($key, $token, $timestamp) = @_;
    $timestamp //= time;
    return {
        timestamp => "$timestamp",
        token => $token,
        signature => hmac_sha256_hex($timestamp . $token, $key),
    };
}

# whsec_ secret; returns the webhook-* headers.
sub standard_webhooks_headers {
    my ($secret, $id, $body, %opt) = @_;
    my $timestamp = $opt{timestamp} // time;
    (my $encoded = $secret) =~ s/^whsec_//;
    my $sig = b64(hmac_sha256("$id.$timestamp.$body", decode_base64($encoded)));
    my $prefix = $opt{prefix} // 'webhook-';
    my $value = join ' ', @{$opt{extra_signatures} // []}, "v1,$sig";
    return (
        "${prefix}id" => $id,
        "${prefix}timestamp" => $timestamp,
        "${prefix}signature" => $value,
        'Content-Type' => 'application/json',
    );
}

sub hmac_b64 { b64(hmac_sha256($_[0], $_[1])) }

sub basic_auth { 'Basic ' . b64($_[0]) }

# A fresh 2048-bit RSA key, as a Postal installation's signing key.
# PEM: $pk->export_key_pem('public_x509'); base64 DER: b64($pk->export_key_der('public')).
sub postal_key {
    my $pk = Crypt::PK::RSA->new;
    $pk->generate_key(256, 65537);
    return $pk;
}

# Postal's headers: RSA PKCS#1 v1.5 over the raw body, SHA-256 and SHA-1.
# legacy => 1 sends only the SHA-1 header, as older Postal versions do.
sub postal_headers {
    my ($pk, $body, %opt) = @_;
    my %headers = (
        'X-Postal-Signature' => b64($pk->sign_message($body, 'SHA1', 'v1.5')),
        'Content-Type' => 'application/json',
    );
    $headers{'X-Postal-Signature-256'} = b64($pk->sign_message($body, 'SHA256', 'v1.5'))
        unless $opt{legacy};
    return %headers;
}

# A tracking token as docs/tracking.md "Token format" documents it: base64url(payload) "."
# base64url(HMAC-SHA256(secret, payload)), no padding. $payload is the JSON
# text itself (any key order).
sub tracking_token {
    my ($payload, $secret) = @_;
    my $b64url = sub { (my $s = encode_base64($_[0], '')) =~ tr{+/}{-_}; $s =~ s/=+$//; $s };
    return $b64url->($payload) . '.' . $b64url->(hmac_sha256($payload, $secret));
}

1;
