// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_variables.hpp"

#include <string>

#include "ngx_http_mailhook_request.hpp"

namespace mailhook::nginx {
namespace {

enum class Field { vendor, connection, tenant, events, duplicates, result, redis_time };

}  // namespace

ngx_int_t set_variable_value(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                             std::string_view text) {
    const ngx_str_t copy = copy_to_pool(r->pool, text);
    if (copy.data == nullptr) {
        return NGX_ERROR;
    }
    v->data = copy.data;
    v->len = copy.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}

namespace {

std::string field_text(const RequestCtx& ctx, Field field, bool& found) {
    found = true;
    switch (field) {
        case Field::vendor: return std::string(to_view(ctx.vendor_name));
        case Field::connection: return std::string(to_view(ctx.connection_id));
        case Field::tenant:
            if (ctx.connection && ctx.connection->tenant) return *ctx.connection->tenant;
            break;
        case Field::events:
            if (ctx.events >= 0) return std::to_string(ctx.events);
            break;
        case Field::duplicates:
            if (ctx.duplicates >= 0) return std::to_string(ctx.duplicates);
            break;
        case Field::result:
            if (!ctx.result.empty()) return ctx.result;
            break;
        case Field::redis_time:
            if (ctx.redis_timed) {
                const std::uint64_t usec = ctx.redis_usec;
                char buffer[32];
                const int n = snprintf(buffer, sizeof(buffer), "%lu.%06lu",
                                       static_cast<unsigned long>(usec / 1000000),
                                       static_cast<unsigned long>(usec % 1000000));
                return std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0);
            }
            break;
    }
    found = false;
    return {};
}

ngx_int_t get_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                       uintptr_t data) noexcept {
    try {
        const RequestCtx* ctx = request_ctx(r);
        bool found = false;
        const std::string text =
            ctx ? field_text(*ctx, static_cast<Field>(data), found) : std::string();
        if (!found) {
            v->not_found = 1;
            return NGX_OK;
        }
        return set_variable_value(r, v, text);
    } catch (...) {
        return NGX_ERROR;
    }
}

struct VariableSpec {
    ngx_str_t name;
    Field field;
};

const VariableSpec kVariables[] = {
    {ngx_string("mailhook_vendor"), Field::vendor},
    {ngx_string("mailhook_connection"), Field::connection},
    {ngx_string("mailhook_tenant"), Field::tenant},
    {ngx_string("mailhook_events"), Field::events},
    {ngx_string("mailhook_duplicates"), Field::duplicates},
    {ngx_string("mailhook_result"), Field::result},
    {ngx_string("mailhook_redis_time"), Field::redis_time},
};

}  // namespace

ngx_int_t add_variables(ngx_conf_t* cf) {
    for (const VariableSpec& spec : kVariables) {
        ngx_str_t name = spec.name;  // nginx copies the name
        ngx_http_variable_t* var =
            ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
        if (var == nullptr) {
            return NGX_ERROR;
        }
        var->get_handler = get_variable;
        var->data = static_cast<uintptr_t>(spec.field);
    }
    return NGX_OK;
}

}  // namespace mailhook::nginx
