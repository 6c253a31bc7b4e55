// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target: every vendor's verify + parse path through take_in(), the
// request's whole way through the core before Redis.
//
// Input:  vendor line, flags byte, header block ("Name: value" lines, an
//         empty line), body.
//   vendor  a name from vendor_names(), else its first byte picks one by
//           index: every registered vendor is fuzzed, a new one without any
//           change here.
//   flags   bit 0  sign: make the signature valid by construction (see
//                  kSigners), so parse is reached with arbitrary bodies
//           bit 1-2 mailhook_max_events: 10000, 0, 1, 3
//           bit 3  sign with the rotation secret (secret_next)
//           bit 4  hex instead of base64 where a vendor accepts both
//           bit 5  mailhook_raw off
//
// Each vendor gets one fixed connection whose secret is the first candidate
// its prepare() accepts (plain secret, whsec_ key, P-256 public key), plus a
// second secret (rotation). A vendor whose signature lives somewhere a
// signer must know is reached behind verify by adding ONE line to kSigners;
// without it, it is still fuzzed through verify with the input's headers.
//
// Invariants (abort when broken):
//  - a rejection is a 4xx: prepared connections never yield 500;
//  - a rejected request yields no events;
//  - with a complete signature, verify passes;
//  - accepted: at most max_events events, each a valid JSON object in UTF-8
//    whose id is 32 hex digits, and the store script arguments are valid RESP.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

#include "core/connection.hpp"
#include "core/crypto.hpp"
#include "core/intake.hpp"
#include "core/resp.hpp"
#include "core/store_script.hpp"
#include "core/timestamp.hpp"
#include "core/vendor.hpp"
#include "fuzz_support.hpp"

