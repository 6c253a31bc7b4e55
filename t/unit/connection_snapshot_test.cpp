// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/connection_snapshot.hpp"

namespace mailhook {
namespace {

const FieldList kFields = {{"vendor", "inboxroad"}, {"secret", std::string("s\0\r\n1", 5)},
                           {"tenant", "acme"}};

TEST(KnownConnection, RoundTrips) {
    const std::string record = encode_known_connection("dyn1", kFields);
    const auto known = decode_known_connection(record);
    ASSERT_TRUE(known);
    EXPECT_EQ(known->id, "dyn1");
    EXPECT_EQ(known->fields, kFields);
}

TEST(KnownConnection, DamageIsRefused) {
    const std::string record = encode_known_connection("dyn1", kFields);
    for (std::size_t cut = 0; cut < record.size(); ++cut) {
        EXPECT_FALSE(decode_known_connection(record.substr(0, cut))) << cut;
    }
    EXPECT_FALSE(decode_known_connection(record + "x"));
    EXPECT_FALSE(decode_known_connection(encode_known_connection("bad id", kFields)));
}

TEST(ConnectionSnapshot, RoundTripsInOrder) {
    const std::vector<std::string> records = {encode_known_connection("a", kFields),
                                              encode_known_connection("b", {})};
    const auto decoded = decode_connection_snapshot(encode_connection_snapshot(records));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, records);
    const auto empty = decode_connection_snapshot(encode_connection_snapshot({}));
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
}

TEST(ConnectionSnapshot, AnyDamageDiscardsTheWholeSnapshot) {
    const std::string bytes =
        encode_connection_snapshot({encode_known_connection("a", kFields)});
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::string bad = bytes;
        bad[i] ^= 0x01;
        EXPECT_FALSE(decode_connection_snapshot(bad)) << i;
    }
    EXPECT_FALSE(decode_connection_snapshot(bytes.substr(0, bytes.size() - 1)));
    EXPECT_FALSE(decode_connection_snapshot(""));
}

}  // namespace
}  // namespace mailhook
