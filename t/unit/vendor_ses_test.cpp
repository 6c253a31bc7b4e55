// SPDX-License-Identifier: BSD-2-Clause
// AWS SES via SNS: the official SNS vectors, the canonical string, URL rules,
// and every SES sample of vendors.md normalized field by field.
#include <gtest/gtest.h>

#include "core/intake.hpp"
#include "core/sns.hpp"
#include "core/vendors/vendors.hpp"
#include "vendor_test.hpp"

namespace mailhook {
namespace {

using test::MapCertificates;
using test::MapHeaders;
using test::public_key_of;
using test::RsaKey;
using test::sign_sns;

constexpr EpochMillis kReceived = 1700000000123;
constexpr const char* kCertUrl =
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-unit.pem";
constexpr const char* kTopic = "arn:aws:sns:us-east-1:123456789012:ses-events";

// An RSA key that signs SNS messages the way SNS does (sign_sns).
class SnsSigner {
  public:
    PublicKey public_key() const { return public_key_of(key_); }

    // Completes an SNS envelope (signature fields) and returns the body.
    std::string envelope(json_t* message, const char* version = "2",
                         const char* cert_url = kCertUrl) const {
        return sign_sns(message, key_, version, cert_url);
    }

  private:
    RsaKey key_;
};

const SnsSigner& signer() {
    static const SnsSigner instance;
    return instance;
}

Connection ses_connection(FieldList extra = {}) {
    FieldList fields = {{"vendor", "ses"}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    std::string error;
    auto connection = connection_from_fields("c1", fields, error);
    EXPECT_TRUE(connection) << error;
    EXPECT_TRUE(ses_vendor().prepare(*connection).ok());
    return *connection;
}

struct SesRun {
    MapCertificates certificates;
    MapHeaders headers;
    EpochMillis now = test::at_seconds(1700000000);

    SesRun() { certificates.add(kCertUrl, signer().public_key()); }

    Intake operator()(const std::string& body, const Connection& connection) const {
        Delivery delivery(body, headers, now);
        delivery.set_certificates(&certificates);
        EventOrigin origin;
        origin.vendor = "ses";
        origin.connection = connection.id;
        origin.received_at = kReceived;
        return take_in(ses_vendor(), delivery, connection, origin);
    }
};

JsonPtr notification(const std::string& message, const char* id = "msg-1") {
    JsonPtr envelope(json_object());
    json_object_set_new(envelope.get(), "Type", json_string("Notification"));
    json_object_set_new(envelope.get(), "MessageId", json_string(id));
    json_object_set_new(envelope.get(), "TopicArn", json_string(kTopic));
    json_object_set_new(envelope.get(), "Message",
                        json_stringn(message.data(), message.size()));
    json_object_set_new(envelope.get(), "Timestamp",
                        json_string("2016-01-27T14:59:39.000Z"));
    return envelope;
}

// The stored event equals `expected` (a JSON object without id, raw and
// received_at) plus the given id and raw.
void expect_event(const Intake& intake, const ReadyEvent& event,
                  const std::string& expected_text, const std::string& dedup_key,
                  const std::string& raw_text) {
    JsonPtr actual = parse_json(stored_event_json(intake, event));
    ASSERT_TRUE(actual) << event.json;
    JsonPtr expected = parse_json(expected_text);
    ASSERT_TRUE(expected) << expected_text;
    const std::string id = event_id_for("ses", "c1", dedup_key);
    EXPECT_EQ(event.id, id);
    json_object_set_new(expected.get(), "id", json_string(id.c_str()));
    json_object_set_new(expected.get(), "received_at",
                        json_string(format_rfc3339_millis(kReceived).c_str()));
    json_object_set_new(expected.get(), "raw", parse_json(raw_text).release());
    EXPECT_TRUE(json_equal(actual.get(), expected.get()))
        << "actual:   " << json_dump_compact(actual.get())
        << "\nexpected: " << json_dump_compact(expected.get());
}

// --- the official vectors ------------------------------------------------

class OfficialVector : public ::testing::TestWithParam<const char*> {};

TEST_P(OfficialVector, StringToSignIsExact) {
    JsonPtr vector = test::load_vector(GetParam());
    ASSERT_TRUE(vector);
    JsonPtr payload = parse_json(test::vector_string(vector.get(), "payload"));
    ASSERT_TRUE(payload);
    EXPECT_EQ(sns_string_to_sign(payload.get()).value_or("<none>"),
              test::vector_string(vector.get(), "string_to_sign"));
}

struct VectorRun {
    JsonPtr vector;
    JsonPtr payload;
    MapCertificates certificates;
    MapHeaders headers;

    explicit VectorRun(const char* name) : vector(test::load_vector(name)) {
        payload = parse_json(test::vector_string(vector.get(), "payload"));
        const std::string pem = test::read_file(
            "t/vectors/" + test::vector_string(vector.get(), "key_file"));
        auto key = PublicKey::from_certificate_pem(pem);
        EXPECT_TRUE(key);
        certificates.add(test::vector_string(vector.get(), "signing_cert_url"), *key);
    }

    Intake run(const Connection& connection) const {
        const std::string body = json_dump_compact(payload.get());
        Delivery delivery(body, headers, test::at_seconds(1700000000));
        delivery.set_certificates(&certificates);
        EventOrigin origin;
        origin.vendor = "ses";
        origin.connection = connection.id;
        origin.received_at = kReceived;
        return take_in(ses_vendor(), delivery, connection, origin);
    }
};

TEST_P(OfficialVector, VerifiesWithThePinnedCertificate) {
    VectorRun run(GetParam());
    const Intake intake = run.run(ses_connection());
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    // "Hello world" is no SES event: kept as an unknown notification.
    JsonPtr event = parse_json(stored_event_json(intake, intake.events[0]));
    EXPECT_EQ(json_string_at(event.get(), "type").value_or(""), "unknown");
    EXPECT_EQ(json_string_at(event.get(), "vendor_event").value_or(""), "Notification");
    EXPECT_EQ(json_string_at(event.get(), "event_id").value_or(""),
              json_string_at(run.payload.get(), "MessageId").value_or("?"));
}

TEST_P(OfficialVector, TamperedMessageFails) {
    VectorRun run(GetParam());
    json_object_set_new(run.payload.get(), "Message", json_string("Hello world!"));
    const Intake intake = run.run(ses_connection());
    EXPECT_EQ(intake.verdict.rejection, Rejection::unauthenticated);
    EXPECT_EQ(http_status(intake.verdict.rejection), 401);
    EXPECT_TRUE(intake.events.empty());
}

TEST_P(OfficialVector, TamperedSignedFieldsFail) {
    for (const char* key : {"MessageId", "Timestamp", "TopicArn"}) {
        VectorRun run(GetParam());
        json_object_set_new(run.payload.get(), key, json_string("x"));
        EXPECT_EQ(run.run(ses_connection()).verdict.rejection,
                  Rejection::unauthenticated)
            << key;
    }
    VectorRun with_subject(GetParam());
    json_object_set_new(with_subject.payload.get(), "Subject", json_string("added"));
    EXPECT_EQ(with_subject.run(ses_connection()).verdict.rejection,
              Rejection::unauthenticated);
}

TEST_P(OfficialVector, NullSubjectCountsAsAbsent) {
    VectorRun run(GetParam());
    json_object_set_new(run.payload.get(), "Subject", json_null());
    EXPECT_TRUE(run.run(ses_connection()).verdict.ok());
}

TEST_P(OfficialVector, WrongSignatureVersionFails) {
    VectorRun run(GetParam());
    const std::string version =
        test::vector_string(run.vector.get(), "signature_version");
    json_object_set_new(run.payload.get(), "SignatureVersion",
                        json_string(version == "1" ? "2" : "1"));
    EXPECT_EQ(run.run(ses_connection()).verdict.rejection, Rejection::unauthenticated);
    for (const char* unsupported : {"3", "0", ""}) {
        VectorRun other(GetParam());
        json_object_set_new(other.payload.get(), "SignatureVersion",
                            json_string(unsupported));
        EXPECT_EQ(other.run(ses_connection()).verdict.rejection,
                  Rejection::unauthenticated);
    }
}

TEST_P(OfficialVector, BadCertificateUrlFailsBeforeAnyLookup) {
    for (const char* url : {
             "http://sns.us-east-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem",
             "https://sns.us-east-2.amazonaws.com.evil.example/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem",
             "https://s3.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem",
             "https://evil.example/sns.us-east-2.amazonaws.com/x.pem",
             "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.txt",
             "https://sns.us-east-2.amazonaws.com/x.pem?y=.pem",
             "https://sns.us-east-2.amazonaws.com:8443/x.pem",
             "https://user@sns.us-east-2.amazonaws.com/x.pem",
             "https://sns.us.amazonaws.com/x.pem",
         }) {
        VectorRun run(GetParam());
        // Even with a key registered under that URL.
        run.certificates.add(url, signer().public_key());
        json_object_set_new(run.payload.get(), "SigningCertURL", json_string(url));
        const Intake intake = run.run(ses_connection());
        EXPECT_EQ(intake.verdict.rejection, Rejection::unauthenticated) << url;
        EXPECT_TRUE(intake.key_url.empty()) << url;
    }
}

TEST_P(OfficialVector, UnknownCertificateAsksForIt) {
    VectorRun run(GetParam());
    const std::string url =
        "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-other.pem";
    json_object_set_new(run.payload.get(), "SigningCertURL", json_string(url.c_str()));
    const Intake intake = run.run(ses_connection());
    EXPECT_EQ(intake.verdict.rejection, Rejection::key_unavailable);
    EXPECT_EQ(http_status(intake.verdict.rejection), 503);
    EXPECT_EQ(intake.key_url, url);
}

TEST_P(OfficialVector, TopicAllowList) {
    VectorRun run(GetParam());
    const std::string topic = test::vector_string(run.payload.get(), "TopicArn");
    EXPECT_TRUE(run.run(ses_connection({{"topic_arn", "arn:aws:sns:x:1:a, " + topic}}))
                    .verdict.ok());
    const Intake refused =
        run.run(ses_connection({{"topic_arn", "arn:aws:sns:us-east-2:1:other"}}));
    EXPECT_EQ(refused.verdict.rejection, Rejection::unauthenticated);
    EXPECT_NE(refused.verdict.reason.find(topic), std::string::npos);
}

TEST_P(OfficialVector, ForeignTopicIsRefusedBeforeAnyFetch) {
    VectorRun run(GetParam());
    json_object_set_new(run.payload.get(), "SigningCertURL",
                        json_string("https://sns.us-east-2.amazonaws.com/Unknown.pem"));
    const Intake intake =
        run.run(ses_connection({{"topic_arn", "arn:aws:sns:us-east-2:1:other"}}));
    EXPECT_EQ(intake.verdict.rejection, Rejection::unauthenticated);
    EXPECT_TRUE(intake.key_url.empty());
}

TEST_P(OfficialVector, TimestampToleranceIsOffUnlessConfigured) {
    VectorRun run(GetParam());  // signed in 2022, "now" is 2023
    EXPECT_TRUE(run.run(ses_connection()).verdict.ok());
    EXPECT_EQ(run.run(ses_connection({{"timestamp_tolerance", "3600"}})).verdict.rejection,
              Rejection::stale_timestamp);
}

INSTANTIATE_TEST_SUITE_P(Sns, OfficialVector,
                         ::testing::Values("aws_sns_official_1.json",
                                           "aws_sns_official_2.json"));

// --- canonical string and URLs -------------------------------------------

TEST(SnsStringToSign, UsesDecodedValuesAndTheTypesKeys) {
    JsonPtr message = parse_json(
        R"({"Type":"Notification","MessageId":"m","TopicArn":"t",)"
        R"("Message":"a\nb \"q\" \u00e9","Timestamp":"ts","Subject":"s\ts",)"
        R"("UnsubscribeURL":"u","Token":"ignored"})");
    EXPECT_EQ(sns_string_to_sign(message.get()).value_or(""),
              "Message\na\nb \"q\" \xc3\xa9\nMessageId\nm\nSubject\ns\ts\n"
              "Timestamp\nts\nTopicArn\nt\nType\nNotification\n");
    JsonPtr confirmation = parse_json(
        R"({"Type":"SubscriptionConfirmation","MessageId":"m","Token":"k",)"
        R"("TopicArn":"t","Message":"hi","SubscribeURL":"https://x/","Timestamp":"ts",)"
        R"("Subject":"not signed"})");
    EXPECT_EQ(sns_string_to_sign(confirmation.get()).value_or(""),
              "Message\nhi\nMessageId\nm\nSubscribeURL\nhttps://x/\nTimestamp\nts\n"
              "Token\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n");
    json_object_set_new(confirmation.get(), "Type", json_string("UnsubscribeConfirmation"));
    EXPECT_TRUE(sns_string_to_sign(confirmation.get()));
    json_object_del(confirmation.get(), "Token");
    EXPECT_FALSE(sns_string_to_sign(confirmation.get()));
    json_object_set_new(message.get(), "Type", json_string("Other"));
    EXPECT_FALSE(sns_string_to_sign(message.get()));
    json_object_set_new(message.get(), "Type", json_string("Notification"));
    json_object_set_new(message.get(), "Message", json_integer(1));
    EXPECT_FALSE(sns_string_to_sign(message.get()));
}

TEST(SnsUrls, HostsAndCertificateUrls) {
    EXPECT_TRUE(is_sns_host("sns.us-east-1.amazonaws.com"));
    EXPECT_TRUE(is_sns_host("sns.cn-north-1.amazonaws.com.cn"));
    EXPECT_FALSE(is_sns_host("sns.eu.amazonaws.com"));
    EXPECT_FALSE(is_sns_host("sns.us-east-1.amazonaws.com.evil.com"));
    EXPECT_FALSE(is_sns_host("sns.us.east.amazonaws.com"));
    EXPECT_FALSE(is_sns_host("xsns.us-east-1.amazonaws.com"));
    EXPECT_FALSE(is_sns_host("SNS.US-EAST-1.AMAZONAWS.COM"));
}

// L2 (security review 2026-12-01): only region names, not S3 virtual hosts
// that a bucket named "sns" would get a wildcard certificate for.
TEST(SnsUrls, L2OnlyRegionHosts) {
    for (const char* host : {"sns.us-gov-west-1.amazonaws.com", "sns.ap-southeast-2.amazonaws.com",
                             "sns.il-central-1.amazonaws.com", "sns.us-isob-east-1.amazonaws.com",
                             "sns.cn-northwest-1.amazonaws.com.cn"}) {
        EXPECT_TRUE(is_sns_host(host)) << host;
    }
    for (const char* host : {"sns.s3-accelerate.amazonaws.com", "sns.s3-us-west-2.amazonaws.com",
                             "sns.s3.amazonaws.com", "sns.s3-external-1.amazonaws.com",
                             "sns.-aa.amazonaws.com", "sns.xn--e1a.amazonaws.com",
                             "sns.us-east-1a.amazonaws.com", "sns.us-east-.amazonaws.com",
                             "sns.us--east-1.amazonaws.com", "sns.us-east-100.amazonaws.com",
                             "sns.cn-north-1.amazonaws.com", "sns.us-east-1.amazonaws.com.cn",
                             "sns.usa-east-1.amazonaws.com", "sns.us-xx-east-1.amazonaws.com"}) {
        EXPECT_FALSE(is_sns_host(host)) << host;
    }
    EXPECT_FALSE(is_sns_certificate_url("https://sns.s3-accelerate.amazonaws.com/x.pem"));
    EXPECT_FALSE(is_sns_certificate_url("https://sns.s3-us-west-2.amazonaws.com/x.pem"));
    EXPECT_TRUE(is_sns_certificate_url(kCertUrl));
    EXPECT_FALSE(is_sns_certificate_url("https://sns.us-east-1.amazonaws.com/.pem"));
    EXPECT_FALSE(is_sns_certificate_url("https://sns.us-east-1.amazonaws.com/a/../b.pem"));
    EXPECT_FALSE(is_sns_certificate_url("https://sns.us-east-1.amazonaws.com/a b.pem"));
    EXPECT_FALSE(is_sns_certificate_url("https://sns.us-east-1.amazonaws.com/a%2e.pem"));
    EXPECT_TRUE(is_sns_url("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription"
                           "&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=x"));
    EXPECT_FALSE(is_sns_url("https://sns.us-west-2.amazonaws.com/?a=b\r\nX: y"));
    EXPECT_FALSE(is_sns_url("https://example.com/?Action=ConfirmSubscription"));
}

// --- SES samples (vendors.md §5.4) ---------------------------------------

constexpr const char* kMail =
    R"("mail":{"timestamp":"2016-01-27T14:59:38.237Z","source":"john@example.com",)"
    R"("sourceArn":"arn:aws:ses:us-east-1:888888888888:identity/example.com",)"
    R"("sourceIp":"127.0.3.0","sendingAccountId":"123456789012",)"
    R"("callerIdentity":"IAM_user_or_role_name",)"
    R"("messageId":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",)"
    R"("destination":["jane@example.com","mary@example.com","richard@example.com"]})";

const std::string kBounce =
    std::string(R"({"notificationType":"Bounce","bounce":{"bounceType":"Permanent",)") +
    R"("reportingMTA":"dns; email.example.com","bouncedRecipients":[)"
    R"({"emailAddress":"jane@example.com","status":"5.1.1","action":"failed",)"
    R"("diagnosticCode":"smtp; 550 5.1.1 <jane@example.com>... User"},)"
    R"({"emailAddress":"Richard@Example.com","status":"5.1.1","action":"failed",)"
    R"("diagnosticCode":"smtp; 550 5.1.1 <richard@example.com>... User"}],)"
    R"("bounceSubType":"General","timestamp":"2016-01-27T14:59:38.237Z",)"
    R"("feedbackId":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",)"
    R"("remoteMtaIp":"127.0.2.0"},)" + kMail + "}";

