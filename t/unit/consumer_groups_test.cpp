// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/consumer_groups.hpp"
#include "core/key_layout.hpp"
#include "core/resp.hpp"

namespace mailhook {
namespace {

std::vector<std::string> described(const std::vector<ConsumerGroupTarget>& targets) {
    std::vector<std::string> out;
    for (const auto& target : targets) out.push_back(target.stream + " " + target.group);
    return out;
}

TEST(ConsumerGroups, EveryStreamOfEveryGroup) {
    const std::vector<ConsumerGroup> groups = {{"mailers", {}},
                                               {"audit", {"mailhook:events", "other"}}};
    const auto targets = consumer_group_targets(groups, {});
    EXPECT_EQ(described(targets), (std::vector<std::string>{
                                      "mailhook:events mailers", "mailhook:events audit",
                                      "other audit"}));
    EXPECT_EQ(targets[0].command,
              resp_command({"XGROUP", "CREATE", "mailhook:events", "mailers", "$", "MKSTREAM"}));
}

TEST(ConsumerGroups, OneStreamPerBucket) {
    const auto tags = bucket_tags(3);
    const auto targets = consumer_group_targets({{"mailers", {}}}, tags);
    ASSERT_EQ(targets.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(targets[i].stream, "mailhook:events:{" + tags[i] + "}");
    }
}

TEST(ConsumerGroups, AnExistingGroupIsFine) {
    EXPECT_TRUE(is_existing_group("BUSYGROUP Consumer Group name already exists"));
    EXPECT_FALSE(is_existing_group("WRONGTYPE Key is holding the wrong kind of value"));
    EXPECT_FALSE(is_existing_group("BUSYGROUPS"));
}

TEST(ConsumerGroups, Names) {
    EXPECT_TRUE(is_valid_group_name("mailers"));
    EXPECT_TRUE(is_valid_group_name("mailhook:events:{7}"));
    EXPECT_FALSE(is_valid_group_name(""));
    EXPECT_FALSE(is_valid_group_name("a b"));
    EXPECT_FALSE(is_valid_group_name(std::string("a\0b", 3)));
    EXPECT_FALSE(is_valid_group_name(std::string(257, 'x')));
}

}  // namespace
}  // namespace mailhook
