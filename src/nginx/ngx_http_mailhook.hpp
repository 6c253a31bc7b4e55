// SPDX-License-Identifier: BSD-2-Clause
// The only place nginx headers are included; shared glue declarations.
#pragma once

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

extern ngx_module_t ngx_http_mailhook_module;
}

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mailhook {
struct StoreKeys;
}

namespace mailhook::nginx {

class ModuleState;

inline std::string_view to_view(const ngx_str_t& s) {
    return {reinterpret_cast<const char*>(s.data), s.len};
}

struct MainConf {
    // mailhook_redis itself is parsed into ModuleState::redis_settings.
    ngx_msec_t redis_connect_timeout;
    ngx_str_t redis_ssl_trusted_certificate;
    ngx_str_t redis_ssl_certificate;
    ngx_str_t redis_ssl_certificate_key;
    ngx_str_t redis_ssl_name;
    ngx_flag_t redis_ssl_verify;
    ngx_flag_t redis_wait_set;  // mailhook_redis_wait seen (its values are in redis_settings)
    ngx_msec_t connection_cache_ttl;
    ngx_str_t key_prefix;       // dedup:, suppression:, connection:, ... follow it
    // mailhook_key_hash_tag: buckets=N (N > 0), tenant, or neither (off).
    ngx_uint_t key_buckets;
    ngx_flag_t key_tenant_tag;
    ngx_path_t* spool_path;     // NULL: no spool
    off_t spool_max_size;
    off_t spool_tracking_max_size;  // -1: a tenth of spool_max_size
    size_t known_zone_size;         // connections= of mailhook_spool
    ngx_shm_zone_t* known_zone;     // with a spool
    ngx_flag_t used;     // some location has `mailhook;` or `mailhook_status;`
    ngx_shm_zone_t* metrics_zone;
    ngx_int_t request_id_index;  // $request_id, for log lines
    ModuleState* state;  // C++ side, destroyed by a cycle pool cleanup
};

struct TimestampTolerance {
    ngx_str_t vendor;
    time_t seconds;
};

struct LocConf {
    ngx_flag_t enabled;
    ngx_msec_t redis_timeout;
    time_t retry_after;
    ngx_http_complex_value_t* stream;
    ngx_http_complex_value_t* suppression_stream;
    ngx_http_complex_value_t* control_stream;
    ngx_str_t suppression_prefix;
    ngx_str_t dedup_prefix;
    time_t dedup_ttl;
    ngx_int_t stream_maxlen;
    time_t stream_max_age;  // mailhook_stream_max_age; 0: off
    ngx_int_t soft_bounce_limit;
    time_t soft_bounce_window;
    ngx_flag_t include_raw;
    ngx_uint_t max_events;
    ngx_uint_t max_recipients;
    ngx_uint_t max_json_depth;
    ngx_http_complex_value_t* public_url;
    ngx_array_t* tolerances;  // of TimestampTolerance
    // Key names, built once when the location is merged; streams named with
    // variables are filled in per request (store_keys_vary).
    StoreKeys* store_keys;
    ngx_flag_t store_keys_vary;
    ngx_str_t sns_fetch;      // internal location fetching SNS certificates
    ngx_str_t auto_confirm;   // internal location confirming subscriptions
};

inline MainConf* main_conf(ngx_http_request_t* r) {
    return static_cast<MainConf*>(
        ngx_http_get_module_main_conf(r, ngx_http_mailhook_module));
}

inline LocConf* loc_conf(ngx_http_request_t* r) {
    return static_cast<LocConf*>(
        ngx_http_get_module_loc_conf(r, ngx_http_mailhook_module));
}

// Places a C++ object in pool memory; the pool runs its destructor.
template <typename T, typename... Args>
T* pool_new(ngx_pool_t* pool, Args&&... args) {
    ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(pool, sizeof(T));
    if (cleanup == nullptr) {
        return nullptr;
    }
    T* object = new (cleanup->data) T(std::forward<Args>(args)...);
    cleanup->handler = [](void* data) { static_cast<T*>(data)->~T(); };
    return object;
}

ngx_str_t copy_to_pool(ngx_pool_t* pool, std::string_view text);

// The value of a directive that may hold variables; `fallback` when the
// directive is unset or its value is empty.
std::string complex_value_or(ngx_http_request_t* r, ngx_http_complex_value_t* value,
                             std::string_view fallback);

// The key names of the request's location, its streams evaluated when they
// hold variables (then in `storage`, made only then: the common request
// builds no key names of its own).
const StoreKeys& store_keys_for(ngx_http_request_t* r, std::optional<StoreKeys>& storage);

// $request_id of the request (nginx's random 32 hex digits), for logs.
ngx_str_t request_id(ngx_http_request_t* r);

// Adds a response header; `out`, when given, receives the header.
ngx_int_t push_header(ngx_http_request_t* r, const char* key, std::string_view value,
                      ngx_table_elt_t** out = nullptr);

// Sends a complete response (headers already added by the caller).
ngx_int_t send_body(ngx_http_request_t* r, ngx_uint_t status,
                    std::string_view content_type, std::string_view body);

}  // namespace mailhook::nginx
