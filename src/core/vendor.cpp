// SPDX-License-Identifier: BSD-2-Clause
#include "vendor.hpp"

#include "vendor_auth.hpp"

namespace mailhook {

Verdict Vendor::prepare(Connection& connection) const {
    connection.signing_keys = connection.secrets;
    return require_secret(connection);
}

std::optional<std::string> replay_warning(const Vendor& vendor,
                                          const Connection& connection) {
    const auto tolerance = vendor.default_tolerance(connection);
    const auto configured = connection.option("timestamp_tolerance");
    if (!tolerance) {
        return std::string(vendor.name()) +
               " signs no timestamp: a captured request is stored again once its "
               "dedup key expires (mailhook_dedup_ttl)";
    }
    if ((configured && *configured == "0") || (!configured && *tolerance == 0)) {
        return std::string(vendor.name()) +
               ": the signed timestamp is not checked (set timestamp_tolerance): a "
               "captured request is stored again once its dedup key expires "
               "(mailhook_dedup_ttl)";
    }
    return std::nullopt;
}

}  // namespace mailhook
