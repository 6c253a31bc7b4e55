// SPDX-License-Identifier: BSD-2-Clause
#include "consumer_groups.hpp"

#include "key_layout.hpp"
#include "redis_error.hpp"
#include "resp.hpp"

namespace mailhook {

std::vector<ConsumerGroupTarget> consumer_group_targets(
    const std::vector<ConsumerGroup>& groups, const std::vector<std::string>& bucket_tags) {
    static const std::vector<std::string> kDefaultStreams = {"mailhook:events"};
    static const std::vector<std::string> kNoTag = {""};
    std::vector<ConsumerGroupTarget> out;
    for (const ConsumerGroup& group : groups) {
        for (const std::string& stream : group.streams.empty() ? kDefaultStreams
                                                               : group.streams) {
            for (const std::string& tag : bucket_tags.empty() ? kNoTag : bucket_tags) {
                std::string key = tagged_key(stream, tag);
                std::string command =
                    resp_command({"XGROUP", "CREATE", key, group.name, "$", "MKSTREAM"});
                out.push_back({std::move(key), group.name, std::move(command)});
            }
        }
    }
    return out;
}

bool is_existing_group(std::string_view error) { return redis_error_code(error) == "BUSYGROUP"; }

bool is_valid_group_name(std::string_view name) {
    if (name.empty() || name.size() > 256) {
        return false;
    }
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) {
            return false;
        }
    }
    return true;
}

}  // namespace mailhook
