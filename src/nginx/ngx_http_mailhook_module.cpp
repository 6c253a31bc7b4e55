// SPDX-License-Identifier: BSD-2-Clause
// Module definition: directives, configuration, worker start and exit.
#include <cstring>

#include "../core/key_slot.hpp"
#include "../core/store_script.hpp"
#include "../core/tracking_store.hpp"
#include "../core/vendor.hpp"
#include "ngx_http_mailhook_memory.hpp"
#include "ngx_http_mailhook_metrics.hpp"
#include "ngx_http_mailhook_outbound.hpp"
#include "ngx_http_mailhook_request.hpp"
#include "ngx_http_mailhook_state.hpp"
#include "ngx_http_mailhook_variables.hpp"

namespace mailhook::nginx {

ngx_str_t copy_to_pool(ngx_pool_t* pool, std::string_view text) {
    ngx_str_t out;
    out.len = text.size();
    out.data = static_cast<u_char*>(ngx_pnalloc(pool, text.size() + 1));
    if (out.data != nullptr) {
        ngx_memcpy(out.data, text.data(), text.size());
        out.data[text.size()] = '\0';
    }
    return out;
}

ngx_int_t push_header(ngx_http_request_t* r, const char* key, std::string_view value,
                      ngx_table_elt_t** out) {
    auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    h->hash = 1;
    h->key.data = reinterpret_cast<u_char*>(const_cast<char*>(key));
    h->key.len = std::strlen(key);
    h->value = copy_to_pool(r->pool, value);
    if (h->value.data == nullptr) {
        return NGX_ERROR;
    }
    if (out != nullptr) *out = h;
    return NGX_OK;
}

std::string complex_value_or(ngx_http_request_t* r, ngx_http_complex_value_t* value,
                             std::string_view fallback) {
    ngx_str_t out;
    if (value == nullptr || ngx_http_complex_value(r, value, &out) != NGX_OK ||
        out.len == 0) {
        return std::string(fallback);
    }
    return std::string(to_view(out));
}

const StoreKeys& store_keys_for(ngx_http_request_t* r, std::optional<StoreKeys>& storage) {
    const LocConf* lcf = loc_conf(r);
    if (!lcf->store_keys_vary) {
        return *lcf->store_keys;
    }
    StoreKeys& keys = storage.emplace(*lcf->store_keys);
    keys.stream = complex_value_or(r, lcf->stream, "mailhook:events");
    keys.suppression_stream =
        complex_value_or(r, lcf->suppression_stream, "mailhook:suppression-events");
    keys.control_stream = complex_value_or(r, lcf->control_stream, "mailhook:control");
    return keys;
}

ngx_str_t request_id(ngx_http_request_t* r) {
    ngx_str_t id = ngx_string("-");
    ngx_http_variable_value_t* value =
        ngx_http_get_indexed_variable(r, main_conf(r)->request_id_index);
    if (value != nullptr && !value->not_found && value->valid) {
        id.data = value->data;
        id.len = value->len;
    }
    return id;
}

ngx_int_t send_body(ngx_http_request_t* r, ngx_uint_t status,
                    std::string_view content_type, std::string_view body) {
    r->headers_out.status = status;
    r->headers_out.content_length_n = static_cast<off_t>(body.size());
    r->headers_out.content_type.data =
        reinterpret_cast<u_char*>(const_cast<char*>(content_type.data()));
    r->headers_out.content_type.len = content_type.size();
    r->headers_out.content_type_len = content_type.size();
    const ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only || body.empty()) {
        return rc;
    }
    ngx_buf_t* b = ngx_create_temp_buf(r->pool, body.size());
    if (b == nullptr) {
        return NGX_ERROR;
    }
    b->last = ngx_cpymem(b->last, body.data(), body.size());
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

namespace {

ngx_int_t handler_entry(ngx_http_request_t* r) { return content_handler(r); }
ngx_int_t status_entry(ngx_http_request_t* r) { return status_handler(r); }

void mark_used(ngx_conf_t* cf) {
    auto* mcf = static_cast<MainConf*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_mailhook_module));
    mcf->used = 1;
}

