// SPDX-License-Identifier: BSD-2-Clause
#include "store_script.hpp"

#include <map>
#include <stdexcept>

#include "crypto.hpp"
#include "encoding.hpp"

namespace mailhook {
namespace {

// KEYS: 1 event stream, 2 control stream, 3 suppression hash, 4 suppression
//   stream, 5 health hash, then ARGV[5] replay keys, then per event its dedup key and the
//   keys its meta names, in this order: s soft-bounce set, r newest
//   resubscribe time, d delivered time.
// ARGV: 1 dedup ttl, 2 stream trimming ('0' none, 'N' MAXLEN ~ N, 'mT'
//   MINID ~ T: entries older than T ms since the epoch), 3 soft-bounce limit
//   (0 = off), 4 soft-bounce window (s), 5 number of replay keys,
//   6 replay fingerprint, 7 replay ttl, 8 delivered ttl, 9 vendor,
//   10 connection, 11 number of raw texts R, 12 received at (RFC 3339),
//   13 '1' in the request's first call, then the R raw texts, then 4 per
//   event: id, recipient, json (without raw), meta =
//   "type effect epoch rfc3339 raw stream keys" (raw: 1-based, 0 = none;
//   stream: e events, c control; effect and keys '-' when none).
// Redis does not roll back a script that fails half-way, so every check that
// can fail runs before the first write.
constexpr std::string_view kSource = R"lua(
local streams = {e = KEYS[1], c = KEYS[2]}
local supp, supp_stream = KEYS[3], KEYS[4]
-- TTLs stay strings: a Lua number passed to redis.call is formatted anew.
local dedup_ttl, trim_by, trim_at = ARGV[1], 'MAXLEN', ARGV[2]
if string.byte(trim_at) == 109 then trim_by, trim_at = 'MINID', string.sub(trim_at, 2) end
local soft_limit, soft_window = tonumber(ARGV[3]), tonumber(ARGV[4])
local replay_print, replay_ttl = ARGV[6], ARGV[7]
local delivered_ttl, vendor, connection = ARGV[8], ARGV[9], ARGV[10]
local health = KEYS[5]

local next_key = 6
local function take_key()
  next_key = next_key + 1
  return KEYS[next_key - 1]
end
-- One-time values already used for other events make the request a replay.
local replay_keys = {}
for i = 1, tonumber(ARGV[5]) do
  replay_keys[i] = take_key()
  local seen = redis.call('GET', replay_keys[i])
  if seen and seen ~= replay_print then return {-1, 0} end
end

local raws, a = {}, 14
for i = 1, tonumber(ARGV[11]) do
  raws[i] = ARGV[a]
  a = a + 1
end

local events, argc = {}, #ARGV
while a <= argc do
  local etype, effect, epoch, at, raw, stream, keys = string.match(ARGV[a + 3],
    '^(%S+) (%S+) (%-?%d+) (%S+) (%d+) ([ec]) (%S+)$')
  if not etype then return redis.error_reply('mailhook: malformed event arguments') end
  -- One constructor, so the table is sized once.
  local e = {id = ARGV[a], recipient = ARGV[a + 1], json = ARGV[a + 2], type = etype,
    effect = effect, epoch = tonumber(epoch), epoch_text = epoch, at = at,
    raw = tonumber(raw), stream = stream, keys = keys, dedup = take_key()}
  a = a + 4
  if keys ~= '-' then
    for letter in string.gmatch(e.keys, '[srd]') do e[letter] = take_key() end
  end
  events[#events + 1] = e
end

-- Every key written below that a write could fail on is checked now, once,
-- for every event (its dedup key is not claimed yet), before the first write.
local checked = {}
local function expect_type(key, want)
  if not key or checked[key] then return nil end
  checked[key] = true
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= want then
    return redis.error_reply('WRONGTYPE mailhook key ' .. key .. ' holds a ' .. t)
  end
end
for _, e in ipairs(events) do
  local bad = expect_type(streams[e.stream], 'stream') or expect_type(e.s, 'zset') or
    expect_type(e.r, 'string')
  if not bad and e.recipient ~= '' and e.effect ~= '-' then
    bad = expect_type(supp, 'hash') or expect_type(supp_stream, 'stream')
  end
  if bad then return bad end
end
local bad_health = expect_type(health, 'hash')
if bad_health then return bad_health end

-- Claiming an event's dedup key is its first write: SET NX fails for an
-- event stored before, or earlier in this request.
local fresh, duplicates = {}, 0
for _, e in ipairs(events) do
  if redis.call('SET', e.dedup, '1', 'NX', 'EX', dedup_ttl) then
    fresh[#fresh + 1] = e
  else
    duplicates = duplicates + 1
  end
end

-- A raw text shared by several events is stored once, in the last of them
-- in its stream; the others name that event and how many entries later it
-- comes (trimming drops older entries first, so it outlives them).
-- (A raw text of one event alone comes inside its JSON.)
local holders, count = {}, {e = 0, c = 0}
if #raws > 0 then
  for _, e in ipairs(fresh) do
    count[e.stream] = count[e.stream] + 1
    e.position = count[e.stream]
    if e.raw > 0 then holders[e.stream .. e.raw] = e end
  end
end
local function stored_json(e)
  if e.raw == 0 then return e.json end
  local holder, head = holders[e.stream .. e.raw], string.sub(e.json, 1, -2)
  if holder == e then return head .. ',"raw":' .. raws[e.raw] .. '}' end
  return head .. ',"raw_ref":{"id":"' .. holder.id .. '","after":' ..
    (holder.position - e.position) .. '}}'
end

-- The suppression helpers exist only for a call that needs them.
local apply = {}
local suppressing = false
for _, e in ipairs(fresh) do
  suppressing = suppressing or (e.recipient ~= '' and e.effect ~= '-')
end
if suppressing then
  local severity = {soft_bounce_limit = 1, unsubscribe = 2, hard_bounce = 3, complaint = 4}

  -- Entries written before the epoch was stored: the epoch of their "at".
  local function epoch_of(at)
    local y, m, d, hh, mm, ss = string.match(at or '', '^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)')
    if not y then return 0 end
    y, m = tonumber(y), tonumber(m)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + tonumber(d) - 1
    local days = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) +
      doy - 719468
    return days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
  end

  local function entry(recipient)
    local value = redis.call('HGET', supp, recipient)
    if not value then return nil end
    local epoch = tonumber(string.match(value, '"epoch":(%-?%d+)'))
    return string.match(value, '"reason":"([a-z_]+)"') or 'unknown',
      epoch or epoch_of(string.match(value, '"at":"([^"]*)"'))
  end

  local function record(action, e, reason, previous)
    redis.call('XADD', supp_stream, '*', 'action', action, 'recipient', e.recipient,
      'reason', reason, 'previous', previous or '', 'scope', supp,
      'vendor', vendor, 'connection', connection, 'event_id', e.id, 'at', e.at)
  end

  local function resubscribed_at(e)
    return e.r and tonumber(redis.call('GET', e.r) or '')
  end

  -- Entries only move to a more severe reason; a reason is renewed by a later
  -- event of the same reason; an unsubscribe older than the newest
  -- resubscribe is not applied (ties go to the unsubscribe).
  local function suppress(e, reason)
    local previous, since = entry(e.recipient)
    if previous then
      local old, new = severity[previous] or 5, severity[reason]
      if new < old or (new == old and e.epoch <= since) then return end
    end
    if reason == 'unsubscribe' then
      local resubscribed = resubscribed_at(e)
      if resubscribed and resubscribed > e.epoch then return end
    end
    redis.call('HSET', supp, e.recipient, '{"reason":"' .. reason .. '","vendor":"' ..
      vendor .. '","event_id":"' .. e.id .. '","at":"' .. e.at .. '","epoch":' .. e.epoch .. '}')
    record(previous and 'updated' or 'added', e, reason, previous)
  end

  -- Removes an unsubscribe older than the resubscribe, and remembers the
  -- resubscribe for unsubscribes that arrive after it.
  local function resubscribe(e)
    local known = resubscribed_at(e)
    if e.r and (not known or e.epoch > known) then
      redis.call('SET', e.r, e.epoch_text, 'EX', dedup_ttl)
    end
    local previous, since = entry(e.recipient)
    if previous == 'unsubscribe' and e.epoch > since then
      redis.call('HDEL', supp, e.recipient)
      record('removed', e, 'unsubscribe', 'unsubscribe')
    end
  end

  local function soft_bounce(e)
    if not e.s then return end
    redis.call('ZADD', e.s, e.epoch_text, e.id)
    local newest = tonumber(redis.call('ZREVRANGE', e.s, 0, 0, 'WITHSCORES')[2])
    redis.call('ZREMRANGEBYSCORE', e.s, '-inf', '(' .. (newest - soft_window))
    redis.call('EXPIRE', e.s, soft_window + 60)
    if redis.call('ZCARD', e.s) >= soft_limit then suppress(e, 'soft_bounce_limit') end
  end

  apply = {hard_bounce = suppress, complaint = suppress, unsubscribe = suppress,
           resubscribe = resubscribe, soft_bounce = soft_bounce}
end

for _, e in ipairs(fresh) do
  local stream = streams[e.stream]
  if trim_at ~= '0' then
    redis.call('XADD', stream, trim_by, '~', trim_at, '*', 'event', stored_json(e),
      'type', e.type, 'vendor', vendor)
  else
    redis.call('XADD', stream, '*', 'event', stored_json(e), 'type', e.type, 'vendor', vendor)
  end
  if e.d then redis.call('SET', e.d, e.epoch_text, 'EX', delivered_ttl) end
  if e.recipient ~= '' and apply[e.effect] then apply[e.effect](e, e.effect) end
end

for _, key in ipairs(replay_keys) do
  redis.call('SET', key, replay_print, 'EX', replay_ttl)
end

-- Connection health (docs/events.md): counted once per request.
if ARGV[13] == '1' then redis.call('HINCRBY', health, 'accepted', 1) end
if #events > 0 then
  redis.call('HSET', health, 'last_accepted_at', ARGV[12], 'last_event_type', events[#events].type)
else
  redis.call('HSET', health, 'last_accepted_at', ARGV[12])
end
if #fresh > 0 then redis.call('HINCRBY', health, 'stored', #fresh) end
if duplicates > 0 then redis.call('HINCRBY', health, 'duplicates', duplicates) end
return {#fresh, duplicates}
)lua";

constexpr std::size_t kFixedKeys = 5;
constexpr std::size_t kReplayKeys = 2;  // token, signed text
constexpr std::size_t kFixedArgv = 13;
constexpr std::size_t kArgvPerEvent = 4;
// EVALSHA (or EVAL), the SHA (or source), numkeys.
constexpr std::size_t kCommandHead = 3;

std::int64_t epoch_seconds(EpochMillis at) {
    return at >= 0 ? at / 1000 : -((-at + 999) / 1000);
}

// The optional keys of an event, by the letters the script reads.
struct EventKeys {
    bool soft_bounce = false;
    bool resubscribed = false;
    bool delivered = false;

    std::size_t count() const { return 1 + soft_bounce + resubscribed + delivered; }
    std::string letters() const {
        std::string out;
        if (soft_bounce) out.push_back('s');
        if (resubscribed) out.push_back('r');
        if (delivered) out.push_back('d');
        return out.empty() ? "-" : out;
    }
};

EventKeys keys_of(const ReadyEvent& event, const StorePolicy& policy) {
    EventKeys keys;
    if (!event.recipient_key.empty()) {
        keys.soft_bounce = event.effect == SuppressionEffect::soft_bounce &&
                           policy.soft_bounce_limit > 0;
        keys.resubscribed = event.effect == SuppressionEffect::unsubscribe ||
                            event.effect == SuppressionEffect::resubscribe;
    }
    keys.delivered = policy.delivered_ttl_seconds > 0 && event.type == EventType::delivered &&
                     !comparable_message_id(event.message_id).empty();
    return keys;
}

std::string event_meta(const ReadyEvent& event, std::size_t raw, const EventKeys& keys) {
    const std::string_view effect = to_string(event.effect);
    std::string meta(to_string(event.type));
    meta.append(" ").append(effect.empty() ? "-" : effect);
    meta.append(" ").append(std::to_string(epoch_seconds(event.at)));
    meta.append(" ").append(format_rfc3339_seconds(event.at));
    meta.append(" ").append(std::to_string(raw));
    meta.append(event.control ? " c " : " e ").append(keys.letters());
    return meta;
}

// An event's JSON (an object) with its raw text as the last member, as the
// script writes it for a raw text it holds once.
std::string with_raw(std::string_view json, std::string_view raw) {
    std::string out;
    out.reserve(json.size() + raw.size() + 8);
    out.append(json.substr(0, json.size() - 1)).append(",\"raw\":").append(raw).append("}");
    return out;
}

// One call for events [begin, end).
RespArgs call_args(const Intake& intake, std::size_t begin, std::size_t end,
                   const StoreTarget& target, const RequestKeys& keys,
                   const StorePolicy& policy) {
    RespArgs key_args;
    RespArgs argv;
    std::size_t size = 512;
    for (std::size_t i = begin; i < end; ++i) size += intake.events[i].json.size() + 256;

    key_args.add(keys.stream());
    key_args.add(keys.control_stream());
    key_args.add(keys.suppression());
    key_args.add(keys.suppression_stream());
    key_args.add(keys.health(target.connection));
    const auto& guard = intake.replay_guard;
    if (guard) {
        key_args.add(keys.replay(target.connection, "token", guard->token));
        key_args.add(keys.replay(target.connection, "signed", guard->signed_text));
    }

    // The raw texts that several events of this call share, numbered from 1
    // in order of first use; a raw text of one event alone goes into that
    // event's JSON here (cheaper than the script's string work).
    std::map<std::size_t, std::size_t> users;
    for (std::size_t i = begin; i < end; ++i) {
        if (const std::size_t raw = intake.events[i].raw; raw > 0) ++users[raw];
    }
    std::map<std::size_t, std::size_t> local_raw;
    for (std::size_t i = begin; i < end; ++i) {
        const std::size_t raw = intake.events[i].raw;
        if (raw > 0 && users[raw] > 1 && local_raw.emplace(raw, local_raw.size() + 1).second) {
            size += intake.raws[raw - 1].size() + 16;
        }
    }
    argv.reserve(size);
    argv.add(policy.dedup_ttl_seconds);
    if (policy.stream_min_id_ms > 0) {
        argv.add("m" + std::to_string(policy.stream_min_id_ms));
    } else {
        argv.add(policy.stream_maxlen);
    }
    argv.add(policy.soft_bounce_limit);
    argv.add(policy.soft_bounce_window_seconds);
    argv.add(static_cast<std::int64_t>(guard ? kReplayKeys : 0));
    argv.add(guard ? std::string_view(guard->fingerprint) : std::string_view());
    argv.add(policy.replay_ttl_seconds);
    argv.add(policy.delivered_ttl_seconds);
    argv.add(target.vendor);
    argv.add(target.connection);
    argv.add(static_cast<std::int64_t>(local_raw.size()));
    argv.add(format_rfc3339_millis(target.received_at));
    argv.add(begin == 0 ? "1" : "0");
    std::vector<std::size_t> by_local(local_raw.size());
    for (const auto& [raw, local] : local_raw) by_local[local - 1] = raw;
    for (const std::size_t raw : by_local) argv.add(intake.raws[raw - 1]);

    for (std::size_t i = begin; i < end; ++i) {
        const ReadyEvent& event = intake.events[i];
        const EventKeys event_keys = keys_of(event, policy);
        argv.add(event.id);
        argv.add(event.recipient_key);
        const auto shared = local_raw.find(event.raw);
        if (event.raw > 0 && shared == local_raw.end()) {
            argv.add(with_raw(event.json, intake.raws[event.raw - 1]));
        } else {
            argv.add(event.json);
        }
        argv.add(event_meta(event, shared == local_raw.end() ? 0 : shared->second, event_keys));
        key_args.add(keys.dedup(event.id));
        if (event_keys.soft_bounce) key_args.add(keys.soft_bounce(event.recipient_key));
        if (event_keys.resubscribed) key_args.add(keys.resubscribed(event.recipient_key));
        if (event_keys.delivered) {
            key_args.add(keys.delivered(target.connection, event.message_id));
        }
    }

    RespArgs args;
    args.reserve(key_args.encoded().size() + argv.encoded().size() + 32);
    args.add(static_cast<std::int64_t>(key_args.count()));
    args.append(key_args);
    args.append(argv);
    return args;
}

}  // namespace

std::string_view store_script_source() { return kSource; }

std::string store_script_sha1() { return hex_encode(sha1(kSource)); }

std::vector<RespArgs> store_script_calls(const Intake& intake, const StoreTarget& target,
                                         const StoreKeys& keys, const StorePolicy& policy,
                                         const ScriptCallLimits& limits) {
    const RequestKeys request_keys(keys, target.scope);
    const std::size_t fixed =
        kCommandHead + kFixedKeys + (intake.replay_guard ? kReplayKeys : 0) + kFixedArgv;
    std::vector<RespArgs> calls;
    std::size_t begin = 0;
    do {
        std::size_t arguments = fixed;
        std::vector<bool> raw_used(intake.raws.size() + 1);
        std::size_t end = begin;
        while (end < intake.events.size() && end - begin < limits.max_events) {
            const ReadyEvent& event = intake.events[end];
            std::size_t cost = kArgvPerEvent + keys_of(event, policy).count();
            if (event.raw > 0 && !raw_used[event.raw]) ++cost;
            if (arguments + cost > limits.max_arguments) break;
            arguments += cost;
            if (event.raw > 0) raw_used[event.raw] = true;
            ++end;
        }
        if (end == begin && begin < intake.events.size()) {
            throw std::invalid_argument("script call limits leave no room for one event");
        }
        calls.push_back(call_args(intake, begin, end, target, request_keys, policy));
        begin = end;
    } while (begin < intake.events.size());
    return calls;
}

RespArgs store_script_args(const Intake& intake, const StoreTarget& target,
                           const StoreKeys& keys, const StorePolicy& policy) {
    ScriptCallLimits unlimited;
    unlimited.max_events = static_cast<std::size_t>(-1);
    unlimited.max_arguments = static_cast<std::size_t>(-1);
    return std::move(store_script_calls(intake, target, keys, policy, unlimited).front());
}

}  // namespace mailhook
