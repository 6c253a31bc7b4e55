// SPDX-License-Identifier: BSD-2-Clause
// key_layout.hpp: standalone names as before, key parts that cannot collide
// (I8), bucket tags spread over the slots, and every key of a request in one
// slot — checked by a real cluster-enabled redis-server running the store
// script (a call whose keys span slots fails with CROSSSLOT).
#include <gtest/gtest.h>

#include <set>

#include "core/key_layout.hpp"
#include "core/key_slot.hpp"
#include "core/store_script.hpp"
#include "redis_server.hpp"
#include "test_support.hpp"

namespace mailhook {
namespace {

using test::Reply;

TEST(KeyLayout, StandaloneKeepsTheNamesOfEarlierVersions) {
    const StoreKeys names;
    const RequestKeys keys(names, "acme");
    EXPECT_EQ(keys.tag(), "");
    EXPECT_EQ(keys.stream(), "mailhook:events");
    EXPECT_EQ(keys.control_stream(), "mailhook:control");
    EXPECT_EQ(keys.suppression_stream(), "mailhook:suppression-events");
    EXPECT_EQ(keys.suppression(), "mailhook:suppression:acme");
    EXPECT_EQ(keys.dedup("0123abcd"), "mailhook:dedup:0123abcd");
    EXPECT_EQ(keys.soft_bounce("a@x"), "mailhook:softbounce:acme:a@x");
    EXPECT_EQ(keys.delivered("c42", " <m@x> "), "mailhook:delivered:c42:m@x");
    // New in this version.
    EXPECT_EQ(keys.resubscribed("a@x"), "mailhook:resubscribed:acme:a@x");
    EXPECT_EQ(keys.replay("c42", "token", "tok"), "mailhook:replay:c42:token:tok");
    EXPECT_EQ(keys.tracking_repeat("d1"), "mailhook:repeat:d1");
    EXPECT_EQ(keys.health("c42"), "mailhook:health:c42");
    StoreKeys custom;
    custom.prefix = "mh:";
    custom.stream = "events:acme";
    EXPECT_EQ(RequestKeys(custom, "acme").dedup("1"), "mh:dedup:1");
    EXPECT_EQ(RequestKeys(custom, "acme").stream(), "events:acme");
}

TEST(KeyLayout, I8PartsJoinedWithoutCollisions) {
    const StoreKeys names;
    EXPECT_NE(RequestKeys(names, "a").soft_bounce("b:c"),
              RequestKeys(names, "a:b").soft_bounce("c"));
    EXPECT_EQ(RequestKeys(names, "a:b").soft_bounce("c"), "mailhook:softbounce:a%3Ab:c");
    EXPECT_NE(RequestKeys(names, "a:b").soft_bounce("c"),
              RequestKeys(names, "a%3Ab").soft_bounce("c"));
    EXPECT_EQ(RequestKeys(names, "a%3Ab").soft_bounce("c"), "mailhook:softbounce:a%253Ab:c");
    const RequestKeys keys(names, "s");
    EXPECT_NE(keys.delivered("a", "b:c"), keys.delivered("a:b", "c"));
    EXPECT_NE(keys.replay("c", "token", "2:3"), keys.replay("c:token", "2", "3"));
    EXPECT_NE(keys.replay("c:1", "token", "3"), keys.replay("c", "1:token", "3"));
}

TEST(KeyLayout, MessageIdsComparedWithoutBracketsAndSpace) {
    EXPECT_EQ(comparable_message_id(" < a@b > "), "a@b");
    EXPECT_EQ(comparable_message_id("<>"), "");
    EXPECT_EQ(comparable_message_id("a@b"), "a@b");
}

TEST(KeyLayout, BucketTagsSpreadEvenlyOverTheSlots) {
    const std::vector<std::string> tags = bucket_tags(64);
    ASSERT_EQ(tags.size(), 64u);
    EXPECT_EQ(std::set<std::string>(tags.begin(), tags.end()).size(), 64u);
    for (std::uint32_t b = 0; b < 64; ++b) {
        const std::uint32_t slot = key_slot(tags[b]);
        EXPECT_GE(slot, b * 256) << b;
        EXPECT_LT(slot, (b + 1) * 256) << b;
    }
    // Three masters (redis-cli --cluster create splits the slots in thirds).
    std::uint32_t per_master[3] = {0, 0, 0};
    for (const std::string& tag : tags) {
        const std::uint32_t slot = key_slot(tag);
        ++per_master[slot < 5461 ? 0 : slot < 10923 ? 1 : 2];
    }
    EXPECT_EQ(per_master[0], 21u);
    EXPECT_EQ(per_master[1], 22u);
    EXPECT_EQ(per_master[2], 21u);
    EXPECT_EQ(bucket_tags(1).size(), 1u);
    EXPECT_EQ(bucket_tags(16384).size(), 16384u);
    EXPECT_THROW(bucket_tags(0), std::invalid_argument);
    EXPECT_THROW(bucket_tags(16385), std::invalid_argument);
}

TEST(KeyLayout, TheDefaultTagsAsDocumented) {
    const std::string docs = test::read_file("docs/events.md");
    const std::size_t at = docs.find("default tags, bucket 0 first:\n\n```\n");
    ASSERT_NE(at, std::string::npos);
    const std::size_t start = docs.find("```\n", at) + 4;
    std::string listed = docs.substr(start, docs.find('\n', start) - start);
    std::string expected;
    for (const std::string& tag : bucket_tags(kDefaultKeyBuckets)) {
        expected += (expected.empty() ? "" : " ") + tag;
    }
    EXPECT_EQ(listed, expected);
}

TEST(KeyLayout, ScopesSpreadOverTheBuckets) {
    std::vector<int> count(64);
    for (int i = 0; i < 6400; ++i) ++count[bucket_of("tenant-" + std::to_string(i), 64)];
    for (int b = 0; b < 64; ++b) {
        EXPECT_GT(count[b], 50) << b;
        EXPECT_LT(count[b], 150) << b;
    }
}

TEST(KeyLayout, EveryKeyOfARequestHasItsTag) {
    StoreKeys names;
    names.use_buckets(64);
    const RequestKeys keys(names, "acme");
    const std::string tag = names.bucket_tags[bucket_of("acme", 64)];
    EXPECT_EQ(keys.tag(), tag);
    for (const std::string& key :
         {keys.stream(), keys.control_stream(), keys.suppression_stream(), keys.suppression(),
          keys.dedup("id"), keys.soft_bounce("a@x"), keys.resubscribed("a@x"),
          keys.replay("c", "token", "t"), keys.delivered("c", "m"), keys.tracking_repeat("d"),
          keys.health("c")}) {
        EXPECT_EQ(key_slot(key), key_slot(tag)) << key;
    }
    EXPECT_EQ(keys.stream(), "mailhook:events:{" + tag + "}");
    EXPECT_EQ(keys.dedup("id"), "mailhook:dedup:{" + tag + "}:id");
    EXPECT_EQ(keys.health("c:1"), "mailhook:health:{" + tag + "}:c:1");
    names.tags = KeyTags::tenant;
    EXPECT_EQ(RequestKeys(names, "acme").suppression(), "mailhook:suppression:{acme}:acme");
    EXPECT_EQ(RequestKeys(names, "acme").stream(), "mailhook:events:{acme}");
}

TEST(KeyLayout, ScopesThatCanBeTags) {
    EXPECT_TRUE(is_valid_key_scope("acme"));
    EXPECT_TRUE(is_valid_key_scope("a:b.c-d_e"));
    EXPECT_TRUE(is_valid_key_scope(std::string(128, 'x')));
    EXPECT_FALSE(is_valid_key_scope(std::string(129, 'x')));
    EXPECT_FALSE(is_valid_key_scope(""));
    EXPECT_FALSE(is_valid_key_scope("a{b"));
    EXPECT_FALSE(is_valid_key_scope("a}b"));
    EXPECT_FALSE(is_valid_key_scope("a\nb"));
}

// ---- a cluster node ------------------------------------------------------------------

class KeyLayoutInACluster : public test::RedisSuite<true> {
  protected:
    // A request touching every kind of key: a soft bounce, an unsubscribe,
    // a delivery, a replay guard.
    static Intake busy_request(const std::string& scope) {
        Intake intake;
        intake.replay_guard = ReplayGuard{"tok-" + scope, "1700000000tok-" + scope, ""};
        intake.raws = {"{\"n\":1}"};
        const std::pair<EventType, SuppressionEffect> kinds[] = {
            {EventType::bounced, SuppressionEffect::soft_bounce},
            {EventType::unsubscribed, SuppressionEffect::unsubscribe},
            {EventType::delivered, SuppressionEffect::none},
            {EventType::complained, SuppressionEffect::complaint}};
        int n = 0;
        for (const auto& [type, effect] : kinds) {
            ReadyEvent event;
            event.id = scope + "-" + std::to_string(n++);
            event.json = "{}";
            event.type = type;
            event.effect = effect;
            event.recipient_key = "r@example.com";
            event.message_id = "<m@x>";
            event.raw = 1;
            intake.events.push_back(event);
        }
        return intake;
    }
    static Reply store(const StoreKeys& names, const std::string& scope) {
        StorePolicy policy;
        policy.soft_bounce_limit = 1;
        policy.soft_bounce_window_seconds = 60;
        policy.delivered_ttl_seconds = 60;
        const StoreTarget target{"inboxroad", scope, scope};
        return redis_->command({"EVAL", store_script_source()},
                               store_script_args(busy_request(scope), target, names, policy));
    }
};

TEST_F(KeyLayoutInACluster, StandaloneNamesSpanSlots) {
    const Reply reply = store(StoreKeys{}, "acme");
    ASSERT_TRUE(reply.is_error());
    EXPECT_EQ(reply.text.rfind("CROSSSLOT", 0), 0u) << reply.text;
}

TEST_F(KeyLayoutInACluster, EveryKeyOfARequestInTheSlotOfItsTag) {
    for (const KeyTags tags : {KeyTags::buckets, KeyTags::tenant}) {
        redis_->command({"FLUSHALL"});
        StoreKeys names;
        if (tags == KeyTags::buckets) names.use_buckets(kDefaultKeyBuckets);
        names.tags = tags;
        std::set<std::string> scopes;
        for (int i = 0; i < 40; ++i) {
            const std::string scope = "tenant-" + std::to_string(i);
            scopes.insert(scope);
            const Reply reply = store(names, scope);
            ASSERT_FALSE(reply.is_error()) << scope << ": " << reply.text;
            ASSERT_EQ(reply.elements.at(0).integer, 4) << scope;
        }
        // Every key Redis now holds is in the slot of its request's tag.
        const Reply keys = redis_->command({"KEYS", "*"});
        ASSERT_GT(keys.elements.size(), 40u * 8u);
        std::set<long long> slots;
        for (const Reply& key : keys.elements) {
            const long long slot = redis_->command({"CLUSTER", "KEYSLOT", key.text}).integer;
            slots.insert(slot);
            EXPECT_EQ(static_cast<std::uint32_t>(slot), key_slot(key.text)) << key.text;
        }
        std::set<std::string> streams;
        for (const std::string& scope : scopes) {
            const RequestKeys request(names, scope);
            EXPECT_EQ(redis_->command({"EXISTS", request.suppression()}).integer, 1) << scope;
            streams.insert(request.stream());
        }
        long long events = 0;
        for (const std::string& stream : streams) {
            events += redis_->command({"XLEN", stream}).integer;
        }
        EXPECT_EQ(events, 40 * 4);
        if (tags == KeyTags::buckets) {
            EXPECT_LT(streams.size(), 40u) << "one per bucket";
        }
        EXPECT_GT(slots.size(), 20u);
    }
}

}  // namespace
}  // namespace mailhook