char* set_status(ngx_conf_t* cf, ngx_command_t*, void*) {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = status_entry;
    mark_used(cf);
    return NGX_CONF_OK;
}

char* set_mailhook(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* lcf = static_cast<LocConf*>(conf);
    if (lcf->enabled != NGX_CONF_UNSET) {
        return const_cast<char*>("is duplicate");
    }
    lcf->enabled = 1;
    mark_used(cf);
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = handler_entry;
    return NGX_CONF_OK;
}

// Security review L7: a connection whose captured requests can be stored
// again once their dedup key expires is declared with a warning.
void warn_if_replayable(ngx_conf_t* cf, ngx_str_t& id, const ResolvedConnection& resolved) {
    const Vendor* vendor =
        resolved.connection ? find_vendor(resolved.connection->vendor) : nullptr;
    if (vendor == nullptr) return;
    if (const auto warning = replay_warning(*vendor, *resolved.connection)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "connection \"%V\": %s", &id,
                           warning->c_str());
    }
}

// mailhook_connection <id> vendor=<name> secret=<...> [name=value ...];
char* set_connection(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* mcf = static_cast<MainConf*>(conf);
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    const std::string_view id = to_view(args[1]);
    if (!is_valid_connection_id(id)) {
        return const_cast<char*>("has an invalid connection id");
    }
    FieldList fields;
    for (ngx_uint_t i = 2; i < cf->args->nelts; ++i) {
        const std::string_view arg = to_view(args[i]);
        const std::size_t eq = arg.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", expected name=value",
                               &args[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        fields.emplace_back(std::string(arg.substr(0, eq)),
                            std::string(arg.substr(eq + 1)));
    }
    ResolvedConnection resolved = resolve_fields(id, fields);
    if (resolved.kind == ResolvedConnection::Kind::unusable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "connection \"%V\": %s", &args[1],
                           resolved.error.c_str());
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    warn_if_replayable(cf, args[1], resolved);
    if (!mcf->state->static_connections.emplace(std::string(id), std::move(resolved))
             .second) {
        return const_cast<char*>("declares a connection id twice");
    }
    return NGX_CONF_OK;
}

// mailhook_key_hash_tag off | buckets[=<number>] | tenant;
char* set_key_hash_tag(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* mcf = static_cast<MainConf*>(conf);
    const std::string_view value = to_view(static_cast<ngx_str_t*>(cf->args->elts)[1]);
    if (value == "off") {
        mcf->key_buckets = 0;
        return NGX_CONF_OK;
    }
    if (value == "tenant") {
        mcf->key_tenant_tag = 1;
        return NGX_CONF_OK;
    }
    if (value == "buckets") {
        mcf->key_buckets = kDefaultKeyBuckets;
        return NGX_CONF_OK;
    }
    constexpr std::string_view kBuckets = "buckets=";
    if (value.substr(0, kBuckets.size()) == kBuckets) {
        ngx_str_t number = {value.size() - kBuckets.size(),
                            const_cast<u_char*>(
                                reinterpret_cast<const u_char*>(value.data()) + kBuckets.size())};
        const ngx_int_t buckets = ngx_atoi(number.data, number.len);
        if (buckets >= 1 && buckets <= static_cast<ngx_int_t>(kClusterSlots)) {
            mcf->key_buckets = static_cast<ngx_uint_t>(buckets);
            return NGX_CONF_OK;
        }
    }
    return const_cast<char*>("must be off, buckets, buckets=<1 to 16384> or tenant");
}

// mailhook_spool <dir> [max_size=<size>] [tracking_max_size=<size>]
//                [connections=<size>];
char* set_spool(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* mcf = static_cast<MainConf*>(conf);
    if (mcf->spool_path != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    if (to_view(args[1]) == "off") {
        return NGX_CONF_OK;
    }
    auto* path = static_cast<ngx_path_t*>(ngx_pcalloc(cf->pool, sizeof(ngx_path_t)));
    if (path == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    path->name = args[1];
    if (path->name.len > 1 && path->name.data[path->name.len - 1] == '/') {
        path->name.len--;
    }
    if (ngx_conf_full_name(cf->cycle, &path->name, 0) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    path->conf_file = cf->conf_file->file.name.data;
    path->line = cf->conf_file->line;
    for (ngx_uint_t i = 2; i < cf->args->nelts; ++i) {
        const std::string_view arg = to_view(args[i]);
        const std::size_t eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq == std::string_view::npos ? 0 : eq);
        if (name == "connections") {
            ngx_str_t size = {args[i].len - eq - 1, args[i].data + eq + 1};
            const ssize_t bytes = ngx_parse_size(&size);
            if (bytes == NGX_ERROR || bytes < static_cast<ssize_t>(8 * ngx_pagesize)) {
                return const_cast<char*>("has an invalid \"connections=\" size (at least 32k)");
            }
            mcf->known_zone_size = static_cast<size_t>(bytes);
            continue;
        }
        off_t* target = name == "max_size"            ? &mcf->spool_max_size
                        : name == "tracking_max_size" ? &mcf->spool_tracking_max_size
                                                      : nullptr;
        if (target == nullptr) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &args[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        ngx_str_t size = {args[i].len - eq - 1, args[i].data + eq + 1};
        *target = ngx_parse_offset(&size);
        if (*target < 0 || (*target == 0 && target == &mcf->spool_max_size)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value in \"%V\"", &args[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    // nginx creates the directory at start and gives it to the worker user.
    if (ngx_add_path(cf, &path) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    mcf->spool_path = path;
    return NGX_CONF_OK;
}

// mailhook_timestamp_tolerance <vendor> <time>; (0 turns the check off)
char* set_tolerance(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* lcf = static_cast<LocConf*>(conf);
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    if (find_vendor(to_view(args[1])) == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "unknown vendor \"%V\"", &args[1]);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    const time_t seconds = ngx_parse_time(&args[2], 1);
    if (seconds == static_cast<time_t>(NGX_ERROR)) {
        return const_cast<char*>("has an invalid time");
    }
    if (lcf->tolerances == nullptr || lcf->tolerances == NGX_CONF_UNSET_PTR) {
        lcf->tolerances = ngx_array_create(cf->pool, 4, sizeof(TimestampTolerance));
        if (lcf->tolerances == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    auto* entry = static_cast<TimestampTolerance*>(ngx_array_push(lcf->tolerances));
    if (entry == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    entry->vendor = args[1];
    entry->seconds = seconds;
    return NGX_CONF_OK;
}

// mailhook_soft_bounce_limit <count> <window> | off;
char* set_soft_bounce_limit(ngx_conf_t* cf, ngx_command_t*, void* conf) {
    auto* lcf = static_cast<LocConf*>(conf);
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    if (lcf->soft_bounce_limit != NGX_CONF_UNSET) {
        return const_cast<char*>("is duplicate");
    }
    if (cf->args->nelts == 2 && to_view(args[1]) == "off") {
        lcf->soft_bounce_limit = 0;
        lcf->soft_bounce_window = 0;
        return NGX_CONF_OK;
    }
    if (cf->args->nelts != 3) {
        return const_cast<char*>("needs a count and a window, or \"off\"");
    }
    lcf->soft_bounce_limit = ngx_atoi(args[1].data, args[1].len);
    lcf->soft_bounce_window = ngx_parse_time(&args[2], 1);
    if (lcf->soft_bounce_limit <= 0 ||
        lcf->soft_bounce_window == static_cast<time_t>(NGX_ERROR) ||
        lcf->soft_bounce_window <= 0) {
        return const_cast<char*>("has an invalid count or window");
    }
    return NGX_CONF_OK;
}

#define MAILHOOK_LOC_OFFSET(field) offsetof(LocConf, field)
#define MAILHOOK_MAIN_OFFSET(field) offsetof(MainConf, field)

ngx_command_t commands[] = {
    {ngx_string("mailhook"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_mailhook,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_status,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_redis"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE, set_redis,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_redis_connect_timeout"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     MAILHOOK_MAIN_OFFSET(redis_connect_timeout), nullptr},
    {ngx_string("mailhook_redis_wait"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12, set_redis_wait,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_redis_ssl_trusted_certificate"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     MAILHOOK_MAIN_OFFSET(redis_ssl_trusted_certificate), nullptr},
    {ngx_string("mailhook_redis_ssl_certificate"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     MAILHOOK_MAIN_OFFSET(redis_ssl_certificate), nullptr},
    {ngx_string("mailhook_redis_ssl_certificate_key"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     MAILHOOK_MAIN_OFFSET(redis_ssl_certificate_key), nullptr},
    {ngx_string("mailhook_redis_ssl_name"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET, MAILHOOK_MAIN_OFFSET(redis_ssl_name),
     nullptr},
    {ngx_string("mailhook_redis_ssl_verify"), NGX_HTTP_MAIN_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_MAIN_CONF_OFFSET, MAILHOOK_MAIN_OFFSET(redis_ssl_verify),
     nullptr},
    {ngx_string("mailhook_key_prefix"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET, MAILHOOK_MAIN_OFFSET(key_prefix),
     nullptr},
    {ngx_string("mailhook_consumer_group"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     set_consumer_group, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_key_hash_tag"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     set_key_hash_tag, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_spool"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE, set_spool,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_connection"), NGX_HTTP_MAIN_CONF | NGX_CONF_2MORE,
     set_connection, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_connection_cache"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     MAILHOOK_MAIN_OFFSET(connection_cache_ttl), nullptr},
    {ngx_string("mailhook_redis_timeout"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     MAILHOOK_LOC_OFFSET(redis_timeout), nullptr},
    {ngx_string("mailhook_retry_after"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_sec_slot, NGX_HTTP_LOC_CONF_OFFSET, MAILHOOK_LOC_OFFSET(retry_after),
     nullptr},
    {ngx_string("mailhook_stream"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_http_set_complex_value_slot, NGX_HTTP_LOC_CONF_OFFSET,
     MAILHOOK_LOC_OFFSET(stream), nullptr},
    {ngx_string("mailhook_stream_maxlen"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_LOC_CONF_OFFSET,
     MAILHOOK_LOC_OFFSET(stream_maxlen), nullptr},
    {ngx_string("mailhook_stream_max_age"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_sec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     MAILHOOK_LOC_OFFSET(stream_max_age), nullptr},
    {ngx_string("mailhook_suppression_stream"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_http_set_complex_value_slot, NGX_HTTP_LOC_CONF_OFFSET,
     MAILHOOK_LOC_OFFSET(suppression_stream), nullptr},
    {ngx_string("mailhook_control_stream"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_http_set_complex_value_slot, NGX_HTTP_LOC_CONF_OFFSET,
     MAILHOOK_LOC_OFFSET(control_stream), nullptr},
    {ngx_string("mailhook_dedup_ttl"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_sec_slot, NGX_HTTP_LOC_CONF_OFFSET, MAILHOOK_LOC_OFFSET(dedup_ttl),
     nullptr},
    {ngx_string("mailhook_soft_bounce_limit"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE12,
     set_soft_bounce_limit, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_raw"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET, MAILHOOK_LOC_OFFSET(include_raw),
     nullptr},
    {ngx_string("mailhook_max_events"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_LOC_CONF_OFFSET, MAILHOOK_LOC_OFFSET(max_events),
     nullptr},
    {ngx_string("mailhook_max_recipients"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_LOC_CONF_OFFSET, MAILHOOK_LOC_OFFSET(max_recipients),
     nullptr},
    {ngx_string("mailhook_max_json_depth"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_LOC_CONF_OFFSET, MAILHOOK_LOC_OFFSET(max_json_depth),
     nullptr},
    {ngx_string("mailhook_public_url"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_http_set_complex_value_slot, NGX_HTTP_LOC_CONF_OFFSET,
     MAILHOOK_LOC_OFFSET(public_url), nullptr},
    {ngx_string("mailhook_timestamp_tolerance"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE2,
     set_tolerance, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_sns_certificates"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     set_sns_certificates, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_sns_fetch"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     set_internal_uri, NGX_HTTP_LOC_CONF_OFFSET, MAILHOOK_LOC_OFFSET(sns_fetch),
     nullptr},
    {ngx_string("mailhook_auto_confirm"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     set_internal_uri, NGX_HTTP_LOC_CONF_OFFSET, MAILHOOK_LOC_OFFSET(auto_confirm),
     nullptr},
    ngx_null_command};

void* create_main_conf(ngx_conf_t* cf) noexcept {
    try {
        auto* mcf = static_cast<MainConf*>(ngx_pcalloc(cf->pool, sizeof(MainConf)));
        if (mcf == nullptr) {
            return nullptr;
        }
        mcf->spool_tracking_max_size = -1;
        mcf->known_zone_size = NGX_CONF_UNSET_SIZE;
        mcf->redis_connect_timeout = NGX_CONF_UNSET_MSEC;
        mcf->redis_ssl_verify = NGX_CONF_UNSET;
        mcf->connection_cache_ttl = NGX_CONF_UNSET_MSEC;
        mcf->key_buckets = NGX_CONF_UNSET_UINT;
        mcf->state = pool_new<ModuleState>(cf->pool);
        return mcf->state == nullptr ? nullptr : mcf;
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mailhook: %s", e.what());
        return nullptr;
    }
}

char* init_main_conf(ngx_conf_t* cf, void* conf) noexcept {
    auto* mcf = static_cast<MainConf*>(conf);
    ngx_conf_init_msec_value(mcf->redis_connect_timeout, 1000);
    ngx_conf_init_msec_value(mcf->connection_cache_ttl, 10000);
    if (mcf->key_prefix.data == nullptr) {
        ngx_str_set(&mcf->key_prefix, "mailhook:");
    }
    // A cluster needs every key of a request in one slot: buckets unless
    // mailhook_key_hash_tag says otherwise (off is refused).
    const bool cluster = mcf->state->redis_settings.target.cluster;
    if (cluster && mcf->key_buckets == 0 && !mcf->key_tenant_tag) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"mailhook_key_hash_tag off\" with a "
                           "\"cluster\" in mailhook_redis: the keys of a request would span slots");
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (mcf->key_buckets == NGX_CONF_UNSET_UINT) {
        mcf->key_buckets = cluster && !mcf->key_tenant_tag ? kDefaultKeyBuckets : 0;
    }
    ngx_str_t request_id_name = ngx_string("request_id");
    mcf->request_id_index = ngx_http_get_variable_index(cf, &request_id_name);
    if (mcf->request_id_index == NGX_ERROR) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (mcf->used) {
        mcf->metrics_zone = add_metrics_zone(cf);
        if (mcf->metrics_zone == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        if (char* rv = configure_redis(cf, mcf); rv != NGX_CONF_OK) {
            return rv;
        }
    }
    try {
        if (mcf->spool_path != nullptr) {
            SpoolSettings spool;
            spool.dir = std::string(to_view(mcf->spool_path->name));
            if (mcf->spool_max_size > 0) spool.max_bytes = mcf->spool_max_size;
            spool.tracking_max_bytes = mcf->spool_tracking_max_size;
            spool.segment_bytes = std::min<off_t>(spool.segment_bytes, spool.max_bytes);
            mcf->state->spool_settings = spool;
            // Connections any worker resolved, for every worker and a restart.
            ngx_conf_init_size_value(mcf->known_zone_size, 4 * 1024 * 1024);
            mcf->known_zone = KnownConnections::add_zone(
                cf, mcf->known_zone_size,
                spool.dir + "/" + std::string(KnownConnections::kSnapshotName));
            if (mcf->known_zone == nullptr) {
                return static_cast<char*>(NGX_CONF_ERROR);
            }
        }
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mailhook: %s", e.what());
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return NGX_CONF_OK;
}

void* create_loc_conf(ngx_conf_t* cf) noexcept {
    auto* lcf = static_cast<LocConf*>(ngx_pcalloc(cf->pool, sizeof(LocConf)));
    if (lcf == nullptr) {
        return nullptr;
    }
    lcf->enabled = NGX_CONF_UNSET;
    lcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    lcf->retry_after = NGX_CONF_UNSET;
    lcf->dedup_ttl = NGX_CONF_UNSET;
    lcf->stream_maxlen = NGX_CONF_UNSET;
    lcf->stream_max_age = NGX_CONF_UNSET;
    lcf->soft_bounce_limit = NGX_CONF_UNSET;
    lcf->soft_bounce_window = NGX_CONF_UNSET;
    lcf->include_raw = NGX_CONF_UNSET;
    lcf->max_events = NGX_CONF_UNSET_UINT;
    lcf->max_recipients = NGX_CONF_UNSET_UINT;
    lcf->max_json_depth = NGX_CONF_UNSET_UINT;
    lcf->tolerances = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
    return lcf;
}

std::string constant_or(const ngx_http_complex_value_t* value, std::string_view fallback) {
    return value == nullptr ? std::string(fallback) : std::string(to_view(value->value));
}

bool holds_variables(const ngx_http_complex_value_t* value) {
    return value != nullptr && value->lengths != nullptr;
}

// The key names of a location: the prefix from mailhook_key_prefix, and the
// streams when they hold no variables.
bool build_store_keys(ngx_conf_t* cf, LocConf* conf) {
    const auto* mcf = static_cast<MainConf*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_mailhook_module));
    auto* keys = pool_new<StoreKeys>(cf->pool);
    if (keys == nullptr) {
        return false;
    }
    keys->prefix = std::string(to_view(mcf->key_prefix));
    if (mcf->key_tenant_tag) {
        keys->tags = KeyTags::tenant;
    } else if (mcf->key_buckets > 0) {
        keys->use_buckets(static_cast<std::uint32_t>(mcf->key_buckets));
    }
    keys->stream = constant_or(conf->stream, "mailhook:events");
    keys->suppression_stream =
        constant_or(conf->suppression_stream, "mailhook:suppression-events");
    keys->control_stream = constant_or(conf->control_stream, "mailhook:control");
    conf->store_keys = keys;
    conf->store_keys_vary = holds_variables(conf->stream) ||
                            holds_variables(conf->suppression_stream) ||
                            holds_variables(conf->control_stream);
    return true;
}

char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<LocConf*>(parent);
    auto* conf = static_cast<LocConf*>(child);
    ngx_conf_merge_value(conf->enabled, prev->enabled, 0);
    ngx_conf_merge_msec_value(conf->redis_timeout, prev->redis_timeout, 2000);
    ngx_conf_merge_sec_value(conf->retry_after, prev->retry_after, 10);
    ngx_conf_merge_sec_value(conf->dedup_ttl, prev->dedup_ttl, 26 * 3600);
    ngx_conf_merge_value(conf->stream_maxlen, prev->stream_maxlen, 0);
    ngx_conf_merge_sec_value(conf->stream_max_age, prev->stream_max_age, 0);
    if (conf->soft_bounce_limit == NGX_CONF_UNSET) {
        conf->soft_bounce_limit =
            prev->soft_bounce_limit == NGX_CONF_UNSET ? 0 : prev->soft_bounce_limit;
        conf->soft_bounce_window =
            prev->soft_bounce_window == NGX_CONF_UNSET ? 0 : prev->soft_bounce_window;
    }
    ngx_conf_merge_value(conf->include_raw, prev->include_raw, 1);
    ngx_conf_merge_uint_value(conf->max_events, prev->max_events, 10000);
    ngx_conf_merge_uint_value(conf->max_recipients, prev->max_recipients, 100);
    ngx_conf_merge_uint_value(conf->max_json_depth, prev->max_json_depth,
                              kDefaultMaxJsonDepth);
    ngx_conf_merge_ptr_value(conf->tolerances, prev->tolerances, nullptr);
    if (conf->stream == nullptr) conf->stream = prev->stream;
    if (conf->suppression_stream == nullptr) {
        conf->suppression_stream = prev->suppression_stream;
    }
    if (conf->control_stream == nullptr) conf->control_stream = prev->control_stream;
    if (conf->public_url == nullptr) conf->public_url = prev->public_url;
    ngx_conf_merge_str_value(conf->sns_fetch, prev->sns_fetch, "");
    ngx_conf_merge_str_value(conf->auto_confirm, prev->auto_confirm, "");
    try {
        if (!build_store_keys(cf, conf)) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mailhook: %s", e.what());
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return NGX_CONF_OK;
}

ngx_int_t preconfiguration(ngx_conf_t* cf) noexcept {
    if (add_variables(cf) != NGX_OK) {
        return NGX_ERROR;
    }
    return add_outbound_variables(cf);
}

// The link reports every change: metrics follow it, and a ready link lets
// the spool replay.
void on_link_state(void* data, bool ready, std::uint64_t reconnects) {
    auto* state = static_cast<ModuleState*>(data);
    state->metrics.redis_state(ready, reconnects);
    if (ready) {
        state->consumer_groups.create(*state->redis);
    }
    if (ready && state->spool) {
        state->spool->kick();
    }
}

ngx_int_t init_process(ngx_cycle_t* cycle) noexcept {
    auto* mcf = static_cast<MainConf*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mailhook_module));
    // Only workers talk to Redis (not the cache manager or loader), and only
    // when a location uses the module.
    if (mcf == nullptr || !mcf->used ||
        (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE)) {
        return NGX_OK;
    }
    try {
        if (start_memory_trim(cycle) != NGX_OK) {
            return NGX_ERROR;
        }
        ModuleState& state = *mcf->state;
        state.metrics = MetricsRecorder(
            mcf->metrics_zone ? static_cast<SharedMetrics*>(mcf->metrics_zone->data)
                              : nullptr);
        state.redis = std::make_unique<RedisClient>(state.redis_settings, &state.metrics,
                                                    cycle->log);
        state.redis->add_script(&state.store_script);
        state.redis->add_script(&state.store_batch_script);
        state.redis->add_script(&state.tracking_script);
        state.redis->add_script(&state.health_script);
        if (state.spool_settings) {
            state.spool = std::make_unique<Spool>(*state.spool_settings, on_spooled,
                                                  &state.metrics, cycle->log);
            state.spool->start(state.redis.get(), {&state.store_script, &state.tracking_script});
        }
        if (mcf->known_zone != nullptr) {
            state.known = std::make_unique<KnownConnections>(mcf->known_zone, cycle->log);
            state.cache.attach(state.known.get());
        }
        state.consumer_groups.prepare(mcf->key_buckets, cycle->log);
        state.redis->set_state_hook(on_link_state, &state);
        state.metrics.redis_state(false, 0);
        state.redis->start();
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "mailhook: %s", e.what());
        return NGX_ERROR;
    }
    return NGX_OK;
}

void exit_process(ngx_cycle_t* cycle) noexcept {
    auto* mcf = static_cast<MainConf*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mailhook_module));
    if (mcf != nullptr && mcf->state != nullptr) {
        if (mcf->state->known) {
            mcf->state->cache.attach(nullptr);
            mcf->state->known->save_snapshot();  // for the next start
            mcf->state->known.reset();
        }
        mcf->state->redis.reset();  // closes the sockets; pending calls end
        mcf->state->spool.reset(); // after the link: replay callbacks use it
    }
}

ngx_http_module_t module_ctx = {
    preconfiguration, nullptr, create_main_conf, init_main_conf,
    nullptr,          nullptr, create_loc_conf,  merge_loc_conf};

}  // namespace
}  // namespace mailhook::nginx

// Built with -fvisibility=hidden; nginx finds the module through this symbol.
__attribute__((visibility("default"))) ngx_module_t ngx_http_mailhook_module = {
    NGX_MODULE_V1,
    &mailhook::nginx::module_ctx,
    mailhook::nginx::commands,
    NGX_HTTP_MODULE,
    nullptr,                          // init master
    nullptr,                          // init module
    mailhook::nginx::init_process,
    nullptr,                          // init thread
    nullptr,                          // exit thread
    mailhook::nginx::exit_process,
    nullptr,                          // exit master
    NGX_MODULE_V1_PADDING};
