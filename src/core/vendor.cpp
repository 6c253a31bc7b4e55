// SPDX-License-Identifier: BSD-2-Clause
#include "vendor.hpp"

#include "vendor_auth.hpp"

namespace mailhook {

Verdict Vendor::prepare(Connection& connection) const {
    connection.signing_keys = connection.secrets;
    return require_secret(connection);
}

}  // namespace mailhook
