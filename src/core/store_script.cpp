// SPDX-License-Identifier: BSD-2-Clause
#include "store_script.hpp"

#include <array>
#include <charconv>
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
//   A call of plain events only (nothing to suppress, no optional keys, no
//   raw text of the script's, no replay keys) has 'p' for ARGV 11, then one
//   letter per event naming its stream (e, c), then 2 per event: json, type.
// Redis does not roll back a script that fails half-way, so every check that
// can fail runs before the first write.
constexpr std::string_view kRequestFunction = R"lua(
-- Each statement costs Redis's Lua far more than its few bytes suggest
-- (make bench-redis): numbers are parsed only where a comparison needs one,
-- TTLs and counts stay the strings they came as, tables exist only when used.

-- Connection health (docs/events.md).
local function write_health(key, accepted, at, last_type, stored, duplicates)
  if accepted > 0 then redis.call('HINCRBY', key, 'accepted', accepted) end
  if last_type then
    redis.call('HSET', key, 'last_accepted_at', at, 'last_event_type', last_type)
  else
    redis.call('HSET', key, 'last_accepted_at', at)
  end
  if stored > 0 then redis.call('HINCRBY', key, 'stored', stored) end
  if duplicates > 0 then redis.call('HINCRBY', key, 'duplicates', duplicates) end
end

