# SPDX-License-Identifier: BSD-2-Clause
# C++ flags for mailhook's objects only (nginx compiles .cpp with $CC and its
# C flags). Object paths follow nginx's auto/make: addon/<dir>/<file>.o
for mailhook_src in $MAILHOOK_SRCS; do
    mailhook_dir=$(basename $(dirname $mailhook_src))
    mailhook_obj="$NGX_OBJS/addon/$mailhook_dir/$(basename $mailhook_src .cpp).o"
    echo "$mailhook_obj : CFLAGS += -std=c++17 -fvisibility=hidden -fno-strict-aliasing $MAILHOOK_EXTRA_CXXFLAGS" >> $NGX_MAKEFILE
done
