// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include <set>

#include "core/json.hpp"
#include "core/store_script.hpp"
#include "core/tracking_event.hpp"
#include "core/tracking_store.hpp"

namespace mailhook {
namespace {

std::string agent_name(std::string_view user_agent,
                       TrackingKind kind = TrackingKind::click) {
    const MachineAgent* agent = find_machine_agent(user_agent, kind);
    return agent ? std::string(agent->name) : std::string();
}

TEST(TrackingMachineAgents, KnownProxiesAndScanners) {
    const struct {
        const char* user_agent;
        const char* name;
    } cases[] = {
        {"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
         "google_image_proxy"},
        {"YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
         "yahoo_mail_proxy"},
        {"Mozilla/5.0", "apple_mail_privacy_protection"},
        {" mozilla/5.0 ", "apple_mail_privacy_protection"},
        {"Microsoft Office Existence Discovery", "microsoft_office_discovery"},
        {"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
         "microsoft_office"},
        {"Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "microsoft_office"},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) SafeLinks/1.0", "microsoft_safe_links"},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "BingPreview/1.0b",
         "bing_preview"},
        {"Barracuda Sentinel (EE)", "barracuda"},
        {"Proofpoint URL Defense", "proofpoint"},
        {"python-requests/2.31 urldefense-scanner", "proofpoint"},
        {"Mimecast-URL-Protect/1.0", "mimecast"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(agent_name(c.user_agent), c.name) << c.user_agent;
    }
}

TEST(TrackingMachineAgents, ReadersAreNotFlagged) {
    for (const char* user_agent : {
             "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
             "Gecko) Chrome/124.0.0.0 Safari/537.36",
             "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148",
             "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
             "Thunderbird/115.0",
             "Mozilla/5.0 (Macintosh)",
         }) {
        EXPECT_EQ(agent_name(user_agent), "") << user_agent;
    }
}

TEST(TrackingMachineAgents, OutlookLoadingThePixelIsAReader) {
    const char* outlook = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)";
    EXPECT_EQ(agent_name(outlook, TrackingKind::open), "");
    EXPECT_EQ(agent_name(outlook, TrackingKind::click), "microsoft_office");
    EXPECT_EQ(agent_name("GoogleImageProxy", TrackingKind::open), "google_image_proxy");
}

TEST(TrackingMachineAgents, ClassifyOrder) {
    EXPECT_EQ(classify_hit(TrackingKind::open, true, std::string_view("Chrome")).reason,
              MachineReason::head);
    EXPECT_EQ(classify_hit(TrackingKind::open, true, std::nullopt).reason,
              MachineReason::head);
    EXPECT_EQ(classify_hit(TrackingKind::open, false, std::nullopt).reason,
              MachineReason::no_user_agent);
    EXPECT_EQ(classify_hit(TrackingKind::open, false, std::string_view("  ")).reason,
              MachineReason::no_user_agent);
    const MachineVerdict proxy =
        classify_hit(TrackingKind::click, false, std::string_view("BingPreview/1.0b"));
    EXPECT_EQ(proxy.reason, MachineReason::user_agent);
    EXPECT_EQ(machine_metadata_json(proxy),
              R"({"machine":true,"machine_reason":"user_agent","machine_agent":"bing_preview"})");
    EXPECT_EQ(machine_metadata_json(MachineVerdict{}), R"({"machine":false})");
}

TEST(TrackingPixel, IsTheTransparent43ByteGif) {
    const std::string_view gif = tracking_pixel_gif();
    ASSERT_EQ(gif.size(), 43u);
    EXPECT_EQ(gif.substr(0, 6), "GIF89a");
    EXPECT_EQ(gif[6], 1);   // width
    EXPECT_EQ(gif[8], 1);   // height
    EXPECT_EQ(gif.back(), ';');
}

TEST(TrackingEventId, RandomHex128) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const std::string id = random_event_id();
        ASSERT_EQ(id.size(), 32u);
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 100u);
}

TrackingClaims claims() {
    TrackingClaims c;
    c.key_id = "k1";
    c.connection = "c1";
    c.recipient = "a@b.c";
    c.message_id = "m1";
    c.campaign_id = "spring";
    c.url = "https://example.com/x";
    return c;
}

