// SPDX-License-Identifier: BSD-2-Clause
// mailhook sign VENDOR ID: a test request signed as the vendor signs it,
// for a connection read from Redis (or described by flags), checked with
// the module's own verify and parse before it is printed as a curl command
// or sent (--send URL): "is my endpoint right?" from a shell.
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli.hpp"
#include "commands.hpp"
#include "connection_fields.hpp"
#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/intake.hpp"
#include "core/vendor.hpp"
#include "http_client.hpp"
#include "request_signer.hpp"
#include "sample_events.hpp"

namespace mailhook::cli {
namespace {

constexpr std::string_view kHelp =
    "usage: mailhook sign VENDOR ID [--send URL | --url URL] [--body FILE|-]\n"
    "                     [--recipient ADDRESS] [--secret-next]\n"
    "                     [--private-key FILE] [--certificate FILE]\n"
    "                     [--secret VALUE | --secret-file PATH] [--option NAME=VALUE]...\n"
    "                     [--tenant NAME]\n"
    "\n"
    "A request for connection ID signed as VENDOR signs it: the connection from\n"
    "Redis, or from --secret/--option/--tenant (a static mailhook_connection).\n"
    "The request is run through the module's own verify and parse first; it is\n"
    "printed as a curl command (for --url, default\n"
    "http://127.0.0.1:8080/webhooks/v2/VENDOR/ID) or sent to --send URL, whose\n"
    "answer is printed (exit 0 for 2xx). A URL without a path gets\n"
    "/webhooks/v2/VENDOR/ID. Mandrill signs the URL: give the one registered.\n"
    "\n"
    "The body is one delivered event for --recipient (default test@example.com)\n"
    "with a new id (so it is stored, not a duplicate), or --body's JSON as the\n"
    "vendor sends it (Mandrill: the mandrill_events array; SES: the SES event).\n"
    "  --secret-next       sign with secret_next (during a rotation)\n"
    "  --private-key FILE  PEM: SendGrid's P-256 key, Postal's RSA key, or the key\n"
    "                      of the SNS certificate (SES)\n"
    "  --certificate FILE  SES: a certificate pinned with mailhook_sns_certificates\n"
    "                      (its file name makes the SigningCertURL)\n"
    "Signed timestamps expire: send a printed request within the vendor's\n"
    "tolerance (5 minutes for most).\n\n";

constexpr int kSendTimeoutMs = 10000;

std::string read_file(const std::string& path) {
    if (path == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Failure("cannot read " + path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The connection's fields: from the flags when any describes it, else Redis.
ConnectionFields connection_fields(const StoreCommand& command, const std::string& vendor,
                                   const std::string& id) {
    const Args& args = command.args;
    if (args.has("--secret") || args.has("--secret-file") || args.has("--option") ||
        args.has("--tenant")) {
        ConnectionFields fields{{"vendor", vendor}};
        if (auto secret = read_secret(args, "--secret", "--secret-file")) fields["secret"] = *secret;
        if (auto tenant = args.value("--tenant")) fields["tenant"] = *tenant;
        for (const std::string& option : args.values("--option")) {
            const std::size_t equals = option.find('=');
            if (equals == std::string::npos || equals == 0) {
                throw UsageError("--option takes NAME=VALUE, got \"" + option + "\"");
            }
            fields[option.substr(0, equals)] = option.substr(equals + 1);
        }
        return fields;
    }
    RedisClient redis(command.redis);
    ConnectionFields fields;
    for (auto& [name, value] : hash_pairs(redis.run({"HGETALL", command.keys.connection(id)}))) {
        fields[name] = value;
    }
    if (fields.empty()) {
        throw Failure("no connection " + id + " in Redis (for a static mailhook_connection, "
                      "give its --secret and --option)");
    }
    if (fields["vendor"] != vendor) {
        throw Failure("connection " + id + " is a " + fields["vendor"] + " connection, not " +
                      vendor);
    }
    return fields;
}

std::string endpoint_url(const std::string& given, const std::string& vendor,
                         const std::string& id) {
    const std::string path = "/webhooks/v2/" + vendor + "/" + id;
    if (given.empty()) return "http://127.0.0.1:8080" + path;
    const HttpUrl url = parse_http_url(given);
    if (url.target != "/") return given;
    return (url.https ? "https://" : "http://") + url.authority + path;
}

class HeaderList final : public HeaderLookup {
  public:
    explicit HeaderList(const std::vector<std::pair<std::string, std::string>>& headers)
        : headers_(headers) {}
    std::optional<std::string_view> find(std::string_view name) const override {
        for (const auto& [key, value] : headers_) {
            if (iequals_ascii(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }

  private:
    const std::vector<std::pair<std::string, std::string>>& headers_;
};

// The pinned certificate SES's signature is checked against.
class OneCertificate final : public CertificateLookup {
  public:
    OneCertificate(std::string url, std::optional<PublicKey> key)
        : url_(std::move(url)), key_(std::move(key)) {}
    const PublicKey* find(std::string_view url) const override {
        return url == url_ && key_ ? &*key_ : nullptr;
    }

  private:
    std::string url_;
    std::optional<PublicKey> key_;
};

// "https://sns.<region>.amazonaws.com/<file name>": the module matches a
// pinned certificate by its file name on any SNS host.
std::string certificate_url(const Connection& connection, const std::string& path) {
    std::string region = "us-east-1";
    const std::string_view topic = connection.option("topic_arn").value_or("");
    if (topic.rfind("arn:aws:sns:", 0) == 0) {
        const std::string_view rest = topic.substr(12);
        region = std::string(rest.substr(0, rest.find(':')));
    }
    return "https://sns." + region + ".amazonaws.com/" + path.substr(path.rfind('/') + 1);
}

std::string shell_quote(std::string_view text) {
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'') out += "'\\''";
        else out.push_back(c);
    }
    return out + "'";
}

void print_curl(const SignedRequest& request) {
    std::cout << "curl -sS " << shell_quote(request.url);
    for (const auto& [name, value] : request.headers) {
        std::cout << " \\\n    -H " << shell_quote(name + ": " + value);
    }
    std::cout << " \\\n    --data-binary " << shell_quote(request.body) << "\n";
}

// The module's own verdict on the request: refused requests are not printed.
void check_with_module(const Vendor& vendor, const Connection& connection,
                       const SignedRequest& request, const CertificateLookup* certificates,
                       EpochMillis now) {
    const HeaderList headers(request.headers);
    Delivery delivery(request.body, headers, now);
    delivery.set_public_url(request.url);
    delivery.set_certificates(certificates);
    const EventOrigin origin{connection.vendor, connection.id,
                             connection.tenant ? std::optional<std::string_view>(*connection.tenant)
                                               : std::nullopt,
                             now, true};
    const Intake intake = take_in(vendor, delivery, connection, origin);
    if (!intake.verdict.ok()) {
        throw Failure("the module would refuse this request (" +
                      std::to_string(http_status(intake.verdict.rejection)) + " " +
                      std::string(rejection_label(intake.verdict.rejection)) +
                      "): " + intake.verdict.reason);
    }
    for (const ReadyEvent& event : intake.events) {
        std::cerr << "# " << to_string(event.type) << " " << event.recipient_key << " (event id "
                  << event.id << ")\n";
    }
}

}  // namespace

int sign_command(const Words& words) {
    const auto command = parse_store_command(
        words,
        {{"--send"}, {"--url"}, {"--body"}, {"--recipient"}, {"--secret-next", false},
         {"--private-key"}, {"--certificate"}, {"--secret"}, {"--secret-file"}, {"--option"},
         {"--tenant"}},
        std::string(kHelp) + kRedisHelp + kKeysHelp);
    if (!command) return 0;
    const Args& args = command->args;
    args.expect_positional(2, 2, "VENDOR and connection ID");
    const std::string& vendor_name = args.positional()[0];
    const std::string& id = args.positional()[1];
    const Vendor* vendor = find_vendor(vendor_name);
    if (vendor == nullptr) throw UsageError("unknown vendor \"" + vendor_name + "\"");

    std::string reason;
    const auto connection = load_connection(id, connection_fields(*command, vendor_name, id), reason);
    if (!connection) throw Failure("connection " + id + " is unusable: " + reason);

    const EpochMillis now = now_millis();
    SigningInput input;
    input.url = endpoint_url(args.value("--send").value_or(args.value("--url").value_or("")),
                             vendor_name, id);
    input.now = now;
    input.secret = args.has("--secret-next") ? 1 : 0;
    if (auto body = args.value("--body")) {
        input.payload = read_file(*body);
    } else {
        const SampleFields sample{args.value("--recipient").value_or("test@example.com"),
                                  "mailhook-sign-" + std::to_string(now), now};
        auto sample_text = sample_body(vendor_name, sample);
        if (!sample_text) throw Failure("no sample event for " + vendor_name + ": give --body");
        input.payload = std::move(*sample_text);
    }
    std::optional<PrivateKey> key;
    if (auto path = args.value("--private-key")) {
        key = PrivateKey::from_pem(read_file(*path));
        if (!key) throw Failure(*path + " holds no PEM private key");
        input.private_key = &*key;
    }
    std::optional<OneCertificate> certificates;
    if (auto path = args.value("--certificate")) {
        input.certificate_url = certificate_url(*connection, *path);
        certificates.emplace(input.certificate_url,
                             PublicKey::from_certificate_pem(read_file(*path)));
    }
    const SignedRequest request = sign_request(*connection, input);
    check_with_module(*vendor, *connection, request,
                      certificates ? &*certificates : nullptr, now);

    if (!args.has("--send")) {
        print_curl(request);
        return 0;
    }
    const HttpResponse response =
        http_post(request.url, request.headers, request.body, kSendTimeoutMs);
    std::cout << response.status << " " << response.body;
    if (response.body.empty() || response.body.back() != '\n') std::cout << "\n";
    return response.status >= 200 && response.status < 300 ? 0 : kExitFailure;
}

}  // namespace mailhook::cli
