// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target: the byte-level helpers vendors build on. The first byte picks
// the helper, the rest is its input. Each case checks a property, not just
// "does not crash":
//   0 base64 (both alphabets)   decode ∘ encode = id; decoded input re-encodes
//   1 hex                       round trip; decode accepts exactly 2n hex digits
//   2 form bodies               parse_form agrees with percent_decode_form
//                               and refuses NUL
//   3 UTF-8                     agrees with jansson; sanitize_utf8 yields valid
//                               UTF-8 and keeps valid input unchanged
//   4 enhanced status codes     result is a substring shaped like 5.1.1
//   5 timestamps                accepted times format and re-parse to themselves
//   6 ASCII helpers             trim, lower-case, iequals, constant-time equal
#include <algorithm>

#include "core/event.hpp"
#include "core/timestamp.hpp"
#include "fuzz_support.hpp"

namespace mailhook::fuzz {
namespace {

void fuzz_base64(std::string_view text) {
    for (const Base64Alphabet alphabet : {Base64Alphabet::standard, Base64Alphabet::url}) {
        for (const bool pad : {true, false}) {
            const std::string encoded = base64_encode(text, alphabet, pad);
            FUZZ_CHECK(encoded.size() == (pad ? (text.size() + 2) / 3 * 4
                                              : (text.size() * 4 + 2) / 3));
            FUZZ_CHECK(base64_decode(encoded, alphabet) == std::string(text));
        }
        if (const auto decoded = base64_decode(text, alphabet)) {
            // Decoding is lenient about padding and unused bits; what it
            // decodes to must still encode back to a decodable equal value.
            FUZZ_CHECK(base64_decode(base64_encode(*decoded, alphabet), alphabet) ==
                       *decoded);
            FUZZ_CHECK(decoded->size() <= text.size() * 3 / 4 + 1);
        }
    }
}

void fuzz_hex(std::string_view text) {
    FUZZ_CHECK(hex_decode(hex_encode(text)) == std::string(text));
    const auto decoded = hex_decode(text);
    const bool all_hex = std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
    FUZZ_CHECK(decoded.has_value() == (all_hex && text.size() % 2 == 0));
    if (decoded) FUZZ_CHECK(hex_encode(*decoded) == to_lower_ascii(text));
}

void fuzz_form(std::string_view text) {
    const auto fields = parse_form(text);
    // Every pair decodes on its own exactly when the whole body parses.
    bool all_decode = true;
    std::size_t pairs = 0;
    std::string_view rest = text;
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) continue;
        ++pairs;
        const std::size_t eq = pair.find('=');
        const auto key = percent_decode_form(pair.substr(0, eq));
        const auto value = percent_decode_form(
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!key || !value || key->find('\0') != std::string::npos ||
            value->find('\0') != std::string::npos) {
            all_decode = false;
        } else if (fields && pairs <= fields->size()) {
            FUZZ_CHECK((*fields)[pairs - 1].first == *key);
            FUZZ_CHECK((*fields)[pairs - 1].second == *value);
        }
    }
    FUZZ_CHECK(fields.has_value() == all_decode);
    if (fields) FUZZ_CHECK(fields->size() == pairs);
    if (const auto decoded = percent_decode_form(text)) {
        FUZZ_CHECK(decoded->size() <= text.size());
    }
}

void fuzz_utf8(std::string_view text) {
    const bool valid = is_valid_utf8(text);
    // jansson validates strings the same way (no overlongs, no surrogates,
    // nothing above U+10FFFF).
    json_t* probe = json_stringn(text.data(), text.size());
    FUZZ_CHECK(valid == (probe != nullptr));
    json_decref(probe);
    const std::string clean = sanitize_utf8(text);
    FUZZ_CHECK(is_valid_utf8(clean));
    if (valid) FUZZ_CHECK(clean == text);
    // The JSON string writer must produce a literal jansson reads back as
    // the sanitized text.
    std::string literal;
    append_json_string(literal, text);
    const JsonPtr parsed = reparse(literal);
    FUZZ_CHECK(json_is_string(parsed.get()));
    FUZZ_CHECK(std::string_view(json_string_value(parsed.get()),
                                json_string_length(parsed.get())) == clean);
}

void fuzz_enhanced_status(std::string_view text) {
    const auto status = find_enhanced_status(text);
    if (!status) return;
    FUZZ_CHECK(text.find(*status) != std::string_view::npos);
    FUZZ_CHECK(status->size() >= 5 && status->size() <= 9);
    FUZZ_CHECK((*status)[0] == '2' || (*status)[0] == '4' || (*status)[0] == '5');
    FUZZ_CHECK((*status)[1] == '.');
    FUZZ_CHECK(std::count(status->begin(), status->end(), '.') == 2);
}

void fuzz_time(std::string_view text) {
    for (const auto parsed : {parse_iso8601(text), parse_epoch_seconds(text),
                              parse_vendor_time(text)}) {
        if (!parsed) continue;
        // Formatting and parsing again gives the same instant (to the ms).
        const std::string formatted = format_rfc3339_millis(*parsed);
        const auto again = parse_iso8601(formatted);
        if (*parsed >= 0 && *parsed < 253402300800000) {  // years 1970..9999
            FUZZ_CHECK(again == parsed);
        }
        FUZZ_CHECK(format_rfc3339_seconds(*parsed).back() == 'Z');
    }
    if (const auto epoch = parse_epoch_seconds(text)) {
        FUZZ_CHECK(*epoch >= 0);
        FUZZ_CHECK(parse_vendor_time(text) == epoch);
    }
}

void fuzz_ascii(std::string_view text) {
    const std::size_t half = text.size() / 2;
    const std::string_view a = text.substr(0, half);
    const std::string_view b = text.substr(half);
    FUZZ_CHECK(constant_time_equal(a, b) == (a == b));
    FUZZ_CHECK(iequals_ascii(a, b) == (to_lower_ascii(a) == to_lower_ascii(b)));
    const std::string_view trimmed = trim_ascii(text);
    FUZZ_CHECK(trim_ascii(trimmed) == trimmed);
    FUZZ_CHECK(text.find(trimmed) != std::string_view::npos);
}

}  // namespace
}  // namespace mailhook::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mailhook::fuzz;
    Reader in(data, size);
    const std::uint8_t selector = in.byte();
    const std::string_view text = in.rest();
    switch (selector % 7) {
        case 0: fuzz_base64(text); break;
        case 1: fuzz_hex(text); break;
        case 2: fuzz_form(text); break;
        case 3: fuzz_utf8(text); break;
        case 4: fuzz_enhanced_status(text); break;
        case 5: fuzz_time(text); break;
        case 6: fuzz_ascii(text); break;
    }
    return 0;
}
