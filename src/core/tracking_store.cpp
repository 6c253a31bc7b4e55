// SPDX-License-Identifier: BSD-2-Clause
#include "tracking_store.hpp"

#include "crypto.hpp"
#include "encoding.hpp"
#include "store_script.hpp"

namespace mailhook {
namespace {

// KEYS: 1 event stream.
// ARGV: 1 stream maxlen (0 = none), 2 vendor, 3 type, 4 delivered key
//   ('' = no check), 5 window (s), 6 hit epoch (s), 7 json head,
//   8 metadata, 9 metadata after delivery, 10 json tail.
// Returns 1 when the hit came within the window after the delivery, else 0.
// No dedup key: every open and click is its own event with a random id.
constexpr std::string_view kSource = R"lua(
local stream = KEYS[1]
local t = redis.call('TYPE', stream)['ok']
if t ~= 'none' and t ~= 'stream' then
  return redis.error_reply('WRONGTYPE mailhook key ' .. stream .. ' holds a ' .. t)
end
local metadata, soon = ARGV[8], 0
if ARGV[4] ~= '' then
  local delivered = redis.pcall('GET', ARGV[4])
  local at = type(delivered) == 'string' and tonumber(delivered)
  if at and tonumber(ARGV[6]) - at <= tonumber(ARGV[5]) then
    metadata, soon = ARGV[9], 1
  end
end
local cmd = {'XADD', stream}
if tonumber(ARGV[1]) > 0 then
  cmd = {'XADD', stream, 'MAXLEN', '~', ARGV[1]}
end
for _, v in ipairs({'*', 'event', ARGV[7] .. metadata .. ARGV[10],
                    'type', ARGV[3], 'vendor', ARGV[2]}) do
  cmd[#cmd + 1] = v
end
redis.call(unpack(cmd))
return soon
)lua";

}  // namespace

std::string_view tracking_script_source() { return kSource; }

std::string tracking_script_sha1() { return hex_encode(sha1(kSource)); }

RespArgs tracking_script_args(const TrackingEvent& event, EpochMillis received_at,
                              const TrackingStoreConfig& config) {
    const bool check = event.checks_delivery() && config.click_window_seconds > 0 &&
                       event.message_id && !comparable_message_id(*event.message_id).empty();
    RespArgs args;
    args.reserve(event.json_head.size() + event.json_tail.size() + 512);
    args.add(std::int64_t{1});
    args.add(config.stream);
    args.add(config.stream_maxlen);
    args.add(kTrackingVendor);
    args.add(to_string(event.type));
    args.add(check ? delivered_key(config.delivered_prefix, event.connection,
                                   *event.message_id)
                   : std::string());
    args.add(config.click_window_seconds);
    args.add(received_at / 1000);
    args.add(event.json_head);
    args.add(event.metadata);
    args.add(check ? std::string_view(event.metadata_after_delivery)
                   : std::string_view(event.metadata));
    args.add(event.json_tail);
    return args;
}

}  // namespace mailhook