constexpr const char* kCommon =
    R"("schema":1,"vendor":"ses","connection":"c1","tenant":null,)";

TEST(SesSamples, BounceWithTwoRecipientsGivesTwoEvents) {
    SesRun run;
    const Intake intake = run(signer().envelope(notification(kBounce).get()),
                              ses_connection());
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 2u);
    EXPECT_NE(intake.events[0].id, intake.events[1].id);
    const std::string common = std::string("{") + kCommon +
        R"("type":"bounced","bounce_class":"hard","reject_reason":"bounced",)"
        R"("message_id":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",)"
        R"("event_id":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",)"
        R"("timestamp":"2016-01-27T14:59:38Z","smtp_status":"5.1.1",)"
        R"("description":"Permanent: General","click_url":null,"user_agent":null,)"
        R"("ip":null,"campaign_id":null,"tags":[],"metadata":{},"vendor_event":"Bounce",)";
    expect_event(intake, intake.events[0],
                 common + R"("recipient":"jane@example.com",)"
                          R"("mta_response":"smtp; 550 5.1.1 <jane@example.com>... User"})",
                 "sns:msg-1:jane@example.com", kBounce);
    expect_event(intake, intake.events[1],
                 common + R"("recipient":"Richard@Example.com",)"
                          R"("mta_response":"smtp; 550 5.1.1 <richard@example.com>... User"})",
                 "sns:msg-1:richard@example.com", kBounce);
    EXPECT_EQ(intake.events[1].recipient_key, "richard@example.com");
    EXPECT_EQ(intake.events[0].effect, SuppressionEffect::hard_bounce);
}

