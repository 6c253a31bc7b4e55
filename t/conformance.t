# SPDX-License-Identifier: BSD-2-Clause
# The conformance suite through the real module: every case of
# t/conformance/<vendor>/ (the vendor's own sample, its source cited, and the
# complete events expected of it; format in t/conformance/README.md) signed
# as the vendor signs it, posted to nginx on a connection of its own, and the
# events Redis holds compared field by field. Posted again, every event is a
# duplicate. t/unit/conformance_test.cpp runs the same cases through the core.
use strict;
use warnings;
use lib 't/lib';

use Digest::MD5 qw(md5_hex);
use Digest::SHA qw(hmac_sha1 hmac_sha256 hmac_sha256_hex sha256_hex);
use File::Basename qw(basename dirname);
use JSON::PP qw(decode_json);
use Mailhook::SNS qw(pin_certificate sign_sns);
use Mailhook::Sign qw(b64 basic_auth mailgun_signature postal_headers postal_key
    sendgrid_headers sendgrid_key standard_webhooks_headers);
use Mailhook::Test;
use Test::More;

my @files = sort glob('t/conformance/*/*.json');
plan skip_all => 'no conformance cases' unless @files;

my $shared = 'conformance-secret';
my $basic = 'hook:conformance';
my $resend_secret = 'whsec_' . b64('conformance-resend-key!');
my $public = 'https://hooks.example.com';

my $t = Mailhook::Test->new;
my $sns_key = pin_certificate($t->dir);
my ($sendgrid, $sendgrid_public) = sendgrid_key();
my $postal = postal_key();
$t->start_redis;
$t->start_nginx(
    http => 'mailhook_sns_certificates ' . $t->dir . '/pinned;',
    location => "mailhook_public_url $public\$request_uri;",
);

# Numbers keep the digits the vendor wrote (allow_bignum): Mailgun's
# event ids, for one, are paired with the timestamp's text.
my $json = JSON::PP->new->utf8->canonical->allow_bignum;
# What a value looks like once stored and read back as plain Perl.
sub plain { decode_json($json->encode([$_[0]]))->[0] }

sub url_encode {
    my ($text) = @_;
    utf8::encode($text) if utf8::is_utf8($text);
    $text =~ s/([^A-Za-z0-9\-_.~])/sprintf('%%%02X', ord $1)/ge;
    return $text;
}

sub form_text { ref $_[0] ? $json->encode($_[0]) : $_[0] }

sub form_encode {
    my ($fields) = @_;
    return join '&', map { url_encode($_) . '=' . url_encode(form_text($fields->{$_})) }
        sort keys %$fields;
}

my $boundary = 'conformance-boundary-7MA4YWxk';
sub multipart_encode {
    my ($fields, $files) = @_;
    my $part = sub {
        my ($name, $value, $file) = @_;
        my $disposition = qq(form-data; name="$name") . ($file ? qq(; filename="$file") : '');
        utf8::encode($value) if utf8::is_utf8($value);
        return "--$boundary\r\nContent-Disposition: $disposition\r\n\r\n$value\r\n";
    };
    return join('', (map { $part->($_, form_text($fields->{$_})) } sort keys %$fields),
        (map { $part->($_, $files->{$_}, 'attachment.txt') } sort keys %$files))
        . "--$boundary--\r\n";
}

