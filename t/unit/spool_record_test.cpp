// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/spool_record.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kSha = "0123456789abcdef0123456789abcdef01234567";

RespArgs sample_args() {
    RespArgs args;
    args.add(std::int64_t{3});
    args.add("mailhook:events");
    args.add(std::string("binary\0bytes\r\n", 14));
    return args;
}

// A record as the first format wrote it: "MHS1" | count | length |
// crc32(payload) | payload.
std::string v1_record(std::string_view sha, const RespArgs& args) {
    std::string payload = std::string(sha) + std::string(args.encoded());
    std::string out = "MHS1";
    for (const std::uint32_t value : {static_cast<std::uint32_t>(args.count()),
                                      static_cast<std::uint32_t>(payload.size()),
                                      crc32(payload)}) {
        for (int shift = 0; shift < 32; shift += 8) {
            out.push_back(static_cast<char>((value >> shift) & 0xff));
        }
    }
    return out + payload;
}

TEST(Crc32, MatchesTheStandardCheckValue) {
    EXPECT_EQ(crc32("123456789"), 0xcbf43926u);
    EXPECT_EQ(crc32(""), 0u);
}

TEST(SpoolRecord, RoundTrips) {
    const RespArgs args = sample_args();
    const std::string record = encode_spool_record(kSha, args, 2);
    const std::string journal = record + "next record";
    const SpoolRecordView view = decode_spool_record(journal);
    ASSERT_EQ(view.status, SpoolRecordView::Status::ok);
    EXPECT_EQ(view.size, record.size());
    EXPECT_EQ(view.kind, SpoolRecordKind::call);
    EXPECT_EQ(view.attempts, 2);
    EXPECT_EQ(view.arg_count, 3u);
    EXPECT_EQ(view.script_sha1, kSha);
    EXPECT_EQ(view.args, args.encoded());
}

TEST(SpoolRecord, ScriptRecordsCarryTheSource) {
    const std::string record = encode_spool_script(kSha, "return 1");
    const SpoolRecordView view = decode_spool_record(record);
    ASSERT_EQ(view.status, SpoolRecordView::Status::ok);
    EXPECT_EQ(view.kind, SpoolRecordKind::script);
    EXPECT_EQ(view.script_sha1, kSha);
    EXPECT_EQ(view.args, "return 1");
}

TEST(SpoolRecord, FirstFormatStillDecodes) {
    const RespArgs args = sample_args();
    const std::string record = v1_record(kSha, args);
    const SpoolRecordView view = decode_spool_record(record);
    ASSERT_EQ(view.status, SpoolRecordView::Status::ok);
    EXPECT_EQ(view.size, record.size());
    EXPECT_EQ(view.kind, SpoolRecordKind::call);
    EXPECT_EQ(view.attempts, 0);
    EXPECT_EQ(view.args, args.encoded());
}

TEST(SpoolRecord, TornTailIsIncomplete) {
    const std::string record = encode_spool_record(kSha, sample_args());
    for (std::size_t cut = 0; cut < record.size(); ++cut) {
        EXPECT_EQ(decode_spool_record(record.substr(0, cut)).status,
                  SpoolRecordView::Status::incomplete)
            << "cut at " << cut;
    }
}

// I6 (security review): the header is covered by the checksum, so a flipped
// argument count can no longer desynchronise RESP on the shared connection.
TEST(SpoolRecord, EveryFlippedBitIsDetected) {
    const std::string record = encode_spool_record(kSha, sample_args());
    for (std::size_t i = 0; i < record.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string bad = record;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            EXPECT_NE(decode_spool_record(bad).status, SpoolRecordView::Status::ok)
                << "byte " << i << " bit " << bit;
        }
    }
}

TEST(SpoolRecord, ArgumentsMustBeExactlyTheCountedBulkStrings) {
    RespArgs args = sample_args();
    EXPECT_TRUE(is_resp_bulk_sequence(args.encoded(), 3));
    EXPECT_FALSE(is_resp_bulk_sequence(args.encoded(), 2));
    EXPECT_FALSE(is_resp_bulk_sequence(args.encoded(), 4));
    EXPECT_FALSE(is_resp_bulk_sequence("$3\r\nabc", 1));
    EXPECT_FALSE(is_resp_bulk_sequence("$3\r\nabcd\r\n", 1));
    EXPECT_FALSE(is_resp_bulk_sequence("*1\r\n$3\r\nabc\r\n", 1));
    EXPECT_FALSE(is_resp_bulk_sequence("$-1\r\n", 1));
    EXPECT_FALSE(is_resp_bulk_sequence("$99999999999\r\n", 1));
    EXPECT_TRUE(is_resp_bulk_sequence("$0\r\n\r\n", 1));
    // A first-format record whose count disagrees with its arguments is not
    // replayed (the CRC there covers the payload only).
    std::string record = v1_record(kSha, args);
    record[4] = 2;
    EXPECT_EQ(decode_spool_record(record).status, SpoolRecordView::Status::corrupt);
}

TEST(SpoolRecord, ShaMustBeLowerCaseHex) {
    EXPECT_EQ(decode_spool_record(encode_spool_record("not-a-sha", sample_args())).status,
              SpoolRecordView::Status::corrupt);
}

TEST(SpoolRecord, NextRecordSkipsDamage) {
    const std::string good = encode_spool_record(kSha, sample_args());
    std::string damaged = good;
    damaged[30] ^= 0x10;
    const std::string journal = damaged + "MHS2 junk MHS" + good;
    EXPECT_EQ(decode_spool_record(journal).status, SpoolRecordView::Status::corrupt);
    const std::size_t next = next_spool_record(journal);
    ASSERT_NE(next, std::string_view::npos);
    EXPECT_EQ(next, journal.size() - good.size());
    EXPECT_EQ(next_spool_record(damaged), std::string_view::npos);
}

}  // namespace
}  // namespace mailhook