TEST(SesSamples, BounceClasses) {
    for (const auto& [type, expected] :
         {std::pair{"Transient", "soft"}, {"Undetermined", "undetermined"}}) {
        std::string message = kBounce;
        message.replace(message.find("Permanent"), 9, type);
        SesRun run;
        const Intake intake = run(signer().envelope(notification(message).get()),
                                  ses_connection());
        ASSERT_TRUE(intake.verdict.ok());
        JsonPtr event = parse_json(stored_event_json(intake, intake.events[0]));
        EXPECT_EQ(json_string_at(event.get(), "bounce_class").value_or(""), expected);
        EXPECT_EQ(json_string_at(event.get(), "description").value_or(""),
                  std::string(type) + ": General");
    }
}

TEST(SesSamples, Complaint) {
    const std::string message =
        std::string(R"({"notificationType":"Complaint","complaint":{)") +
        R"j("userAgent":"AnyCompany Feedback Loop (V0.01)",)j"
        R"("complainedRecipients":[{"emailAddress":"richard@example.com"}],)"
        R"("complaintFeedbackType":"abuse","arrivalDate":"2016-01-27T14:59:38.237Z",)"
        R"("timestamp":"2016-01-27T14:59:38.237Z",)"
        R"("feedbackId":"000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000"},)" +
        kMail + "}";
    SesRun run;
    const Intake intake = run(signer().envelope(notification(message, "msg-2").get()),
                              ses_connection());
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    expect_event(intake, intake.events[0],
                 std::string("{") + kCommon +
                     R"("type":"complained","bounce_class":null,"reject_reason":"spam",)"
                     R"("recipient":"richard@example.com",)"
                     R"("message_id":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",)"
                     R"("event_id":"000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",)"
                     R"("timestamp":"2016-01-27T14:59:38Z","smtp_status":null,"mta_response":null,)"
                     R"("description":"abuse","click_url":null,)"
                     R"j("user_agent":"AnyCompany Feedback Loop (V0.01)","ip":null,)j"
                     R"("campaign_id":null,"tags":[],"metadata":{},"vendor_event":"Complaint"})",
                 "sns:msg-2:richard@example.com", message);
    EXPECT_EQ(intake.events[0].effect, SuppressionEffect::complaint);
}