-- A request's counts for its connection's health: written now, or in a batch
-- summed into `batch.totals`, written once per connection at its end.
local function account(health, batch, first, received_at, last_type, stored, duplicates)
  -- A request counts once however many calls it takes.
  local accepted = first == '1' and 1 or 0
  if not batch then
    write_health(health, accepted, received_at, last_type, stored, duplicates)
    return
  end
  local totals = batch.totals[health]
  if not totals then
    totals = {accepted = 0, stored = 0, duplicates = 0}
    batch.totals[health] = totals
    batch.totals[#batch.totals + 1] = health
  end
  totals.accepted = totals.accepted + accepted
  totals.stored = totals.stored + stored
  totals.duplicates = totals.duplicates + duplicates
  totals.at = received_at
  totals.last_type = last_type or totals.last_type
end

-- `checked`: key -> its error reply, or false. A key checked keeps its type
-- (every write here keeps it), so it is checked once per script call.
local function expect_type(checked, key, want)
  local known = checked[key]
  if known == nil then
    local t = redis.call('TYPE', key)['ok']
    known = t ~= 'none' and t ~= want and
      redis.error_reply('WRONGTYPE mailhook key ' .. key .. ' holds a ' .. t)
    checked[key] = known
  end
  return known or nil
end

-- Adds an event to `key`, trimmed as the header `h` says. For a `single`
-- event, an error reply when the XADD failed (its claim `dedup` undone), else
-- nil; for several, the error is raised (their streams were checked before).
local function add_event(h, key, dedup, json, event_type, single)
  local add = single and redis.pcall or redis.call
  local added
  if h[15] ~= '0' then
    added = add('XADD', key, h[14], '~', h[15], '*', 'event', json, 'type', event_type,
      'vendor', h[12])
  else
    added = add('XADD', key, '*', 'event', json, 'type', event_type, 'vendor', h[12])
  end
  if single and type(added) == 'table' and added.err then
    -- EXPIRE 0 deletes the key, and needs no command beyond the documented
    -- ACL line (docs/redis.md).
    redis.call('EXPIRE', dedup, 0)
    local t = redis.call('TYPE', key)['ok']
    if t == 'stream' or t == 'none' then return redis.error_reply(added.err) end
    return redis.error_reply('WRONGTYPE mailhook key ' .. key .. ' holds a ' .. t)
  end
end

-- A header as store_request() reads it: what the requests of a connection
-- share, the 5 fixed keys and ARGV 1-4, 7-10 (the layout above), then the
-- stream trimming ARGV 2 names, parsed once: 14 'MAXLEN' or 'MINID', 15 its
-- argument.
local function header(k1, k2, k3, k4, k5, dedup_ttl, trimming, a3, a4, a7, a8, a9, a10)
  local trim_by, trim_at = 'MAXLEN', trimming
  if string.byte(trimming) == 109 then trim_by, trim_at = 'MINID', string.sub(trimming, 2) end
  return {k1, k2, k3, k4, k5, dedup_ttl, trimming, a3, a4, a7, a8, a9, a10, trim_by, trim_at}
end

-- A call of plain events (ARGV 11 'p', see call_args()): nothing to
-- suppress, no optional keys, no raw text or replay keys. Its events are
-- ARGV[a], one letter per event naming its stream (e events, c control),
-- then per event its JSON and type: no id, recipient or meta to push into
-- Lua and match (make bench-redis: 8,000 instructions an event). They are
-- stored as the general path of store_request() would store them: the
-- streams of several are checked before the first write; one event's stream
-- is not, its claim is undone when its XADD fails.
local function store_plain(h, next_key, a, last, received_at, first, checked, batch)
  local streams, n = ARGV[a], (last - a) / 2
  local single = n == 1
  if not single then
    for i = 1, n do
      local bad = expect_type(checked, string.byte(streams, i) == 99 and h[2] or h[1], 'stream')
      if bad then return bad end
    end
  end
  local bad = expect_type(checked, h[5], 'hash')
  if bad then return bad end
  local stored, duplicates = 0, 0
  for i = 1, n do
    local dedup = KEYS[next_key + i - 1]
    if redis.call('SET', dedup, '1', 'NX', 'EX', h[6]) then
      local failed = add_event(h, string.byte(streams, i) == 99 and h[2] or h[1], dedup,
        ARGV[a + 2 * i - 1], ARGV[a + 2 * i], single)
      if failed then return failed end
      stored = stored + 1
    else
      duplicates = duplicates + 1
    end
  end
  account(h[5], batch, first, received_at, ARGV[last], stored, duplicates)
  return {stored, duplicates}
end

-- Stores one request's call. `h`: its header (header()); the request's own
-- keys start at KEYS[next_key], its raw texts and events at ARGV[a] and end
-- at ARGV[last]; the parameters after `last` are its ARGV 5, 6, 11, 12, 13
-- (replay keys, fingerprint, raw texts or 'p', received at, first call). In
-- a batch, `batch` holds what its requests share: the types already
-- checked, and the health counts, written once per connection at the end.
local function store_request(h, next_key, a, last, replay_count, replay_print, raw_count,
                             received_at, first, batch)
local checked = batch and batch.checked or {}
if raw_count == 'p' then
  return store_plain(h, next_key, a, last, received_at, first, checked, batch)
end
local events_key, control_key, supp, supp_stream, health = h[1], h[2], h[3], h[4], h[5]
local dedup_ttl, vendor = h[6], h[12]

-- One-time values already used for other events make the request a replay.
local replay_keys
if replay_count ~= '0' then
  replay_keys = {}
  for i = 1, tonumber(replay_count) do
    replay_keys[i] = KEYS[next_key]
    next_key = next_key + 1
    local seen = redis.call('GET', replay_keys[i])
    if seen and seen ~= replay_print then return {-1, 0} end
  end
end

local raws
if raw_count ~= '0' then
  raws = {}
  for i = 1, tonumber(raw_count) do
    raws[i] = ARGV[a]
    a = a + 1
  end
end

local events, suppressing = {}, false
while a <= last do
  local etype, effect, epoch, at, raw, stream, keys = string.match(ARGV[a + 3],
    '^(%S+) (%S+) (%-?%d+) (%S+) (%d+) ([ec]) (%S+)$')
  if not etype then return redis.error_reply('mailhook: malformed event arguments') end
  -- One constructor, so the table is sized once.
  local e = {id = ARGV[a], recipient = ARGV[a + 1], json = ARGV[a + 2], type = etype,
    effect = effect, epoch_text = epoch, at = at, raw = raw, stream = stream,
    key = stream == 'e' and events_key or control_key, dedup = KEYS[next_key]}
  next_key = next_key + 1
  a = a + 4
  if keys ~= '-' then
    for letter in string.gmatch(keys, '[srd]') do
      e[letter] = KEYS[next_key]
      next_key = next_key + 1
    end
  end
  if effect ~= '-' and e.recipient ~= '' then
    suppressing = true
    e.epoch = tonumber(epoch)
  end
  events[#events + 1] = e
end

-- Every key written below that a write could fail on is checked now, once,
-- for every event (its dedup key is not claimed yet), before the first write;
-- but for one event alone its stream is not: the event's claim is then the
-- only write before its XADD, and is undone when the XADD fails.
local single = events[2] == nil
for _, e in ipairs(events) do
  local bad = (not single and expect_type(checked, e.key, 'stream')) or
    (e.s and expect_type(checked, e.s, 'zset')) or
    (e.r and expect_type(checked, e.r, 'string'))
  if bad then return bad end
end
if suppressing then
  local bad = expect_type(checked, supp, 'hash') or expect_type(checked, supp_stream, 'stream')
  if bad then return bad end
end
local bad_health = expect_type(checked, health, 'hash')
if bad_health then return bad_health end

-- The suppression helpers exist only for a call that needs them.
local apply
if suppressing then
  local soft_limit, soft_window = tonumber(h[8]), tonumber(h[9])
  local connection = h[13]
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
      vendor .. '","event_id":"' .. e.id .. '","at":"' .. e.at .. '","epoch":' .. e.epoch_text .. '}')
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

local delivered_ttl = h[11]
-- An error reply when the XADD of a single event failed (its claim undone),
-- else nil.
local function store(e, json)
  local failed = add_event(h, e.key, e.dedup, json, e.type, single)
  if failed then return failed end
  if e.d then redis.call('SET', e.d, e.epoch_text, 'EX', delivered_ttl) end
  if apply and e.recipient ~= '' and apply[e.effect] then apply[e.effect](e, e.effect) end
end

-- Claiming an event's dedup key is its first write: SET NX fails for an
-- event stored before, or earlier in this request.
local stored, duplicates = 0, 0
if not raws then
  for _, e in ipairs(events) do
    if redis.call('SET', e.dedup, '1', 'NX', 'EX', dedup_ttl) then
      stored = stored + 1
      local failed = store(e, e.json)
      if failed then return failed end
    else
      duplicates = duplicates + 1
    end
  end
else
  -- A raw text shared by several events is stored once, in the last of them
  -- in its stream; the others name that event and how many entries later it
  -- comes (trimming drops older entries first, so it outlives them).
  -- (A raw text of one event alone comes inside its JSON.) So every event is
  -- claimed before the first is added.
  local fresh = {}
  for _, e in ipairs(events) do
    if redis.call('SET', e.dedup, '1', 'NX', 'EX', dedup_ttl) then
      fresh[#fresh + 1] = e
    else
      duplicates = duplicates + 1
    end
  end
  local holders, count = {}, {e = 0, c = 0}
  for _, e in ipairs(fresh) do
    count[e.stream] = count[e.stream] + 1
    e.position = count[e.stream]
    if e.raw ~= '0' then holders[e.stream .. e.raw] = e end
  end
  for _, e in ipairs(fresh) do
    local json = e.json
    if e.raw ~= '0' then
      local holder, head = holders[e.stream .. e.raw], string.sub(json, 1, -2)
      if holder == e then
        json = head .. ',"raw":' .. raws[tonumber(e.raw)] .. '}'
      else
        json = head .. ',"raw_ref":{"id":"' .. holder.id .. '","after":' ..
          (holder.position - e.position) .. '}}'
      end
    end
    local failed = store(e, json)
    if failed then return failed end
  end
  stored = #fresh
end

if replay_keys then
  for _, key in ipairs(replay_keys) do
    redis.call('SET', key, replay_print, 'EX', h[10])
  end
end

account(health, batch, first, received_at, events[1] and events[#events].type, stored,
  duplicates)
return {stored, duplicates}
end
)lua";

constexpr std::string_view kSingleMain = R"lua(
return store_request(header(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2],
  ARGV[3], ARGV[4], ARGV[7], ARGV[8], ARGV[9], ARGV[10]), 6, 14, #ARGV, ARGV[5], ARGV[6], ARGV[11],
  ARGV[12], ARGV[13])
)lua";

