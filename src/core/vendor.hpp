// SPDX-License-Identifier: BSD-2-Clause
// The one interface every vendor implements (one file per vendor under
// vendors/, one row in vendor_registry.cpp), and the registry. Helpers for
// reading payloads: vendor_fields.hpp; for authenticating: vendor_auth.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "delivery.hpp"
#include "event.hpp"
#include "vendor_fields.hpp"
#include "verdict.hpp"

namespace mailhook {

// A one-time token (Mailgun) that must not be reused for another event.
// `fingerprint` identifies what the token was first used for, so a genuine
// retry of the same event passes as a duplicate.
struct ReplayGuard {
    std::string token;
    // The bytes the signature covers (Mailgun: timestamp and token run
    // together): also used once only, so moving a digit from the token to
    // the timestamp does not make a captured signature new.
    std::string signed_text;
    std::string fingerprint;
};

// Elements of a batch body that were not the vendor's format (see
// normalize_elements).
struct MalformedElements {
    std::vector<std::size_t> events;  // indices of the `unknown` events kept
    std::size_t unreadable = 0;       // elements that were not objects
    std::string first_reason;

    std::size_t count() const { return events.size() + unreadable; }
};

// What a vendor extracts from one delivery.
struct Batch {
    // The strict reader parse() reads the payload with; a type error it
    // noted refuses the request (take_in).
    Fields fields;
    std::vector<Event> events;
    std::optional<ReplayGuard> replay_guard;
    // With Rejection::key_unavailable: the URL of the missing signing key,
    // which the caller may fetch before verifying again.
    std::string key_url;
    // A subscription handshake the vendor asks us to complete with a GET of
    // this URL (already checked to point at the vendor's own host).
    std::optional<std::string> confirm_url;
    // A remark for the operator's log (e.g. why a subscription was not
    // confirmed); never contains a secret.
    std::string notice;
    MalformedElements malformed;
};

class Vendor {
  public:
    virtual ~Vendor() = default;
    virtual std::string_view name() const = 0;

    // Runs once per connection load: parse keys, refuse unusable secrets.
    virtual Verdict prepare(Connection& connection) const;
    // Authenticity, over the exact bytes received.
    virtual Verdict verify(const Delivery& delivery, const Connection& connection,
                           Batch& batch) const = 0;
    // Vendor payload to normalized events; runs only after verify passed.
    virtual Verdict parse(const Delivery& delivery, const Connection& connection,
                          Batch& batch) const = 0;
    // Seconds a signed timestamp of this connection may be off by default
    // (0: not checked unless configured); nullopt when nothing it sends
    // signs a time, so a captured request is new again once its dedup key
    // expires (see replay_warning).
    virtual std::optional<std::int64_t> default_tolerance(const Connection&) const {
        return std::nullopt;
    }
    // Answer HEAD with 200 (Mandrill probes the URL with HEAD).
    virtual bool accepts_head() const { return false; }
    // The vendor's name tables (events, bounce types, reason codes), as its
    // docs page lists them.
    virtual std::vector<EventTable> catalogue() const { return {}; }
    // WWW-Authenticate value sent with a 401, for vendors whose HTTP client
    // sends Basic credentials only after a challenge (AWS SNS, OCI
    // Notifications); empty for none.
    virtual std::string_view www_authenticate(const Connection&) const {
        return {};
    }
};

// Security review L7: why a captured request of this connection could be
// stored again after mailhook_dedup_ttl (no signed time, or its check off),
// for a warning when the configuration declares it; nullopt when a replay
// is always stale or a duplicate with the default mailhook_dedup_ttl.
std::optional<std::string> replay_warning(const Vendor& vendor,
                                          const Connection& connection);

const Vendor* find_vendor(std::string_view name);
std::vector<std::string_view> vendor_names();
// Position of the vendor in the registry (stable for one build), or
// vendor_count() when unknown; metrics are indexed by it.
std::size_t vendor_index(std::string_view name);
std::size_t vendor_count();

}  // namespace mailhook
