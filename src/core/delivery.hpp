// SPDX-License-Identifier: BSD-2-Clause
// One webhook request as the vendor sent it: exact body bytes, headers, the
// URL the vendor was given, and the clock. Vendors read nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "encoding.hpp"
#include "json.hpp"
#include "timestamp.hpp"

namespace mailhook {

class HeaderLookup {
  public:
    // Case-insensitive; the first occurrence of the header.
    virtual std::optional<std::string_view> find(std::string_view name) const = 0;
    // How many times the header was sent (case-insensitive). Lookups that
    // cannot hold a header twice keep the default.
    virtual std::size_t count(std::string_view name) const {
        return find(name) ? 1 : 0;
    }

  protected:
    ~HeaderLookup() = default;
};

class PublicKey;

// Signing keys published at a URL (AWS SNS certificates), as far as they are
// known: pinned by configuration or fetched earlier by the caller.
class CertificateLookup {
  public:
    // nullptr when the key behind `url` is not (yet) available.
    virtual const PublicKey* find(std::string_view url) const = 0;

  protected:
    ~CertificateLookup() = default;
};

class Delivery {
  public:
    Delivery(std::string_view body, const HeaderLookup& headers, EpochMillis now)
        : body_(body), headers_(headers), now_(now) {}

    std::string_view body() const { return body_; }
    EpochMillis now() const { return now_; }
    // A header sent more than once is ambiguous (which one did the vendor
    // sign?): it counts as absent, so the vendor answers as for a missing
    // header (401 for signature and credential headers). The first such name
    // is kept for the rejection log.
    std::optional<std::string_view> header(std::string_view name) const;
    std::string_view repeated_header() const { return repeated_header_; }
    // Media type without parameters, lower-cased by the caller's convention.
    bool content_type_is(std::string_view media_type) const;

    // The body parsed as JSON, once; nullptr when it is not JSON.
    const json_t* json() const;
    // The exact bytes a value of json() came from, when it is the body
    // itself or one of its direct children (array element, member value);
    // nullopt for anything else.
    std::optional<std::string_view> source_text(const json_t* value) const;
    // The body parsed as a form, once (Mandrill verifies and parses the same
    // fields): multipart/form-data when the Content-Type says so (its text
    // fields), else application/x-www-form-urlencoded; nullptr when it is
    // not a form.
    const FormFields* form() const;

    // The URL as registered at the vendor (Mandrill signs it).
    std::string_view public_url() const { return public_url_; }
    void set_public_url(std::string_view url) { public_url_ = url; }

    // Timestamp tolerance set by configuration for this vendor, seconds.
    std::optional<std::int64_t> configured_tolerance() const {
        return configured_tolerance_;
    }
    void set_configured_tolerance(std::optional<std::int64_t> seconds) {
        configured_tolerance_ = seconds;
    }

    std::size_t max_events() const { return max_events_; }
    void set_max_events(std::size_t limit) { max_events_ = limit; }

    // The most events one vendor event may become (an SES notification
    // names at most 50 recipients).
    std::size_t max_recipients() const { return max_recipients_; }
    void set_max_recipients(std::size_t limit) { max_recipients_ = limit; }

    // Deeper bodies are not JSON to json() (so: 400).
    std::size_t max_json_depth() const { return max_json_depth_; }
    void set_max_json_depth(std::size_t limit) { max_json_depth_ = limit; }

    // Where vendors that sign with published certificates find their keys;
    // nullptr: none available.
    const CertificateLookup* certificates() const { return certificates_; }
    void set_certificates(const CertificateLookup* lookup) {
        certificates_ = lookup;
    }

  private:
    std::string_view body_;
    const HeaderLookup& headers_;
    EpochMillis now_;
    std::string_view public_url_;
    std::optional<std::int64_t> configured_tolerance_;
    std::size_t max_events_ = 10000;
    std::size_t max_recipients_ = 100;
    std::size_t max_json_depth_ = kDefaultMaxJsonDepth;
    const CertificateLookup* certificates_ = nullptr;
    mutable std::string repeated_header_;
    mutable JsonPtr json_;
    mutable std::vector<std::string_view> child_spans_;
    mutable std::vector<const json_t*> children_;
    mutable bool children_mapped_ = false;
    mutable std::size_t next_child_ = 0;
    mutable bool json_parsed_ = false;
    mutable std::optional<FormFields> form_;
    mutable bool form_parsed_ = false;
};

}  // namespace mailhook