TEST(SesSamples, Delivery) {
    const std::string message =
        std::string(R"({"notificationType":"Delivery","delivery":{)") +
        R"("timestamp":"2016-01-27T14:59:38.237Z","recipients":["jane@example.com"],)"
        R"("processingTimeMillis":546,"reportingMTA":"a8-70.smtp-out.amazonses.com",)"
        R"("smtpResponse":"250 ok:  Message 64111812 accepted","remoteMtaIp":"127.0.2.0"},)" +
        kMail + "}";
    SesRun run;
    const Intake intake = run(signer().envelope(notification(message, "msg-3").get()),
                              ses_connection());
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    expect_event(intake, intake.events[0],
                 std::string("{") + kCommon +
                     R"("type":"delivered","bounce_class":null,"reject_reason":null,)"
                     R"("recipient":"jane@example.com",)"
                     R"("message_id":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",)"
                     R"("event_id":"msg-3","timestamp":"2016-01-27T14:59:38Z",)"
                     R"("smtp_status":null,"mta_response":"250 ok:  Message 64111812 accepted",)"
                     R"("description":null,"click_url":null,"user_agent":null,"ip":null,)"
                     R"("campaign_id":null,"tags":[],"metadata":{},"vendor_event":"Delivery"})",
                 "sns:msg-3:jane@example.com", message);
}

