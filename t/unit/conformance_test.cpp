// SPDX-License-Identifier: BSD-2-Clause
// The conformance suite through the core: every case of t/conformance/
// <vendor>/ (a vendor's own sample payload, its source cited, and the
// complete normalized events expected of it) signed as the vendor signs it
// and run through take_in(). t/conformance.t posts the same cases to the
// real module. The case format is described in t/conformance/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/configured_hmac.hpp"
#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr const char* kConformanceDir = "t/conformance";
constexpr const char* kBasicCredentials = "hook:conformance";
constexpr const char* kSharedSecret = "conformance-secret";
constexpr const char* kMandrillUrl = "https://hooks.example.com/webhooks/v2/mandrill/conn-1";
constexpr const char* kSnsCertificateUrl =
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-conformance.pem";
// whsec_ + base64("conformance-resend-key!")
constexpr const char* kResendSecret = "whsec_Y29uZm9ybWFuY2UtcmVzZW5kLWtleSE=";

std::vector<std::string> case_files() {
    std::vector<std::string> files;
    if (!std::filesystem::is_directory(kConformanceDir)) return files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(kConformanceDir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json") {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

// "sendgrid" for t/conformance/sendgrid/bounce.json.
std::string vendor_of(const std::string& file) {
    return std::filesystem::path(file).parent_path().filename().string();
}

std::string text_member(const json_t* object, const char* key, std::string fallback = {}) {
    const json_t* value = json_object_get(object, key);
    return json_is_string(value) ? json_string_value(value) : fallback;
}

enum class BodyKind { json, form, multipart };

// What is posted, and what it is as JSON (for "raw" pointers): the body
// value, or a form's fields.
struct Request {
    std::string body;
    MapHeaders headers;
    FieldList connection;
    std::string public_url;
    JsonPtr sent;
    BodyKind kind = BodyKind::json;
    JsonPtr attachments;  // multipart: {"name": "content"} file parts
};

constexpr const char* kBoundary = "conformance-boundary-7MA4YWxk";

struct Keys {
    EcKey sendgrid;
    RsaKey postal;
    RsaKey sns;
    MapCertificates certificates;
    Keys() { certificates.add(kSnsCertificateUrl, public_key_of(sns)); }
};

const Keys& keys() {
    static const Keys instance;
    return instance;
}

std::string hmac_hex(std::string_view key, std::string_view body) {
    return hex_encode(hmac(DigestAlgorithm::sha256, key, body));
}

std::string form_encode(const json_t* fields) {
    std::string out;
    const char* key;
    json_t* value;
    json_object_foreach(const_cast<json_t*>(fields), key, value) {
        if (!out.empty()) out.push_back('&');
        out += form_escape(key) + "=" +
               form_escape(json_is_string(value) ? json_string_value(value)
                                                : json_dump_compact(value));
    }
    return out;
}

std::string multipart_encode(const json_t* fields, const json_t* attachments) {
    std::string out;
    const auto part = [&](const char* name, const char* value, const char* filename) {
        out += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" +
               name + "\"";
        if (filename) out += std::string("; filename=\"") + filename + "\"";
        out += "\r\n\r\n" + std::string(value) + "\r\n";
    };
    const char* key;
    json_t* value;
    json_object_foreach(const_cast<json_t*>(fields), key, value) {
        part(key, json_string_value(value), nullptr);
    }
    json_object_foreach(const_cast<json_t*>(attachments), key, value) {
        part(key, json_string_value(value), "attachment.txt");
    }
    return out + "--" + kBoundary + "--\r\n";
}

// The body from what is sent.
void encode(Request& request) {
    switch (request.kind) {
        case BodyKind::json: request.body = json_dump_compact(request.sent.get()); break;
        case BodyKind::form: request.body = form_encode(request.sent.get()); break;
        case BodyKind::multipart:
            request.body = multipart_encode(request.sent.get(), request.attachments.get());
            break;
    }
}

// Replaces the body (a JSON value) and what was sent.
void set_json_body(Request& request, JsonPtr body) {
    request.sent = std::move(body);
    encode(request);
}

void sign(const std::string& vendor, Request& request) {
    const std::string now = std::to_string(kNow / 1000);
    const auto secret = [&](std::string value) {
        request.connection.emplace_back("secret", std::move(value));
    };
    if (vendor == "sendgrid") {
        secret(keys().sendgrid.verification_key());
        request.body += "\r\n";
        const MapHeaders signed_headers =
            sendgrid_headers(keys().sendgrid, now, request.body);
        request.headers.set(std::string(kSendGridTimestamp),
                            std::string(*signed_headers.find(kSendGridTimestamp)));
        request.headers.set(std::string(kSendGridSignature),
                            std::string(*signed_headers.find(kSendGridSignature)));
    } else if (vendor == "mailgun") {
        secret(kSharedSecret);
        const std::string token = std::string(50, 'c');
        if (json_is_object(json_object_get(request.sent.get(), "event-data"))) {
            JsonPtr body(json_deep_copy(request.sent.get()));
            JsonPtr signature(json_object());
            json_object_set_new(signature.get(), "timestamp", json_string(now.c_str()));
            json_object_set_new(signature.get(), "token", json_string(token.c_str()));
            json_object_set_new(signature.get(), "signature",
                                json_string(mailgun_signature(kSharedSecret, now, token).c_str()));
            json_object_set_new(body.get(), "signature", signature.release());
            set_json_body(request, std::move(body));
        } else {
            json_t* fields = request.sent.get();
            json_object_set_new(fields, "timestamp", json_string(now.c_str()));
            json_object_set_new(fields, "token", json_string(token.c_str()));
            json_object_set_new(fields, "signature",
                                json_string(mailgun_signature(kSharedSecret, now, token).c_str()));
            encode(request);
        }
    } else if (vendor == "resend") {
        secret(kResendSecret);
        const std::string id(request.headers.find("svix-id").value_or("msg_conformance"));
        const MapHeaders svix =
            svix_headers(*base64_decode("Y29uZm9ybWFuY2UtcmVzZW5kLWtleSE="), id, now,
                         request.body);
        for (const char* name : {"svix-id", "svix-timestamp", "svix-signature"}) {
            request.headers.set(name, std::string(*svix.find(name)));
        }
    } else if (vendor == "inboxroad") {
        secret(kSharedSecret);
        request.headers.set("X-Signature", base64_encode(hmac(DigestAlgorithm::sha256,
                                                              kSharedSecret, request.body)));
    } else if (vendor == "postal") {
        secret(keys().postal.public_der_base64());
        request.headers.set("X-Postal-Signature-256",
                            base64_encode(keys().postal.sign(request.body, EVP_sha256())));
    } else if (vendor == "generic") {
        secret(kSharedSecret);
        request.headers.set("X-Signature", hmac_hex(kSharedSecret, request.body));
        request.connection.emplace_back("signature_header", "X-Signature");
    } else if (vendor == "smartlead") {
        secret(kSharedSecret);
        JsonPtr body(json_deep_copy(request.sent.get()));
        json_object_set_new(body.get(), "secret_key", json_string(kSharedSecret));
        set_json_body(request, std::move(body));
    } else if (vendor == "mandrill") {
        secret(kSharedSecret);
        request.public_url = kMandrillUrl;
        const std::string events = request.body;
        request.body = "mandrill_events=" + form_escape(events);
        JsonPtr fields(json_object());
        json_object_set_new(fields.get(), "mandrill_events", json_string(events.c_str()));
        request.sent = std::move(fields);
        request.headers.set("Content-Type", "application/x-www-form-urlencoded");
        request.headers.set(
            "X-Mandrill-Signature",
            base64_encode(hmac(DigestAlgorithm::sha1, kSharedSecret,
                               {kMandrillUrl, "mandrill_events", events})));
    } else if (vendor == "ses") {
        // A sample that is an SNS message is re-signed; an SES event is
        // wrapped in the Notification SNS would send.
        JsonPtr envelope(json_deep_copy(request.sent.get()));
        if (!json_is_string(json_object_get(envelope.get(), "Type"))) {
            JsonPtr notification(json_object());
            json_object_set_new(notification.get(), "Type", json_string("Notification"));
            json_object_set_new(notification.get(), "MessageId",
                                json_string(std::string(request.headers.find("x-amz-sns-message-id")
                                                            .value_or("sns-conformance"))
                                                .c_str()));
            json_object_set_new(notification.get(), "TopicArn",
                                json_string("arn:aws:sns:us-east-1:123456789012:ses"));
            json_object_set_new(notification.get(), "Message",
                                json_string(request.body.c_str()));
            json_object_set_new(notification.get(), "Timestamp",
                                json_string("2016-01-27T14:59:39.000Z"));
            envelope = std::move(notification);
        }
        request.body = sign_sns(envelope.get(), keys().sns, "2", kSnsCertificateUrl);
        request.sent = std::move(envelope);
        request.headers.set("Content-Type", "text/plain; charset=UTF-8");
    } else if (vendor == "mailersend") {
        secret(kSharedSecret);
        request.headers.set("Signature", hmac_hex(kSharedSecret, request.body));
    } else if (vendor == "mailtrap") {
        secret(kSharedSecret);
        request.headers.set("Mailtrap-Signature", hmac_hex(kSharedSecret, request.body));
    } else if (vendor == "unisender_go") {
        // MD5 of the body with the API key where the `auth` digest goes.
        secret(kSharedSecret);
        JsonPtr body(json_deep_copy(request.sent.get()));
        json_object_set_new(body.get(), "auth", json_string(kSharedSecret));
        const std::string with_key = json_dump_compact(body.get());
        const std::string digest = hex_encode(md5(with_key));
        json_object_set_new(body.get(), "auth", json_string(digest.c_str()));
        set_json_body(request, std::move(body));
    } else {
        // Vendors without a signature: Basic credentials.
        secret(kBasicCredentials);
        request.headers.set("Authorization", basic_auth(kBasicCredentials));
    }
}

Request request_of(const json_t* the_case, const std::string& vendor) {
    Request request;
    const char* key;
    json_t* value;
    json_object_foreach(json_object_get(the_case, "headers"), key, value) {
        request.headers.set(key, json_string_value(value));
    }
    json_object_foreach(json_object_get(the_case, "connection"), key, value) {
        request.connection.emplace_back(key, json_string_value(value));
    }
    if (const json_t* form = json_object_get(the_case, "form")) {
        request.sent = JsonPtr(json_deep_copy(form));
        request.attachments = JsonPtr(json_deep_copy(json_object_get(the_case, "attachments")));
        request.kind = request.attachments ? BodyKind::multipart : BodyKind::form;
        request.headers.set("Content-Type",
                            request.attachments
                                ? std::string("multipart/form-data; boundary=") + kBoundary
                                : std::string("application/x-www-form-urlencoded"));
    } else {
        request.sent = JsonPtr(json_deep_copy(json_object_get(the_case, "body")));
        if (!request.headers.find("Content-Type")) {
            request.headers.set("Content-Type", "application/json");
        }
    }
    encode(request);
    sign(vendor, request);
    return request;
}

// A JSON pointer (RFC 6901) into what was sent; a string met on the way (or
// at the end, when it holds an object or array) is read as the JSON it
// holds, as vendors nest JSON in strings (SNS Message, mandrill_events).
JsonPtr resolve(const json_t* sent, const std::string& pointer) {
    JsonPtr current(json_deep_copy(sent));
    const auto decode_string = [&]() {
        if (!json_is_string(current.get())) return;
        JsonPtr inner = parse_json(json_string_value(current.get()));
        if (json_is_object(inner.get()) || json_is_array(inner.get())) current = std::move(inner);
    };
    std::size_t start = 0;
    while (start < pointer.size()) {
        if (pointer[start] != '/') return nullptr;
        std::size_t end = pointer.find('/', start + 1);
        if (end == std::string::npos) end = pointer.size();
        std::string token = pointer.substr(start + 1, end - start - 1);
        for (std::size_t i; (i = token.find("~1")) != std::string::npos;) token.replace(i, 2, "/");
        for (std::size_t i; (i = token.find("~0")) != std::string::npos;) token.replace(i, 2, "~");
        decode_string();
        const json_t* next = json_is_array(current.get())
                                 ? json_array_get(current.get(), std::stoul(token))
                                 : json_object_get(current.get(), token.c_str());
        if (next == nullptr) return nullptr;
        current = JsonPtr(json_deep_copy(next));
        start = end;
    }
    decode_string();
    return current;
}

// The expected event as event_matches() reads it: "raw" resolved, and the
// receive time where the vendor gives none.
std::string expectation(const json_t* expected, const Request& request,
                        const std::string& vendor) {
    JsonPtr copy(json_deep_copy(expected));
    // No event time: the receive time; the signing time where the vendor's
    // event time is the time it signed (kNow for both here).
    const std::string timestamp = text_member(copy.get(), "timestamp");
    if (timestamp == "received_at" || timestamp == "signed_at") {
        json_object_set_new(copy.get(), "timestamp",
                            json_string(format_rfc3339_seconds(kNow).c_str()));
    }
    const json_t* raw = json_object_get(copy.get(), "raw");
    if (json_is_string(raw)) {
        JsonPtr resolved = resolve(request.sent.get(), json_string_value(raw));
        EXPECT_NE(resolved, nullptr) << "raw pointer " << json_string_value(raw);
        // SmartLead's secret_key, Unisender Go's auth and Mailgun's legacy
        // signature fields are never stored.
        if (vendor == "smartlead") json_object_del(resolved.get(), "secret_key");
        if (vendor == "unisender_go") json_object_del(resolved.get(), "auth");
        if (vendor == "mailgun" && request.kind != BodyKind::json) {
            for (const char* key : {"timestamp", "token", "signature"}) {
                json_object_del(resolved.get(), key);
            }
        }
        json_object_set_new(copy.get(), "raw", resolved ? resolved.release() : json_null());
    }
    return json_dump_compact(copy.get());
}

// The events a case produced, written as a case lists them, for the
// failure message ("raw" left for the author to point at).
std::string as_case_events(const Outcome& outcome) {
    JsonPtr events(json_array());
    for (const Event& event : outcome.events) {
        JsonPtr fields = normalized_fields(event);
        if (!event.timestamp) json_object_set_new(fields.get(), "timestamp",
                                                  json_string("received_at"));
        json_object_set_new(fields.get(), "raw", json_string("?"));
        if (event.control) json_object_set_new(fields.get(), "control", json_true());
        json_array_append_new(events.get(), fields.release());
    }
    return readable(events.get());
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, Case) {
    const std::string& file = GetParam();
    const std::string vendor = vendor_of(file);
    const JsonPtr the_case = parse_json(read_file(file));
    ASSERT_TRUE(json_is_object(the_case.get())) << file << " is not a JSON object";
    ASSERT_FALSE(text_member(the_case.get(), "source").empty())
        << file << ": every case cites its source";
    const Request request = request_of(the_case.get(), vendor);
    const Connection connection = prepared_connection(vendor, request.connection);
    Delivery delivery(request.body, request.headers, kNow);
    delivery.set_public_url(request.public_url);
    delivery.set_certificates(&keys().certificates);
    const Outcome outcome = run_request(connection, delivery);
    ASSERT_TRUE(outcome.verdict.ok()) << file << ": " << outcome.verdict.reason;

    const json_t* expected = json_object_get(the_case.get(), "events");
    ASSERT_TRUE(json_is_array(expected)) << file << ": no events list";
    EXPECT_EQ(outcome.size(), json_array_size(expected))
        << file << ": the request gave\n" << as_case_events(outcome);
    for (std::size_t i = 0; i < outcome.size() && i < json_array_size(expected); ++i) {
        JsonPtr want(json_deep_copy(json_array_get(expected, i)));
        // "control": true marks an entry for the control stream, not an event.
        EXPECT_EQ(outcome.events[i].control,
                  json_is_true(json_object_get(want.get(), "control")))
            << file << " event " << i;
        json_object_del(want.get(), "control");
        // The vendor's key for the event ("" for the hash of its raw bytes);
        // run_request() checks that the stored id is the one it gives.
        EXPECT_EQ(outcome.events[i].dedup_key,
                  text_member(want.get(), "dedup_key", "<no dedup_key>"))
            << file << " event " << i;
        json_object_del(want.get(), "dedup_key");
        EXPECT_EVENT(outcome.event(i), expectation(want.get(), request, vendor))
            << file << " event " << i << "; the request gave\n" << as_case_events(outcome);
    }
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
    const std::filesystem::path path(info.param);
    std::string name = vendor_of(info.param) + "_" + path.stem().string();
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Vendors, Conformance, ::testing::ValuesIn(case_files()),
                         case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

}  // namespace
}  // namespace mailhook::test
