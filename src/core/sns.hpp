// SPDX-License-Identifier: BSD-2-Clause
// Amazon SNS HTTP/S subscriptions as a transport for another service's
// events (SES): the canonical string SNS signs, the signature versions,
// which URLs may be fetched on SNS's behalf, and the verify/parse steps of a
// vendor that receives through SNS.
//
// SNS signs a canonical string (not the body) with RSA-SHA1
// (SignatureVersion 1) or RSA-SHA256 (2); the key is the certificate at
// SigningCertURL, looked up through Delivery::certificates() (pinned or
// fetched by the caller). Connection options: `topic_arn` (comma-separated
// allow-list; without it any AWS-signed message is accepted),
// `allow_raw_delivery` (accept SNS raw message delivery, which is NOT
// signed), `auto_confirm` (off: never confirm subscriptions). An optional
// `secret` (user:password) additionally requires HTTP Basic credentials,
// which SNS sends after a 401 challenge.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto.hpp"
#include "json.hpp"
#include "vendor.hpp"

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

// What the SNS layer tells about the message an event came in.
struct SnsMessage {
    std::optional<std::string> message_id;  // the same on every retry
    std::optional<EpochMillis> timestamp;
};

// The events of one service inside an SNS message (the decoded `Message`,
// or a raw delivery's body), appended to `out`; false, appending nothing,
// when `message` is not one of that service's events.
using SnsPayloadParser = bool (*)(Fields& fields, const json_t* message,
                                  const SnsMessage& sns, std::vector<Event>& out);

// Vendor::verify for a vendor that receives through SNS.
Verdict sns_verify(const Delivery& delivery, const Connection& connection,
                   Batch& batch);
// Vendor::parse: notifications through `payload`; SNS's own messages
// (subscription handshakes, notifications that are not the service's
// events) as events of their own.
Verdict sns_parse(const Delivery& delivery, const Connection& connection,
                  Batch& batch, SnsPayloadParser payload);
// Vendor::www_authenticate: the Basic challenge when the connection has a
// secret.
std::string_view sns_www_authenticate(const Connection& connection);

}  // namespace mailhook