const std::string kClick =
    R"({"eventType":"Click","click":{"ipAddress":"192.0.2.1",)"
    R"("link":"http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",)"
    R"("linkTags":{"samplekey0":["samplevalue0"],"samplekey1":["samplevalue1"]},)"
    R"("timestamp":"2017-08-09T23:51:25.570Z",)"
    R"("userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36"},)"
    R"("mail":{"commonHeaders":{"from":["sender@example.com"],"messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",)"
    R"("subject":"Message sent from Amazon SES","to":["recipient@example.com"]},)"
    R"("destination":["recipient@example.com"],"headersTruncated":false,)"
    R"("messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",)"
    R"("sendingAccountId":"123456789012","source":"sender@example.com",)"
    R"("tags":{"ses:configuration-set":["ConfigSet"],"ses:source-ip":["192.0.2.0"],)"
    R"("ses:from-domain":["example.com"],"ses:caller-identity":["ses_user"],)"
    R"("myCustomTag1":["myCustomTagValue1"],"myCustomTag2":["myCustomTagValue2"]},)"
    R"("timestamp":"2017-08-09T23:50:05.795Z"}})";

TEST(SesSamples, ClickFromEventPublishing) {
    SesRun run;
    const Intake intake = run(signer().envelope(notification(kClick, "msg-4").get()),
                              ses_connection());
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    expect_event(intake, intake.events[0],
                 std::string("{") + kCommon +
                     R"("type":"clicked","bounce_class":null,"reject_reason":null,)"
                     R"("recipient":"recipient@example.com",)"
                     R"("message_id":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",)"
                     R"("event_id":"msg-4","timestamp":"2017-08-09T23:51:25Z",)"
                     R"("smtp_status":null,"mta_response":null,"description":null,)"
                     R"("click_url":"http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",)"
                     R"("user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36",)"
                     R"("ip":"192.0.2.1","campaign_id":null,)"
                     R"("tags":["myCustomTag1:myCustomTagValue1","myCustomTag2:myCustomTagValue2"],)"
                     R"("metadata":{},"vendor_event":"Click"})",
                 "sns:msg-4:recipient@example.com", kClick);
}

