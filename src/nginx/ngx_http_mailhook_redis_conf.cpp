// SPDX-License-Identifier: BSD-2-Clause
// The mailhook_redis* directives, and what the master prepares from them
// for the workers: the TLS context, the node's addresses or the resolver.
#include <string>
#include <vector>

#include "ngx_http_mailhook_redis.hpp"
#include "ngx_http_mailhook_state.hpp"

namespace mailhook::nginx {
namespace {

constexpr ngx_int_t kVerifyDepth = 8;  // managed services chain through intermediates

char* conf_error(ngx_conf_t* cf, const std::string& message) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", message.c_str());
    return static_cast<char*>(NGX_CONF_ERROR);
}

// The http{} resolver, when one is configured (nginx gives every http{}
// a resolver without servers otherwise).
ngx_http_core_loc_conf_t* http_core_conf(ngx_conf_t* cf) {
    return static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
}

bool has_resolver(ngx_conf_t* cf) {
    const ngx_http_core_loc_conf_t* clcf = http_core_conf(cf);
    return clcf->resolver != nullptr && clcf->resolver->connections.nelts > 0;
}

// Socket addresses now, as proxy_pass does without a resolver (a host
// name is looked up once, here). Empty: ask the resolver at each connect.
char* node_addresses(ngx_conf_t* cf, RedisNode& node) {
    const RedisEndpoint& endpoint = node.endpoint;
    if (!endpoint.is_unix() && !is_ip_address(endpoint.host) && has_resolver(cf)) {
        return NGX_CONF_OK;
    }
    std::string text = endpoint.describe();
    ngx_url_t url;
    ngx_memzero(&url, sizeof(url));
    url.url = copy_to_pool(cf->pool, text);
    url.default_port = 6379;
    if (url.url.data == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (ngx_parse_url(cf->pool, &url) != NGX_OK || url.naddrs == 0) {
        return conf_error(cf, std::string(url.err != nullptr ? url.err : "host not found") +
                                  " in mailhook_redis \"" + text + "\"");
    }
    node.addresses.assign(url.addrs, url.addrs + url.naddrs);
    return NGX_CONF_OK;
}

#if (NGX_SSL)
// Accept the chain during the handshake; the link checks the verdict
// (SSL_get_verify_result) and the name before it sends anything.
int keep_handshaking(int, X509_STORE_CTX*) { return 1; }

char* tls_context(ngx_conf_t* cf, MainConf* mcf, RedisLinkSettings& link) {
    auto* ssl = static_cast<ngx_ssl_t*>(ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t)));
    if (ssl == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    ssl->log = cf->log;
    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2 | NGX_SSL_TLSv1_3, nullptr) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(cf->pool, 0);
    if (cleanup == nullptr) {
        ngx_ssl_cleanup_ctx(ssl);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    cleanup->handler = ngx_ssl_cleanup_ctx;
    cleanup->data = ssl;
    // The link's write buffer may move between a partial write and its retry.
    SSL_CTX_set_mode(ssl->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    if (mcf->redis_ssl_certificate.len > 0) {
        if (mcf->redis_ssl_certificate_key.len == 0) {
            return conf_error(cf, "no \"mailhook_redis_ssl_certificate_key\" for "
                                  "\"mailhook_redis_ssl_certificate\"");
        }
        if (ngx_ssl_certificate(cf, ssl, &mcf->redis_ssl_certificate,
                                &mcf->redis_ssl_certificate_key, nullptr) != NGX_OK) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    if (link.ssl_verify) {
        ngx_str_t trusted = mcf->redis_ssl_trusted_certificate;
        if (ngx_ssl_trusted_certificate(cf, ssl, &trusted, kVerifyDepth) != NGX_OK) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        SSL_CTX_set_verify(ssl->ctx, SSL_CTX_get_verify_mode(ssl->ctx), keep_handshaking);
        if (trusted.len == 0 && SSL_CTX_set_default_verify_paths(ssl->ctx) != 1) {
            return conf_error(cf, "mailhook_redis: cannot load the system's trusted CA "
                                  "certificates; set mailhook_redis_ssl_trusted_certificate");
        }
    }
    if (ngx_ssl_client_session_cache(cf, ssl, 1) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    link.ssl = ssl;
    return NGX_CONF_OK;
}
#endif

char* tls_settings(ngx_conf_t* cf, MainConf* mcf, RedisSettings& settings) {
    RedisLinkSettings& link = settings.link;
    const bool tls_directive = mcf->redis_ssl_trusted_certificate.len > 0 ||
                               mcf->redis_ssl_certificate.len > 0 ||
                               mcf->redis_ssl_name.len > 0 ||
                               mcf->redis_ssl_verify != NGX_CONF_UNSET;
    if (!settings.target.tls) {
        return tls_directive ? conf_error(cf, "mailhook_redis_ssl_* directives need \"tls\" "
                                              "in mailhook_redis")
                             : NGX_CONF_OK;
    }
    link.ssl_verify = mcf->redis_ssl_verify != 0;  // on unless "off"
    link.ssl_name = std::string(to_view(mcf->redis_ssl_name));
    if (link.ssl_verify && link.ssl_name.empty() && settings.target.endpoints[0].is_unix()) {
        return conf_error(cf, "mailhook_redis: TLS over a unix socket needs "
                              "mailhook_redis_ssl_name (or mailhook_redis_ssl_verify off)");
    }
#if (NGX_SSL)
    return tls_context(cf, mcf, link);
#else
    return conf_error(cf, "mailhook_redis: \"tls\" needs nginx built with OpenSSL");
#endif
}

}  // namespace

char* set_redis(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    try {
        auto* mcf = static_cast<MainConf*>(conf);
        RedisSettings& settings = mcf->state->redis_settings;
        if (!settings.target.endpoints.empty()) {
            return const_cast<char*>("is duplicate");
        }
        auto* args = static_cast<ngx_str_t*>(cf->args->elts);
        std::vector<std::string_view> values;
        for (ngx_uint_t i = 1; i < cf->args->nelts; ++i) {
            values.push_back(to_view(args[i]));
        }
        std::string error;
        auto target = parse_redis_target(values, error);
        if (!target) {
            return conf_error(cf, "mailhook_redis: " + error);
        }
        settings.target = std::move(*target);
        return NGX_CONF_OK;
    } catch (const std::exception& e) {
        return conf_error(cf, std::string("mailhook: ") + e.what());
    }
}

// mailhook_redis_wait replicas [timeout=time] | off;
char* set_redis_wait(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<MainConf*>(conf);
    RedisLinkSettings& link = mcf->state->redis_settings.link;
    if (mcf->redis_wait_set) {
        return const_cast<char*>("is duplicate");
    }
    mcf->redis_wait_set = 1;
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    if (to_view(args[1]) == "off" && cf->args->nelts == 2) {
        link.wait_replicas = 0;
        return NGX_CONF_OK;
    }
    const ngx_int_t replicas = ngx_atoi(args[1].data, args[1].len);
    if (replicas == NGX_ERROR || replicas < 1) {
        return const_cast<char*>("needs a number of replicas (at least 1) or \"off\"");
    }
    link.wait_replicas = replicas;
    if (cf->args->nelts == 3) {
        const std::string_view arg = to_view(args[2]);
        if (arg.substr(0, 8) != "timeout=") {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &args[2]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        ngx_str_t value = {args[2].len - 8, args[2].data + 8};
        const ngx_msec_t timeout = ngx_parse_time(&value, 0);
        if (timeout == static_cast<ngx_msec_t>(NGX_ERROR) || timeout == 0) {
            return const_cast<char*>("has an invalid \"timeout=\" value");
        }
        link.wait_timeout = timeout;
    }
    return NGX_CONF_OK;
}

char* configure_redis(ngx_conf_t* cf, MainConf* mcf) noexcept {
    try {
        RedisSettings& settings = mcf->state->redis_settings;
        if (settings.target.endpoints.empty()) {
            std::string unused;
            settings.target = *parse_redis_target({"127.0.0.1:6379"}, unused);
        }
        RedisLinkSettings& link = settings.link;
        link.user = settings.target.user;
        link.password = settings.target.password;
        link.db = settings.target.db;
        link.cluster = settings.target.cluster;
        link.connect_timeout = mcf->redis_connect_timeout;
        if (has_resolver(cf)) {
            const ngx_http_core_loc_conf_t* clcf = http_core_conf(cf);
            link.resolver = clcf->resolver;
            // http{} itself is never merged: nginx's default when unset
            link.resolver_timeout = clcf->resolver_timeout == NGX_CONF_UNSET_MSEC
                                        ? 30000
                                        : clcf->resolver_timeout;
        }
        if (char* rv = tls_settings(cf, mcf, settings); rv != NGX_CONF_OK) {
            return rv;
        }
        if (settings.target.uses_sentinel()) {
            settings.sentinel_link = link;  // TLS, resolver and timeouts as for the primary
            settings.sentinel_link.user = settings.target.sentinel_user;
            settings.sentinel_link.password = settings.target.sentinel_password;
            settings.sentinel_link.db = 0;
            settings.sentinel_link.wait_replicas = 0;
            link.primary_only = true;
        }
        settings.nodes.clear();
        for (const RedisEndpoint& endpoint : settings.target.endpoints) {
            RedisNode node{endpoint, {}};
            if (char* rv = node_addresses(cf, node); rv != NGX_CONF_OK) {
                return rv;
            }
            settings.nodes.push_back(std::move(node));
        }
        return NGX_CONF_OK;
    } catch (const std::exception& e) {
        return conf_error(cf, std::string("mailhook: ") + e.what());
    }
}

}  // namespace mailhook::nginx
