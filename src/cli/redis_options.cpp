// SPDX-License-Identifier: BSD-2-Clause
#include "redis_options.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli.hpp"
#include "core/encoding.hpp"

namespace mailhook::cli {
namespace {

// A flag and the variable standing in for it.
struct Setting {
    std::string_view flag;
    const char* variable;
};

constexpr Setting kAddress{"--redis", "MAILHOOK_REDIS"};
constexpr Setting kTls{"--redis-tls", "MAILHOOK_REDIS_TLS"};
constexpr Setting kUser{"--redis-user", "MAILHOOK_REDIS_USER"};
constexpr Setting kPassword{"--redis-password", "MAILHOOK_REDIS_PASSWORD"};
constexpr Setting kPasswordFile{"--redis-password-file", "MAILHOOK_REDIS_PASSWORD_FILE"};
constexpr Setting kDb{"--redis-db", "MAILHOOK_REDIS_DB"};
constexpr Setting kTrusted{"--redis-ssl-trusted-certificate",
                           "MAILHOOK_REDIS_SSL_TRUSTED_CERTIFICATE"};
constexpr Setting kVerify{"--redis-ssl-verify", "MAILHOOK_REDIS_SSL_VERIFY"};
constexpr Setting kName{"--redis-ssl-name", "MAILHOOK_REDIS_SSL_NAME"};
constexpr Setting kCertificate{"--redis-ssl-certificate", "MAILHOOK_REDIS_SSL_CERTIFICATE"};
constexpr Setting kCertificateKey{"--redis-ssl-certificate-key",
                                  "MAILHOOK_REDIS_SSL_CERTIFICATE_KEY"};
constexpr Setting kTimeout{"--redis-timeout", "MAILHOOK_REDIS_TIMEOUT"};

std::optional<std::string> lookup(const Args& args, const Setting& setting) {
    if (auto value = args.value(setting.flag)) return value;
    if (const char* value = std::getenv(setting.variable)) return std::string(value);
    return std::nullopt;
}

bool on_off(std::string_view name, const std::string& text) {
    const std::string value = to_lower_ascii(trim_ascii(text));
    if (value == "on" || value == "1" || value == "yes" || value == "true") return true;
    if (value == "off" || value == "0" || value == "no" || value == "false") return false;
    throw UsageError(std::string(name) + " must be on or off");
}

std::int64_t database(const std::string& text) {
    const auto db = parse_integer(text);
    if (!db || *db < 0) throw UsageError("the Redis db must be a number >= 0");
    return *db;
}

std::string first_line_of(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Failure("cannot read " + path);
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// "address ... [sentinel=name] [tls] [user=name] [password=secret]
// [db=number] [sentinel_user=name] [sentinel_password=secret]": the words of
// the mailhook_redis directive, so its line can be pasted as it is.
void apply_directive_words(const std::string& text, RedisOptions& options) {
    std::istringstream words(text);
    std::vector<std::string> addresses;
    std::string word;
    while (words >> word) {
        if (word == "tls") {
            options.tls = true;
        } else if (word == "cluster") {
            throw UsageError("the command does not speak Redis Cluster: give --redis one "
                             "primary (its keys are on the primary of their slot)");
        } else if (word.rfind("sentinel=", 0) == 0) {
            options.sentinel_master = word.substr(9);
        } else if (word.rfind("sentinel_user=", 0) == 0) {
            options.sentinel_user = word.substr(14);
        } else if (word.rfind("sentinel_password=", 0) == 0) {
            options.sentinel_password = word.substr(18);
        } else if (word.rfind("user=", 0) == 0) {
            options.user = word.substr(5);
        } else if (word.rfind("password=", 0) == 0) {
            options.password = word.substr(9);
        } else if (word.rfind("db=", 0) == 0) {
            options.db = database(word.substr(3));
        } else if (addresses.empty() || (word.find('=') == std::string::npos &&
                                         word.find(':') != std::string::npos)) {
            addresses.push_back(word);  // the first word, then host:port words
        } else {
            throw UsageError("unknown word \"" + word + "\" in the Redis address");
        }
    }
    if (!options.sentinel_master.empty()) {
        if (addresses.empty()) throw UsageError("sentinel= needs the Sentinels' addresses");
        options.sentinels = std::move(addresses);
        options.address.clear();  // the Sentinels name it
    } else if (addresses.size() > 1) {
        throw UsageError("several Redis addresses need sentinel=name (the Sentinels)");
    } else if (!addresses.empty()) {
        options.address = addresses.front();
    }
}

}  // namespace

std::vector<Flag> redis_flags() {
    return {{kAddress.flag},     {kTls.flag, false}, {kUser.flag},
            {kPassword.flag},    {kPasswordFile.flag}, {kDb.flag},
            {kTrusted.flag},     {kVerify.flag},     {kName.flag},
            {kCertificate.flag}, {kCertificateKey.flag}, {kTimeout.flag}};
}

RedisOptions redis_options(const Args& args) {
    RedisOptions options;
    if (const auto address = lookup(args, kAddress)) {
        apply_directive_words(*address, options);
    }
    if (args.has(kTls.flag)) {
        options.tls = true;
    } else if (const char* tls = std::getenv(kTls.variable)) {
        options.tls = on_off(kTls.variable, tls);
    }
    if (auto user = lookup(args, kUser)) options.user = *user;
    if (auto file = lookup(args, kPasswordFile)) options.password = first_line_of(*file);
    if (auto password = lookup(args, kPassword)) options.password = *password;
    if (auto db = lookup(args, kDb)) options.db = database(*db);
    if (auto file = lookup(args, kTrusted)) options.trusted_certificate = *file;
    if (auto verify = lookup(args, kVerify)) options.verify = on_off(kVerify.flag, *verify);
    if (auto name = lookup(args, kName)) options.server_name = *name;
    if (auto file = lookup(args, kCertificate)) options.certificate = *file;
    if (auto file = lookup(args, kCertificateKey)) options.certificate_key = *file;
    if (auto timeout = lookup(args, kTimeout)) {
        const std::int64_t ms = parse_duration_ms(*timeout);
        if (ms <= 0 || ms > 3600 * 1000) {
            throw UsageError("--redis-timeout must be a time such as 500ms or 5s");
        }
        options.timeout_ms = static_cast<int>(ms);
    }
    if (options.certificate.empty() != options.certificate_key.empty()) {
        throw UsageError("--redis-ssl-certificate and --redis-ssl-certificate-key go together");
    }
    return options;
}

std::int64_t parse_duration_ms(std::string_view text) {
    text = trim_ascii(text);
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const auto number = parse_integer(text.substr(0, digits));
    if (!number || *number > 1000000000) return -1;
    const std::string_view unit = text.substr(digits);
    if (unit == "ms") return *number;
    if (unit == "s" || unit.empty()) return *number * 1000;
    if (unit == "m") return *number * 60 * 1000;
    if (unit == "h") return *number * 3600 * 1000;
    return -1;
}

const char* const kRedisHelp =
    "Redis (the module's mailhook_redis settings; a flag wins over its variable):\n"
    "  --redis ADDRESS            MAILHOOK_REDIS       host:port, [v6]:port or unix:/path\n"
    "                             (default 127.0.0.1:6379); the words of mailhook_redis\n"
    "                             work too: \"10.0.0.5:6380 tls user=crm password=...\"\n"
    "                             or Sentinels: \"s1:26379 s2:26379 sentinel=mymaster\"\n"
    "  --redis-tls                MAILHOOK_REDIS_TLS=on\n"
    "  --redis-user NAME          MAILHOOK_REDIS_USER          ACL user (Redis 6+)\n"
    "  --redis-password SECRET    MAILHOOK_REDIS_PASSWORD      (the variable or a file\n"
    "  --redis-password-file PATH MAILHOOK_REDIS_PASSWORD_FILE  keep it out of ps)\n"
    "  --redis-db N               MAILHOOK_REDIS_DB\n"
    "  --redis-ssl-trusted-certificate FILE   MAILHOOK_REDIS_SSL_TRUSTED_CERTIFICATE\n"
    "  --redis-ssl-verify on|off  MAILHOOK_REDIS_SSL_VERIFY    (default on)\n"
    "  --redis-ssl-name NAME      MAILHOOK_REDIS_SSL_NAME      (default: the host)\n"
    "  --redis-ssl-certificate FILE       MAILHOOK_REDIS_SSL_CERTIFICATE\n"
    "  --redis-ssl-certificate-key FILE   MAILHOOK_REDIS_SSL_CERTIFICATE_KEY\n"
    "  --redis-timeout TIME       MAILHOOK_REDIS_TIMEOUT       (default 5s)\n";

}  // namespace mailhook::cli