// The calls of several requests in one script call (store_batch_args()):
// each request's answer, or its own error, so one bad request fails alone.
// An error Redis raises for the whole call (OOM before the start, BUSY)
// fails them all. KEYS: each header's 5 fixed keys, then each request's
// own keys. ARGV: 1 requests n, 2 headers m, then m x the header's ARGV
// 1-4, 7-10, then n x (header number, own key count, own argument count),
// then each request's own arguments: its ARGV 5, 6, 11, 12, 13, raw texts,
// events.
constexpr std::string_view kBatchMain = R"lua(
local n, m = tonumber(ARGV[1]), tonumber(ARGV[2])
local headers = {}
for j = 0, m - 1 do
  local k, x = 5 * j, 2 + 8 * j
  headers[j + 1] = header(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5],
    ARGV[x + 1], ARGV[x + 2], ARGV[x + 3], ARGV[x + 4], ARGV[x + 5], ARGV[x + 6],
    ARGV[x + 7], ARGV[x + 8])
end
local batch = {checked = {}, totals = {}}
local answers, c = {}, 2 + 8 * m
local next_key, a = 5 * m + 1, c + 3 * n + 1
for i = 1, n do
  local h, keys, argc = headers[tonumber(ARGV[c + 1])], tonumber(ARGV[c + 2]),
    tonumber(ARGV[c + 3])
  c = c + 3
  local ok, answer = pcall(store_request, h, next_key, a + 5, a + argc - 1, ARGV[a],
    ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], batch)
  if not ok then
    answer = redis.error_reply(type(answer) == 'table' and answer.err or tostring(answer))
  end
  answers[i] = answer
  next_key, a = next_key + keys, a + argc
