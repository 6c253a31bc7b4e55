// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/spool_journal.hpp"

namespace mailhook {
namespace {

TEST(SpoolJournal, NamesSortByCreationAndTellTheLane) {
    const std::string webhooks = journal_name(1700000000123, 4242, 7, false);
    const std::string tracking = journal_name(1700000000124, 4242, 8, true);
    EXPECT_EQ(webhooks, "spool-1700000000123-0000004242-000007.log");
    EXPECT_EQ(tracking, "spool-1700000000124-0000004242-000008-t.log");
    EXPECT_LT(webhooks, tracking);
    EXPECT_TRUE(is_journal_name(webhooks));
    EXPECT_TRUE(is_journal_name(tracking));
    EXPECT_FALSE(is_tracking_journal(webhooks));
    EXPECT_TRUE(is_tracking_journal(tracking));
    EXPECT_FALSE(is_journal_name(webhooks + ".ack"));
    EXPECT_FALSE(is_journal_name("connections.snapshot"));
    EXPECT_FALSE(is_journal_name("spool-.log"));
}

TEST(SpoolJournal, QuarantinedRecordsKeepTheirLane) {
    EXPECT_EQ(quarantine_name("spool-1-2-3.log", 160), "spool-1-2-3-q160.log");
    EXPECT_EQ(quarantine_name("spool-1-2-3-t.log", 0), "spool-1-2-3-q0-t.log");
    EXPECT_TRUE(is_tracking_journal(quarantine_name("spool-1-2-3-t.log", 0)));
}

TEST(SpoolJournal, ProgressRoundTripsAndDamageIsRefused) {
    for (const std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{4096},
                                       std::uint64_t{1} << 40}) {
        EXPECT_EQ(decode_replay_progress(encode_replay_progress(offset)), offset);
    }
    std::string bytes = encode_replay_progress(4096);
    bytes[6] ^= 1;
    EXPECT_EQ(decode_replay_progress(bytes), std::nullopt);
    EXPECT_EQ(decode_replay_progress(""), std::nullopt);
    EXPECT_EQ(decode_replay_progress(encode_replay_progress(1) + "x"), std::nullopt);
}

}  // namespace
}  // namespace mailhook
