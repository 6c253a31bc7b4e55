// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/redis_error.hpp"

namespace mailhook {
namespace {

TEST(RedisError, TransientRepliesAreTheOnesRedisRecoversFrom) {
    for (const char* message :
         {"LOADING Redis is loading the dataset in memory",
          "READONLY You can't write against a read only replica. script: 7569, on "
          "@user_script:1.",
          "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
          "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
          "SHUTDOWN NOSAVE.",
          "TRYAGAIN Multiple keys request during rehashing of slot",
          "CLUSTERDOWN The cluster is down",
          "OOM command not allowed when used memory > 'maxmemory'.", "LOADING"}) {
        EXPECT_EQ(classify_redis_error(message), RedisFailure::transient) << message;
    }
}

TEST(RedisError, OtherRepliesArePermanent) {
    for (const char* message :
         {"WRONGTYPE Operation against a key holding the wrong kind of value",
          "NOPERM this user has no permissions to access one of the keys used as arguments",
          "ERR Error running script (call to f_1234): @user_script:3: bad argument",
          "NOSCRIPT No matching script. Please use EVAL.", "", "loading lower case",
          "LOADINGX not the code", "BUSYKEY Target key name already exists."}) {
        EXPECT_EQ(classify_redis_error(message), RedisFailure::permanent) << message;
    }
}

TEST(RedisError, CodeIsTheFirstWord) {
    EXPECT_EQ(redis_error_code("NOPERM this user has no permissions"), "NOPERM");
    EXPECT_EQ(redis_error_code("WRONGTYPE"), "WRONGTYPE");
    EXPECT_EQ(redis_error_code("Error without a code"), "ERR");
    EXPECT_EQ(redis_error_code(""), "ERR");
}

}  // namespace
}  // namespace mailhook
