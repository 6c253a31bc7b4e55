// SPDX-License-Identifier: BSD-2-Clause
#include "event.hpp"

#include "crypto.hpp"
#include "encoding.hpp"
#include "json.hpp"

namespace mailhook {

std::string_view to_string(EventType type) {
    switch (type) {
        case EventType::queued: return "queued";
        case EventType::sent: return "sent";
        case EventType::rejected: return "rejected";
        case EventType::failed: return "failed";
        case EventType::bounced: return "bounced";
        case EventType::deferred: return "deferred";
        case EventType::delivered: return "delivered";
        case EventType::autoresponded: return "autoresponded";
        case EventType::opened: return "opened";
        case EventType::clicked: return "clicked";
        case EventType::complained: return "complained";
        case EventType::unsubscribed: return "unsubscribed";
        case EventType::subscribed: return "subscribed";
        case EventType::replied: return "replied";
        case EventType::unknown: return "unknown";
    }
    return "unknown";
}

std::string_view to_string(BounceClass bounce_class) {
    switch (bounce_class) {
        case BounceClass::hard: return "hard";
        case BounceClass::soft: return "soft";
        case BounceClass::block: return "block";
        case BounceClass::undetermined: return "undetermined";
        case BounceClass::none: return "";
    }
    return "";
}

std::string_view to_string(RejectReason reason) {
    switch (reason) {
        case RejectReason::invalid: return "invalid";
        case RejectReason::bounced: return "bounced";
        case RejectReason::timed_out: return "timed_out";
        case RejectReason::blocked: return "blocked";
        case RejectReason::spam: return "spam";
        case RejectReason::unsubscribed: return "unsubscribed";
        case RejectReason::other: return "other";
        case RejectReason::none: return "";
    }
    return "";
}

std::string_view to_string(SuppressionEffect effect) {
    switch (effect) {
        case SuppressionEffect::hard_bounce: return "hard_bounce";
        case SuppressionEffect::complaint: return "complaint";
        case SuppressionEffect::unsubscribe: return "unsubscribe";
        case SuppressionEffect::resubscribe: return "resubscribe";
        case SuppressionEffect::soft_bounce: return "soft_bounce";
        case SuppressionEffect::none: return "";
    }
    return "";
}

std::string event_id_for(std::string_view vendor, std::string_view connection,
                         std::string_view dedup_key) {
    std::string material;
    material.reserve(vendor.size() + connection.size() + dedup_key.size() + 2);
    material.append(vendor).push_back('\0');
    material.append(connection).push_back('\0');
    material.append(dedup_key);
    return hex_encode(sha256(material).substr(0, 16));
}

std::string content_dedup_key(std::string_view canonical_bytes) {
    return "sha256:" + hex_encode(sha256(canonical_bytes));
}

namespace {

class EventWriter {
  public:
    explicit EventWriter(std::string& out) : out_(out) {}

    void key(std::string_view name) {
        out_.push_back(first_ ? '{' : ',');
        first_ = false;
        out_.push_back('"');
        out_.append(name);
        out_.append("\":");
    }
    void string(std::string_view name, std::string_view value) {
        key(name);
        append_json_string(out_, value);
    }
    void optional(std::string_view name,
                  const std::optional<std::string>& value) {
        if (value) {
            string(name, *value);
        } else {
            null(name);
        }
    }
    void optional_view(std::string_view name,
                       const std::optional<std::string_view>& value) {
        if (value) {
            string(name, *value);
        } else {
            null(name);
        }
    }
    void enum_or_null(std::string_view name, std::string_view value) {
        if (value.empty()) {
            null(name);
        } else {
            string(name, value);
        }
    }
    void null(std::string_view name) {
        key(name);
        out_.append("null");
    }
    void raw(std::string_view name, std::string_view json) {
        key(name);
        out_.append(json);
    }
    void raw_one_line(std::string_view name, std::string_view json) {
        key(name);
        append_one_line_json(out_, json);
    }
    void string_array(std::string_view name,
                      const std::vector<std::string>& values) {
        key(name);
        out_.push_back('[');
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i > 0) out_.push_back(',');
            append_json_string(out_, values[i]);
        }
        out_.push_back(']');
    }
    void close() { out_.push_back('}'); }

