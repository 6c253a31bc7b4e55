// SPDX-License-Identifier: BSD-2-Clause
// One accessor per vendor file; vendor_registry.cpp lists them.
#pragma once

#include "../vendor.hpp"

namespace mailhook {

const Vendor& sendgrid_vendor();
const Vendor& mailgun_vendor();
const Vendor& resend_vendor();
const Vendor& inboxroad_vendor();
const Vendor& smtp2go_vendor();
const Vendor& postmark_vendor();
const Vendor& postal_vendor();
const Vendor& brevo_vendor();
const Vendor& mailjet_vendor();
const Vendor& sparkpost_vendor();
const Vendor& generic_vendor();
const Vendor& smtpcom_vendor();
const Vendor& smartlead_vendor();
const Vendor& mandrill_vendor();
const Vendor& ses_vendor();
const Vendor& oci_vendor();
const Vendor& mailersend_vendor();
const Vendor& mailtrap_vendor();
const Vendor& unisender_go_vendor();

}  // namespace mailhook
