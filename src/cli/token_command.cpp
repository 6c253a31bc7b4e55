// SPDX-License-Identifier: BSD-2-Clause
// mailhook token: makes and checks tracking tokens with the module's own core
// code (src/core/tracking_token.cpp). `mailhook-token` (a link to mailhook)
// is the same command, kept for one release.
//
//   mailhook token sign --key-id k1 --key SECRET --connection c1 --recipient a@b.c
//                       [--message-id m1] [--campaign x] [--tenant t]
//                       [--url https://...] [--ttl SECONDS | --expires EPOCH]
//                       [--base https://track.example.com/t]
//   mailhook token verify --key-id k1 --key SECRET [--key-id k2 --key SECRET2]
//                         [--click] TOKEN-or-URL
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "core/tracking_token.hpp"

namespace mailhook::cli {
namespace {

using mailhook::TrackingClaims;
using mailhook::TrackingKind;

constexpr const char* kUsage =
    "usage:\n"
    "  mailhook token sign --key-id ID (--key SECRET | --key-file PATH)\n"
    "                      --connection ID --recipient ADDRESS [--message-id ID]\n"
    "                      [--campaign ID] [--tenant NAME] [--url URL]\n"
    "                      [--ttl SECONDS | --expires EPOCH] [--base URL]\n"
    "      prints the token; with --base, the pixel URL BASE/o/TOKEN.gif or,\n"
    "      with --url, the click URL BASE/c/TOKEN\n"
    "  mailhook token verify --key-id ID (--key SECRET | --key-file PATH) ...\n"
    "                        [--click] TOKEN-or-URL\n"
    "      prints the payload and exits 0 when valid, else the reason and exits 1\n";

[[noreturn]] void usage(const std::string& problem) {
    throw UsageError(problem + "\n" + kUsage);
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t parse_int(const std::string& flag, const std::string& text) {
    try {
        std::size_t used = 0;
        const long long value = std::stoll(text, &used);
        if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
    usage(flag + " needs a number");
}

std::string read_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) usage("cannot read " + path);
    std::ostringstream out;
    out << in.rdbuf();
    std::string key = out.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    return key;
}

struct Options {
    std::vector<std::string> key_ids;
    std::vector<std::string> keys;
    TrackingClaims claims;
    std::optional<std::int64_t> ttl;
    std::string base;
    bool click = false;
    std::vector<std::string> positional;
};

Options parse(const Words& words) {
    Options o;
    for (std::size_t i = 1; i < words.size(); ++i) {
        const std::string flag = words[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= words.size()) usage(flag + " needs a value");
            return words[++i];
        };
        if (flag == "--key-id") o.key_ids.push_back(value());
        else if (flag == "--key") o.keys.push_back(value());
        else if (flag == "--key-file") o.keys.push_back(read_key_file(value()));
        else if (flag == "--connection") o.claims.connection = value();
        else if (flag == "--recipient") o.claims.recipient = value();
        else if (flag == "--message-id") o.claims.message_id = value();
        else if (flag == "--campaign") o.claims.campaign_id = value();
        else if (flag == "--tenant") o.claims.tenant = value();
        else if (flag == "--url") o.claims.url = value();
        else if (flag == "--expires") o.claims.expires_at = parse_int(flag, value());
        else if (flag == "--ttl") o.ttl = parse_int(flag, value());
        else if (flag == "--base") o.base = value();
        else if (flag == "--click") o.click = true;
        else if (!flag.empty() && flag[0] == '-') usage("unknown option " + flag);
        else o.positional.push_back(flag);
    }
    if (o.key_ids.size() != o.keys.size() || o.keys.empty()) {
        usage("give --key-id and --key (or --key-file) in pairs");
    }
    return o;
}

int sign(Options& o) {
    if (o.key_ids.size() != 1) usage("sign takes one key");
    if (!o.positional.empty()) usage("unexpected argument " + o.positional.front());
    if (o.keys.front().size() < mailhook::TrackingKeyring::kMinSecretBytes) {
        usage("the key must be at least 16 bytes");
    }
    o.claims.key_id = o.key_ids.front();
    if (o.ttl) o.claims.expires_at = now_seconds() + *o.ttl;
    const TrackingKind kind = o.claims.url ? TrackingKind::click : TrackingKind::open;
    if (const std::string problem = mailhook::check_claims(o.claims, kind); !problem.empty()) {
        usage(problem);
    }
    const std::string token = mailhook::sign_tracking_token(o.claims, o.keys.front());
    if (token.empty()) {
        throw Failure("signing failed");
    }
    if (o.base.empty()) {
        std::cout << token << "\n";
    } else {
        while (!o.base.empty() && o.base.back() == '/') o.base.pop_back();
        std::cout << o.base << (kind == TrackingKind::click ? "/c/" : "/o/") << token
                  << (kind == TrackingKind::click ? "" : ".gif") << "\n";
    }
    return 0;
}

int verify(const Options& o) {
    if (o.positional.size() != 1) usage("verify takes one token or URL");
    std::string token = o.positional.front();
    bool click = o.click;
    // A whole tracking URL: take the last segment, and the kind from the one
    // before it.
    if (const std::size_t slash = token.rfind('/'); slash != std::string::npos) {
        const std::size_t before = token.rfind('/', slash - 1);
        if (before != std::string::npos && token.substr(before + 1, slash - before - 1) == "c") {
            click = true;
        }
        token = token.substr(slash + 1);
    }
    if (token.size() > 4 && token.compare(token.size() - 4, 4, ".gif") == 0) {
        token.resize(token.size() - 4);
    }
    mailhook::TrackingKeyring ring;
    for (std::size_t i = 0; i < o.keys.size(); ++i) {
        std::string error;
        if (!ring.add(o.key_ids[i], o.keys[i], error)) usage(error);
    }
    const mailhook::TokenVerdict verdict = mailhook::verify_tracking_token(
        token, ring, now_seconds() * 1000, click ? TrackingKind::click : TrackingKind::open);
    if (!verdict.ok()) {
        std::cout << "invalid: " << mailhook::to_string(verdict.error) << ": "
                  << verdict.reason << "\n";
        return 1;
    }
    std::cout << mailhook::tracking_payload_json(verdict.claims) << "\n";
    return 0;
}

}  // namespace

int token_command(const Words& words) {
    if (words.empty()) usage("token needs sign or verify");
    const std::string& command = words.front();
    if (command == "-h" || command == "--help" ||
        std::find(words.begin(), words.end(), "--help") != words.end()) {
        std::cout << kUsage;
        return 0;
    }
    if (command != "sign" && command != "verify") usage("unknown token command " + command);
    Options options = parse(words);
    return command == "sign" ? sign(options) : verify(options);
}

}  // namespace mailhook::cli
