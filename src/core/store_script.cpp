// SPDX-License-Identifier: BSD-2-Clause
#include "store_script.hpp"

#include "crypto.hpp"
#include "encoding.hpp"

#include <vector>

namespace mailhook {
namespace {

// KEYS: 1 event stream, 2 suppression hash, 3 suppression stream.
// ARGV: 1 dedup prefix, 2 dedup ttl, 3 stream maxlen (0 = none),
//   4 soft-bounce limit (0 = off), 5 soft-bounce window (s),
//   6 soft-bounce key prefix, 7 replay key ('' = none), 8 replay fingerprint,
//   9 replay ttl, 10 vendor, 11 connection, 12 number of events,
//   then 7 per event: id, type, effect, recipient, epoch s, rfc3339, json,
//   then (optional, for tracking) delivered ttl (0 = off), a count D and D
//   pairs of event number (0-based) and its delivered key.
// Redis does not roll back a script that fails half-way, so every check that
// can fail runs before the first write (or is the first write).
constexpr std::string_view kSource = R"lua(
local stream, supp, supp_stream = KEYS[1], KEYS[2], KEYS[3]
local dedup_prefix, dedup_ttl = ARGV[1], tonumber(ARGV[2])
local maxlen = tonumber(ARGV[3])
local soft_limit, soft_window, soft_prefix = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local replay_key, replay_print, replay_ttl = ARGV[7], ARGV[8], tonumber(ARGV[9])
local vendor, connection, n = ARGV[10], ARGV[11], tonumber(ARGV[12])

local function expect_type(key, want)
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= want then
    return redis.error_reply('WRONGTYPE mailhook key ' .. key .. ' holds a ' .. t)
  end
end
if replay_key ~= '' then
  local seen = redis.call('GET', replay_key)
  if seen and seen ~= replay_print then return {-1, 0} end
end

local tail = 13 + n * 7
local delivered_ttl = tonumber(ARGV[tail] or '0') or 0
local delivered_keys = {}
for j = 0, (tonumber(ARGV[tail + 1] or '0') or 0) - 1 do
  delivered_keys[13 + tonumber(ARGV[tail + 2 + 2 * j]) * 7] = ARGV[tail + 3 + 2 * j]
end

local fresh, seen_ids, duplicates, suppressing = {}, {}, 0, false
for i = 0, n - 1 do
  local base = 13 + i * 7
  local id = ARGV[base]
  if seen_ids[id] or redis.call('EXISTS', dedup_prefix .. id) == 1 then
    duplicates = duplicates + 1
  else
    seen_ids[id] = true
    fresh[#fresh + 1] = base
    suppressing = suppressing or (ARGV[base + 2] ~= '' and ARGV[base + 3] ~= '')
  end
end

-- The first write is the first XADD: a stream key of another type fails it
-- before anything is written. The suppression keys are written after it, so
-- their types are checked now (only when this request touches them).
if suppressing then
  local bad = expect_type(supp, 'hash') or expect_type(supp_stream, 'stream')
  if bad then return bad end
end

local severity = {soft_bounce_limit = 1, unsubscribe = 2, hard_bounce = 3, complaint = 4}

local function current_reason(recipient)
  local value = redis.call('HGET', supp, recipient)
  if not value then return nil end
  return string.match(value, '"reason":"([a-z_]+)"') or 'unknown'
end

local function record(action, recipient, reason, previous, id, at)
  redis.call('XADD', supp_stream, '*', 'action', action, 'recipient', recipient,
    'reason', reason, 'previous', previous or '', 'scope', supp,
    'vendor', vendor, 'connection', connection, 'event_id', id, 'at', at)
end

local function suppress(recipient, reason, id, at)
  local previous = current_reason(recipient)
  if previous and (severity[previous] or 5) >= severity[reason] then return end
  redis.call('HSET', supp, recipient, '{"reason":"' .. reason .. '","vendor":"' ..
    vendor .. '","event_id":"' .. id .. '","at":"' .. at .. '"}')
  record(previous and 'updated' or 'added', recipient, reason, previous, id, at)
end

local function resubscribe(recipient, id, at)
  if current_reason(recipient) == 'unsubscribe' then
    redis.call('HDEL', supp, recipient)
    record('removed', recipient, 'unsubscribe', 'unsubscribe', id, at)
  end
end

local function soft_bounce(recipient, id, epoch, at)
  if soft_limit <= 0 then return end
  local key = soft_prefix .. recipient
  redis.call('ZADD', key, epoch, id)
  local newest = tonumber(redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')[2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (newest - soft_window))
  redis.call('EXPIRE', key, soft_window + 60)
  if redis.call('ZCARD', key) >= soft_limit then
    suppress(recipient, 'soft_bounce_limit', id, at)
  end
end

for _, base in ipairs(fresh) do
  local id, etype, effect, recipient = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local epoch, at, json = tonumber(ARGV[base + 4]), ARGV[base + 5], ARGV[base + 6]
  if maxlen > 0 then
    redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'event', json, 'type', etype,
      'vendor', vendor)
  else
    redis.call('XADD', stream, '*', 'event', json, 'type', etype, 'vendor', vendor)
  end
  redis.call('SET', dedup_prefix .. id, '1', 'EX', dedup_ttl)
  if delivered_ttl > 0 and delivered_keys[base] then
    redis.call('SET', delivered_keys[base], epoch, 'EX', delivered_ttl)
  end
  if recipient ~= '' then
    if effect == 'hard_bounce' or effect == 'complaint' or effect == 'unsubscribe' then
      suppress(recipient, effect, id, at)
    elseif effect == 'resubscribe' then
      resubscribe(recipient, id, at)
    elseif effect == 'soft_bounce' then
      soft_bounce(recipient, id, epoch, at)
    end
  end
end

if replay_key ~= '' then
  redis.call('SET', replay_key, replay_print, 'EX', replay_ttl)
end
return {#fresh, duplicates}
)lua";

}  // namespace

std::string_view store_script_source() { return kSource; }

std::string_view comparable_message_id(std::string_view message_id) {
    std::string_view id = trim_ascii(message_id);
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') {
        id = trim_ascii(id.substr(1, id.size() - 2));
    }
    return id;
}

std::string delivered_key(std::string_view prefix, std::string_view connection,
                          std::string_view message_id) {
    const std::string_view id = comparable_message_id(message_id);
    std::string key;
    key.reserve(prefix.size() + connection.size() + id.size() + 1);
    key.append(prefix).append(connection).append(":").append(id);
    return key;
}

std::string store_script_sha1() { return hex_encode(sha1(kSource)); }

RespArgs store_script_args(const Intake& intake, std::string_view vendor,
                           std::string_view connection, std::string_view scope,
                           const StoreKeys& keys, const StorePolicy& policy) {
    RespArgs args;
    std::size_t size = 512;
    for (const ReadyEvent& event : intake.events) size += event.json.size() + 160;
    args.reserve(size);

    args.add(std::int64_t{3});
    args.add(keys.stream);
    args.add(keys.suppression + std::string(scope));
    args.add(keys.suppression_stream);

    args.add(keys.dedup_prefix);
    args.add(policy.dedup_ttl_seconds);
    args.add(policy.stream_maxlen);
    args.add(policy.soft_bounce_limit);
    args.add(policy.soft_bounce_window_seconds);
    args.add(keys.soft_bounce_prefix + std::string(scope) + ":");
    if (intake.replay_guard) {
        args.add(keys.replay_prefix + std::string(vendor) + ":" +
                 intake.replay_guard->token);
        args.add(intake.replay_guard->fingerprint);
    } else {
        args.add(std::string_view{});
        args.add(std::string_view{});
    }
    args.add(policy.replay_ttl_seconds);
    args.add(vendor);
    args.add(connection);
    args.add(static_cast<std::int64_t>(intake.events.size()));
    for (const ReadyEvent& event : intake.events) {
        args.add(event.id);
        args.add(to_string(event.type));
        args.add(to_string(event.effect));
        args.add(event.recipient_key);
        args.add(event.at / 1000);
        args.add(format_rfc3339_seconds(event.at));
        args.add(event.json);
    }
    std::vector<std::int64_t> delivered;
    if (policy.delivered_ttl_seconds > 0) {
        for (std::size_t i = 0; i < intake.events.size(); ++i) {
            const ReadyEvent& event = intake.events[i];
            if (event.type == EventType::delivered &&
                !comparable_message_id(event.message_id).empty()) {
                delivered.push_back(static_cast<std::int64_t>(i));
            }
        }
    }
    if (!delivered.empty()) {
        args.add(policy.delivered_ttl_seconds);
        args.add(static_cast<std::int64_t>(delivered.size()));
        for (const std::int64_t i : delivered) {
            args.add(i);
            args.add(delivered_key(keys.delivered_prefix, connection,
                                   intake.events[static_cast<std::size_t>(i)].message_id));
        }
    }
    return args;
}

}  // namespace mailhook
