// SPDX-License-Identifier: BSD-2-Clause
#include "intake.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include "encoding.hpp"
#include "json.hpp"

namespace mailhook {
namespace {

std::string_view raw_text(const Event& event, const Delivery& delivery,
                          std::string& storage) {
    if (!event.raw_value) {
        return event.raw_json;
    }
    if (const auto source = delivery.source_text(event.raw_value.get())) {
        return *source;
    }
    storage = json_dump_compact(event.raw_value.get());
    return storage;
}

// The raw texts of a request, each distinct one found, hashed and kept once:
// events made from one vendor event share its parsed value, others may
// carry equal texts.
class RawTexts {
  public:
    struct Group {
        std::string storage;
        std::string_view text;  // as the vendor sent it (ids hash these bytes)
        std::size_t index = 0;  // 1-based in stored(); 0: not stored
        std::string content_key;
    };

    RawTexts(const Delivery& delivery, bool keep) : delivery_(delivery), keep_(keep) {}

    Group& of(const Event& event) {
        Group*& group = event.raw_value ? by_value_[event.raw_value.get()]
                                        : by_text_[event.raw_json];
        if (group == nullptr) {
            group = &groups_.emplace_back();
            group->text = raw_text(event, delivery_, group->storage);
            if (keep_) {
                append_one_line_json(stored_.emplace_back(), group->text);
                group->index = stored_.size();
            }
        }
        return *group;
    }
    const std::string& content_key(Group& group) {
        if (group.content_key.empty()) group.content_key = content_dedup_key(group.text);
        return group.content_key;
    }
    const std::string& stored(std::size_t index) const { return stored_[index - 1]; }
    std::vector<std::string> take_stored() { return std::move(stored_); }

  private:
    const Delivery& delivery_;
    bool keep_;
    std::deque<Group> groups_;  // stable addresses
    std::map<const json_t*, Group*> by_value_;
    std::map<std::string, Group*, std::less<>> by_text_;
    std::vector<std::string> stored_;
};

ReadyEvent make_ready(const Event& event, RawTexts& raws, const EventOrigin& origin) {
    ReadyEvent ready;
    RawTexts::Group& raw = raws.of(event);
    ready.id = event_id_for(origin.vendor, origin.connection,
                            event.dedup_key.empty() ? raws.content_key(raw)
                                                    : event.dedup_key);
    EventOrigin without_raw = origin;
    without_raw.include_raw = false;
    ready.json = write_event_json(event, ready.id, without_raw, {});
    ready.raw = raw.index;
    ready.type = event.type;
    ready.effect = suppression_effect(event);
    ready.recipient_key = to_lower_ascii(trim_ascii(event.recipient));
    ready.message_id = event.message_id.value_or("");
    ready.at = event.timestamp.value_or(origin.received_at);
    ready.control = event.control;
    return ready;
}

// Events made from one vendor event beyond the recipient cap: a reason, or
// empty.
std::string too_many_recipients(const std::vector<Event>& events, std::size_t limit) {
    std::map<const json_t*, std::size_t> fan_out;
    for (const Event& event : events) {
        if (event.raw_value && ++fan_out[event.raw_value.get()] > limit) {
            return "one vendor event names more than " + std::to_string(limit) +
                   " recipients";
        }
    }
    return {};
}

// Makes the ready events; a reason when they would store too much.
std::string make_ready_events(const Batch& batch, const Delivery& delivery,
                              const EventOrigin& origin, Intake& intake) {
    RawTexts raws(delivery, origin.include_raw);
    const std::size_t limit = store_byte_limit(delivery.body().size(), batch.events.size());
    std::size_t bytes = 0;
    std::size_t raws_counted = 0;  // raw indexes grow by one with each new text
    intake.events.reserve(batch.events.size());
    for (const Event& event : batch.events) {
        const ReadyEvent& ready = intake.events.emplace_back(make_ready(event, raws, origin));
        bytes += ready.json.size();
        if (ready.raw > raws_counted) {
            raws_counted = ready.raw;
            bytes += raws.stored(ready.raw).size();
        }
        if (bytes > limit) {
            intake.events.clear();
            return "the events would store more than " + std::to_string(limit) + " bytes";
        }
    }
    intake.raws = raws.take_stored();
    return {};
}

// A header the vendor needed arrived twice and was ignored: say so.
void note_repeated_header(const Delivery& delivery, Verdict& verdict) {
    if (!delivery.repeated_header().empty()) {
        verdict.reason += " (header " + std::string(delivery.repeated_header()) +
                          " sent more than once: ignored)";
    }
}

bool is_malformed(const Batch& batch, std::size_t index) {
    const auto& kept = batch.malformed.events;
    return std::find(kept.begin(), kept.end(), index) != kept.end();
}

// Every vendor names its events; one without a name is not the vendor's
// format (null or absent where the name belongs), unless it is a batch
// element already kept as malformed. A batch none of whose elements could
// be read is not the vendor's format either.
Verdict check_events(const Batch& batch) {
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
        if (batch.events[i].vendor_event.empty() && !is_malformed(batch, i)) {
            return Verdict::reject(Rejection::malformed,
                                   "event " + std::to_string(i) + " has no event name");
        }
    }
    const MalformedElements& malformed = batch.malformed;
    if (malformed.count() > 0 && malformed.events.size() == batch.events.size()) {
        return Verdict::reject(Rejection::malformed,
                               "no element is the vendor's format (" +
                                   malformed.first_reason + ")");
    }
    return Verdict::accept();
}

// The operator's log line says how much of a batch was not readable.
void note_malformed(const Batch& batch, std::string& notice) {
    const MalformedElements& malformed = batch.malformed;
    if (malformed.count() == 0) return;
    if (!notice.empty()) notice += "; ";
    notice += std::to_string(malformed.count()) +
              " batch element(s) not the vendor's format (" +
              std::to_string(malformed.events.size()) + " kept as unknown events, " +
              std::to_string(malformed.unreadable) +
              " not objects and dropped), the rest stored; first " +
              malformed.first_reason;
}

}  // namespace

