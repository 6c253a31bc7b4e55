// SPDX-License-Identifier: BSD-2-Clause
// connection.hpp and the vendor table: how a Redis hash or a directive
// becomes a connection, and what prepare() derives from it.
#include <gtest/gtest.h>

#include "vendor_test.hpp"

namespace mailhook {
namespace {

TEST(ConnectionFromFields, SecretsTenantAndOptions) {
    std::string error = "stale";
    const auto connection = connection_from_fields(
        "conn-1",
        {{"vendor", "mailgun"}, {"secret", "s1"}, {"secret_next", "s2"}, {"tenant", "acme"},
         {"timestamp_tolerance", "60"}, {"signature_header", "X-Sig"}, {"empty", ""}},
        error);
    ASSERT_TRUE(connection) << error;
    EXPECT_EQ(error, "");
    EXPECT_EQ(connection->id, "conn-1");
    EXPECT_EQ(connection->vendor, "mailgun");
    EXPECT_EQ(connection->secrets, (std::vector<std::string>{"s1", "s2"}));
    EXPECT_EQ(connection->tenant, "acme");
    EXPECT_EQ(connection->suppression_scope(), "acme");
    EXPECT_EQ(connection->option("timestamp_tolerance"), "60");
    EXPECT_EQ(connection->option("signature_header"), "X-Sig");
    EXPECT_EQ(connection->option("empty"), std::nullopt);  // empty counts as unset
    EXPECT_EQ(connection->option("missing"), std::nullopt);
}

TEST(ConnectionFromFields, NoTenantScopesSuppressionToTheConnection) {
    std::string error;
    const auto connection =
        connection_from_fields("conn-9", {{"vendor", "smtp2go"}, {"tenant", ""}}, error);
    ASSERT_TRUE(connection);
    EXPECT_FALSE(connection->tenant);
    EXPECT_EQ(connection->suppression_scope(), "conn-9");
    EXPECT_TRUE(connection->secrets.empty());
}

TEST(ConnectionFromFields, TenantsThatCannotNameKeysAreRefused) {
    std::string error;
    for (const std::string& tenant :
         std::vector<std::string>{"a{b", "a}b", std::string(129, 't'), "a\nb"}) {
        EXPECT_FALSE(connection_from_fields("c", {{"vendor", "smtp2go"}, {"tenant", tenant}},
                                            error))
            << tenant;
        EXPECT_EQ(error, "tenant must be 1 to 128 bytes without braces or control characters");
    }
    EXPECT_TRUE(connection_from_fields(
        "c", {{"vendor", "smtp2go"}, {"tenant", std::string(128, 't')}}, error));
}

TEST(ConnectionFromFields, DisabledOrVendorless) {
    std::string error;
    for (const FieldList& fields : {
             FieldList{{"vendor", "mailgun"}, {"secret", "s"}, {"enabled", "0"}},
             FieldList{{"vendor", "mailgun"}, {"secret", "s"}, {"enabled", "false"}},
             FieldList{{"vendor", "mailgun"}, {"secret", "s"}, {"disabled", "1"}},
             FieldList{{"vendor", "mailgun"}, {"secret", "s"}, {"disabled", "yes"}},
         }) {
        EXPECT_FALSE(connection_from_fields("c", fields, error));
        EXPECT_EQ(error, "") << "disabled is not an error";
    }
    EXPECT_TRUE(connection_from_fields(
        "c", {{"vendor", "mailgun"}, {"enabled", "1"}, {"disabled", "off"}}, error));
    EXPECT_FALSE(connection_from_fields("c", {{"secret", "s"}}, error));
    EXPECT_EQ(error, "no vendor field");
}

TEST(ConnectionId, BoringCharactersOnly) {
    for (const char* id : {"conn-1", "a", "A_b.c:d", "01HZX3K9Q2"}) {
        EXPECT_TRUE(is_valid_connection_id(id)) << id;
    }
    EXPECT_TRUE(is_valid_connection_id(std::string(128, 'x')));
    for (const char* id : {"", ".", "..", "a/b", "a b", "a%2F", "caf\xc3\xa9", "x\n"}) {
        EXPECT_FALSE(is_valid_connection_id(id)) << id;
    }
    EXPECT_FALSE(is_valid_connection_id(std::string(129, 'x')));
}

TEST(VendorTable, EveryVendorByName) {
    const std::vector<std::string_view> names = vendor_names();
    EXPECT_EQ(vendor_count(), names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        const Vendor* vendor = find_vendor(names[i]);
        ASSERT_NE(vendor, nullptr) << names[i];
        EXPECT_EQ(vendor->name(), names[i]);
        EXPECT_EQ(vendor->accepts_head(), names[i] == "mandrill") << names[i];
        EXPECT_EQ(vendor_index(names[i]), i) << names[i];
    }
    EXPECT_EQ(vendor_index("nosuchvendor"), names.size());
    EXPECT_EQ(find_vendor("nosuchvendor"), nullptr);
    EXPECT_EQ(find_vendor("SendGrid"), nullptr);
    EXPECT_EQ(find_vendor(""), nullptr);
}

TEST(VendorPrepare, DerivesKeysOnce) {
    // HMAC vendors use the secret bytes as given; Resend decodes whsec_.
    const Connection mailgun = test::prepared_connection("mailgun", {{"secret", "key-abc"}});
    EXPECT_EQ(mailgun.signing_keys, (std::vector<std::string>{"key-abc"}));
    const Connection resend =
        test::prepared_connection("resend", {{"secret", "whsec_" + base64_encode("raw-key")}});
    EXPECT_EQ(resend.signing_keys, (std::vector<std::string>{"raw-key"}));
    const test::EcKey key;
    const Connection sendgrid =
        test::prepared_connection("sendgrid", {{"secret", key.verification_key()}});
    EXPECT_EQ(sendgrid.public_keys.size(), 1u);
    for (const char* vendor : {"mailgun", "resend", "inboxroad", "smtp2go", "sendgrid"}) {
        std::string error;
        auto connection = connection_from_fields("c", {{"vendor", vendor}}, error);
        ASSERT_TRUE(connection);
        EXPECT_EQ(find_vendor(vendor)->prepare(*connection).rejection, Rejection::misconfigured)
            << vendor;
    }
}

}  // namespace
}  // namespace mailhook
