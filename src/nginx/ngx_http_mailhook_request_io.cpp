// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_request_io.hpp"

namespace mailhook::nginx {
namespace {

std::size_t buffered_size(const ngx_buf_t* b) {
    if (ngx_buf_in_memory(b)) {
        return static_cast<size_t>(b->last - b->pos);
    }
    if (b->in_file) {
        return static_cast<size_t>(b->file_last - b->file_pos);
    }
    return 0;  // a special buffer (last_buf, flush) carries no bytes
}

}  // namespace

template <typename F>
void RequestHeaders::visit(std::string_view name, F&& f) const {
    for (ngx_list_part_t* part = &r_->headers_in.headers.part; part != nullptr;
         part = part->next) {
        auto* headers = static_cast<ngx_table_elt_t*>(part->elts);
        for (ngx_uint_t i = 0; i < part->nelts; ++i) {
            const ngx_table_elt_t& h = headers[i];
            if (h.key.len == name.size() &&
                ngx_strncasecmp(h.key.data,
                                reinterpret_cast<u_char*>(const_cast<char*>(name.data())),
                                name.size()) == 0) {
                f(h);
            }
        }
    }
}

std::optional<std::string_view> RequestHeaders::find(std::string_view name) const {
    std::optional<std::string_view> found;
    visit(name, [&](const ngx_table_elt_t& h) {
        if (!found) found = to_view(h.value);
    });
    return found;
}

std::size_t RequestHeaders::count(std::string_view name) const {
    std::size_t n = 0;
    visit(name, [&](const ngx_table_elt_t&) { ++n; });
    return n;
}

bool split_route(const ngx_str_t& uri, ngx_str_t& vendor, ngx_str_t& id) {
    const std::string_view path = to_view(uri);
    const std::size_t id_slash = path.rfind('/');
    if (id_slash == std::string_view::npos || id_slash == 0) {
        return false;
    }
    const std::size_t vendor_slash = path.rfind('/', id_slash - 1);
    if (vendor_slash == std::string_view::npos) {
        return false;
    }
    vendor.data = uri.data + vendor_slash + 1;
    vendor.len = id_slash - vendor_slash - 1;
    id.data = uri.data + id_slash + 1;
    id.len = path.size() - id_slash - 1;
    return true;
}

bool collect_body(ngx_http_request_t* r, std::string_view& body) {
    body = {};
    ngx_http_request_body_t* rb = r->request_body;
    if (rb == nullptr || rb->bufs == nullptr) {
        return true;
    }
    size_t total = 0;
    std::size_t parts = 0;
    ngx_buf_t* only = nullptr;
    for (ngx_chain_t* cl = rb->bufs; cl != nullptr; cl = cl->next) {
        const std::size_t size = buffered_size(cl->buf);
        if (size > 0) {
            total += size;
            ++parts;
            only = cl->buf;
        }
    }
    if (parts == 0) {
        return true;
    }
    if (parts == 1 && ngx_buf_in_memory(only)) {
        body = {reinterpret_cast<const char*>(only->pos), total};
        return true;
    }
    u_char* data = static_cast<u_char*>(ngx_pnalloc(r->pool, total));
    if (data == nullptr) {
        return false;
    }
    u_char* p = data;
    for (ngx_chain_t* cl = rb->bufs; cl != nullptr; cl = cl->next) {
        ngx_buf_t* b = cl->buf;
        const std::size_t size = buffered_size(b);
        if (size == 0) {
            continue;
        }
        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, size);
            continue;
        }
        const ssize_t n = ngx_read_file(b->file, p, size, b->file_pos);
        if (n != static_cast<ssize_t>(size)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mailhook: short read of request body temp file");
            return false;
        }
        p += size;
    }
    body = {reinterpret_cast<const char*>(data), total};
    return true;
}

std::optional<std::int64_t> configured_tolerance(const LocConf* lcf,
                                                 std::string_view vendor) {
    if (lcf->tolerances == nullptr) {
        return std::nullopt;
    }
    const auto* entries = static_cast<TimestampTolerance*>(lcf->tolerances->elts);
    for (ngx_uint_t i = 0; i < lcf->tolerances->nelts; ++i) {
        if (to_view(entries[i].vendor) == vendor) {
            return static_cast<std::int64_t>(entries[i].seconds);
        }
    }
    return std::nullopt;
}

std::string public_url(ngx_http_request_t* r, const LocConf* lcf) {
    if (lcf->public_url != nullptr) {
        return complex_value_or(r, lcf->public_url, "");
    }
    std::string url;
#if (NGX_HTTP_SSL)
    url = r->connection->ssl ? "https://" : "http://";
#else
    url = "http://";
#endif
    if (r->headers_in.host != nullptr) {
        url.append(to_view(r->headers_in.host->value));
    }
    url.append(to_view(r->unparsed_uri));
    return url;
}

EpochMillis now_millis() {
    const ngx_time_t* tp = ngx_timeofday();
    return static_cast<EpochMillis>(tp->sec) * 1000 + tp->msec;
}

}  // namespace mailhook::nginx
