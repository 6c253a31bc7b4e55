// SPDX-License-Identifier: BSD-2-Clause
// timestamp.hpp: RFC 3339 output and the vendor time formats we accept.
#include <gtest/gtest.h>
#include <limits>

#include "core/timestamp.hpp"
#include "test_support.hpp"

namespace mailhook {
namespace {

using test::at_seconds;

TEST(FormatRfc3339, Seconds) {
    EXPECT_EQ(format_rfc3339_seconds(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(1705314600)), "2024-01-15T10:30:00Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(1513299569)), "2017-12-15T00:59:29Z");
    // Milliseconds are dropped, not rounded.
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(1705314600) + 999), "2024-01-15T10:30:00Z");
}

TEST(FormatRfc3339, Millis) {
    EXPECT_EQ(format_rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339_millis(at_seconds(1700000000) + 123), "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(format_rfc3339_millis(at_seconds(1700000000) + 7), "2023-11-14T22:13:20.007Z");
}

TEST(FormatRfc3339, AroundTheYear2000) {
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(915148799)), "1998-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(946684799)), "1999-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(946684800)), "2000-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(4107542400)), "2100-03-01T00:00:00Z");
}

TEST(FormatRfc3339, LeapDays) {
    // 2000 is a leap year (divisible by 400), 2100 is not.
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(951825600)), "2000-02-29T12:00:00Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(1709251199)), "2024-02-29T23:59:59Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(1709251200)), "2024-03-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(4107542400 - 1)), "2100-02-28T23:59:59Z");
}

TEST(FormatRfc3339, BeforeTheEpoch) {
    EXPECT_EQ(format_rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(-1)), "1969-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339_seconds(at_seconds(-2208988800)), "1900-01-01T00:00:00Z");
}

TEST(ParseIso8601, UtcDesignator) {
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00Z"), at_seconds(1705314600));
    EXPECT_EQ(parse_iso8601("2024-01-15t10:30:00z"), at_seconds(1705314600));
    EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_iso8601("2000-02-29T12:00:00Z"), at_seconds(951825600));
    EXPECT_EQ(parse_iso8601("1969-12-31T23:59:59Z"), at_seconds(-1));
}

TEST(ParseIso8601, NumericOffsets) {
    const EpochMillis utc = at_seconds(1705314600);  // 2024-01-15T10:30:00Z
    EXPECT_EQ(parse_iso8601("2024-01-15T11:30:00+01:00"), utc);
    EXPECT_EQ(parse_iso8601("2024-01-15T11:30:00+0100"), utc);
    EXPECT_EQ(parse_iso8601("2024-01-15T11:30:00+01"), utc);
    EXPECT_EQ(parse_iso8601("2024-01-15T05:30:00-05:00"), utc);
    EXPECT_EQ(parse_iso8601("2024-01-15T05:30:00-0500"), utc);
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00+00:00"), utc);
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00-00:00"), utc);
    EXPECT_EQ(parse_iso8601("2024-01-15T16:00:00+05:30"), utc);
    // Crossing a day (and a year) boundary.
    EXPECT_EQ(parse_iso8601("2000-01-01T01:00:00+02:00"), at_seconds(946684800 - 3600));
}

TEST(ParseIso8601, Fractions) {
    const EpochMillis utc = at_seconds(1705314600);
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00.5Z"), utc + 500);
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00.123Z"), utc + 123);
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00.123999Z"), utc + 123);  // truncated
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00,25Z"), utc + 250);
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00.000000000Z"), utc);
    // Vendor samples: Resend data.created_at, SES, OCI.
    EXPECT_EQ(parse_iso8601("2024-11-22T23:41:11.894719+00:00"), at_seconds(1732318871) + 894);
    EXPECT_EQ(parse_iso8601("2024-11-22T23:41:12.126Z"), at_seconds(1732318872) + 126);
    EXPECT_EQ(parse_iso8601("2019-04-19T21:26:00.310+0000"),
              *parse_iso8601("2019-04-19T21:26:00Z") + 310);
    EXPECT_EQ(parse_iso8601("2014-08-01T13:28:10.2735393-04:00"),
              *parse_iso8601("2014-08-01T17:28:10Z") + 273);
}

TEST(ParseIso8601, SpaceSeparatorIsUtc) {
    EXPECT_EQ(parse_iso8601("2024-01-15 10:30:00"), at_seconds(1705314600));
    EXPECT_EQ(parse_iso8601("2024-01-15 10:30:00.250"), at_seconds(1705314600) + 250);
    EXPECT_EQ(parse_iso8601("2024-01-15 11:30:00+01:00"), at_seconds(1705314600));
}

TEST(ParseIso8601, RoundTripsTheWriter) {
    for (const EpochMillis at : {EpochMillis{0}, at_seconds(951825600) + 1,
                                 at_seconds(1709251199) + 999, at_seconds(-2208988800),
                                 at_seconds(4107542400)}) {
        EXPECT_EQ(parse_iso8601(format_rfc3339_millis(at)), at) << at;
        EXPECT_EQ(parse_iso8601(format_rfc3339_seconds(at)), at - ((at % 1000) + 1000) % 1000)
            << at;
    }
}