TEST(SesSamples, EventPublishingTypes) {
    struct Case {
        const char* kind;
        const char* detail;
        const char* type;
        const char* bounce_class;  // nullptr: null
        const char* description;   // nullptr: null
    };
    const Case cases[] = {
        {"Send", R"("send":{})", "sent", nullptr, nullptr},
        {"Reject", R"("reject":{"reason":"Bad content"})", "rejected", nullptr, "Bad content"},
        {"Rendering Failure",
         R"("failure":{"errorMessage":"Attribute 'name' is not present","templateName":"T"})",
         "failed", nullptr, "Attribute 'name' is not present"},
        {"DeliveryDelay",
         R"("deliveryDelay":{"timestamp":"2020-06-16T00:15:40.641Z","delayType":"TransientCommunicationFailure",)"
         R"("expirationTime":"2020-06-16T00:25:40.914Z","delayedRecipients":[{"emailAddress":"recipient@example.com",)"
         R"("status":"4.4.1","diagnosticCode":"smtp; 421 4.4.1 Unable to connect"}]})",
         "deferred", "soft", "TransientCommunicationFailure"},
        {"Open", R"("open":{"ipAddress":"192.0.2.1","timestamp":"2017-08-09T22:00:19.652Z","userAgent":"UA"})",
         "opened", nullptr, nullptr},
        {"Subscription",
         R"("subscription":{"contactList":"L","timestamp":"2022-01-12T01:00:14.340Z","source":"UnsubscribeHeader",)"
         R"("newTopicPreferences":{"unsubscribeAll":true},"oldTopicPreferences":{"unsubscribeAll":false}})",
         "unsubscribed", nullptr, nullptr},
        {"Subscription",
         R"("subscription":{"newTopicPreferences":{"unsubscribeAll":false,"topicSubscriptionStatus":)"
         R"([{"topicName":"News","subscriptionStatus":"OptIn"}]}})",
         "subscribed", nullptr, nullptr},
        {"Mystery", R"("mystery":{})", "unknown", nullptr, nullptr},
    };
    for (const Case& c : cases) {
        const std::string message = std::string(R"({"eventType":")") + c.kind + "\"," +
                                    c.detail + "," + kMail + "}";
        SesRun run;
        const Intake intake = run(signer().envelope(notification(message).get()),
                                  ses_connection());
        ASSERT_TRUE(intake.verdict.ok()) << c.kind << ": " << intake.verdict.reason;
        ASSERT_FALSE(intake.events.empty()) << c.kind;
        JsonPtr event = parse_json(stored_event_json(intake, intake.events[0]));
        EXPECT_EQ(json_string_at(event.get(), "type").value_or(""), c.type) << c.kind;
        EXPECT_EQ(json_string_at(event.get(), "vendor_event").value_or(""), c.kind);
        const json_t* bounce_class = json_object_get(event.get(), "bounce_class");
        if (c.bounce_class) {
            EXPECT_EQ(json_string_at(event.get(), "bounce_class").value_or(""),
                      c.bounce_class) << c.kind;
        } else {
            EXPECT_TRUE(json_is_null(bounce_class)) << c.kind;
        }
        if (c.description) {
            EXPECT_EQ(json_string_at(event.get(), "description").value_or(""),
                      c.description) << c.kind;
        } else {
            EXPECT_TRUE(json_is_null(json_object_get(event.get(), "description"))) << c.kind;
        }
        if (std::string_view(c.kind) == "DeliveryDelay") {
            ASSERT_EQ(intake.events.size(), 1u);
            EXPECT_EQ(json_string_at(event.get(), "smtp_status").value_or(""), "4.4.1");
            EXPECT_EQ(json_string_at(event.get(), "recipient").value_or(""),
                      "recipient@example.com");
        } else if (std::string_view(c.kind) == "Reject") {
            EXPECT_EQ(json_string_at(event.get(), "reject_reason").value_or(""), "blocked");
            EXPECT_EQ(intake.events.size(), 3u);  // every mail.destination
        } else if (std::string_view(c.kind) == "Open") {
            EXPECT_EQ(json_string_at(event.get(), "ip").value_or(""), "192.0.2.1");
            EXPECT_EQ(json_string_at(event.get(), "user_agent").value_or(""), "UA");
            EXPECT_EQ(json_string_at(event.get(), "timestamp").value_or(""),
                      "2017-08-09T22:00:19Z");
        } else if (std::string_view(c.kind) == "Send") {
            // No time of its own: the SNS Timestamp.
            EXPECT_EQ(json_string_at(event.get(), "timestamp").value_or(""),
                      "2016-01-27T14:59:39Z");
        }
    }
}

