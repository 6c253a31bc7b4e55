-- SPDX-License-Identifier: BSD-2-Clause
-- The peer of `make bench`: what a user would write in ngx_lua instead of
-- mailhook for the Inboxroad endpoint, doing the same work: HMAC-SHA256 of
-- the raw body checked against X-Signature, the JSON parsed and normalized to
-- mailhook's event (same fields, same stable id, the vendor's event as `raw`),
-- and one EVALSHA per request that does mailhook's storage work for such an
-- event (dedup EXISTS, XADD, SET EX). Debian's libnginx-mod-http-lua,
-- lua-cjson and lua-nginx-redis (lua-resty-redis); OpenSSL through LuaJIT's
-- FFI, as resty.hmac does.
local ffi = require "ffi"
local cjson = require "cjson.safe"
local redis = require "nginx.redis"

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *out,
                    unsigned int *out_len);
unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *out);
]]

-- nginx links libcrypto, so its symbols are in the global namespace.
local crypto = ffi.C
local digest = ffi.new("unsigned char[32]")
local digest_len = ffi.new("unsigned int[1]")

local function hmac_sha256(key, data)
  crypto.HMAC(crypto.EVP_sha256(), key, #key, data, #data, digest, digest_len)
  return ffi.string(digest, digest_len[0])
end

local function hex32(data)
  crypto.SHA256(data, #data, digest)
  return (ffi.string(digest, 16):gsub(".", function(c)
    return string.format("%02x", c:byte())
  end))
end

local STORE = [[
if redis.call('EXISTS', KEYS[2]) == 1 then return {0, 1} end
redis.call('XADD', KEYS[1], '*', 'event', ARGV[1], 'type', ARGV[2], 'vendor', ARGV[3])
redis.call('SET', KEYS[2], '1', 'EX', ARGV[4])
return {1, 0}
]]
local STORE_SHA  -- set in setup()

local TYPES = {
  sent = "sent", delivered = "delivered", deferred = "deferred",
  open = "opened", opened = "opened", click = "clicked", clicked = "clicked",
  bounce = "bounced", bounced = "bounced", hard_bounce = "bounced",
  soft_bounce = "bounced", complaint = "complained", spam = "complained",
  unsubscribe = "unsubscribed", unsubscribed = "unsubscribed",
}

local config = { redis_port = 6379, secrets = {}, stream = "peer:events",
                 dedup_prefix = "peer:dedup:", dedup_ttl = 26 * 3600 }

local _M = {}

function _M.setup(options)
  for k, v in pairs(options) do config[k] = v end
  STORE_SHA = (ngx.sha1_bin(STORE):gsub(".", function(c)
    return string.format("%02x", c:byte())
  end))
end

local function answer(status, body)
  ngx.status = status
  ngx.header.content_type = "application/json"
  ngx.say(body)
  return ngx.exit(status)
end

local function text(v)
  if type(v) == "string" and v ~= "" then return v end
  return cjson.null
end

local function rfc3339_millis(now)
  local seconds = math.floor(now)
  return os.date("!%Y-%m-%dT%H:%M:%S", seconds)
    .. string.format(".%03dZ", math.floor((now - seconds) * 1000 + 0.5) % 1000)
end

local function normalize(item, connection)
  local kind = type(item.kind) == "string" and item.kind:lower() or ""
  local campaign = type(item.campaign) == "table" and item.campaign or {}
  local received = rfc3339_millis(ngx.now())
  local event_id = text(item.id)
  return {
    schema = 1,
    id = hex32("inboxroad\0" .. connection .. "\0" .. (event_id ~= cjson.null and event_id or "")),
    vendor = "inboxroad", connection = connection, tenant = cjson.null,
    type = TYPES[kind] or "unknown",
    bounce_class = cjson.null, reject_reason = cjson.null,
    recipient = type(item.recipient) == "string" and item.recipient or "",
    message_id = text(item.message_id), event_id = event_id,
    timestamp = type(item.timestamp) == "string" and item.timestamp or received,
    received_at = received,
    smtp_status = cjson.null, mta_response = text(item.smtp_response),
    description = text(item.reason), click_url = text(item.url),
    user_agent = text(item.user_agent), ip = text(item.ip),
    campaign_id = text(campaign.id),
    tags = setmetatable(type(item.tags) == "table" and item.tags or {}, cjson.array_mt),
    metadata = type(item.metadata) == "table" and item.metadata or setmetatable({}, {}),
    vendor_event = kind, raw = item,
  }
end

local function store(event)
  local red = redis:new()
  red:set_timeout(1000)
  local ok, err = red:connect("127.0.0.1", config.redis_port)
  if not ok then return nil, err end
  local json = cjson.encode(event)
  local keys = { config.stream, config.dedup_prefix .. event.id }
  local res
  res, err = red:evalsha(STORE_SHA, 2, keys[1], keys[2], json, event.type, event.vendor,
                         config.dedup_ttl)
  if not res and err and err:find("NOSCRIPT", 1, true) then
    res, err = red:eval(STORE, 2, keys[1], keys[2], json, event.type, event.vendor,
                        config.dedup_ttl)
  end
  if not res then return nil, err end
  red:set_keepalive(60000, 256)
  return res
end

function _M.inboxroad(connection)
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then return answer(413, '{"error":"too large"}') end
  local secret = config.secrets[connection]
  local signature = ngx.var.http_x_signature
  if not secret or not signature
      or ngx.encode_base64(hmac_sha256(secret, body)) ~= signature then
    return answer(401, '{"error":"signature"}')
  end
  local item = cjson.decode(body)
  if type(item) ~= "table" then return answer(400, '{"error":"format"}') end
  local res, err = store(normalize(item, connection))
  if not res then
    ngx.log(ngx.ERR, "peer: redis: ", err)
    return answer(503, '{"error":"redis"}')
  end
  return answer(200, '{"stored":' .. res[1] .. ',"duplicates":' .. res[2] .. '}')
end

return _M
