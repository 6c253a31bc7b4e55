// SPDX-License-Identifier: BSD-2-Clause
// A vendor's name tables (Vendor::catalogue) written as the Markdown its
// docs page shows under "Events and their mapping", between the markers, so
// the page cannot drift from the code: t/unit/vendor_catalogue_test.cpp
// compares them (and rewrites the pages with MAILHOOK_WRITE_CATALOGUE=1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vendor.hpp"

namespace mailhook {

inline constexpr std::string_view kCatalogueBegin =
    "<!-- catalogue: generated from the code's tables; "
    "MAILHOOK_WRITE_CATALOGUE=1 make test-unit rewrites it -->";
inline constexpr std::string_view kCatalogueEnd = "<!-- /catalogue -->";

// The block: the begin marker, one table per EventTable, the end marker.
std::string catalogue_markdown(const Vendor& vendor);

// The block as found in `page` (markers included), or nullopt.
std::optional<std::string_view> catalogue_block(std::string_view page);

}  // namespace mailhook
