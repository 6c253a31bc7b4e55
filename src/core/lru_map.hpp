// SPDX-License-Identifier: BSD-2-Clause
// A bounded map for caches that hostile input can fill (made-up ids, URLs):
// when full, the least recently used entry goes.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace mailhook {

template <typename Value>
class LruMap {
  public:
    explicit LruMap(std::size_t capacity) : capacity_(capacity) {}

    Value* find(std::string_view key) {
        const auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return &it->second->second;
    }
    void put(std::string_view key, Value value) {
        if (Value* existing = find(key)) {
            *existing = std::move(value);
            return;
        }
        if (index_.size() >= capacity_ && !order_.empty()) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
        order_.emplace_front(std::string(key), std::move(value));
        index_.emplace(order_.front().first, order_.begin());
    }
    void erase(std::string_view key) {
        const auto it = index_.find(key);
        if (it == index_.end()) return;
        const auto node = it->second;
        index_.erase(it);
        order_.erase(node);
    }
    std::size_t size() const { return index_.size(); }

  private:
    using Order = std::list<std::pair<std::string, Value>>;
    std::size_t capacity_;
    Order order_;  // most recently used first
    // Keys point into the list nodes, which never move.
    std::unordered_map<std::string_view, typename Order::iterator> index_;
};

}  // namespace mailhook
