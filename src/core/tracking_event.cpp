// SPDX-License-Identifier: BSD-2-Clause
#include "tracking_event.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include "crypto.hpp"
#include "encoding.hpp"
#include "json.hpp"
#include "key_layout.hpp"

namespace mailhook {
namespace {

// GIF89a, 1x1, two-colour global table, colour 1 transparent: the classic
// 43-byte web bug (the same bytes as nginx's empty_gif).
constexpr unsigned char kPixel[] = {
    'G', 'I', 'F', '8', '9', 'a',  // header
    0x01, 0x00, 0x01, 0x00,        // logical screen 1 x 1
    0x80, 0x01, 0x00,              // global 1-bit colour table, background #1, no aspect
    0x00, 0x00, 0x00,              // colour #0: black
    0xff, 0xff, 0xff,              // colour #1: white
    0x21, 0xf9, 0x04,              // graphic control extension, 4 bytes
    0x01, 0x00, 0x00, 0x01, 0x00,  // transparency on, no delay, transparent #1; end
    0x2c,                          // image descriptor
    0x00, 0x00, 0x00, 0x00,        // left, top
    0x01, 0x00, 0x01, 0x00,        // 1 x 1
    0x00,                          // no local table, not interlaced
    0x02, 0x02, 0x4c, 0x01, 0x00,  // LZW min code 2; 2 bytes: clear, #1, end; end
    0x3b,                          // trailer
};

// Requests that are not the reader's own device. Each row says where the
// pattern comes from; `clicks_only` rows are a person's mail client when
// they fetch the pixel, but a pre-check when they "click".
struct Row {
    MachineAgent agent;
    bool clicks_only;
};

constexpr Row kMachineAgents[] = {
    // Gmail fetches images through its proxy ("... (via ggpht.com
    // GoogleImageProxy)"): the reader's IP and agent are hidden.
    // https://support.google.com/mail/answer/145919
    {{"google_image_proxy", "GoogleImageProxy", false}, false},
    // Yahoo Mail's image proxy: "YahooMailProxy; https://help.yahoo.com/kb/
    // yahoo-mail-proxy-SLN28749.html".
    {{"yahoo_mail_proxy", "YahooMailProxy", false}, false},
    // Apple Mail Privacy Protection prefetches every remote image through
    // Apple's relays on delivery, with the bare agent "Mozilla/5.0" (what ESPs
    // report, e.g. SocketLabs "Identifying Apple MPP opens"). Apple's egress
    // IP list (mask-api.icloud.com/egress-ip-ranges.csv) is the stronger
    // signal; it is not used here.
    {{"apple_mail_privacy_protection", "Mozilla/5.0", true}, false},
    // Office's link pre-check before it opens a linked document (Microsoft
    // Learn, Office protocol discovery: "Microsoft Office Existence Discovery").
    {{"microsoft_office_discovery", "Microsoft Office Existence Discovery", false},
     false},
    // Outlook for Windows loads images as "Mozilla/4.0 (compatible; ms-office;
    // MSOffice 16)" when a person opens the message; a click with an Office
    // agent is Office following the link itself (previews, protected view).
    {{"microsoft_office", "Microsoft Office", false}, true},
    {{"microsoft_office", "ms-office", false}, true},
    {{"microsoft_office", "MSOffice", false}, true},
    // Microsoft Defender for Office 365 Safe Links (Microsoft Learn, "Safe
    // Links in Microsoft Defender for Office 365"). Its scans mostly use plain
    // browser agents, so the window after delivery catches more of them.
    {{"microsoft_safe_links", "SafeLinks", false}, false},
    // Bing's link preview crawler behind Outlook.com and Teams previews (Bing
    // Webmaster Tools, "Which crawlers does Bing use?": BingPreview).
    {{"bing_preview", "BingPreview", false}, false},
    // Barracuda Email Protection link protection ("Barracuda Sentinel (EE)").
    {{"barracuda", "Barracuda", false}, false},
    // Proofpoint Targeted Attack Protection URL Defense sandbox, and its
    // rewriting domain urldefense.com / urldefense.proofpoint.com.
    {{"proofpoint", "Proofpoint", false}, false},
    {{"proofpoint", "urldefense", false}, false},
    // Mimecast URL Protect scanning.
    {{"mimecast", "Mimecast", false}, false},
};

bool contains_ignore_case(std::string_view haystack, std::string_view needle) {
    if (needle.size() > haystack.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
        if (iequals_ascii(haystack.substr(i, needle.size()), needle)) return true;
    }
    return false;
}

const MachineAgent* match_agent(std::string_view user_agent, bool click) {
    const std::string_view trimmed = trim_ascii(user_agent);
    for (const Row& row : kMachineAgents) {
        if (row.clicks_only && !click) continue;
        const bool hit = row.agent.exact ? iequals_ascii(trimmed, row.agent.pattern)
                                         : contains_ignore_case(trimmed, row.agent.pattern);
        if (hit) return &row.agent;
    }
    return nullptr;
}

}  // namespace

MachineVerdict classify_hit(TrackingKind kind, bool head,
                            std::optional<std::string_view> user_agent) {
    MachineVerdict verdict;
    if (head) {
        verdict.reason = MachineReason::head;
    } else if (!user_agent || trim_ascii(*user_agent).empty()) {
        verdict.reason = MachineReason::no_user_agent;
    } else if (const MachineAgent* agent =
                   match_agent(*user_agent, kind == TrackingKind::click)) {
        verdict.reason = MachineReason::user_agent;
        verdict.agent = agent;
    }
    return verdict;
}

std::string_view tracking_pixel_gif() {
    return {reinterpret_cast<const char*>(kPixel), sizeof(kPixel)};
}

const MachineAgent* find_machine_agent(std::string_view user_agent, TrackingKind kind) {
    return match_agent(user_agent, kind == TrackingKind::click);
}

std::string_view to_string(MachineReason reason) {
    switch (reason) {
        case MachineReason::none: return "";
        case MachineReason::head: return "head";
        case MachineReason::user_agent: return "user_agent";
        case MachineReason::no_user_agent: return "no_user_agent";
        case MachineReason::after_delivery: return "after_delivery";
    }
    return "";
}

std::string machine_metadata_json(const MachineVerdict& verdict) {
    if (!verdict.machine()) {
        return "{\"machine\":false}";
    }
    std::string out = "{\"machine\":true,\"machine_reason\":";
    append_json_string(out, to_string(verdict.reason));
    if (verdict.agent != nullptr) {
        out.append(",\"machine_agent\":");
        append_json_string(out, verdict.agent->name);
    }
    out.push_back('}');
    return out;
}

std::string random_event_id() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return hex_encode({reinterpret_cast<const char*>(bytes), sizeof(bytes)});
}

