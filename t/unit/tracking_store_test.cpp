// SPDX-License-Identifier: BSD-2-Clause
// tracking_store.hpp: the arguments of the tracking script, then the script
// in a real redis-server: the per-token repeat window (M3), a resent record
// stored once (M4's last point), the delivery-time variant, all or nothing.
#include <gtest/gtest.h>

#include "core/json.hpp"
#include "core/tracking_store.hpp"
#include "redis_server.hpp"

namespace mailhook {
namespace {

using test::Reply;

TrackingClaims claims() {
    TrackingClaims c;
    c.key_id = "k1";
    c.connection = "c1";
    c.recipient = "a@b.c";
    c.message_id = " <m1@example.com> ";
    c.url = "https://example.com/x";
    return c;
}

TrackingEvent hit_event(TrackingKind kind, const std::string& token, const std::string& id) {
    TrackingHit hit;
    hit.kind = kind;
    hit.token = token;
    hit.user_agent = "Chrome";
    return make_tracking_event(claims(), hit, id);
}

TEST(TrackingStoreArgs, KeysAreDeclaredAndTheDeliveredKeyOnlyWhenChecked) {
    const TrackingEvent event = hit_event(TrackingKind::click, "tok", "ff");
    TrackingStoreConfig config;
    config.click_window_seconds = 10;
    const RespArgs on = tracking_script_args(event, 5000, StoreKeys{}, config);
    const std::string encoded(on.encoded());
    EXPECT_EQ(encoded.rfind("$1\r\n4\r\n$15\r\nmailhook:events\r\n$17\r\nmailhook:dedup:ff\r\n"
                            "$48\r\nmailhook:repeat:" + event.repeat_digest + "\r\n"
                            "$36\r\nmailhook:delivered:c1:m1@example.com\r\n", 0),
              0u)
        << encoded.substr(0, 200);
    config.click_window_seconds = 0;
    config.click_repeat_seconds = 0;
    const RespArgs off = tracking_script_args(event, 5000, StoreKeys{}, config);
    EXPECT_EQ(std::string(off.encoded()).find("mailhook:delivered:"), std::string::npos);
    EXPECT_EQ(std::string(off.encoded()).find("mailhook:repeat:"), std::string::npos);
    EXPECT_EQ(off.count(), 1u + 2u + 12u);
    EXPECT_EQ(tracking_script_sha1().size(), 40u);
}

TEST(TrackingStoreArgs, KeysOfATenantsTokenAreInItsSlot) {
    TrackingClaims c = claims();
    c.tenant = "acme";
    TrackingHit hit;
    hit.token = "tok";
    const TrackingEvent event = make_tracking_event(c, hit, "ee");
    StoreKeys keys;
    keys.tags = KeyTags::tenant;
    const std::string encoded(tracking_script_args(event, 0, keys, {}).encoded());
    EXPECT_NE(encoded.find("mailhook:events:{acme}\r\n"), std::string::npos);
    EXPECT_NE(encoded.find("mailhook:dedup:{acme}:ee\r\n"), std::string::npos);
}

class TrackingScriptInRedis : public test::RedisSuite<> {
  protected:
    Reply run(const TrackingEvent& event, const TrackingStoreConfig& config = {},
              EpochMillis at = 1700000000000) {
        return redis_->command({"EVAL", tracking_script_source()},
                               tracking_script_args(event, at, StoreKeys{}, config));
    }
    long long result(const TrackingEvent& event, const TrackingStoreConfig& config = {},
                     EpochMillis at = 1700000000000) {
        const Reply reply = run(event, config, at);
        if (reply.is_error()) throw std::runtime_error(reply.text);
        return reply.integer;
    }
};

constexpr long long kStored = static_cast<long long>(TrackingStoreResult::stored);
constexpr long long kSoon =
    static_cast<long long>(TrackingStoreResult::stored_soon_after_delivery);
constexpr long long kRepeat = static_cast<long long>(TrackingStoreResult::repeat);
constexpr long long kDuplicate = static_cast<long long>(TrackingStoreResult::duplicate);

TEST_F(TrackingScriptInRedis, M3RepeatsOfATokenInsideTheWindowAreCountedNotStored) {
    for (int i = 0; i < 5; ++i) {
        const long long expected = i == 0 ? kStored : kRepeat;
        EXPECT_EQ(result(hit_event(TrackingKind::open, "tok-1", "id" + std::to_string(i))),
                  expected)
            << i;
    }
    EXPECT_EQ(integer({"XLEN", "mailhook:events"}), 1);
    const std::string window_key =
        "mailhook:repeat:" + hit_event(TrackingKind::open, "tok-1", "x").repeat_digest;
    EXPECT_EQ(redis_->command({"GET", window_key}).text, "5") << "hits inside the window";
    const long long ttl = integer({"TTL", window_key});
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 10);
    // Another token, or a click of the same token, has its own window.
    EXPECT_EQ(result(hit_event(TrackingKind::open, "tok-2", "other")), kStored);
    EXPECT_EQ(result(hit_event(TrackingKind::click, "tok-1", "click")), kStored);
    // Once the window is over, the token is stored again.
    redis_->command({"DEL", window_key});
    EXPECT_EQ(result(hit_event(TrackingKind::open, "tok-1", "later")), kStored);
    EXPECT_EQ(integer({"XLEN", "mailhook:events"}), 4);
}

TEST_F(TrackingScriptInRedis, M3NoWindowStoresEveryHit) {
    TrackingStoreConfig config;
    config.open_repeat_seconds = 0;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(result(hit_event(TrackingKind::open, "tok", "id" + std::to_string(i)), config),
                  kStored);
    }
    EXPECT_EQ(integer({"XLEN", "mailhook:events"}), 3);
}

