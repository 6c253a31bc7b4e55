// SPDX-License-Identifier: BSD-2-Clause
// The module's Redis key names (docs/events.md "Redis data model"): the
// prefix of mailhook_key_prefix and the streams of mailhook_stream and
// mailhook_suppression_stream, as flags or environment variables.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "args.hpp"

namespace mailhook::cli {

struct KeyNames {
    std::string prefix = "mailhook:";
    std::string stream = "mailhook:events";
    std::string suppression_stream = "mailhook:suppression-events";

    std::string connection(std::string_view id) const {
        return prefix + "connection:" + std::string(id);
    }
    std::string suppression(std::string_view scope) const {
        return prefix + "suppression:" + std::string(scope);
    }
    // Standalone name; with mailhook_key_hash_tag it is health:{TAG}:ID.
    std::string health(std::string_view id) const {
        return prefix + "health:" + std::string(id);
    }
};

std::vector<Flag> key_flags();
KeyNames key_names(const Args& args);

extern const char* const kKeysHelp;

}  // namespace mailhook::cli