// SES's note that the topic works is a control message, not an event.
TEST(SesSamples, SesSetupNoteIsAControlEntry) {
    SesRun run;
    const Intake intake = run(
        signer().envelope(notification(
            "Successfully validated SNS topic for Amazon SES event publishing.").get()),
        ses_connection());
    ASSERT_TRUE(intake.verdict.ok());
    ASSERT_EQ(intake.events.size(), 1u);
    JsonPtr event = parse_json(stored_event_json(intake, intake.events[0]));
    EXPECT_EQ(json_string_at(event.get(), "type").value_or(""), "unknown");
    EXPECT_TRUE(json_is_null(json_object_get(event.get(), "recipient")));
    EXPECT_TRUE(intake.events[0].control);
    EXPECT_EQ(intake.events[0].id, event_id_for("ses", "c1", "sns:msg-1"));
}

TEST(SesSamples, SignatureVersionOneWorksToo) {
    SesRun run;
    const Intake intake = run(signer().envelope(notification(kBounce).get(), "1"),
                              ses_connection());
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    EXPECT_EQ(intake.events.size(), 2u);
}

// --- subscription handshake ----------------------------------------------

JsonPtr confirmation(const char* type = "SubscriptionConfirmation",
                     const char* subscribe_url =
                         "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
                         "&TopicArn=arn:aws:sns:us-east-1:123456789012:ses-events&Token=2336412f37") {
    JsonPtr envelope(json_object());
    json_object_set_new(envelope.get(), "Type", json_string(type));
    json_object_set_new(envelope.get(), "MessageId",
                        json_string("165545c9-2a5c-472c-8df2-7ff2be2b3b1b"));
    json_object_set_new(envelope.get(), "Token", json_string("2336412f37"));
    json_object_set_new(envelope.get(), "TopicArn", json_string(kTopic));
    json_object_set_new(envelope.get(), "Message",
                        json_string("You have chosen to subscribe to the topic."));
    json_object_set_new(envelope.get(), "SubscribeURL", json_string(subscribe_url));
    json_object_set_new(envelope.get(), "Timestamp",
                        json_string("2012-04-26T20:45:04.751Z"));
    return envelope;
}

TEST(SesSubscription, ConfirmationIsAControlEntryAndConfirmedWhenRestricted) {
    JsonPtr envelope = confirmation();
    const std::string body = signer().envelope(envelope.get());
    SesRun run;
    const Intake intake = run(body, ses_connection({{"topic_arn", kTopic}}));
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    const std::string url(json_string_at(envelope.get(), "SubscribeURL").value_or(""));
    ASSERT_TRUE(intake.confirm_url);
    EXPECT_EQ(*intake.confirm_url, url);
    expect_event(intake, intake.events[0],
                 std::string("{") + kCommon +
                     R"("type":"unknown","bounce_class":null,"reject_reason":null,)"
                     R"("recipient":null,"message_id":null,)"
                     R"("event_id":"165545c9-2a5c-472c-8df2-7ff2be2b3b1b",)"
                     R"("timestamp":"2012-04-26T20:45:04Z","smtp_status":null,)"
                     R"("mta_response":null,"description":null,"click_url":null,)"
                     R"("user_agent":null,"ip":null,"campaign_id":null,"tags":[],)"
                     R"("metadata":{"control":"subscription_confirmation","subscribe_url":")" +
                     url + R"(","topic_arn":")" + kTopic +
                     R"("},"vendor_event":"SubscriptionConfirmation"})",
                 "sns:165545c9-2a5c-472c-8df2-7ff2be2b3b1b", body);
    EXPECT_EQ(intake.events[0].effect, SuppressionEffect::none);
}

TEST(SesSubscription, UnrestrictedConnectionRecordsButDoesNotConfirm) {
    SesRun run;
    const Intake intake = run(signer().envelope(confirmation().get()), ses_connection());
    ASSERT_TRUE(intake.verdict.ok());
    EXPECT_EQ(intake.events.size(), 1u);
    EXPECT_FALSE(intake.confirm_url);
    EXPECT_NE(intake.notice.find("topic_arn"), std::string::npos);

    const Intake off = run(signer().envelope(confirmation().get()),
                           ses_connection({{"topic_arn", kTopic}, {"auto_confirm", "off"}}));
    EXPECT_FALSE(off.confirm_url);
    EXPECT_NE(off.notice.find("auto_confirm"), std::string::npos);
}

