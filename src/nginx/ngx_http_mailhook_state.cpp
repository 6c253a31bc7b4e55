// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_state.hpp"

#include "../core/vendor.hpp"

namespace mailhook::nginx {

const ResolvedConnection* ConnectionCache::find(std::string_view id, ngx_msec_t now,
                                                bool stale_ok) const {
    const auto it = entries_.find(std::string(id));
    if (it == entries_.end()) {
        return nullptr;
    }
    if ((ngx_msec_int_t) (it->second.expires - now) <= 0 &&
        !(stale_ok && it->second.resolved.kind == ResolvedConnection::Kind::usable)) {
        return nullptr;
    }
    return &it->second.resolved;
}

void ConnectionCache::put(std::string_view id, ResolvedConnection resolved,
                          ngx_msec_t expires) {
    if (entries_.size() >= kMaxEntries) {
        entries_.clear();  // crude, but bounded; entries reload on demand
    }
    entries_[std::string(id)] = Entry{std::move(resolved), expires};
}

ResolvedConnection resolve_fields(std::string_view id, const FieldList& fields) {
    ResolvedConnection resolved;
    std::string error;
    auto connection = connection_from_fields(id, fields, error);
    if (!connection) {
        resolved.kind = error.empty() ? ResolvedConnection::Kind::unknown
                                      : ResolvedConnection::Kind::unusable;
        resolved.error = error;
        return resolved;
    }
    const Vendor* vendor = find_vendor(connection->vendor);
    if (vendor == nullptr) {
        resolved.kind = ResolvedConnection::Kind::unusable;
        resolved.error = "unknown vendor \"" + connection->vendor + "\"";
        return resolved;
    }
    const Verdict prepared = vendor->prepare(*connection);
    if (!prepared.ok()) {
        resolved.kind = ResolvedConnection::Kind::unusable;
        resolved.error = prepared.reason;
        return resolved;
    }
    resolved.kind = ResolvedConnection::Kind::usable;
    resolved.connection = std::make_shared<const Connection>(std::move(*connection));
    return resolved;
}

}  // namespace mailhook::nginx
