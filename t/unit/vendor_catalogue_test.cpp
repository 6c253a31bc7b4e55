// SPDX-License-Identifier: BSD-2-Clause
// Every registered vendor's docs page shows its name tables exactly as the
// code has them (docs/vendors/<vendor>.md, between the catalogue markers).
// With MAILHOOK_WRITE_CATALOGUE=1 the pages are rewritten instead.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/vendor.hpp"
#include "core/vendor_catalogue.hpp"

namespace mailhook {
namespace {

std::string page_path(std::string_view vendor) {
    return "docs/vendors/" + std::string(vendor) + ".md";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(VendorCatalogue, EveryPageShowsTheCodesTables) {
    const bool write = std::getenv("MAILHOOK_WRITE_CATALOGUE") != nullptr;
    for (const std::string_view name : vendor_names()) {
        const Vendor& vendor = *find_vendor(name);
        const std::string path = page_path(name);
        std::string page = read_file(path);
        const auto block = catalogue_block(page);
        ASSERT_TRUE(block) << path << " has no catalogue block under \"## Events and "
                           << "their mapping\" (" << kCatalogueBegin << " ... "
                           << kCatalogueEnd << ")";
        const std::string expected = catalogue_markdown(vendor);
        if (*block == expected) continue;
        if (write) {
            page.replace(static_cast<std::size_t>(block->data() - page.data()), block->size(),
                         expected);
            std::ofstream(path, std::ios::binary) << page;
            continue;
        }
        ADD_FAILURE() << path << ": the mapping table differs from the code's "
                      << "(MAILHOOK_WRITE_CATALOGUE=1 make test-unit rewrites it). Expected:\n"
                      << expected;
    }
}

TEST(VendorCatalogue, EveryVendorHasTables) {
    for (const std::string_view name : vendor_names()) {
        EXPECT_FALSE(find_vendor(name)->catalogue().empty()) << name;
    }
}

TEST(VendorCatalogue, RowsShowTypeClassAndReason) {
    const std::string text = catalogue_markdown(*find_vendor("sendgrid"));
    EXPECT_NE(text.find("| `bounce` | `bounced` | `undetermined` |  |"), std::string::npos);
    EXPECT_NE(text.find("| `account_status_change` | control entry |  |  |"),
              std::string::npos);
    EXPECT_EQ(catalogue_block("x\n" + text + "\ny"), std::string_view(text));
    EXPECT_FALSE(catalogue_block("no block"));
}

}  // namespace
}  // namespace mailhook