TEST(SesSubscription, UnsubscribeConfirmationIsNeverConfirmed) {
    SesRun run;
    const Intake intake = run(signer().envelope(confirmation("UnsubscribeConfirmation").get()),
                              ses_connection({{"topic_arn", kTopic}}));
    ASSERT_TRUE(intake.verdict.ok());
    ASSERT_EQ(intake.events.size(), 1u);
    EXPECT_FALSE(intake.confirm_url);
    JsonPtr event = parse_json(stored_event_json(intake, intake.events[0]));
    EXPECT_EQ(json_string_at(json_object_get(event.get(), "metadata"), "control").value_or(""),
              "unsubscribe_confirmation");
}

TEST(SesSubscription, SubscribeUrlMustBeAnSnsHost) {
    SesRun run;
    const Intake intake = run(
        signer().envelope(confirmation("SubscriptionConfirmation",
                                       "https://evil.example/?Action=ConfirmSubscription").get()),
        ses_connection({{"topic_arn", kTopic}}));
    EXPECT_EQ(intake.verdict.rejection, Rejection::unauthenticated);
}

// --- transport details ---------------------------------------------------

TEST(SesTransport, RawDeliveryIsRefusedUnlessAllowed) {
    SesRun run;
    run.headers.set("x-amz-sns-rawdelivery", "true");
    run.headers.set("x-amz-sns-message-id", "raw-1");
    run.headers.set("x-amz-sns-topic-arn", kTopic);
    const Intake refused = run(kBounce, ses_connection());
    EXPECT_EQ(refused.verdict.rejection, Rejection::unsupported);
    EXPECT_EQ(http_status(refused.verdict.rejection), 400);

    const Intake allowed = run(kBounce, ses_connection({{"allow_raw_delivery", "true"}}));
    ASSERT_TRUE(allowed.verdict.ok()) << allowed.verdict.reason;
    ASSERT_EQ(allowed.events.size(), 2u);
    EXPECT_EQ(allowed.events[0].id, event_id_for("ses", "c1", "sns:raw-1:jane@example.com"));

    EXPECT_EQ(run(kBounce, ses_connection({{"allow_raw_delivery", "true"},
                                           {"topic_arn", "arn:aws:sns:x:1:other"}}))
                  .verdict.rejection,
              Rejection::unauthenticated);
}

TEST(SesTransport, NotAnSnsMessageIs400) {
    SesRun run;
    for (const char* body : {"", "{}", "[]", "not json", R"({"Type":"Notification"})"}) {
        const Intake intake = run(body, ses_connection());
        EXPECT_EQ(intake.verdict.rejection, Rejection::malformed) << body;
    }
    JsonPtr odd = notification(kBounce);
    json_object_set_new(odd.get(), "Type", json_string("Other"));
    json_object_set_new(odd.get(), "Signature", json_string("AAAA"));
    EXPECT_EQ(run(json_dump_compact(odd.get()), ses_connection()).verdict.rejection,
              Rejection::malformed);
}

TEST(SesTransport, SecretAddsBasicAuthWithChallenge) {
    const Connection connection = ses_connection({{"secret", "sns:pass"}});
    EXPECT_EQ(ses_vendor().www_authenticate(connection), "Basic realm=\"mailhook\"");
    EXPECT_TRUE(ses_vendor().www_authenticate(ses_connection()).empty());
    const std::string body = signer().envelope(notification(kBounce).get());
    SesRun run;
    EXPECT_EQ(http_status(run(body, connection).verdict.rejection), 401);
    run.headers.set("Authorization", "Basic " + base64_encode("sns:wrong"));
    EXPECT_EQ(http_status(run(body, connection).verdict.rejection), 401);
    run.headers.set("Authorization", "Basic " + base64_encode("sns:pass"));
    EXPECT_TRUE(run(body, connection).verdict.ok());
    // The secret also lets a subscription confirm itself.
    EXPECT_TRUE(run(signer().envelope(confirmation().get()), connection).confirm_url);
}

TEST(SesTransport, NoCertificateLookupMeansUnavailable) {
    const std::string body = signer().envelope(notification(kBounce).get());
    MapHeaders headers;
    Delivery delivery(body, headers, kReceived);
    EventOrigin origin;
    origin.vendor = "ses";
    origin.connection = "c1";
    const Intake intake = take_in(ses_vendor(), delivery, ses_connection(), origin);
    EXPECT_EQ(intake.verdict.rejection, Rejection::key_unavailable);
    EXPECT_EQ(intake.key_url, kCertUrl);
}

}  // namespace
}  // namespace mailhook
