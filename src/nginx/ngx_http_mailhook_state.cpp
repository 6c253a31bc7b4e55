// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_state.hpp"

#include "../core/vendor.hpp"

namespace mailhook::nginx {

namespace {

bool expired(ngx_msec_t expires, ngx_msec_t now) {
    return (ngx_msec_int_t) (expires - now) <= 0;
}

}  // namespace

const ResolvedConnection* ConnectionCache::find(std::string_view id, ngx_msec_t now,
                                                bool stale_ok) {
    if (const Entry* entry = usable_.find(id)) {
        return stale_ok || !expired(entry->expires, now) ? &entry->resolved : nullptr;
    }
    if (const Entry* entry = unknown_.find(id)) {
        return expired(entry->expires, now) ? nullptr : &entry->resolved;
    }
    return stale_ok ? find_known(id, now) : nullptr;
}

// A connection this worker never resolved, that another one did (or the
// nginx before a restart): its keys are parsed here, once; the entry is
// stale, so Redis is asked again as soon as it can be.
const ResolvedConnection* ConnectionCache::find_known(std::string_view id, ngx_msec_t now) {
    if (known_ == nullptr) {
        return nullptr;
    }
    const std::optional<FieldList> fields = known_->find(id);
    if (!fields) {
        return nullptr;
    }
    ResolvedConnection resolved = resolve_fields(id, *fields);
    if (resolved.kind != ResolvedConnection::Kind::usable) {
        return nullptr;
    }
    usable_.put(id, Entry{std::move(resolved), now});
    return &usable_.find(id)->resolved;
}

void ConnectionCache::put(std::string_view id, ResolvedConnection resolved,
                          ngx_msec_t expires) {
    if (resolved.kind == ResolvedConnection::Kind::usable) {
        if (known_ != nullptr && resolved.fields) {
            known_->remember(id, *resolved.fields);
        }
        unknown_.erase(id);
        usable_.put(id, Entry{std::move(resolved), expires});
        return;
    }
    // Gone from Redis (or broken): never serve it from the stale copy again.
    usable_.erase(id);
    if (known_ != nullptr) {
        known_->forget(id);
    }
    if (resolved.kind == ResolvedConnection::Kind::unknown) {
        (void) unknown_lookups_.take(static_cast<std::int64_t>(ngx_current_msec));
    }
    unknown_.put(id, Entry{std::move(resolved), expires});
}

bool ConnectionCache::may_look_up(ngx_msec_t now) {
    return !unknown_lookups_.empty(static_cast<std::int64_t>(now));
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
    resolved.fields = std::make_shared<const FieldList>(fields);
    return resolved;
}

}  // namespace mailhook::nginx