end
for _, key in ipairs(batch.totals) do
  local t = batch.totals[key]
  write_health(key, t.accepted, t.at, t.last_type, t.stored, t.duplicates)
end
return answers
)lua";

constexpr std::size_t kFixedKeys = 5;
constexpr std::size_t kReplayKeys = 2;  // token, signed text
constexpr std::size_t kFixedArgv = 13;
// Of them, what the calls of one connection share in a batch: ARGV 1-4, 7-10.
constexpr std::size_t kSharedArgv = 8;
// The general layout's; a plain call takes 2 per event and 1 more, which
// 4 per event covers, so calls are cut before their layout is known.
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

// Nothing for the script to suppress or keep beside the event (its keys:
// keys_of()): a call of such events only takes the plain layout.
bool plain(const ReadyEvent& event, const EventKeys& keys) {
    return keys.count() == 1 &&
           (event.effect == SuppressionEffect::none || event.recipient_key.empty());
}

// An event's meta argument: "type effect epoch rfc3339 raw stream keys".
void add_event_meta(RespArgs& argv, const ReadyEvent& event, std::size_t raw,
                    const EventKeys& keys) {
    const std::string_view effect = to_string(event.effect);
    char epoch[24];
    char raw_digits[24];
    const std::string_view epoch_text(
        epoch, static_cast<std::size_t>(
                   std::to_chars(epoch, epoch + sizeof(epoch), epoch_seconds(event.at)).ptr -
                   epoch));
    const std::string_view raw_text(
        raw_digits,
        static_cast<std::size_t>(
            std::to_chars(raw_digits, raw_digits + sizeof(raw_digits), raw).ptr - raw_digits));
    const std::string at = format_rfc3339_seconds(event.at);
    const std::string letters = keys.letters();
    argv.add_joined({to_string(event.type), " ", effect.empty() ? "-" : effect, " ", epoch_text,
                     " ", at, " ", raw_text, event.control ? " c " : " e ", letters});
}

// The raw texts of events [begin, end) that several of them share, numbered
// from 1 in order of first use (a raw text of one event alone goes into that
// event's JSON: cheaper than the script's string work).
struct SharedRaws {
    std::vector<std::size_t> local;     // by Intake raw index: 0, or its number
    std::vector<std::size_t> in_order;  // Intake raw indexes, by number - 1

    SharedRaws(const Intake& intake, std::size_t begin, std::size_t end)
        : local(intake.raws.size() + 1) {
        std::vector<std::size_t> users(intake.raws.size() + 1);
        for (std::size_t i = begin; i < end; ++i) ++users[intake.events[i].raw];
        for (std::size_t i = begin; i < end; ++i) {
            const std::size_t raw = intake.events[i].raw;
            if (raw > 0 && users[raw] > 1 && local[raw] == 0) {
                in_order.push_back(raw);
                local[raw] = in_order.size();
            }
        }
    }
};

// The event's JSON; a raw text of its own (`local` 0) goes inside, as the
// last member, as the script writes a raw text it holds once.
void add_event_json(RespArgs& args, const Intake& intake, const ReadyEvent& event,
                    std::size_t local) {
    if (event.raw > 0 && local == 0) {
        const std::string_view json = event.json;
        args.add_joined(
            {json.substr(0, json.size() - 1), ",\"raw\":", intake.raws[event.raw - 1], "}"});
    } else {
        args.add(event.json);
    }
}

