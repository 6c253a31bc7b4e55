// SPDX-License-Identifier: BSD-2-Clause
// The vendor table: adding a vendor is adding a file and a row here.
#include <array>

#include "vendor.hpp"
#include "vendors/vendors.hpp"

namespace mailhook {
namespace {

using VendorAccessor = const Vendor& (*)();

constexpr std::array kVendors = {
    &sendgrid_vendor,
    &mailgun_vendor,
    &resend_vendor,
    &inboxroad_vendor,
    &smtp2go_vendor,
    &postmark_vendor,
    &postal_vendor,
    &brevo_vendor,
    &mailjet_vendor,
    &sparkpost_vendor,
    &generic_vendor,
    &smtpcom_vendor,
    &smartlead_vendor,
    &mandrill_vendor,
    &ses_vendor,
    &oci_vendor,
    &mailersend_vendor,
    &mailtrap_vendor,
    &unisender_go_vendor,
};

}  // namespace

const Vendor* find_vendor(std::string_view name) {
    for (const VendorAccessor accessor : kVendors) {
        const Vendor& vendor = accessor();
        if (vendor.name() == name) {
            return &vendor;
        }
    }
    return nullptr;
}

std::size_t vendor_index(std::string_view name) {
    for (std::size_t i = 0; i < kVendors.size(); ++i) {
        if (kVendors[i]().name() == name) {
            return i;
        }
    }
    return kVendors.size();
}

std::size_t vendor_count() { return kVendors.size(); }

std::vector<std::string_view> vendor_names() {
    std::vector<std::string_view> names;
    for (const VendorAccessor accessor : kVendors) {
        names.push_back(accessor().name());
    }
    return names;
}

}  // namespace mailhook
