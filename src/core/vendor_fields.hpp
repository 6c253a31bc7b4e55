// SPDX-License-Identifier: BSD-2-Clause
// Reading a vendor's payload: the strict field reader every Vendor::parse
// uses, the one row type of every vendor's event table, and the body shapes
// vendors share. Authentication helpers are in vendor_auth.hpp.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encoding.hpp"
#include "event.hpp"
#include "json.hpp"
#include "verdict.hpp"

namespace mailhook {

// Strict look-ups for one Vendor::parse (docs/design.md §3.5: a body that is not
// the vendor's format is a 400). Each reader notes the first member present
// with a JSON type that cannot hold what is read: an object where text is
// expected, text where an object is expected, a look-up inside something
// that is not an object. null counts as absent, never as an error. The batch
// owns one (Batch::fields); take_in() refuses the request when it noted an
// error. verify() uses the plain look-ups of json.hpp, which note nothing.
class Fields {
  public:
    // A string member (possibly empty).
    std::optional<std::string_view> string(const json_t* object, const char* key);
    // A string or number member as text; nullopt when absent or empty.
    std::optional<std::string> text(const json_t* object, const char* key);
    // The first of `keys` that text() finds.
    std::optional<std::string> first_text(const json_t* object,
                                          std::initializer_list<const char*> keys);
    // Epoch seconds (integer, real or string) or an ISO 8601 string. A string
    // that is no time gives nullopt (not a type error).
    std::optional<EpochMillis> time(const json_t* object, const char* key);
    // The first of `keys` present, read with time().
    std::optional<EpochMillis> first_time(const json_t* object,
                                          std::initializer_list<const char*> keys);
    // Epoch milliseconds (integer, real or decimal string), for vendors that
    // send them (Brevo `ts_epoch`).
    std::optional<EpochMillis> epoch_millis(const json_t* object, const char* key);
    // A string, or an array of strings (null elements skipped). `what` names
    // the member in type errors.
    std::vector<std::string> list(const json_t* value, const char* what = "tags");
    // The object serialized, or "{}" when it is absent or null.
    std::string object_text(const json_t* value, const char* what = "metadata");
    // Follows a path of object keys; nullptr when a step is missing.
    const json_t* path(const json_t* object, std::initializer_list<const char*> keys);

    // Notes `value` (found under `key`) as not being `expected`.
    void note(const char* key, const json_t* value, std::string_view expected);
    bool failed() const { return !error_.empty(); }
    // The first type error, for the rejection; empty when there was none.
    const std::string& error() const { return error_; }
    // The error noted so far, and a clean slate for the next element.
    std::string take_error();
    // Puts back an error taken with take_error().
    void restore_error(std::string error) { error_ = std::move(error); }

  private:
    void check_container(const json_t* object, const char* key);

    std::string error_;
};

// One row of a vendor's table from its own names (event names, bounce
// types, reason codes) to what they mean in the schema.
struct EventRow {
    std::string_view name;
    EventType type = EventType::unknown;
    BounceClass bounce = BounceClass::none;
    RejectReason reason = RejectReason::none;
    bool control = false;  // see Event::control
};

// One of a vendor's tables as its docs page shows it (Vendor::catalogue).
struct EventTable {
    std::string_view title;  // what the names are, e.g. "SendGrid `event`"
    const EventRow* rows;
    std::size_t size;
};

template <std::size_t N>
constexpr EventTable event_table(std::string_view title, const EventRow (&rows)[N]) {
    return {title, rows, N};
}

// The row of a constexpr vendor table whose `name` is `name`, or nullptr.
template <typename Row, std::size_t N>
const Row* find_by_name(const Row (&rows)[N], std::string_view name) {
    for (const Row& row : rows) {
        if (row.name == name) return &row;
    }
    return nullptr;
}

// The event's type, bounce class, reject reason and control flag from
// `row`; a missing row (a name the vendor's table does not list) leaves the
// event unknown.
void classify(Event& event, const EventRow* row);

// anymail's reject reason for an event whose vendor gave none: a complaint
// is `spam`, an unsubscribe `unsubscribed`, a deferral or a rejection
// `other`, a bounce `bounced` (`blocked` for a block). Events that carry a
// reason keep it; other types have none.
void default_reject_reason(Event& event);

// The usual ESP event names ("delivered", "bounce", "hard_bounce", "open",
// "spamreport", "unsub", ...), compared case-insensitively, for vendors
// whose names follow no published list; nullptr outside that vocabulary.
const EventRow* common_event_row(std::string_view name);
// The table common_event_row() reads (generic, SMTP.com labels).
EventTable common_event_table();

// A "hard" / "soft" / "block(ed)" value (any case) in the first of `keys`
// that holds one; BounceClass::none when no key says so.
BounceClass explicit_bounce_class(const json_t* item,
                                  std::initializer_list<const char*> keys);

// A form body (FormFields) as a JSON object of strings, so that a vendor
// that posts JSON or a form (SMTP2GO, Mailjet) reads both the same way; a
// repeated name keeps its last value. nullptr when a name or value is not
// UTF-8 (JSON text cannot hold it).
JsonPtr form_object(const FormFields& fields);

// The addr-spec of one address as headers write it: "Name <a@b.c>" gives
// "a@b.c", a bare address itself; nullopt for a list of addresses or no
// address.
std::optional<std::string> bare_address(std::string_view text);

// Members of `object` whose keys are not in `reserved`, as a JSON object.
std::string unreserved_members_json(const json_t* object,
                                    const std::string_view* reserved,
                                    std::size_t reserved_count);
template <std::size_t N>
std::string unreserved_members_json(const json_t* object,
                                    const std::string_view (&reserved)[N]) {
    return unreserved_members_json(object, reserved, N);
}

// Send-time custom data that a vendor carries in one text field (Brevo
// `X-Mailin-custom`, Mailjet `Payload`): text holding a JSON object becomes
// that object, any other text {"<field>": text}, no text {}.
JsonPtr custom_text_object(const char* field,
                           const std::optional<std::string>& text);

// The vendor's event for `raw`. Only a reference is kept: take_in() writes
// the request's own bytes when the value is the body, an element of a body
// array or a member of a body object, and serializes it otherwise. Leaving
// dedup_key empty makes the hash of those bytes the dedup key.
void set_raw(Event& event, const json_t* vendor_event);

struct Batch;
using Normalizer = Event (*)(Fields& fields, const json_t* item);
// The events of one element of a batch body (none, one or several); `index`
// is the element's position.
using ElementReader = std::function<void(Fields& fields, const json_t* element,
                                         std::size_t index, std::vector<Event>& out)>;

// What a batch body may be: only an array of objects, or also one object.
enum class BodyShape { array, object_or_array };
// Each object of `body` turned into one event by `normalize` (reading with
// batch.fields), appended to batch.events. Malformed when the body has
// another shape. One object body is one event (its type errors refuse the
// request); an array's elements go through normalize_elements().
Verdict normalize_objects(const json_t* body, BodyShape shape, Normalizer normalize,
                          Batch& batch, const char* required_key = nullptr);

// The elements of an array body, each read on its own. A signed batch is
// the vendor's word, and a 4xx would make the vendor retry (or drop) the
// good events with the bad: an element that is not the vendor's format (a
// type error, no event name, no `required_key` string) is kept as an
// `unknown` event carrying its raw bytes and the reason in `description`;
// an element that is not an object is only counted. Both are noted in
// batch.malformed (take_in logs them, and refuses the request when no
// element was readable).
void normalize_elements(const json_t* array, const ElementReader& read, Batch& batch,
                        const char* required_key = nullptr);

}  // namespace mailhook
