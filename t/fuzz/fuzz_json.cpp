// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target: the structured helpers. The first byte picks the case:
//   0 parse_json + the json.hpp look-ups and the Fields reader every vendor
//     uses; read_json (parse_json's parser) answers what jansson's
//     json_loadb answers, the same tree or nothing (but for a stray NUL,
//     which only jansson lets through); compact dumps re-parse to an equal
//     value
//   1 write_event_json of a fuzzed Event (arbitrary bytes in every string,
//     any int64 time): always one valid JSON object whose strings are the
//     sanitized inputs
//   2 RESP building: the command decodes back to exactly its arguments
//   3 connections: connection_from_fields + the vendor's prepare() on
//     arbitrary fields and secrets (PEM/DER keys, whsec_ keys), options
#include <cmath>

#include "core/connection.hpp"
#include "core/event.hpp"
#include "core/resp.hpp"
#include "core/vendor.hpp"
#include "core/vendor_auth.hpp"
#include "core/vendor_fields.hpp"
#include "fuzz_support.hpp"

namespace mailhook::fuzz {
namespace {

void exercise_lookups(Fields& f, const json_t* value) {
    static const char* const kKeys[] = {"email", "event", "timestamp", "id", "tags",
                                        "", "a", "signature", "data", "to"};
    for (const char* key : kKeys) {
        const auto text = json_text_at(value, key);
        const auto field = f.text(value, key);
        FUZZ_CHECK(!field || !field->empty());
        if (field) FUZZ_CHECK(text == field);
        if (const auto number = json_number_at(value, key)) {
            FUZZ_CHECK(std::isfinite(*number));
        }
        if (const auto at = f.time(value, key)) {
            // ISO 8601 years 0000..9999 (± a day of offset), epoch seconds
            // up to 1e11.
            FUZZ_CHECK(*at >= -62167219200000 - 86400000 &&
                       *at < 253402300800000 + 86400000);
        }
        (void) json_string_at(value, key);
        (void) f.string(value, key);
        (void) json_path(value, {key, key});
        (void) f.path(value, {key, key});
    }
    for (const std::string& tag : f.list(value)) (void) tag;
    const std::string object = f.object_text(value);
    FUZZ_CHECK(json_is_object(reparse(object).get()));
    static const std::string_view kReserved[] = {"email", "event", "timestamp"};
    const std::string extra = unreserved_members_json(value, kReserved);
    const JsonPtr extra_parsed = reparse(extra);
    FUZZ_CHECK(json_is_object(extra_parsed.get()));
    for (const std::string_view reserved : kReserved) {
        FUZZ_CHECK(json_object_get(extra_parsed.get(), std::string(reserved).c_str()) ==
                   nullptr);
    }
    // A batch body: every element is either an event or noted as malformed.
    if (json_is_array(value)) {
        Batch batch;
        normalize_elements(value,
                           [](Fields& f, const json_t* element, std::size_t,
                              std::vector<Event>& out) {
                               Event event;
                               event.vendor_event = f.text(element, "event").value_or("");
                               out.push_back(std::move(event));
                           },
                           batch, "event");
        FUZZ_CHECK(batch.events.size() + batch.malformed.unreadable ==
                   json_array_size(value));
        FUZZ_CHECK(!batch.fields.failed());
    }
}

// The tree as text, keys in order, reals as reals.
std::string dump_any(const json_t* value) {
    char* text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    FUZZ_CHECK(text != nullptr);
    std::string out(text);
    std::free(text);
    return out;
}

void check_against_jansson(std::string_view text) {
    const JsonPtr ours = read_json(text);
    const JsonPtr theirs(json_loadb(text.data(), text.size(), JSON_DECODE_ANY, nullptr));
    // jansson drops a NUL byte that follows a number or a literal (its
    // input buffer ends at a NUL); read_json refuses every stray NUL.
    FUZZ_CHECK(!ours == !theirs || (theirs && text.find('\0') != std::string_view::npos));
    if (ours) FUZZ_CHECK(dump_any(ours.get()) == dump_any(theirs.get()));
}

void fuzz_parse(std::string_view text) {
    check_against_jansson(text);
    const JsonPtr value = parse_json(text);
    if (!value) return;
    const std::string dumped = json_dump_compact(value.get());
    const JsonPtr again = parse_json(dumped);
    FUZZ_CHECK(again && json_equal(value.get(), again.get()));
    // Type errors are noted, never fatal, and only for values that are
    // present.
    Fields fields;
    exercise_lookups(fields, value.get());
    if (fields.failed()) FUZZ_CHECK(!json_is_null(value.get()));
    std::size_t index;
    json_t* item;
    json_array_foreach(value.get(), index, item) exercise_lookups(fields, item);
    const char* key;
    json_object_foreach(value.get(), key, item) exercise_lookups(fields, item);
}

std::optional<std::string> maybe(Reader& in) {
    if (in.byte() & 1) return std::string(in.line());
    return std::nullopt;
}

// Serialized JSON as the vendors produce it (a jansson dump), or "{}".
std::string object_from(std::string_view text) {
    const JsonPtr value = parse_json(text);
    return json_is_object(value.get()) ? json_dump_compact(value.get()) : "{}";
}

void check_string(const json_t* object, const char* key, const std::string& expected) {
    const json_t* value = json_object_get(object, key);
    FUZZ_CHECK(json_is_string(value));
    FUZZ_CHECK(std::string_view(json_string_value(value), json_string_length(value)) ==
               sanitize_utf8(expected));
}

void check_optional(const json_t* object, const char* key,
                    const std::optional<std::string>& expected) {
    if (expected) {
        check_string(object, key, *expected);
    } else {
        FUZZ_CHECK(json_is_null(json_object_get(object, key)));
    }
}

void fuzz_event(Reader& in) {
    Event event;
    event.type = static_cast<EventType>(in.byte() % 15);
    event.bounce_class = static_cast<BounceClass>(in.byte() % 5);
    event.reject_reason = static_cast<RejectReason>(in.byte() % 8);
    if (in.byte() & 1) event.timestamp = in.int64();
    const EpochMillis received_at = in.int64();
    const bool include_raw = in.byte() & 1;
    event.recipient = std::string(in.line());
    event.message_id = maybe(in);
    event.event_id = maybe(in);
    event.smtp_status = maybe(in);
    event.mta_response = maybe(in);
    event.description = maybe(in);
    event.click_url = maybe(in);
    event.user_agent = maybe(in);
    event.ip = maybe(in);
    event.campaign_id = maybe(in);
    for (int n = in.byte() % 4; n > 0; --n) event.tags.emplace_back(in.line());
    event.vendor_event = std::string(in.line());
    event.metadata_json = object_from(in.line());
    event.dedup_key = std::string(in.line());
    event.raw_json = object_from(in.rest());
    const std::string vendor = "vendor\xff";  // invalid UTF-8 on purpose
    const std::string connection = "conn\"\\";
    const std::string tenant = "t\x01";
    EventOrigin origin;
    origin.vendor = vendor;
    origin.connection = connection;
    if (event.recipient.size() % 2) origin.tenant = tenant;
    origin.received_at = received_at;
    origin.include_raw = include_raw;

    const std::string id = event_id_for(vendor, connection, event.dedup_key);
    FUZZ_CHECK(id.size() == 32);
    const std::string json = write_event_json(event, id, origin);
    FUZZ_CHECK(is_valid_utf8(json));
    const JsonPtr parsed = reparse(json);
    FUZZ_CHECK(json_is_object(parsed.get()));
    check_string(parsed.get(), "id", id);
    check_string(parsed.get(), "vendor", vendor);
    check_string(parsed.get(), "connection", connection);
    if (event.recipient.empty()) {
        FUZZ_CHECK(json_is_null(json_object_get(parsed.get(), "recipient")));  // none named
    } else {
        check_string(parsed.get(), "recipient", event.recipient);
    }
    check_string(parsed.get(), "vendor_event", event.vendor_event);
    check_string(parsed.get(), "type", std::string(to_string(event.type)));
    check_optional(parsed.get(), "message_id", event.message_id);
    check_optional(parsed.get(), "event_id", event.event_id);
    check_optional(parsed.get(), "smtp_status", event.smtp_status);
    check_optional(parsed.get(), "mta_response", event.mta_response);
    check_optional(parsed.get(), "description", event.description);
    check_optional(parsed.get(), "click_url", event.click_url);
    check_optional(parsed.get(), "user_agent", event.user_agent);
    check_optional(parsed.get(), "ip", event.ip);
    check_optional(parsed.get(), "campaign_id", event.campaign_id);
    const json_t* tags = json_object_get(parsed.get(), "tags");
    FUZZ_CHECK(json_array_size(tags) == event.tags.size());
    FUZZ_CHECK(json_is_object(json_object_get(parsed.get(), "metadata")));
    FUZZ_CHECK(json_is_object(json_object_get(parsed.get(), "raw")) == include_raw);
    FUZZ_CHECK(json_is_string(json_object_get(parsed.get(), "timestamp")));
    FUZZ_CHECK(json_is_string(json_object_get(parsed.get(), "received_at")));
    (void) suppression_effect(event);
}

void fuzz_resp(Reader& in) {
    std::vector<std::string> head;
    std::vector<std::string> tail;
    for (int n = in.byte() % 4; n > 0; --n) head.emplace_back(in.line());
    RespArgs args;
    while (!in.empty()) {
        if (in.byte() & 1) {
            const std::int64_t number = in.int64();
            args.add(number);
            tail.push_back(std::to_string(number));
        } else {
            tail.emplace_back(in.line());
            args.add(tail.back());
        }
    }
    std::string command;
    if (head.size() == 0) command = resp_command({}, args);
    if (head.size() == 1) command = resp_command({head[0]}, args);
    if (head.size() == 2) command = resp_command({head[0], head[1]}, args);
    if (head.size() == 3) command = resp_command({head[0], head[1], head[2]}, args);
    // Decode it again.
    std::vector<std::string> all = head;
    all.insert(all.end(), tail.begin(), tail.end());
    std::string_view rest = command;
    const auto read_line = [&rest]() {
        const std::size_t end = rest.find("\r\n");
        FUZZ_CHECK(end != std::string_view::npos);
        const std::string line(rest.substr(0, end));
        rest.remove_prefix(end + 2);
        return line;
    };
    const std::string count = read_line();
    FUZZ_CHECK(count == "*" + std::to_string(all.size()));
    for (const std::string& expected : all) {
        const std::string length = read_line();
        FUZZ_CHECK(length == "$" + std::to_string(expected.size()));
        FUZZ_CHECK(rest.substr(0, expected.size()) == expected);
        rest.remove_prefix(expected.size());
        FUZZ_CHECK(rest.substr(0, 2) == "\r\n");
        rest.remove_prefix(2);
    }
    FUZZ_CHECK(rest.empty());
}

class NoHeaders final : public HeaderLookup {
  public:
    std::optional<std::string_view> find(std::string_view) const override {
        return std::nullopt;
    }
};

void fuzz_connection(Reader& in) {
    const std::string id(in.line());
    FieldList fields;
    // The vendor first, so most inputs reach a vendor's prepare().
    const auto names = vendor_names();
    fields.emplace_back("vendor", std::string(names[in.byte() % names.size()]));
    while (!in.empty()) {
        const std::string_view line = in.line();
        const std::size_t eq = line.find('=');
        fields.emplace_back(std::string(line.substr(0, eq)),
                            eq == std::string_view::npos ? std::string()
                                                         : std::string(line.substr(eq + 1)));
    }
    (void) is_valid_connection_id(id);
    std::string error;
    auto connection = connection_from_fields(id, fields, error);
    if (!connection) return;
    FUZZ_CHECK(error.empty());
    const Vendor* vendor = find_vendor(connection->vendor);
    if (vendor == nullptr) return;
    const Verdict prepared = vendor->prepare(*connection);
    if (!prepared.ok()) {
        FUZZ_CHECK(prepared.rejection == Rejection::misconfigured);
        return;
    }
    // SES trusts the SNS signature; its Basic credentials are optional.
    FUZZ_CHECK(!connection->secrets.empty() || connection->vendor == "ses");
    const NoHeaders headers;
    const Delivery delivery("", headers, 1700000000000);
    FUZZ_CHECK(timestamp_tolerance(delivery, *connection, 300) >= 0);
    (void) connection->suppression_scope();
}

}  // namespace
}  // namespace mailhook::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mailhook::fuzz;
    Reader in(data, size);
    switch (in.byte() % 4) {
        case 0: fuzz_parse(in.rest()); break;
        case 1: fuzz_event(in); break;
        case 2: fuzz_resp(in); break;
        case 3: fuzz_connection(in); break;
    }
    return 0;
}