// One call for events [begin, end): numkeys, KEYS, ARGV, written once into
// one buffer.
RespArgs call_args(const Intake& intake, std::size_t begin, std::size_t end,
                   const StoreTarget& target, const RequestKeys& keys,
                   const StorePolicy& policy) {
    const auto& guard = intake.replay_guard;
    const SharedRaws shared(intake, begin, end);
    std::size_t key_count = kFixedKeys + (guard ? kReplayKeys : 0);
    std::size_t size = 1024;
    bool plain_call = !guard && shared.in_order.empty() && end > begin;
    for (std::size_t i = begin; i < end; ++i) {
        const ReadyEvent& event = intake.events[i];
        const EventKeys event_keys = keys_of(event, policy);
        key_count += event_keys.count();
        plain_call = plain_call && plain(event, event_keys);
        size += event.json.size() + 384;
        if (event.raw > 0) size += intake.raws[event.raw - 1].size() + 16;
    }

    RespArgs args;
    args.reserve(size);
    args.add(static_cast<std::int64_t>(key_count));
    args.add(keys.stream());
    args.add(keys.control_stream());
    args.add(keys.suppression());
    args.add(keys.suppression_stream());
    args.add(keys.health(target.connection));
    if (guard) {
        args.add(keys.replay(target.connection, "token", guard->token));
        args.add(keys.replay(target.connection, "signed", guard->signed_text));
    }
    for (std::size_t i = begin; i < end; ++i) {
        const ReadyEvent& event = intake.events[i];
        const EventKeys event_keys = keys_of(event, policy);
        args.add(keys.dedup(event.id));
        if (event_keys.soft_bounce) args.add(keys.soft_bounce(event.recipient_key));
        if (event_keys.resubscribed) args.add(keys.resubscribed(event.recipient_key));
        if (event_keys.delivered) args.add(keys.delivered(target.connection, event.message_id));
    }

    args.add(policy.dedup_ttl_seconds);
    if (policy.stream_min_id_ms > 0) {
        args.add("m" + std::to_string(policy.stream_min_id_ms));
    } else {
        args.add(policy.stream_maxlen);
    }
    args.add(policy.soft_bounce_limit);
    args.add(policy.soft_bounce_window_seconds);
    args.add(static_cast<std::int64_t>(guard ? kReplayKeys : 0));
    args.add(guard ? std::string_view(guard->fingerprint) : std::string_view());
    args.add(policy.replay_ttl_seconds);
    args.add(policy.delivered_ttl_seconds);
    args.add(target.vendor);
    args.add(target.connection);
    if (plain_call) {
        args.add("p");
    } else {
        args.add(static_cast<std::int64_t>(shared.in_order.size()));
    }
    args.add(format_rfc3339_millis(target.received_at));
    args.add(begin == 0 ? "1" : "0");
    for (const std::size_t raw : shared.in_order) args.add(intake.raws[raw - 1]);

    if (plain_call) {
        std::string streams;
        streams.reserve(end - begin);
        for (std::size_t i = begin; i < end; ++i) {
            streams.push_back(intake.events[i].control ? 'c' : 'e');
        }
        args.add(streams);
        for (std::size_t i = begin; i < end; ++i) {
            const ReadyEvent& event = intake.events[i];
            add_event_json(args, intake, event, 0);  // no raw text shared
            args.add(to_string(event.type));
        }
        return args;
    }
    for (std::size_t i = begin; i < end; ++i) {
        const ReadyEvent& event = intake.events[i];
        const std::size_t local = shared.local[event.raw];
        args.add(event.id);
        args.add(event.recipient_key);
        add_event_json(args, intake, event, local);
        add_event_meta(args, event, local, keys_of(event, policy));
    }
    return args;
}

}  // namespace

std::string_view store_script_source() {
    static const std::string source = std::string(kRequestFunction).append(kSingleMain);
    return source;
}

std::string store_script_sha1() { return hex_encode(sha1(store_script_source())); }

std::string_view store_batch_script_source() {
    static const std::string source = std::string(kRequestFunction).append(kBatchMain);
    return source;
}

std::string store_batch_script_sha1() { return hex_encode(sha1(store_batch_script_source())); }

namespace {

// A store call cut along the batch layout (kBatchMain), still encoded.
struct CallParts {
    std::string_view shared_keys;   // KEYS 1-5
    std::string_view shared_argv1;  // ARGV 1-4
    std::string_view shared_argv2;  // ARGV 7-10
    std::string_view own_keys;
    std::size_t own_key_count = 0;
    std::array<std::string_view, 5> own_head;  // ARGV 5, 6, 11, 12, 13
    std::string_view own_tail;                 // ARGV 14 ...
    std::size_t own_argc = 0;

