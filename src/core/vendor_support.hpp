// SPDX-License-Identifier: BSD-2-Clause
// Small helpers shared by the vendor parsers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto.hpp"
#include "delivery.hpp"
#include "event.hpp"
#include "json.hpp"
#include "verdict.hpp"

namespace mailhook {

// The look-ups below note type errors under StrictTypes (json.hpp).
//
// A member as text (string or number), nullopt when absent or empty.
std::optional<std::string> text_field(const json_t* object, const char* key);
// Epoch seconds (integer, real or string) or an ISO 8601 string. A string
// that is no time gives nullopt (not a type error).
std::optional<EpochMillis> time_field(const json_t* object, const char* key);
// Epoch milliseconds (integer, real or decimal string), for vendors that
// send them (Brevo `ts_epoch`); time_field() reads seconds.
std::optional<EpochMillis> epoch_millis_field(const json_t* object,
                                              const char* key);
// The first of `keys` that text_field finds (a non-empty value); for times,
// the first key present, read with time_field.
std::optional<std::string> first_text_field(const json_t* object,
                                            std::initializer_list<const char*> keys);
std::optional<EpochMillis> first_time_field(const json_t* object,
                                            std::initializer_list<const char*> keys);
// A string, or an array of strings (null elements skipped). `what` names
// the member in type errors.
std::vector<std::string> string_list(const json_t* value, const char* what = "tags");
// The object serialized, or "{}" when it is absent or null.
std::string object_json(const json_t* value, const char* what = "metadata");
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

// The row of a constexpr vendor table whose `name` is `name`, or nullptr.
template <typename Row, std::size_t N>
const Row* find_by_name(const Row (&rows)[N], std::string_view name) {
    for (const Row& row : rows) {
        if (row.name == name) return &row;
    }
    return nullptr;
}

// A vendor event name and the type it maps to.
struct NamedEventType {
    std::string_view name;
    EventType type;
};

// The type of `name` in a vendor's table; unknown when it is not there.
template <std::size_t N>
EventType event_type_by_name(const NamedEventType (&rows)[N], std::string_view name) {
    const NamedEventType* row = find_by_name(rows, name);
    return row != nullptr ? row->type : EventType::unknown;
}

// A public key pasted as text: PEM ("-----BEGIN PUBLIC KEY-----") or base64
// DER SubjectPublicKeyInfo, in which whitespace (line breaks) is ignored.
std::optional<PublicKey> public_key_from_text(std::string_view text);
// The RSA keys of a JWK ({"kty":"RSA","n":..,"e":..}) or of a JWK Set
// ({"keys":[...]}); members of other key types are skipped.
std::vector<PublicKey> rsa_keys_from_jwk(const json_t* jwk_or_set);

// The vendor's event for `raw`. Only a reference is kept: take_in() writes
// the request's own bytes when the value is the body, an element of a body
// array or a member of a body object, and serializes it otherwise. Leaving
// dedup_key empty makes the hash of those bytes the dedup key.
void set_raw(Event& event, const json_t* vendor_event);

// The elements of a JSON array body, or the body itself when it is one
// object. Malformed when the body is neither or holds a non-object.
Verdict collect_objects(const json_t* body, std::vector<const json_t*>& out);

// What an event name means, for vendors whose names follow no fixed list.
struct EventKind {
    EventType type = EventType::unknown;
    BounceClass bounce_class = BounceClass::none;
    RejectReason reject_reason = RejectReason::none;
};
// The usual ESP event names ("delivered", "bounce", "hard_bounce", "open",
// "spamreport", "unsub", ...), compared case-insensitively. nullopt for a
// name outside that vocabulary.
std::optional<EventKind> common_event_kind(std::string_view name);

// A "hard" / "soft" / "block(ed)" value (any case) in the first of `keys`
// that holds one; BounceClass::none when no key says so.
BounceClass explicit_bounce_class(const json_t* item,
                                  std::initializer_list<const char*> keys);

// What a batch body may be: only an array of objects, or also one object.
enum class BodyShape { array, object_or_array };
// Each object of `body` turned into one event by `normalize`, appended to
// `events`. Malformed when the body has another shape, holds a non-object,
// or (with `required_key`) an object without that string member — then
// nothing is appended.
Verdict normalize_objects(const json_t* body, BodyShape shape,
                          Event (*normalize)(const json_t* item),
                          std::vector<Event>& events,
                          const char* required_key = nullptr);

// HMAC over `parts` with each signing key; the header value matches any of
// them in hex (either case) or base64. Constant time per comparison.
bool hmac_matches_any(const std::vector<std::string>& keys,
                      DigestAlgorithm algorithm,
                      std::initializer_list<std::string_view> parts,
                      std::string_view presented);

}  // namespace mailhook
