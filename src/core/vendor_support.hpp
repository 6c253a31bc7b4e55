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

// Raw JSON + content-hash dedup key for vendors that send no event id.
void set_raw(Event& event, const json_t* vendor_event);
void set_raw_with_content_key(Event& event, const json_t* vendor_event);

// The elements of a JSON array body, or the body itself when it is one
// object. Malformed when the body is neither or holds a non-object.
Verdict collect_objects(const json_t* body, std::vector<const json_t*>& out);

// HMAC over `parts` with each signing key; the header value matches any of
// them in hex (either case) or base64. Constant time per comparison.
bool hmac_matches_any(const std::vector<std::string>& keys,
                      DigestAlgorithm algorithm,
                      std::initializer_list<std::string_view> parts,
                      std::string_view presented);

}  // namespace mailhook