namespace {

// The first `limit` bytes, not cutting a UTF-8 sequence.
std::optional<std::string> capped(const std::optional<std::string>& value,
                                  std::size_t limit) {
    if (!value || value->size() <= limit) return value;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>((*value)[end]) & 0xc0) == 0x80) --end;
    return value->substr(0, end);
}

}  // namespace

TrackingEvent make_tracking_event(const TrackingClaims& claims, const TrackingHit& hit,
                                  std::string id) {
    const bool click = hit.kind == TrackingKind::click;
    TrackingEvent out;
    out.id = std::move(id);
    out.type = click ? EventType::clicked : EventType::opened;
    out.connection = claims.connection;
    out.tenant = claims.tenant;
    out.repeat_digest =
        hex_encode(sha256(std::string(click ? "c" : "o") + '\0' + hit.token).substr(0, 16));
    out.message_id = claims.message_id;
    std::optional<std::string_view> agent;
    if (hit.user_agent) agent = *hit.user_agent;
    out.machine = classify_hit(hit.kind, hit.head, agent);
    out.metadata = machine_metadata_json(out.machine);
    if (click && !out.machine.machine() && claims.message_id &&
        !comparable_message_id(*claims.message_id).empty()) {
        MachineVerdict after;
        after.reason = MachineReason::after_delivery;
        out.metadata_after_delivery = machine_metadata_json(after);
    }

    Event event;
    event.type = out.type;
    event.recipient = claims.recipient;
    event.message_id = claims.message_id;
    event.campaign_id = claims.campaign_id;
    if (click) event.click_url = claims.url;
    event.user_agent = capped(hit.user_agent, kMaxStoredUserAgent);
    event.ip = capped(hit.ip, kMaxStoredIp);
    event.vendor_event = click ? "click" : "open";
    event.raw_json = tracking_payload_json(claims);
    // The metadata goes in between head and tail: a marker the writer copies
    // verbatim and that no escaped string can contain.
    constexpr std::string_view kMarker = "\x01metadata\x01";
    event.metadata_json = std::string(kMarker);

    EventOrigin origin;
    origin.vendor = kTrackingVendor;
    origin.connection = claims.connection;
    if (claims.tenant) origin.tenant = *claims.tenant;
    origin.received_at = hit.received_at;
    origin.include_raw = hit.include_raw;
    const std::string json = write_event_json(event, out.id, origin);
    const std::size_t at = json.find(kMarker);
    if (at == std::string::npos) {
        throw std::logic_error("tracking event without metadata marker");
    }
    out.json_head = json.substr(0, at);
    out.json_tail = json.substr(at + kMarker.size());
    return out;
}

}  // namespace mailhook