std::string raw_event_text(const Event& event, const Delivery& delivery) {
    std::string storage;
    return std::string(raw_text(event, delivery, storage));
}

std::string effective_dedup_key(const Event& event, std::string_view raw_text) {
    return event.dedup_key.empty() ? content_dedup_key(raw_text) : event.dedup_key;
}

std::size_t store_byte_limit(std::size_t body_bytes, std::size_t events) {
    return 4 * body_bytes + 1024 * events + 64 * 1024;
}

std::string stored_event_json(const Intake& intake, const ReadyEvent& event) {
    if (event.raw == 0) {
        return event.json;
    }
    const std::string& raw = intake.raws[event.raw - 1];
    std::string json;
    json.reserve(event.json.size() + raw.size() + 8);
    json.append(event.json, 0, event.json.size() - 1).append(",\"raw\":").append(raw);
    json.push_back('}');
    return json;
}

Intake take_in(const Vendor& vendor, const Delivery& delivery,
               const Connection& connection, const EventOrigin& origin) {
    Intake intake;
    Batch batch;
    intake.verdict = vendor.verify(delivery, connection, batch);
    if (!intake.verdict.ok()) {
        intake.key_url = std::move(batch.key_url);
        note_repeated_header(delivery, intake.verdict);
        return intake;
    }
    intake.verdict = vendor.parse(delivery, connection, batch);
    if (intake.verdict.ok() && batch.fields.failed()) {
        intake.verdict = Verdict::reject(Rejection::malformed, batch.fields.error());
    }
    if (intake.verdict.ok()) intake.verdict = check_events(batch);
    intake.notice = std::move(batch.notice);
    if (!intake.verdict.ok()) {
        note_repeated_header(delivery, intake.verdict);
        return intake;
    }
    note_malformed(batch, intake.notice);
    if (batch.events.size() > delivery.max_events()) {
        intake.verdict = Verdict::reject(
            Rejection::too_large,
            std::to_string(batch.events.size()) + " events, limit " +
                std::to_string(delivery.max_events()));
        return intake;
    }
    for (Event& event : batch.events) default_reject_reason(event);
    std::string too_large = too_many_recipients(batch.events, delivery.max_recipients());
    if (too_large.empty()) {
        too_large = make_ready_events(batch, delivery, origin, intake);
    }
    if (!too_large.empty()) {
        intake.verdict = Verdict::reject(Rejection::too_large, std::move(too_large));
        return intake;
    }
    intake.confirm_url = std::move(batch.confirm_url);
    if (batch.replay_guard) {
        intake.replay_guard = std::move(batch.replay_guard);
        // Bind the token to what it carried: the ids of its events.
        for (const ReadyEvent& ready : intake.events) {
            intake.replay_guard->fingerprint.append(ready.id);
        }
    }
    return intake;
}

}  // namespace mailhook
