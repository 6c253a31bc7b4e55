-- SPDX-License-Identifier: BSD-2-Clause
-- wrk script: replays pre-signed requests from $MAILHOOK_BENCH_REQUESTS.
-- Each line: path \t header: value (\x01-separated) \t body. Thread i sends
-- lines i, i+threads, ... so no two threads send the same request.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local total = tonumber(os.getenv("MAILHOOK_BENCH_THREADS") or "1")
  requests = {}
  local n = 0
  for line in io.lines(os.getenv("MAILHOOK_BENCH_REQUESTS")) do
    if n % total == id then
      local path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local h = {}
      for pair in headers:gmatch("[^\1]+") do
        local name, value = pair:match("^([^:]+): (.*)$")
        h[name] = value
      end
      body = body:gsub("\\n", "\n"):gsub("\\r", "\r")
      table.insert(requests, wrk.format("POST", path, h, body))
    end
    n = n + 1
  end
  index = 0
  sent = 0
  count = #requests
  -- Every thread's init runs in wrk's main thread, one after the other, and
  -- a thread starts sending once its own is done, while wrk starts its
  -- clock after the last: the last one says so (delay() below holds the
  -- others until then). Its clock is the CPU loading took.
  init_clock = os.clock()
  if id == total - 1 then
    local ready = io.open(os.getenv("MAILHOOK_BENCH_READY"), "w")
    ready:close()
  end
end

-- Before each next request on a connection: wait while another thread still
-- loads (its sending would fall outside wrk's clock), then never again.
local started = false
function delay()
  if started then return 0 end
  local ready = io.open(os.getenv("MAILHOOK_BENCH_READY"), "r")
  if not ready then return 20 end
  ready:close()
  started = true
  return 0
end

function request()
  index = index % #requests + 1
  sent = sent + 1
  return requests[index]
end

-- Past its list a thread starts over (those repeats are duplicates): report
-- how many distinct requests went out, for the stored-events check.
function done(summary, latency, requests)
  local unique, loaded = 0, 0
  for _, thread in ipairs(threads) do
    local s, c = thread:get("sent"), thread:get("count")
    unique = unique + math.min(s, c)
    loaded = math.max(loaded, thread:get("init_clock"))
  end
  io.write(string.format("distinct requests sent: %d\n", unique))
  -- os.clock(): CPU time of the whole wrk process, all threads.
  io.write(string.format("wrk cpu seconds: init %.3f total %.3f\n", loaded, os.clock()))
end
