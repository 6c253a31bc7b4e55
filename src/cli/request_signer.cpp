// SPDX-License-Identifier: BSD-2-Clause
#include "request_signer.hpp"

#include <openssl/rand.h>

#include "cli.hpp"
#include "core/configured_hmac.hpp"
#include "core/encoding.hpp"
#include "core/json.hpp"
#include "core/sns.hpp"

namespace mailhook::cli {
namespace {

std::string random_hex(std::size_t bytes) {
    std::string random(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(random.data()),
                   static_cast<int>(bytes)) != 1) {
        throw Failure("no random bytes");
    }
    return hex_encode(random);
}

std::string seconds(const SigningInput& input) { return std::to_string(input.now / 1000); }

const std::string& secret_of(const Connection& connection, const SigningInput& input) {
    if (input.secret >= connection.secrets.size()) {
        throw Failure(input.secret == 0 ? "the connection has no secret to sign with"
                                        : "the connection has no secret_next");
    }
    return connection.secrets[input.secret];
}

// The key as the vendor's prepare() decoded it (whsec_ base64, the generic
// scheme's secret_encoding), else the secret itself.
const std::string& signing_key(const Connection& connection, const SigningInput& input) {
    secret_of(connection, input);
    return input.secret < connection.signing_keys.size() ? connection.signing_keys[input.secret]
                                                         : connection.secrets[input.secret];
}

const PrivateKey& private_key(const SigningInput& input, const char* what) {
    if (input.private_key == nullptr) {
        throw Failure(std::string("this connection verifies with a public key: give ") + what +
                      " with --private-key FILE");
    }
    return *input.private_key;
}

std::string signature(const PrivateKey& key, DigestAlgorithm algorithm, std::string_view data) {
    std::string signature = key.sign(algorithm, data);
    if (signature.empty()) throw Failure("signing with --private-key failed");
    return base64_encode(signature);
}

JsonPtr json_object_body(const std::string& payload) {
    JsonPtr body = parse_json(payload);
    if (!json_is_object(body.get())) throw Failure("the body must be a JSON object");
    return body;
}

void set_string(json_t* object, const char* name, std::string_view value) {
    json_object_set_new(object, name, json_stringn(value.data(), value.size()));
}

SignedRequest json_request(const SigningInput& input, std::string body) {
    return {input.url, {{"Content-Type", "application/json"}}, std::move(body)};
}

// Basic for "user:password" secrets, else Bearer (check_authorization_header).
void add_authorization(const Connection& connection, const SigningInput& input,
                       SignedRequest& request, std::string_view scheme = {}) {
    const std::string& secret = secret_of(connection, input);
    if (scheme.empty()) scheme = secret.find(':') != std::string::npos ? "basic" : "bearer";
    request.headers.emplace_back("Authorization", scheme == "basic"
                                                      ? "Basic " + base64_encode(secret)
                                                      : "Bearer " + secret);
}

SignedRequest credentials(const Connection& connection, const SigningInput& input) {
    SignedRequest request = json_request(input, input.payload);
    add_authorization(connection, input, request);
    return request;
}

// configured_hmac.hpp: the scheme the connection's options describe.
SignedRequest configured_hmac(const Connection& connection, const SigningInput& input) {
    HmacScheme scheme;
    if (Verdict verdict = read_hmac_scheme(connection, scheme); !verdict.ok()) {
        throw Failure(verdict.reason);
    }
    SignedRequest request = json_request(input, input.payload);
    std::string timestamp;
    if (scheme.timestamp_header) {
        timestamp = seconds(input);
        request.headers.emplace_back(std::string(*scheme.timestamp_header), timestamp);
        timestamp += std::string(scheme.separator);
    }
    const std::string mac =
        hmac(scheme.algorithm, signing_key(connection, input), {timestamp, request.body});
    const std::string encoded =
        scheme.encoding == SignatureEncoding::hex ? hex_encode(mac) : base64_encode(mac);
    request.headers.emplace_back(std::string(scheme.signature_header),
                                 std::string(scheme.prefix) + encoded);
    return request;
}

SignedRequest sendgrid(const Connection& connection, const SigningInput& input) {
    const auto auth = connection.option("auth");
    if (auth && (*auth == "basic" || *auth == "bearer")) {
        SignedRequest request = json_request(input, input.payload);
        add_authorization(connection, input, request, *auth);
        return request;
    }
    const PrivateKey& key = private_key(input, "the P-256 key SendGrid signs with");
    if (!key.is_p256()) throw Failure("SendGrid signs with a P-256 key: --private-key is not one");
    SignedRequest request = json_request(input, input.payload);
    const std::string timestamp = seconds(input);
    request.headers.emplace_back(
        "X-Twilio-Email-Event-Webhook-Signature",
        signature(key, DigestAlgorithm::sha256, timestamp + request.body));
    request.headers.emplace_back("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
    return request;
}

SignedRequest mailgun(const Connection& connection, const SigningInput& input) {
    JsonPtr body = json_object_body(input.payload);
    const std::string timestamp = seconds(input);
    const std::string token = random_hex(25);
    json_t* signature = json_object();
    set_string(signature, "timestamp", timestamp);
    set_string(signature, "token", token);
    set_string(signature, "signature",
               hex_encode(hmac(DigestAlgorithm::sha256, signing_key(connection, input),
                               {timestamp, token})));
    json_object_set_new(body.get(), "signature", signature);
    return json_request(input, json_dump_compact(body.get()));
}

SignedRequest resend(const Connection& connection, const SigningInput& input) {
    SignedRequest request = json_request(input, input.payload);
    const std::string id = "msg_" + random_hex(12);
    const std::string timestamp = seconds(input);
    const std::string mac = hmac(DigestAlgorithm::sha256, signing_key(connection, input),
                                 {id, ".", timestamp, ".", request.body});
    request.headers.emplace_back("webhook-id", id);
    request.headers.emplace_back("webhook-timestamp", timestamp);
    request.headers.emplace_back("webhook-signature", "v1," + base64_encode(mac));
    return request;
}

SignedRequest inboxroad(const Connection& connection, const SigningInput& input) {
    SignedRequest request = json_request(input, input.payload);
    request.headers.emplace_back(
        std::string(connection.option("signature_header").value_or("X-Signature")),
        base64_encode(hmac(DigestAlgorithm::sha256, signing_key(connection, input), request.body)));
    return request;
}

// MailerSend (Signature) and Mailtrap (Mailtrap-Signature): hex
// HMAC-SHA256 of the body.
SignedRequest hex_body_hmac(const Connection& connection, const SigningInput& input,
                            const char* header) {
    SignedRequest request = json_request(input, input.payload);
    request.headers.emplace_back(header, hex_encode(hmac(DigestAlgorithm::sha256,
                                                         signing_key(connection, input),
                                                         request.body)));
    return request;
}

SignedRequest mailersend(const Connection& connection, const SigningInput& input) {
    return hex_body_hmac(connection, input, "Signature");
}

SignedRequest mailtrap(const Connection& connection, const SigningInput& input) {
    return hex_body_hmac(connection, input, "Mailtrap-Signature");
}

// Unisender Go: the body's `auth` is the MD5 (hex) of the body with the API
// key in its place.
SignedRequest unisender_go(const Connection& connection, const SigningInput& input) {
    JsonPtr body = json_object_body(input.payload);
    const std::string& key = signing_key(connection, input);
    set_string(body.get(), "auth", key);
    std::string text = json_dump_compact(body.get());
    std::string quoted;
    append_json_string(quoted, key);
    const std::size_t at = text.find(quoted);
    if (at == std::string::npos || text.find(quoted, at + 1) != std::string::npos) {
        throw Failure("the API key must appear in the body only as its auth value");
    }
    text.replace(at + 1, quoted.size() - 2, hex_encode(md5(text)));
    return json_request(input, std::move(text));
}

SignedRequest postal(const Connection&, const SigningInput& input) {
    const PrivateKey& key = private_key(input, "the installation's RSA signing key");
    if (!key.is_rsa()) throw Failure("Postal signs with an RSA key: --private-key is not one");
    SignedRequest request = json_request(input, input.payload);
    request.headers.emplace_back("X-Postal-Signature-256",
                                 signature(key, DigestAlgorithm::sha256, request.body));
    request.headers.emplace_back("X-Postal-Signature",
                                 signature(key, DigestAlgorithm::sha1, request.body));
    return request;
}

std::string form_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '*') {
            out.push_back(static_cast<char>(c));
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

// One form field, mandrill_events; the URL and the field signed as Mandrill
// signs them.
SignedRequest mandrill(const Connection& connection, const SigningInput& input) {
    SignedRequest request{input.url,
                          {{"Content-Type", "application/x-www-form-urlencoded"}},
                          "mandrill_events=" + form_encode(input.payload)};
    request.headers.emplace_back(
        "X-Mandrill-Signature",
        base64_encode(hmac(DigestAlgorithm::sha1, signing_key(connection, input),
                           {input.url, "mandrill_events", input.payload})));
    return request;
}

SignedRequest smartlead(const Connection& connection, const SigningInput& input) {
    if (has_hmac_scheme(connection)) return configured_hmac(connection, input);
    JsonPtr body = json_object_body(input.payload);
    set_string(body.get(), "secret_key", secret_of(connection, input));
    return json_request(input, json_dump_compact(body.get()));
}

SignedRequest smtpcom(const Connection& connection, const SigningInput& input) {
    return has_hmac_scheme(connection) ? configured_hmac(connection, input)
                                       : credentials(connection, input);
}

SignedRequest sparkpost(const Connection& connection, const SigningInput& input) {
    const auto auth = connection.option("auth");
    if (!auth || *auth != "token") {
        SignedRequest request = json_request(input, input.payload);
        add_authorization(connection, input, request, auth.value_or(""));
        return request;
    }
    SignedRequest request = json_request(input, input.payload);
    request.headers.emplace_back("X-MessageSystems-Webhook-Token", secret_of(connection, input));
    return request;
}

// "arn:aws:sns:REGION:ACCOUNT:NAME": the first ARN of topic_arn, or a
// placeholder topic when the connection accepts any.
std::string topic_arn(const Connection& connection) {
    const std::string_view topics = connection.option("topic_arn").value_or("");
    const std::string_view first = trim_ascii(topics.substr(0, topics.find(',')));
    return first.empty() ? "arn:aws:sns:us-east-1:123456789012:mailhook-sign" : std::string(first);
}

// An SNS Notification carrying the SES event, signed (SignatureVersion 2)
// with the key of a certificate the module pins (mailhook_sns_certificates).
SignedRequest ses(const Connection& connection, const SigningInput& input) {
    const PrivateKey& key = private_key(input, "the key of a certificate pinned with "
                                               "mailhook_sns_certificates");
    if (input.certificate_url.empty()) throw Failure("SES needs --certificate FILE");
    const std::string message_id = random_hex(16);
    JsonPtr envelope(json_object());
    set_string(envelope.get(), "Type", "Notification");
    set_string(envelope.get(), "MessageId", message_id);
    set_string(envelope.get(), "TopicArn", topic_arn(connection));
    set_string(envelope.get(), "Message", input.payload);
    set_string(envelope.get(), "Timestamp", format_rfc3339_millis(input.now));
    set_string(envelope.get(), "SignatureVersion", "2");
    set_string(envelope.get(), "SigningCertURL", input.certificate_url);
    const auto to_sign = sns_string_to_sign(envelope.get());
    if (!to_sign) throw Failure("cannot build the SNS string to sign");
    set_string(envelope.get(), "Signature", signature(key, DigestAlgorithm::sha256, *to_sign));
    SignedRequest request{input.url,
                          {{"Content-Type", "text/plain; charset=UTF-8"},
                           {"x-amz-sns-message-type", "Notification"},
                           {"x-amz-sns-message-id", message_id},
                           {"x-amz-sns-topic-arn", topic_arn(connection)}},
                          json_dump_compact(envelope.get())};
    if (!connection.secrets.empty()) add_authorization(connection, input, request, "basic");
    return request;
}

struct Signer {
    std::string_view vendor;
    SignedRequest (*sign)(const Connection&, const SigningInput&);
};

constexpr Signer kSigners[] = {
    {"brevo", credentials},     {"generic", configured_hmac}, {"inboxroad", inboxroad},
    {"mailersend", mailersend}, {"mailgun", mailgun},         {"mailjet", credentials},
    {"mailtrap", mailtrap},     {"mandrill", mandrill},
    {"oci", credentials},       {"postal", postal},           {"postmark", credentials},
    {"resend", resend},         {"sendgrid", sendgrid},       {"ses", ses},
    {"smartlead", smartlead},   {"smtp2go", credentials},     {"smtpcom", smtpcom},
    {"sparkpost", sparkpost},   {"unisender_go", unisender_go},
};

}  // namespace

SignedRequest sign_request(const Connection& connection, const SigningInput& input) {
    for (const Signer& signer : kSigners) {
        if (signer.vendor == connection.vendor) return signer.sign(connection, input);
    }
    throw Failure("no signer for vendor " + connection.vendor);
}

}  // namespace mailhook::cli