namespace mailhook::fuzz {
namespace {

constexpr EpochMillis kNow = 1700000000000;  // 2023-11-14T22:13:20Z
constexpr std::string_view kNowSeconds = "1700000000";

// A fixed P-256 key pair (fuzzing only): SendGrid's verification key is the
// public half, the signer uses the private half.
constexpr std::string_view kSendgridPrivateKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/IXN8KDp+FvxGKX8
1kDNp45HWOWHcsOcCCc9BphW9uqhRANCAATdWSTM8Ebo7bb3QtGkvhuYmZpmpE5s
8/EFlqclVnwhY/Rm9hU3IVhgGTY5rD7JSnPYhK+wl6xwyDsWVh0XItar
-----END PRIVATE KEY-----
)";
constexpr std::string_view kSendgridPublicKey =
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE3VkkzPBG6O2290LRpL4bmJmaZqRObPPxBZanJVZ8IWP0"
    "ZvYVNyFYYBk2Oaw+yUpz2ISvsJescMg7FlYdFyLWqw==";

// An RSA public key (base64 DER), as a Postal server's signing key.
constexpr std::string_view kRsaPublicKey =
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC9YIxL+BWjf904Y4tyzsrY907LVtMlcQn2XvyX"
    "videZiSDFYA/f5JalDhPhF81rcO2XO9T/nqkcGFUmwWOFAgEvix53n3g69PtcASYX1dwIuI8q3lk"
    "XG1AfGGzzTCgNrfXcSep453uofpAOXFALyJKzpvnueNVujLNX2EPvmvU5wIDAQAB";

// Secrets tried in order with each vendor's prepare(); the first accepted is
// `secret`, the same kind's second value `secret_next`, plus one option where
// a vendor needs one (the generic HMAC scheme names its header).
struct SecretPair {
    const char* secret;
    const char* next;
    const char* option_name = "comment";
    const char* option_value = "fuzz";
};
const SecretPair kSecretCandidates[] = {
    {"fuzz:secret-1", "fuzz:secret-2"},  // HMAC keys, user:password, tokens
    {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2Vjb25kIGZ1enoga2V5IDEyMzQ="},
    {kSendgridPublicKey.data(), kSendgridPublicKey.data()},
    {kRsaPublicKey.data(), kRsaPublicKey.data()},
    {"fuzz:secret-1", "fuzz:secret-2", "signature_header", "X-Signature"},
};

struct SignContext {
    const Connection& connection;
    bool use_next;  // sign with the rotation secret
    bool hex;
};

std::size_t key_index(const SignContext& ctx, std::size_t available) {
    return ctx.use_next && available > 1 ? 1 : 0;
}

// Returns true when the signature is complete: verify must then pass.
using Signer = bool (*)(const SignContext&, ListHeaders&, std::string& body);

std::string existing_or(const ListHeaders& headers, std::string_view name,
                        std::string_view fallback) {
    if (headers.count(name) == 1) return std::string(*headers.find(name));
    return std::string(fallback);
}

bool sign_sendgrid(const SignContext&, ListHeaders& headers, std::string& body) {
    static EVP_PKEY* key = [] {
        BIO* bio = BIO_new_mem_buf(kSendgridPrivateKey.data(),
                                   static_cast<int>(kSendgridPrivateKey.size()));
        EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        return k;
    }();
    FUZZ_CHECK(key != nullptr);
    // Signed now: SendGrid requests older than the default tolerance are
    // refused as stale (L7), whatever timestamp the input carried.
    const std::string timestamp(kNowSeconds);
    const std::string message = timestamp + body;
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    unsigned char signature[128];
    std::size_t length = sizeof(signature);
    const bool ok =
        EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestSign(md, signature, &length,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
    EVP_MD_CTX_free(md);
    FUZZ_CHECK(ok);
    headers.set("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
    headers.set("X-Twilio-Email-Event-Webhook-Signature",
                base64_encode(std::string_view(reinterpret_cast<char*>(signature), length)));
    // Complete only when fresh: the signed time may be 25 h off (review L7).
    const auto signed_at = parse_epoch_seconds(timestamp);
    return signed_at && std::llabs(*signed_at - kNow) <= 25LL * 3600 * 1000;
}

// Mailgun signs timestamp + token inside the body; the body itself is not
// signed, so the signer rewrites the body's signature object.
bool sign_mailgun(const SignContext& ctx, ListHeaders& headers, std::string& body) {
    // A form body is a legacy webhook, signed in its fields: not signed here.
    const std::string type = existing_or(headers, "Content-Type", "");
    if (type.find("form") != std::string::npos) return false;
    JsonPtr root = parse_json(body);
    if (!json_is_object(root.get())) return false;
    json_t* signature = json_object_get(root.get(), "signature");
    if (!json_is_object(signature)) {
        signature = json_object();
        json_object_set_new(root.get(), "signature", signature);
    }
    const auto token_in = json_string_at(signature, "token");
    // Mailgun's tokens are alphanumeric (the module refuses others, L6).
    const bool usable = token_in && !token_in->empty() && token_in->size() <= 256 &&
                        std::all_of(token_in->begin(), token_in->end(),
                                    [](unsigned char c) { return std::isalnum(c) != 0; });
    const std::string token = usable ? std::string(*token_in) : "fuzztoken";
    const auto& keys = ctx.connection.signing_keys;
    const std::string mac = hmac(DigestAlgorithm::sha256, keys[key_index(ctx, keys.size())],
                                 {kNowSeconds, token});
    json_object_set_new(signature, "timestamp",
                        json_stringn(kNowSeconds.data(), kNowSeconds.size()));
    json_object_set_new(signature, "token", json_stringn(token.data(), token.size()));
    json_object_set_new(signature, "signature", json_string(hex_encode(mac).c_str()));
    body = json_dump_compact(root.get());
    // Mailgun's tokens are letters and digits (review L6); others fail.
    for (const char c : token) {
        if (!std::isalnum(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

bool sign_standard_webhooks(const SignContext& ctx, ListHeaders& headers,
                            std::string& body) {
    const std::string id = existing_or(headers, "webhook-id", "msg_fuzz");
    const auto& keys = ctx.connection.signing_keys;
    const std::string mac = hmac(DigestAlgorithm::sha256, keys[key_index(ctx, keys.size())],
                                 {id, ".", kNowSeconds, ".", body});
    headers.set("webhook-id", id);
    headers.set("webhook-timestamp", std::string(kNowSeconds));
    headers.set("webhook-signature", "v1," + base64_encode(mac));
    return true;
}

// HMAC-SHA256 of the raw body in one header.
bool sign_body_hmac(const SignContext& ctx, ListHeaders& headers, const std::string& body,
                    const char* header, bool hex) {
    const auto& keys = ctx.connection.signing_keys;
    const std::string mac =
        hmac(DigestAlgorithm::sha256, keys[key_index(ctx, keys.size())], body);
    headers.set(header, hex ? hex_encode(mac) : base64_encode(mac));
    return true;
}

bool sign_inboxroad(const SignContext& ctx, ListHeaders& headers, std::string& body) {
    return sign_body_hmac(ctx, headers, body, "X-Signature", ctx.hex);
}

bool sign_mailersend(const SignContext& ctx, ListHeaders& headers, std::string& body) {
    return sign_body_hmac(ctx, headers, body, "Signature", true);
}

bool sign_mailtrap(const SignContext& ctx, ListHeaders& headers, std::string& body) {
    return sign_body_hmac(ctx, headers, body, "Mailtrap-Signature", true);
}

// Unisender Go: `auth` = MD5 of the body with the key in its place; the
// signer rewrites the body's auth member.
bool sign_unisender_go(const SignContext& ctx, ListHeaders&, std::string& body) {
    JsonPtr root = parse_json(body);
    if (!json_is_object(root.get())) return false;
    const auto& keys = ctx.connection.signing_keys;
    const std::string& key = keys[key_index(ctx, keys.size())];
    json_object_set_new(root.get(), "auth", json_string(key.c_str()));
    const std::string with_key = json_dump_compact(root.get());
    const std::string digest = hex_encode(md5(with_key));
    json_object_set_new(root.get(), "auth", json_string(digest.c_str()));
    body = json_dump_compact(root.get());
    // The digest must appear once; a body that repeats it is not signable.
    return body.find(digest) == body.rfind(digest);
}

bool sign_authorization(const SignContext& ctx, ListHeaders& headers, std::string&) {
    const auto& secrets = ctx.connection.secrets;
    const std::string& secret = secrets[key_index(ctx, secrets.size())];
    headers.set("Authorization",
                ctx.hex ? "Bearer " + secret : "Basic " + base64_encode(secret));
    return true;
}

// One line per vendor whose signature a signer can produce.
const std::pair<std::string_view, Signer> kSigners[] = {
    {"sendgrid", sign_sendgrid},
    {"mailgun", sign_mailgun},
    {"resend", sign_standard_webhooks},
    {"inboxroad", sign_inboxroad},
    {"smtp2go", sign_authorization},
    {"mailersend", sign_mailersend},
    {"mailtrap", sign_mailtrap},
    {"unisender_go", sign_unisender_go},
};

Signer signer_for(std::string_view vendor) {
    for (const auto& [name, signer] : kSigners) {
        if (name == vendor) return signer;
    }
    return nullptr;
}

struct Target {
    const Vendor* vendor;
    std::shared_ptr<const Connection> connection;
};

std::vector<Target> make_targets() {
    std::vector<Target> targets;
    for (const std::string_view name : vendor_names()) {
        const Vendor* vendor = find_vendor(name);
        FUZZ_CHECK(vendor != nullptr);
        for (const SecretPair& candidate : kSecretCandidates) {
            std::string error;
            auto connection = connection_from_fields(
                "fuzz-" + std::string(name),
                {{"vendor", std::string(name)},
                 {"secret", candidate.secret},
                 {"secret_next", candidate.next},
                 {candidate.option_name, candidate.option_value},
                 {"tenant", "acme"}},
                error);
            FUZZ_CHECK(connection.has_value());
            if (vendor->prepare(*connection).ok()) {
                targets.push_back(
                    {vendor, std::make_shared<const Connection>(std::move(*connection))});
                break;
            }
        }
        // A vendor none of the candidates suits needs a candidate added.
        FUZZ_CHECK(!targets.empty() && targets.back().vendor == vendor);
    }
    return targets;
}

bool is_hex_id(std::string_view id) {
    if (id.size() != 32) return false;
    for (const char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

// Counts the arguments of one RESP command, checking its framing.
void check_resp(std::string_view command, std::size_t expected_args) {
    FUZZ_CHECK(!command.empty() && command[0] == '*');
    std::size_t pos = command.find("\r\n");
    FUZZ_CHECK(pos != std::string_view::npos);
    const std::size_t count = std::stoul(std::string(command.substr(1, pos - 1)));
    FUZZ_CHECK(count == expected_args);
    pos += 2;
    for (std::size_t i = 0; i < count; ++i) {
        FUZZ_CHECK(pos < command.size() && command[pos] == '$');
        const std::size_t end = command.find("\r\n", pos);
        FUZZ_CHECK(end != std::string_view::npos);
        const std::size_t length = std::stoul(std::string(command.substr(pos + 1, end - pos - 1)));
        pos = end + 2 + length;
        FUZZ_CHECK(pos + 2 <= command.size() && command.substr(pos, 2) == "\r\n");
        pos += 2;
    }
    FUZZ_CHECK(pos == command.size());
}

// The resubscribe-time keys the store script gets besides the dedup keys
// (default policy: no soft-bounce or delivered keys).
std::size_t suppression_keys(const Intake& intake) {
    std::size_t keys = 0;
    for (const ReadyEvent& event : intake.events) {
        keys += !event.recipient_key.empty() &&
                (event.effect == SuppressionEffect::unsubscribe ||
                 event.effect == SuppressionEffect::resubscribe);
    }
    return keys;
}

// Raw texts used by more than one event (sent once, as ARGV of their own).
std::size_t shared_raws(const Intake& intake) {
    std::map<std::size_t, std::size_t> users;
    for (const ReadyEvent& event : intake.events) {
        if (event.raw > 0) ++users[event.raw];
    }
    std::size_t shared = 0;
    for (const auto& [raw, count] : users) shared += count > 1;
    return shared;
}

// A call with nothing to suppress, no replay keys and no shared raw text is
// laid out plain: one stream letter for all events, then 2 ARGV per event.
bool plain_call(const Intake& intake) {
    if (intake.events.empty() || intake.replay_guard || shared_raws(intake) > 0) return false;
    for (const ReadyEvent& event : intake.events) {
        if (event.effect != SuppressionEffect::none && !event.recipient_key.empty()) return false;
    }
    return true;
}

void check_accepted(const Intake& intake, const Delivery& delivery,
                    const Connection& connection) {
    FUZZ_CHECK(intake.events.size() <= delivery.max_events());
    for (const ReadyEvent& event : intake.events) {
        FUZZ_CHECK(is_hex_id(event.id));
        const std::string json = stored_event_json(intake, event);
        FUZZ_CHECK(is_valid_utf8(json));
        const JsonPtr parsed = reparse(json);
        FUZZ_CHECK(json_is_object(parsed.get()));
        FUZZ_CHECK(json_integer_value(json_object_get(parsed.get(), "schema")) == 1);
        const auto id = json_string_at(parsed.get(), "id");
        FUZZ_CHECK(id && *id == event.id);
        // null when there is none (control entries, unreadable elements).
        const json_t* recipient = json_object_get(parsed.get(), "recipient");
        FUZZ_CHECK(json_is_string(recipient) ||
                   (json_is_null(recipient) && event.recipient_key.empty()));
        FUZZ_CHECK(json_is_string(json_object_get(parsed.get(), "timestamp")));
        FUZZ_CHECK(json_is_array(json_object_get(parsed.get(), "tags")));
        FUZZ_CHECK(json_is_object(json_object_get(parsed.get(), "metadata")));
        for (const char c : event.recipient_key) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    }
    const StoreTarget target{connection.vendor, connection.id, connection.suppression_scope()};
    const RespArgs args = store_script_args(intake, target, StoreKeys(), StorePolicy());
    // numkeys, 4 stream/suppression keys and the health key, 13 fixed ARGV, per event a dedup
    // key and 4 ARGV, the replay keys, the raws several events share, and
    // a resubscribe key per suppression change; a plain call: per event a
    // dedup key and 2 ARGV, and the stream letters.
    FUZZ_CHECK(args.count() == (plain_call(intake)
                                    ? 1 + 5 + 13 + 1 + 3 * intake.events.size()
                                    : 1 + 5 + 13 + 5 * intake.events.size() +
                                          (intake.replay_guard ? 2 : 0) + shared_raws(intake) +
                                          suppression_keys(intake)));
    check_resp(resp_command({"EVALSHA", store_script_sha1()}, args), 2 + args.count());
    // The same call twice in one batch: the shared 5 keys and 8 ARGV once,
    // the counts (2 + 3 per call), each call's own arguments.
    const RespArgs batch = store_batch_args({&args, &args}).value();
    FUZZ_CHECK(batch.count() == 1 + 5 + 2 + 8 + 2 * (3 + args.count() - 1 - 5 - 8));
    check_resp(resp_command({"EVALSHA", store_batch_script_sha1()}, batch), 2 + batch.count());
}

}  // namespace
}  // namespace mailhook::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mailhook;
    using namespace mailhook::fuzz;
    static const std::vector<Target> targets = make_targets();

    Reader in(data, size);
    const std::string_view vendor_line = in.line();
    const Target* chosen = nullptr;
    for (const Target& candidate : targets) {
        if (candidate.vendor->name() == vendor_line) chosen = &candidate;
    }
    if (chosen == nullptr) {
        const auto first = vendor_line.empty() ? 0 : static_cast<std::uint8_t>(vendor_line[0]);
        chosen = &targets[first % targets.size()];
    }
    const Target& target = *chosen;
    const std::uint8_t flags = in.byte();
    ListHeaders headers;
    read_header_block(in, headers);
    std::string body(in.rest());

    bool complete = false;
    if (flags & 1) {
        if (const Signer signer = signer_for(target.vendor->name())) {
            const SignContext ctx{*target.connection, (flags & 8) != 0, (flags & 16) != 0};
            complete = signer(ctx, headers, body);
        }
    }

    Delivery delivery(body, headers, kNow);
    delivery.set_public_url("https://hooks.example.com/webhooks/v2/vendor/fuzz");
    static constexpr std::size_t kMaxEvents[] = {10000, 0, 1, 3};
    delivery.set_max_events(kMaxEvents[(flags >> 1) & 3]);
    EventOrigin origin;
    origin.vendor = target.vendor->name();
    origin.connection = target.connection->id;
    origin.tenant = *target.connection->tenant;
    origin.received_at = kNow + 123;
    origin.include_raw = (flags & 32) == 0;

    const Intake intake = take_in(*target.vendor, delivery, *target.connection, origin);
    const int status = http_status(intake.verdict.rejection);
    FUZZ_CHECK(status == 200 || status == 400 || status == 401 || status == 413);
    if (!intake.verdict.ok()) {
        FUZZ_CHECK(intake.events.empty());
        FUZZ_CHECK(!intake.verdict.reason.empty());
        if (complete) {
            FUZZ_CHECK(intake.verdict.rejection != Rejection::unauthenticated &&
                       intake.verdict.rejection != Rejection::stale_timestamp);
        }
        return 0;
    }
    check_accepted(intake, delivery, *target.connection);
    return 0;
}
