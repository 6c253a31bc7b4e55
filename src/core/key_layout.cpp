// SPDX-License-Identifier: BSD-2-Clause
#include "key_layout.hpp"

#include <stdexcept>

#include "encoding.hpp"
#include "key_slot.hpp"

namespace mailhook {
namespace {

void append_part(std::string& key, std::string_view part, bool last) {
    if (last) {
        key.append(part);
        return;
    }
    for (const char c : part) {
        if (c == '%') {
            key.append("%25");
        } else if (c == ':') {
            key.append("%3A");
        } else {
            key.push_back(c);
        }
    }
}

}  // namespace

std::vector<std::string> bucket_tags(std::uint32_t buckets) {
    if (buckets == 0 || buckets > kClusterSlots) {
        throw std::invalid_argument("key buckets must be 1 to 16384");
    }
    std::vector<std::string> tags(buckets);
    std::uint32_t missing = buckets;
    for (std::uint64_t n = 0; missing > 0; ++n) {
        std::string candidate = std::to_string(n);
        const std::uint32_t bucket =
            static_cast<std::uint32_t>(std::uint64_t{key_slot(candidate)} * buckets /
                                       kClusterSlots);
        if (tags[bucket].empty()) {
            tags[bucket] = std::move(candidate);
            --missing;
        }
    }
    return tags;
}

void StoreKeys::use_buckets(std::uint32_t buckets) {
    tags = KeyTags::buckets;
    bucket_tags = mailhook::bucket_tags(buckets);
}

std::uint32_t bucket_of(std::string_view scope, std::uint32_t buckets) {
    return crc16_xmodem(scope) % buckets;
}

bool is_valid_key_scope(std::string_view scope) {
    if (scope.empty() || scope.size() > 128) {
        return false;
    }
    for (const char c : scope) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '{' || c == '}' || byte < 0x20 || byte == 0x7f) return false;
    }
    return true;
}

RequestKeys::RequestKeys(const StoreKeys& names, std::string_view scope)
    : names_(names), scope_(scope) {
    switch (names.tags) {
        case KeyTags::none: break;
        case KeyTags::tenant: tag_ = std::string(scope); break;
        case KeyTags::buckets: {
            const auto n = static_cast<std::uint32_t>(names.bucket_tags.size());
            if (n == 0) throw std::logic_error("key buckets not set up");
            tag_ = names.bucket_tags[bucket_of(scope, n)];
            break;
        }
    }
}

std::string RequestKeys::key(std::string_view kind,
                             std::initializer_list<std::string_view> parts) const {
    std::string key;
    std::size_t size = names_.prefix.size() + kind.size() + tag_.size() + 8;
    for (const std::string_view part : parts) size += part.size() + 1;
    key.reserve(size);
    key.append(names_.prefix).append(kind).push_back(':');
    if (!tag_.empty()) {
        key.append("{").append(tag_).append("}:");
    }
    std::size_t left = parts.size();
    for (const std::string_view part : parts) {
        append_part(key, part, --left == 0);
        if (left > 0) key.push_back(':');
    }
    return key;
}

std::string tagged_key(std::string_view name, std::string_view tag) {
    std::string key(name);
    if (!tag.empty()) {
        key.append(":{").append(tag).append("}");
    }
    return key;
}

std::string RequestKeys::tagged_stream(std::string_view name) const {
    return tagged_key(name, tag_);
}

std::string RequestKeys::stream() const { return tagged_stream(names_.stream); }

std::string RequestKeys::control_stream() const {
    return tagged_stream(names_.control_stream);
}

std::string RequestKeys::suppression_stream() const {
    return tagged_stream(names_.suppression_stream);
}

std::string RequestKeys::suppression() const { return key("suppression", {scope_}); }

std::string RequestKeys::dedup(std::string_view event_id) const {
    return key("dedup", {event_id});
}

std::string RequestKeys::soft_bounce(std::string_view recipient) const {
    return key("softbounce", {scope_, recipient});
}

std::string RequestKeys::resubscribed(std::string_view recipient) const {
    return key("resubscribed", {scope_, recipient});
}

std::string RequestKeys::replay(std::string_view connection, std::string_view kind,
                                std::string_view value) const {
    return key("replay", {connection, kind, value});
}

std::string RequestKeys::delivered(std::string_view connection,
                                   std::string_view message_id) const {
    return key("delivered", {connection, comparable_message_id(message_id)});
}

std::string RequestKeys::tracking_repeat(std::string_view token_digest) const {
    return key("repeat", {token_digest});
}

std::string RequestKeys::health(std::string_view connection) const {
    return key("health", {connection});
}

std::string_view comparable_message_id(std::string_view message_id) {
    std::string_view id = trim_ascii(message_id);
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') {
        id = trim_ascii(id.substr(1, id.size() - 2));
    }
    return id;
}

}  // namespace mailhook
