// SPDX-License-Identifier: BSD-2-Clause
// Names of the Redis keys a request touches. Standalone (the default) keeps
// the names mailhook always used; for a cluster every key of one request
// carries one hash tag, so a script's keys share a slot (Redis Cluster
// specification, "Hash tags").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailhook {

enum class KeyTags {
    none,     // standalone names, no hash tag
    buckets,  // the scope hashed into one of `buckets` tags spread over the slots
    tenant,   // the scope itself is the tag (one slot per tenant)
};

// The configured names (mailhook_key_prefix, mailhook_stream, ...), built
// once per location.
struct StoreKeys {
    std::string prefix = "mailhook:";
    std::string stream = "mailhook:events";
    std::string suppression_stream = "mailhook:suppression-events";
    std::string control_stream = "mailhook:control";
    KeyTags tags = KeyTags::none;
    // With KeyTags::buckets: tag b is bucket_tags(n)[b].
    std::vector<std::string> bucket_tags;

    void use_buckets(std::uint32_t buckets);
};

constexpr std::uint32_t kDefaultKeyBuckets = 64;

// Tag b is the smallest decimal number whose slot lies in the b-th of
// `buckets` equal slot ranges, so buckets spread evenly over the slots and
// over the masters that own slot ranges. 1 <= buckets <= 16384.
std::vector<std::string> bucket_tags(std::uint32_t buckets);

// `name` in the slot of hash tag `tag` ("name:{tag}"); `name` itself when
// the tag is empty (standalone).
std::string tagged_key(std::string_view name, std::string_view tag);

// The bucket of a suppression scope: CRC16 of the scope modulo `buckets`.
std::uint32_t bucket_of(std::string_view scope, std::uint32_t buckets);

// A scope (tenant or connection id) can be a hash tag: 1 to 128 bytes, no
// braces, no control characters.
bool is_valid_key_scope(std::string_view scope);

// The keys of one request, all in the slot of its suppression scope (tenant,
// else connection id). Variable parts are joined with ':'; every part but the
// last has '%' and ':' percent-encoded, so no two part lists give one key
// ("a" + "b:c" and "a:b" + "c" differ). Ids without ':' or '%' keep the names
// of earlier versions.
class RequestKeys {
  public:
    RequestKeys(const StoreKeys& names, std::string_view scope);

    // The hash tag without braces; empty in standalone.
    const std::string& tag() const { return tag_; }

    std::string stream() const;
    std::string control_stream() const;
    std::string suppression_stream() const;
    std::string suppression() const;
    std::string dedup(std::string_view event_id) const;
    std::string soft_bounce(std::string_view recipient) const;
    // The newest resubscribe time of a recipient (an unsubscribe older than
    // it is not applied).
    std::string resubscribed(std::string_view recipient) const;
    // A one-time value (a Mailgun token or signed text) of a connection;
    // `kind` names which.
    std::string replay(std::string_view connection, std::string_view kind,
                       std::string_view value) const;
    // The time of a message's last `delivered` event (tracking click window).
    std::string delivered(std::string_view connection, std::string_view message_id) const;
    // The repeat window of one tracking token.
    std::string tracking_repeat(std::string_view token_digest) const;
    // A connection's health hash (docs/events.md "Connection health").
    std::string health(std::string_view connection) const;

  private:
    std::string key(std::string_view kind, std::initializer_list<std::string_view> parts) const;
    std::string tagged_stream(std::string_view name) const;

    const StoreKeys& names_;
    std::string_view scope_;
    std::string tag_;
};

// The message id as delivered keys compare it: without surrounding
// whitespace and angle brackets ("<id@host>" and "id@host" are one message);
// empty: nothing to compare.
std::string_view comparable_message_id(std::string_view message_id);

}  // namespace mailhook
