// SPDX-License-Identifier: BSD-2-Clause
// What the handler reads from the nginx request: the route, the headers,
// the whole body, the public URL and the configured tolerance.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "../core/delivery.hpp"
#include "ngx_http_mailhook.hpp"

namespace mailhook::nginx {

// The request headers as the core looks them up.
class RequestHeaders final : public HeaderLookup {
  public:
    explicit RequestHeaders(ngx_http_request_t* r) : r_(r) {}

    std::optional<std::string_view> find(std::string_view name) const override;
    // Repeated headers count as absent in the core (Delivery::header).
    std::size_t count(std::string_view name) const override;

  private:
    template <typename F>
    void visit(std::string_view name, F&& f) const;

    ngx_http_request_t* r_;
};

// "/any/prefix/{vendor}/{connectionId}": the last two path segments.
bool split_route(const ngx_str_t& uri, ngx_str_t& vendor, ngx_str_t& id);

// The whole body as one view: the buffer itself when nginx kept it in one
// piece of memory, else a pool copy of the memory and temp-file parts.
bool collect_body(ngx_http_request_t* r, std::string_view& body);

// The URL the vendor was given, for vendors that sign it.
std::string public_url(ngx_http_request_t* r, const LocConf* lcf);

// mailhook_timestamp_tolerance of the vendor, when configured.
std::optional<std::int64_t> configured_tolerance(const LocConf* lcf, std::string_view vendor);

EpochMillis now_millis();

}  // namespace mailhook::nginx
