// $mailhook_* variables for log_format and key names.
#pragma once

#include "ngx_http_mailhook.hpp"

namespace mailhook::nginx {

ngx_int_t add_variables(ngx_conf_t* cf);

}  // namespace mailhook::nginx
