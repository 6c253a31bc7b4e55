// SPDX-License-Identifier: BSD-2-Clause
#include "tracking_store.hpp"

#include "crypto.hpp"
#include "encoding.hpp"

namespace mailhook {
namespace {

// KEYS: 1 event stream, 2 the event's dedup key, then the repeat-window key
//   (when ARGV[10] > 0), then the delivered key (when ARGV[11] is '1').
// ARGV: 1 stream maxlen (0 = none), 2 vendor, 3 type, 4 delivery window (s),
//   5 hit epoch (s), 6 json head, 7 metadata, 8 metadata after delivery,
//   9 json tail, 10 repeat window (s, 0 = off), 11 delivery check,
//   12 dedup ttl.
// Returns a TrackingStoreResult. Every check that can fail runs before the
// first write.
constexpr std::string_view kSource = R"lua(
local stream, dedup = KEYS[1], KEYS[2]
local window = tonumber(ARGV[10])
local repeat_key = window > 0 and KEYS[3] or nil
local delivered_key = ARGV[11] == '1' and KEYS[repeat_key and 4 or 3] or nil
local t = redis.call('TYPE', stream)['ok']
if t ~= 'none' and t ~= 'stream' then
  return redis.error_reply('WRONGTYPE mailhook key ' .. stream .. ' holds a ' .. t)
end
if redis.call('EXISTS', dedup) == 1 then return 3 end
if repeat_key and not redis.call('SET', repeat_key, '1', 'NX', 'EX', window) then
  redis.pcall('INCR', repeat_key)
  return 2
end
local metadata, soon = ARGV[7], 0
if delivered_key then
  local delivered = redis.pcall('GET', delivered_key)
  local at = type(delivered) == 'string' and tonumber(delivered)
  if at and tonumber(ARGV[5]) - at <= tonumber(ARGV[4]) then
    metadata, soon = ARGV[8], 1
  end
end
local cmd = {'XADD', stream}
if tonumber(ARGV[1]) > 0 then
  cmd = {'XADD', stream, 'MAXLEN', '~', ARGV[1]}
end
for _, v in ipairs({'*', 'event', ARGV[6] .. metadata .. ARGV[9],
                    'type', ARGV[3], 'vendor', ARGV[2]}) do
  cmd[#cmd + 1] = v
end
redis.call(unpack(cmd))
redis.call('SET', dedup, '1', 'EX', tonumber(ARGV[12]))
return soon
)lua";

}  // namespace

std::string_view tracking_script_source() { return kSource; }

std::string tracking_script_sha1() { return hex_encode(sha1(kSource)); }

RespArgs tracking_script_args(const TrackingEvent& event, EpochMillis received_at,
                              const StoreKeys& keys, const TrackingStoreConfig& config) {
    const bool check = event.checks_delivery() && config.click_window_seconds > 0 &&
                       event.message_id && !comparable_message_id(*event.message_id).empty();
    const std::int64_t repeat_seconds = event.type == EventType::clicked
                                            ? config.click_repeat_seconds
                                            : config.open_repeat_seconds;
    const RequestKeys request_keys(keys, event.scope());
    RespArgs args;
    args.reserve(event.json_head.size() + event.json_tail.size() + 640);
    args.add(std::int64_t{2 + (repeat_seconds > 0) + check});
    args.add(request_keys.stream());
    args.add(request_keys.dedup(event.id));
    if (repeat_seconds > 0) args.add(request_keys.tracking_repeat(event.repeat_digest));
    if (check) args.add(request_keys.delivered(event.connection, *event.message_id));
    args.add(config.stream_maxlen);
    args.add(kTrackingVendor);
    args.add(to_string(event.type));
    args.add(config.click_window_seconds);
    args.add(received_at / 1000);
    args.add(event.json_head);
    args.add(event.metadata);
    args.add(check ? std::string_view(event.metadata_after_delivery)
                   : std::string_view(event.metadata));
    args.add(event.json_tail);
    args.add(repeat_seconds);
    args.add(std::string_view(check ? "1" : "0"));
    args.add(config.dedup_ttl_seconds);
    return args;
}

}  // namespace mailhook