TEST(ParseIso8601, RejectsGarbage) {
    for (const char* text : {
             "",
             "garbage",
             "2024-01-15",                     // date only
             "2024-01-15T10:30",               // no seconds
             "2024-01-15T10:30:0Z",            // short seconds
             "24-01-15T10:30:00Z",             // two-digit year
             "2024/01/15T10:30:00Z",           // wrong date separator
             "2024-01-15T10.30.00Z",           // wrong time separator
             "2024-01-15X10:30:00Z",           // wrong date/time separator
             "2024-00-15T10:30:00Z",           // month 0
             "2024-13-15T10:30:00Z",           // month 13
             "2024-01-00T10:30:00Z",           // day 0
             "2024-01-32T10:30:00Z",           // day 32
             "2023-02-29T10:30:00Z",           // not a leap year
             "2024-02-30T10:30:00Z",           // no such day
             "2024-04-31T10:30:00Z",           // no such day
             "2024-01-15T24:00:00Z",           // hour 24
             "2024-01-15T10:60:00Z",           // minute 60
             "2024-01-15T10:30:61Z",           // second 61
             "2024-01-15T10:30:00.Z",          // empty fraction
             "2024-01-15T10:30:00X",           // unknown zone
             "2024-01-15T10:30:00+1:00",       // short offset
             "2024-01-15T10:30:00+01:0",       // short offset minutes
             "2024-01-15T10:30:00+24:00",      // offset hour 24
             "2024-01-15T10:30:00+01:60",      // offset minute 60
             "2024-01-15T10:30:00Z ",          // trailing space
             "2024-01-15T10:30:00Zjunk",       // trailing junk
             " 2024-01-15T10:30:00Z",          // leading space
             "-024-01-15T10:30:00Z",           // sign in the year
             "2024-01-15T10:30:00+01:00:00",   // offset with seconds
         }) {
        EXPECT_FALSE(parse_iso8601(text)) << '"' << text << '"';
    }
}

TEST(ParseEpochSeconds, IntegerAndFraction) {
    EXPECT_EQ(parse_epoch_seconds("0"), 0);
    EXPECT_EQ(parse_epoch_seconds("1513299569"), at_seconds(1513299569));
    // Mailgun's float timestamps: milliseconds kept, the rest truncated.
    EXPECT_EQ(parse_epoch_seconds("1529006854.329574"), at_seconds(1529006854) + 329);
    EXPECT_EQ(parse_epoch_seconds("1529701969.818328"), at_seconds(1529701969) + 818);
    EXPECT_EQ(parse_epoch_seconds("1.5"), 1500);
    EXPECT_EQ(parse_epoch_seconds("1.05"), 1050);
    EXPECT_EQ(parse_epoch_seconds("100000000000"), at_seconds(100000000000));
}

TEST(ParseEpochSeconds, RejectsGarbage) {
    for (const char* text : {
             "",
             "abc",
             "-5",            // before the epoch: no vendor sends it
             "+5",
             " 12",
             "12 ",
             "1e9",
             "0x10",
             "1.2.3",
             ".5",
             "1.",            // a dot without digits
             "12a",
             "100000000001",  // past year 5138
             "99999999999999999999999",
             "1614265330\n",
         }) {
        EXPECT_FALSE(parse_epoch_seconds(text)) << '"' << text << '"';
    }
}

TEST(ParseVendorTime, EitherForm) {
    EXPECT_EQ(parse_vendor_time("1705314600"), at_seconds(1705314600));
    EXPECT_EQ(parse_vendor_time("1705314600.5"), at_seconds(1705314600) + 500);
    EXPECT_EQ(parse_vendor_time("2024-01-15T10:30:00Z"), at_seconds(1705314600));
    EXPECT_EQ(parse_vendor_time("2024-01-15 10:30:00"), at_seconds(1705314600));
    EXPECT_FALSE(parse_vendor_time("yesterday"));
    EXPECT_FALSE(parse_vendor_time(""));
}

// The sanitizer build failed with -Wformat-truncation: the buffer was too
// small for the widest values the format can produce. Any int64 must give a
// complete timestamp.
TEST(Rfc3339, ExtremeValuesAreNotTruncated) {
    for (const EpochMillis at : {std::numeric_limits<EpochMillis>::min(),
                                 std::numeric_limits<EpochMillis>::max(),
                                 EpochMillis{-1}, EpochMillis{0}}) {
        const std::string seconds = format_rfc3339_seconds(at);
        const std::string millis = format_rfc3339_millis(at);
        ASSERT_FALSE(seconds.empty());
        EXPECT_EQ(seconds.back(), 'Z') << seconds;
        EXPECT_EQ(millis.back(), 'Z') << millis;
    }
    EXPECT_EQ(format_rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace mailhook
