// SPDX-License-Identifier: BSD-2-Clause
// mailhook_consumer_group: the consumer groups mailhook creates after every
// (re)connect, so consumers of a Redis that restarted empty (or was
// flushed, or failed over to a replica without them) never get NOGROUP.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailhook {

struct ConsumerGroup {
    std::string name;
    std::vector<std::string> streams;  // as configured; empty: mailhook:events
};

// One XGROUP CREATE: a stream and a group on it.
struct ConsumerGroupTarget {
    std::string stream;
    std::string group;
    std::string command;  // XGROUP CREATE <stream> <group> $ MKSTREAM, as RESP
};

// Every stream and group to create, in configuration order. With bucket
// tags (mailhook_key_hash_tag buckets) each stream is one per bucket
// ("name:{tag}"), as the store script writes them.
std::vector<ConsumerGroupTarget> consumer_group_targets(
    const std::vector<ConsumerGroup>& groups, const std::vector<std::string>& bucket_tags);

// XGROUP CREATE's "the group exists already": the wanted state.
bool is_existing_group(std::string_view error);

// A group or stream name mailhook accepts: 1 to 256 bytes, no control
// characters or spaces.
bool is_valid_group_name(std::string_view name);

}  // namespace mailhook
