// SPDX-License-Identifier: BSD-2-Clause
// $mailhook_* variables for log_format and key names.
#pragma once

#include <string_view>

#include "ngx_http_mailhook.hpp"

namespace mailhook::nginx {

ngx_int_t add_variables(ngx_conf_t* cf);

// A variable's value: a pool copy of `text`, not cached.
ngx_int_t set_variable_value(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                             std::string_view text);

}  // namespace mailhook::nginx
