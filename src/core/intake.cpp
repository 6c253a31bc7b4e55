// SPDX-License-Identifier: BSD-2-Clause
#include "intake.hpp"

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

ReadyEvent make_ready(const Event& event, const Delivery& delivery,
                      const EventOrigin& origin) {
    ReadyEvent ready;
    std::string storage;
    const std::string_view raw = raw_text(event, delivery, storage);
    ready.id = event_id_for(origin.vendor, origin.connection,
                            effective_dedup_key(event, raw));
    ready.json = write_event_json(event, ready.id, origin, raw);
    ready.type = event.type;
    ready.effect = suppression_effect(event);
    ready.recipient_key = to_lower_ascii(trim_ascii(event.recipient));
    ready.message_id = event.message_id.value_or("");
    ready.at = event.timestamp.value_or(origin.received_at);
    return ready;
}

// A header the vendor needed arrived twice and was ignored: say so.
void note_repeated_header(const Delivery& delivery, Verdict& verdict) {
    if (!delivery.repeated_header().empty()) {
        verdict.reason += " (header " + std::string(delivery.repeated_header()) +
                          " sent more than once: ignored)";
    }
}

}  // namespace

std::string raw_event_text(const Event& event, const Delivery& delivery) {
    std::string storage;
    return std::string(raw_text(event, delivery, storage));
}

std::string effective_dedup_key(const Event& event, std::string_view raw_text) {
    return event.dedup_key.empty() ? content_dedup_key(raw_text) : event.dedup_key;
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
    intake.notice = std::move(batch.notice);
    if (intake.verdict.ok()) {
        // Every vendor names its events; one without a name is not the
        // vendor's format (null or absent where the name belongs).
        for (std::size_t i = 0; i < batch.events.size(); ++i) {
            if (batch.events[i].vendor_event.empty()) {
                intake.verdict = Verdict::reject(
                    Rejection::malformed,
                    "event " + std::to_string(i) + " has no event name");
                break;
            }
        }
    }
    if (!intake.verdict.ok()) {
        note_repeated_header(delivery, intake.verdict);
        return intake;
    }
    if (batch.events.size() > delivery.max_events()) {
        intake.verdict = Verdict::reject(
            Rejection::too_large,
            std::to_string(batch.events.size()) + " events, limit " +
                std::to_string(delivery.max_events()));
        return intake;
    }
    intake.events.reserve(batch.events.size());
    for (const Event& event : batch.events) {
        intake.events.push_back(make_ready(event, delivery, origin));
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
