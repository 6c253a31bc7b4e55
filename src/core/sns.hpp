// SPDX-License-Identifier: BSD-2-Clause
// Amazon SNS HTTP/S messages: the canonical string SNS signs, the signature
// versions, and which URLs may be fetched on SNS's behalf.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crypto.hpp"
#include "json.hpp"

namespace mailhook {

enum class SnsMessageType { notification, subscription_confirmation,
                            unsubscribe_confirmation };

std::optional<SnsMessageType> sns_message_type(std::string_view type);

// "Key\nValue\n" for each signed key of the message type, in byte order:
// Message, MessageId, Subject (when present and not null), Timestamp,
// TopicArn, Type for notifications; Message, MessageId, SubscribeURL,
// Timestamp, Token, TopicArn, Type for (un)subscribe confirmations. Values
// are the JSON-decoded strings. nullopt when the Type is unknown or a signed
// key is missing or not a string.
std::optional<std::string> sns_string_to_sign(const json_t* message);

// SignatureVersion "1" is RSA-SHA1, "2" is RSA-SHA256.
std::optional<DigestAlgorithm> sns_signature_algorithm(std::string_view version);

// sns.<region>.amazonaws.com or sns.<region>.amazonaws.com.cn (the region
// part at least three of [a-z0-9-]).
bool is_sns_host(std::string_view host);
// https on an SNS host, a path of [A-Za-z0-9._/-] ending in ".pem", no query.
bool is_sns_certificate_url(std::string_view url);
// https on an SNS host (SubscribeURL).
bool is_sns_url(std::string_view url);

}  // namespace mailhook
