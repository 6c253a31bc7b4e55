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

TEST(Crc32, MatchesTheStandardCheckValue) {
    EXPECT_EQ(crc32("123456789"), 0xcbf43926u);
    EXPECT_EQ(crc32(""), 0u);
}

TEST(SpoolRecord, RoundTrips) {
    const RespArgs args = sample_args();
    const std::string record = encode_spool_record(kSha, args);
    const std::string journal = record + "next record";
    const SpoolRecordView view = decode_spool_record(journal);
    ASSERT_EQ(view.status, SpoolRecordView::Status::ok);
    EXPECT_EQ(view.size, record.size());
    EXPECT_EQ(view.arg_count, 3u);
    EXPECT_EQ(view.script_sha1, kSha);
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

TEST(SpoolRecord, FlippedBytesAreCorrupt) {
    const std::string record = encode_spool_record(kSha, sample_args());
    for (std::size_t i = 0; i < record.size(); ++i) {
        if (i >= 4 && i < 12) continue;  // count/length changes may read as torn
        std::string bad = record;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        EXPECT_EQ(decode_spool_record(bad).status, SpoolRecordView::Status::corrupt)
            << "flip at " << i;
    }
}

}  // namespace
}  // namespace mailhook
