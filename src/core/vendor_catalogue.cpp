// SPDX-License-Identifier: BSD-2-Clause
#include "vendor_catalogue.hpp"

namespace mailhook {
namespace {

std::string code(std::string_view text) { return "`" + std::string(text) + "`"; }

std::string row_text(const EventRow& row) {
    std::string out = "| " + code(row.name) + " | ";
    // A row of a reason table (bounce codes, categories) names no type.
    const bool reason_only = row.type == EventType::unknown && !row.control &&
                             (row.bounce != BounceClass::none || row.reason != RejectReason::none);
    if (row.control) {
        out += "control entry";
    } else if (!reason_only) {
        out += code(to_string(row.type));
    }
    out += " | ";
    if (row.bounce != BounceClass::none) out += code(to_string(row.bounce));
    out += " | ";
    if (row.reason != RejectReason::none) out += code(to_string(row.reason));
    out += " |\n";
    return out;
}

}  // namespace

std::string catalogue_markdown(const Vendor& vendor) {
    std::string out(kCatalogueBegin);
    out += "\n";
    for (const EventTable& table : vendor.catalogue()) {
        out += "\n| " + std::string(table.title) +
               " | `type` | `bounce_class` | `reject_reason` |\n|---|---|---|---|\n";
        for (std::size_t i = 0; i < table.size; ++i) out += row_text(table.rows[i]);
    }
    out += "\n";
    out += kCatalogueEnd;
    return out;
}

std::optional<std::string_view> catalogue_block(std::string_view page) {
    const std::size_t begin = page.find(kCatalogueBegin);
    if (begin == std::string_view::npos) return std::nullopt;
    const std::size_t end = page.find(kCatalogueEnd, begin);
    if (end == std::string_view::npos) return std::nullopt;
    return page.substr(begin, end + kCatalogueEnd.size() - begin);
}

}  // namespace mailhook