    bool same_header(const CallParts& other) const {
        return shared_keys == other.shared_keys && shared_argv1 == other.shared_argv1 &&
               shared_argv2 == other.shared_argv2;
    }
};

std::string_view joined(std::string_view first, std::string_view last) {
    return {first.data(), static_cast<std::size_t>(last.data() + last.size() - first.data())};
}

// Nothing when `call` is not a store call (a spooled record can be anything
// its SHA-1 allows): the caller then sends it alone and Redis answers it.
std::optional<CallParts> cut(const RespArgs& call) {
    std::string_view rest = call.encoded();
    const std::optional<std::string_view> numkeys = take_bulk_string(rest);
    if (!numkeys || numkeys->empty()) return std::nullopt;
    std::size_t key_count = 0;
    for (const char c : *numkeys) {
        if (c < '0' || c > '9') return std::nullopt;
        key_count = key_count * 10 + static_cast<std::size_t>(c - '0');
    }
    std::array<std::string_view, kFixedKeys> keys;
    if (key_count < kFixedKeys || call.count() < 1 + key_count + kFixedArgv ||
        !take_encoded_bulks(rest, keys.data(), keys.size())) {
        return std::nullopt;
    }
    CallParts parts;
    parts.shared_keys = joined(keys.front(), keys.back());
    parts.own_key_count = key_count - kFixedKeys;
    const std::string_view own_keys = rest;
    for (std::size_t i = 0; i < parts.own_key_count; ++i) {
        std::string_view key;
        if (!take_encoded_bulks(rest, &key, 1)) return std::nullopt;
    }
    parts.own_keys = own_keys.substr(0, own_keys.size() - rest.size());
    std::array<std::string_view, kFixedArgv> argv;
    if (!take_encoded_bulks(rest, argv.data(), argv.size())) return std::nullopt;
    parts.shared_argv1 = joined(argv[0], argv[3]);
    parts.shared_argv2 = joined(argv[6], argv[9]);
    parts.own_head = {argv[4], argv[5], argv[10], argv[11], argv[12]};
    parts.own_tail = rest;
    parts.own_argc = call.count() - 1 - key_count - kFixedArgv + parts.own_head.size();
    return parts;
}

}  // namespace

std::optional<RespArgs> store_batch_args(const std::vector<const RespArgs*>& calls) {
    std::vector<CallParts> parts;
    std::vector<std::size_t> header_of;  // by call: its header's index in `headers`
    std::vector<std::size_t> headers;    // by header: the first call with it
    parts.reserve(calls.size());
    header_of.reserve(calls.size());
    std::size_t size = 256 + calls.size() * 48;
    std::size_t own_keys = 0;
    for (const RespArgs* call : calls) {
        auto cut_call = cut(*call);
        if (!cut_call) return std::nullopt;
        parts.push_back(*cut_call);
        size += call->encoded().size();
        own_keys += parts.back().own_key_count;
        std::size_t h = 0;
        while (h < headers.size() && !parts[headers[h]].same_header(parts.back())) ++h;
        if (h == headers.size()) headers.push_back(parts.size() - 1);
        header_of.push_back(h);
    }
    RespArgs numkeys;
    numkeys.add(static_cast<std::int64_t>(kFixedKeys * headers.size() + own_keys));
    RespArgs counts;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        counts.add(static_cast<std::int64_t>(header_of[i] + 1));
        counts.add(static_cast<std::int64_t>(parts[i].own_key_count));
        counts.add(static_cast<std::int64_t>(parts[i].own_argc));
    }
    std::string encoded;
    encoded.reserve(size);
    encoded.append(numkeys.encoded());
    for (const std::size_t h : headers) encoded.append(parts[h].shared_keys);
    for (const CallParts& part : parts) encoded.append(part.own_keys);
    RespArgs numbers;  // ARGV 1 and 2
    numbers.add(static_cast<std::int64_t>(calls.size()));
    numbers.add(static_cast<std::int64_t>(headers.size()));
    encoded.append(numbers.encoded());
    for (const std::size_t h : headers) {
        encoded.append(parts[h].shared_argv1).append(parts[h].shared_argv2);
    }
    encoded.append(counts.encoded());
    std::size_t count = 1 + kFixedKeys * headers.size() + own_keys + 2 +
                        kSharedArgv * headers.size() + counts.count();
    for (const CallParts& part : parts) {
        for (const std::string_view arg : part.own_head) encoded.append(arg);
        encoded.append(part.own_tail);
        count += part.own_argc;
    }
    return RespArgs(count, std::move(encoded));
}


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