# The request of a case: (body, headers, connection fields, what was sent as
# a structure for the raw pointers).
sub request_of {
    my ($vendor, $case, $id, $now) = @_;
    my %headers = %{ $case->{headers} // {} };
    my %connection = (vendor => $vendor, %{ $case->{connection} // {} });
    my ($sent, $kind) = exists $case->{form}
        ? ({ %{ $case->{form} } }, $case->{attachments} ? 'multipart' : 'form')
        : ($case->{body}, 'json');
    my $encode = sub {
        return $kind eq 'json' ? $json->encode($sent)
             : $kind eq 'form' ? form_encode($sent)
             : multipart_encode($sent, $case->{attachments});
    };
    $headers{'Content-Type'} //= $kind eq 'json' ? 'application/json'
        : $kind eq 'form' ? 'application/x-www-form-urlencoded'
        : "multipart/form-data; boundary=$boundary";
    my $body;
    if ($vendor eq 'sendgrid') {
        $connection{secret} = $sendgrid_public;
        $body = $encode->() . "\r\n";
        %headers = (%headers, sendgrid_headers($sendgrid, $body, $now));
    } elsif ($vendor eq 'mailgun') {
        $connection{secret} = $shared;
        # a token of its own per case: a token is used once
        my $signature = mailgun_signature($shared, substr(sha256_hex($id), 0, 50), $now);
        if ($kind eq 'json') {
            $sent = { %$sent, signature => $signature };
        } else {
            $sent = { %$sent, %$signature };
        }
        $body = $encode->();
    } elsif ($vendor eq 'resend') {
        $connection{secret} = $resend_secret;
        $body = $encode->();
        my %signed = standard_webhooks_headers($resend_secret,
            $headers{'svix-id'} // "msg_$id", $body, timestamp => $now, prefix => 'svix-');
        %headers = (%headers, %signed);
    } elsif ($vendor eq 'inboxroad') {
        $connection{secret} = $shared;
        $body = $encode->();
        $headers{'X-Signature'} = b64(hmac_sha256($body, $shared));
    } elsif ($vendor eq 'postal') {
        $connection{secret} = b64($postal->export_key_der('public'));
        $body = $encode->();
        my %signed = postal_headers($postal, $body);
        %headers = (%headers, %signed);
    } elsif ($vendor eq 'generic') {
        %connection = (%connection, secret => $shared, signature_header => 'X-Signature');
        $body = $encode->();
        $headers{'X-Signature'} = hmac_sha256_hex($body, $shared);
    } elsif ($vendor eq 'smartlead') {
        $connection{secret} = $shared;
        $sent = { %$sent, secret_key => $shared };
        $body = $encode->();
    } elsif ($vendor eq 'mandrill') {
        $connection{secret} = $shared;
        my $events = $encode->();
        $sent = { mandrill_events => $events };
        $body = 'mandrill_events=' . url_encode($events);
        $headers{'Content-Type'} = 'application/x-www-form-urlencoded';
        $headers{'X-Mandrill-Signature'} =
            b64(hmac_sha1("$public/webhooks/v2/mandrill/$id" . 'mandrill_events' . $events, $shared));
    } elsif ($vendor eq 'ses') {
        # An SNS message is signed again; an SES event is wrapped in the
        # Notification SNS would send.
        my $message = $sent;
        unless (defined $message->{Type} && !ref $message->{Type}) {
            $message = { Type => 'Notification', TopicArn => 'arn:aws:sns:us-east-1:123456789012:ses',
                MessageId => $headers{'x-amz-sns-message-id'} // "sns-$id",
                Message => $json->encode($sent), Timestamp => '2016-01-27T14:59:39.000Z' };
        }
        $sent = { %$message };
        $body = sign_sns($sent, $sns_key);
        $headers{'Content-Type'} = 'text/plain; charset=UTF-8';
    } elsif ($vendor eq 'mailersend') {
        $connection{secret} = $shared;
        $body = $encode->();
        $headers{Signature} = hmac_sha256_hex($body, $shared);
    } elsif ($vendor eq 'mailtrap') {
        $connection{secret} = $shared;
        $body = $encode->();
        $headers{'Mailtrap-Signature'} = hmac_sha256_hex($body, $shared);
    } elsif ($vendor eq 'unisender_go') {
        # MD5 of the body with the API key where `auth` is.
        $connection{secret} = $shared;
        $sent = { %$sent, auth => $shared };
        my $with_key = $encode->();
        my $digest = md5_hex($with_key);
        ($body = $with_key) =~ s/"auth":"\Q$shared\E"/"auth":"$digest"/;
        $sent->{auth} = $digest;
    } else {
        # Vendors without a signature: Basic credentials.
        $connection{secret} = $basic;
        $body = $encode->();
        $headers{Authorization} = basic_auth($basic);
    }
    utf8::encode($body) if utf8::is_utf8($body);
    return ($body, \%headers, \%connection, $sent, $kind);
}

# A JSON pointer into what was sent; strings met on the way (and at the end,
# when they hold an object or array) are read as the JSON they hold.
sub resolve {
    my ($sent, $pointer) = @_;
    my $decode = sub {
        my ($value) = @_;
        return $value if ref $value;
        my $inner = eval { JSON::PP->new->decode($value) };
        return ref $inner ? $inner : $value;
    };
    my $current = $sent;
    for my $token (grep { length } split m{/}, $pointer) {
        $token =~ s/~1/\//g;
        $token =~ s/~0/~/g;
        $current = $decode->($current);
        $current = ref $current eq 'ARRAY' ? $current->[$token] : $current->{$token};
        return undef unless defined $current;
    }
    return $decode->($current);
}

sub event_id { substr(sha256_hex(join "\0", @_), 0, 32) }

sub rfc3339 {
    my @t = gmtime $_[0];
    return sprintf('%04d-%02d-%02dT%02d:%02d:%02dZ', $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0]);
}

# Stored events of a stream with their raw in place (raw_ref resolved).
sub stored_events {
    my ($stream) = @_;
    my @events = $t->events($stream);
    my %by_id = map { $_->{id} => $_ } @events;
    for my $event (@events) {
        my $ref = delete $event->{raw_ref} or next;
        $event->{raw} = $by_id{ $ref->{id} }{raw};
    }
    return @events;
}

my %count = (events => 0, control => 0);
for my $file (@files) {
    my $vendor = basename(dirname($file));
    (my $name = basename($file)) =~ s/\.json$//;
    my $case = do { open my $fh, '<', $file or die "$file: $!"; local $/; $json->decode(<$fh>) };
    my $id = "cf-$vendor-$name";
    $id =~ tr/_/-/;
    my $now = time;
    my ($body, $headers, $connection, $sent, $kind) = request_of($vendor, $case, $id, $now);
    $t->redis->hset("mailhook:connection:$id", %$connection);
    my $path = "/webhooks/v2/$vendor/$id";
    my @expected = @{ $case->{events} };
    my $controls = grep { $_->{control} } @expected;
    my $events = @expected - $controls;

    my $r = $t->post($path, $body, %$headers);
    is($r->{status}, 200, "$vendor/$name: 200") or diag($r->{content});
    my @stored = grep { $_->{connection} eq $id }
        (stored_events('mailhook:events'), stored_events('mailhook:control'));
    is(scalar @stored, scalar @expected, "$vendor/$name: " . scalar(@expected) . ' stored');
    my %seen = (events => $t->event_count, control => $t->event_count('mailhook:control'));
    is($seen{events} - $count{events}, $events, "$vendor/$name: $events in the event stream");
    is($seen{control} - $count{control}, $controls, "$vendor/$name: $controls in the control stream");
    %count = %seen;

    # The stored order is the vendor's, events and control entries apart.
    my @want = ((grep { !$_->{control} } @expected), (grep { $_->{control} } @expected));
    for my $i (0 .. $#want) {
        my %want = %{ $want[$i] };
        my $got = $stored[$i] // {};
        my $at = "$vendor/$name event $i";
        delete $want{control};
        my $dedup_key = delete $want{dedup_key};
        my $stored_id = $got->{id} // '';
        if (length($dedup_key // '')) {
            is($stored_id, event_id($vendor, $id, $dedup_key), "$at: id from $dedup_key");
        } else {
            like($stored_id, qr/^[0-9a-f]{32}$/, "$at: id from the content");
        }
        my $received = $got->{received_at} // '';
        $want{timestamp} = substr($received, 0, 19) . 'Z' if $want{timestamp} eq 'received_at';
        $want{timestamp} = rfc3339($now) if $want{timestamp} eq 'signed_at';
        if (defined $want{raw} && !ref $want{raw}) {
            $want{raw} = resolve($sent, $want{raw});
            delete $want{raw}{secret_key} if $vendor eq 'smartlead';
            delete $want{raw}{auth} if $vendor eq 'unisender_go';
            delete @{ $want{raw} }{qw(timestamp token signature)}
                if $vendor eq 'mailgun' && $kind ne 'json';
        }
        %want = %{ plain(\%want) };
        my %actual = map { $_ => $got->{$_} } keys %want;
        is_deeply(\%actual, \%want, "$at: every field")
            or diag($json->encode({ map { $_ => $got->{$_} } grep { $_ ne 'raw' } keys %$got }));
    }

    $r = $t->post($path, $body, %$headers);
    is($r->{content}, sprintf(qq({"stored":0,"duplicates":%d}\n), scalar @expected),
        "$vendor/$name: posted again, duplicates");
}

cmp_ok(scalar @files, '>=', 150, scalar(@files) . ' cases');
$t->finish;
done_testing;