TEST_F(TrackingScriptInRedis, M4AResentRecordIsStoredOnce) {
    const TrackingEvent event = hit_event(TrackingKind::open, "tok", "same-id");
    TrackingStoreConfig config;
    config.open_repeat_seconds = 0;  // not the window: the id makes it a duplicate
    EXPECT_EQ(result(event, config), kStored);
    for (int i = 0; i < 7; ++i) EXPECT_EQ(result(event, config), kDuplicate);
    EXPECT_EQ(integer({"XLEN", "mailhook:events"}), 1);
    const long long ttl = integer({"TTL", "mailhook:dedup:same-id"});
    EXPECT_GT(ttl, 25 * 3600);
}

TEST_F(TrackingScriptInRedis, AClickSoonAfterDeliveryGetsTheMachineVariant) {
    redis_->command({"SET", "mailhook:delivered:c1:m1@example.com", "1699999995"});
    TrackingStoreConfig config;
    config.click_window_seconds = 10;
    EXPECT_EQ(result(hit_event(TrackingKind::click, "t", "soon"), config), kSoon);
    EXPECT_EQ(result(hit_event(TrackingKind::click, "u", "late"), config,
                     1700000000000 + 60000),
              kStored);
    const Reply entries = redis_->command({"XRANGE", "mailhook:events", "-", "+"});
    ASSERT_EQ(entries.elements.size(), 2u);
    const JsonPtr soon = parse_json(entries.elements[0].elements[1].elements[1].text);
    EXPECT_EQ(*json_string_at(json_object_get(soon.get(), "metadata"), "machine_reason"),
              "after_delivery");
}

TEST_F(TrackingScriptInRedis, AStreamOfTheWrongTypeStoresNothing) {
    redis_->command({"SET", "mailhook:events", "not-a-stream"});
    const Reply reply = run(hit_event(TrackingKind::open, "tok", "id"));
    ASSERT_TRUE(reply.is_error());
    EXPECT_EQ(reply.text, "WRONGTYPE mailhook key mailhook:events holds a string");
    EXPECT_EQ(integer({"DBSIZE"}), 1) << "no dedup or window key written";
}

}  // namespace
}  // namespace mailhook