TEST(TrackingEvent, ClickIsANormalizedEvent) {
    TrackingHit hit;
    hit.kind = TrackingKind::click;
    hit.user_agent = "Chrome";
    hit.ip = "203.0.113.7";
    hit.received_at = 1'700'000'000'123;
    const TrackingEvent event = make_tracking_event(claims(), hit, "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(event.json(),
              R"({"schema":1,"id":"0123456789abcdef0123456789abcdef","vendor":"tracking",)"
              R"("connection":"c1","tenant":null,"type":"clicked","bounce_class":null,)"
              R"("reject_reason":null,"recipient":"a@b.c","message_id":"m1","event_id":null,)"
              R"("timestamp":"2023-11-14T22:13:20Z","received_at":"2023-11-14T22:13:20.123Z",)"
              R"("smtp_status":null,"mta_response":null,"description":null,)"
              R"("click_url":"https://example.com/x","user_agent":"Chrome",)"
              R"("ip":"203.0.113.7","campaign_id":"spring","tags":[],)"
              R"("metadata":{"machine":false},"vendor_event":"click",)"
              R"("raw":{"v":1,"k":"k1","c":"c1","r":"a@b.c","m":"m1","cp":"spring",)"
              R"("u":"https://example.com/x"}})");
    EXPECT_TRUE(event.checks_delivery());
    EXPECT_EQ(event.json_head + event.metadata_after_delivery + event.json_tail,
              event.json().replace(event.json().find(R"({"machine":false})"), 17,
                                   R"({"machine":true,"machine_reason":"after_delivery"})"));
    EXPECT_TRUE(parse_json(event.json()));
}

TEST(TrackingEvent, OpenHasNoClickUrlAndNoDeliveryCheck) {
    TrackingHit hit;
    hit.kind = TrackingKind::open;
    hit.user_agent = "Chrome";
    hit.include_raw = false;
    TrackingClaims c = claims();
    c.tenant = "acme";
    const TrackingEvent event = make_tracking_event(c, hit, "ff");
    const JsonPtr json = parse_json(event.json());
    ASSERT_TRUE(json);
    EXPECT_EQ(json_string_at(json.get(), "type"), "opened");
    EXPECT_EQ(json_string_at(json.get(), "tenant"), "acme");
    EXPECT_TRUE(json_is_null(json_object_get(json.get(), "click_url")));
    EXPECT_EQ(json_object_get(json.get(), "raw"), nullptr);
    EXPECT_FALSE(event.checks_delivery());
}

TEST(TrackingEvent, MachineClickSkipsDeliveryCheck) {
    TrackingHit hit;
    hit.kind = TrackingKind::click;
    hit.head = true;
    const TrackingEvent event = make_tracking_event(claims(), hit, "ff");
    EXPECT_FALSE(event.checks_delivery());
    EXPECT_EQ(event.metadata, R"({"machine":true,"machine_reason":"head"})");
}

TEST(TrackingEvent, NoDeliveryCheckWithoutAUsableMessageId) {
    TrackingHit hit;
    hit.kind = TrackingKind::click;
    hit.user_agent = "Chrome";
    TrackingClaims c = claims();
    c.message_id = "<>";
    EXPECT_FALSE(make_tracking_event(c, hit, "ff").checks_delivery());
    c.message_id.reset();
    EXPECT_FALSE(make_tracking_event(c, hit, "ff").checks_delivery());
}

TEST(TrackingEvent, M3StoredHeaderValuesAreCapped) {
    TrackingHit hit;
    // A 3-byte character across the cap is left out whole.
    hit.user_agent = "Mozilla/5.0 " + std::string(kMaxStoredUserAgent - 13, 'A') + "\u20ac" +
                     std::string(8000, 'B');
    hit.ip = std::string(200, '1');
    const TrackingEvent event = make_tracking_event(claims(), hit, "ff");
    const JsonPtr json = parse_json(event.json());
    ASSERT_TRUE(json);
    const std::string agent(*json_string_at(json.get(), "user_agent"));
    EXPECT_EQ(agent, hit.user_agent->substr(0, kMaxStoredUserAgent - 1));
    EXPECT_EQ(*json_string_at(json.get(), "ip"), std::string(kMaxStoredIp, '1'));
    // Machine traffic is still told by the whole agent.
    hit.user_agent = std::string(600, 'x') + "GoogleImageProxy";
    EXPECT_TRUE(make_tracking_event(claims(), hit, "ff").machine.machine());
}

TEST(TrackingEvent, RepeatDigestNamesTheTokenAndKind) {
    TrackingHit hit;
    hit.token = "tok-1";
    const std::string open = make_tracking_event(claims(), hit, "a").repeat_digest;
    EXPECT_EQ(open, make_tracking_event(claims(), hit, "b").repeat_digest);
    EXPECT_EQ(open.size(), 32u);
    hit.kind = TrackingKind::click;
    EXPECT_NE(make_tracking_event(claims(), hit, "a").repeat_digest, open);
    hit.kind = TrackingKind::open;
    hit.token = "tok-2";
    EXPECT_NE(make_tracking_event(claims(), hit, "a").repeat_digest, open);
}

}  // namespace
}  // namespace mailhook
