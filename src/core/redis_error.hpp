// SPDX-License-Identifier: BSD-2-Clause
// What a failed Redis call means for the events it carried.
#pragma once

#include <string_view>

namespace mailhook {

// transient: Redis could not take the call now but will (connection lost,
// no answer in time, a restart loading its data, a demoted primary, ...):
// the events go to the spool, or the sender is asked to retry (503).
// permanent: the call itself is wrong for this Redis (a key of the wrong
// type, an ACL that forbids it, a script error): retrying or replaying the
// same call fails the same way, so it is answered 503 and logged, never
// spooled.
enum class RedisFailure { none, transient, permanent };

// The class of an error reply, by its error code (the first word; Redis 7
// keeps the code of an error raised inside a script).
RedisFailure classify_redis_error(std::string_view message);

// The error code of an error reply ("NOPERM"), or "ERR" when it has none.
std::string_view redis_error_code(std::string_view message);

}  // namespace mailhook