  private:
    std::string& out_;
    bool first_ = true;
};

}  // namespace

void append_one_line_json(std::string& out, std::string_view json) {
    const std::size_t start = out.size();
    out.append(json);
    for (std::size_t i = start; i < out.size(); ++i) {
        char& c = out[i];
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
}

std::string write_event_json(const Event& event, std::string_view id,
                             const EventOrigin& origin) {
    return write_event_json(event, id, origin, event.raw_json);
}

std::string write_event_json(const Event& event, std::string_view id,
                             const EventOrigin& origin, std::string_view raw_text) {
    std::string out;
    out.reserve(512 + raw_text.size());
    EventWriter w(out);
    w.raw("schema", "1");
    w.string("id", id);
    w.string("vendor", origin.vendor);
    w.string("connection", origin.connection);
    w.optional_view("tenant", origin.tenant);
    w.string("type", to_string(event.type));
    w.enum_or_null("bounce_class", to_string(event.bounce_class));
    w.enum_or_null("reject_reason", to_string(event.reject_reason));
    // No recipient (control entries, malformed batch elements): null.
    w.enum_or_null("recipient", event.recipient);
    w.optional("message_id", event.message_id);
    w.optional("event_id", event.event_id);
    w.string("timestamp",
             format_rfc3339_seconds(event.timestamp.value_or(origin.received_at)));
    w.string("received_at", format_rfc3339_millis(origin.received_at));
    w.optional("smtp_status", event.smtp_status);
    w.optional("mta_response", event.mta_response);
    w.optional("description", event.description);
    w.optional("click_url", event.click_url);
    w.optional("user_agent", event.user_agent);
    w.optional("ip", event.ip);
    w.optional("campaign_id", event.campaign_id);
    w.string_array("tags", event.tags);
    w.raw("metadata", event.metadata_json);
    w.string("vendor_event", event.vendor_event);
    if (origin.include_raw) {
        w.raw_one_line("raw", raw_text);
    }
    w.close();
    return out;
}

SuppressionEffect suppression_effect(const Event& event) {
    if (event.control) return SuppressionEffect::none;
    switch (event.type) {
        case EventType::complained: return SuppressionEffect::complaint;
        case EventType::unsubscribed: return SuppressionEffect::unsubscribe;
        case EventType::subscribed: return SuppressionEffect::resubscribe;
        case EventType::bounced:
            if (event.bounce_class == BounceClass::hard) {
                return SuppressionEffect::hard_bounce;
            }
            if (event.bounce_class == BounceClass::soft) {
                return SuppressionEffect::soft_bounce;
            }
            return SuppressionEffect::none;
        default: return SuppressionEffect::none;
    }
}

std::optional<std::string> find_enhanced_status(std::string_view text) {
    // class "." subject(1-3 digits) "." detail(1-3 digits), class 2, 4 or 5
    const auto digit = [&](std::size_t i) {
        return i < text.size() && text[i] >= '0' && text[i] <= '9';
    };
    for (std::size_t i = 0; i + 4 < text.size(); ++i) {
        if ((text[i] != '2' && text[i] != '4' && text[i] != '5') ||
            text[i + 1] != '.' || (i > 0 && (digit(i - 1) || text[i - 1] == '.'))) {
            continue;
        }
        std::size_t j = i + 2;
        std::size_t start = j;
        while (digit(j) && j - start < 3) ++j;
        if (j == start || j >= text.size() || text[j] != '.') continue;
        ++j;
        start = j;
        while (digit(j) && j - start < 3) ++j;
        // "5.1.1.1" is an IP address; "status 5.1.1." ends a sentence.
        if (j == start || digit(j) ||
            (j < text.size() && text[j] == '.' && digit(j + 1))) {
            continue;
        }
        return std::string(text.substr(i, j - i));
    }
    return std::nullopt;
}

}  // namespace mailhook
