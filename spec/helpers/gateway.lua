--- A scriptable hostile HTTP gateway for specs (spec/support/gateway.py), and its record.
--
-- The gateway answers from a script of cases (status, headers, body, faults),
-- forwards what no case answers to an upstream (say the emulator), and
-- records every request it receives: method, target, every header as sent,
-- body, the case that answered. The script format is documented at the top of
-- spec/support/gateway.py; in Lua a script is a table of the same shape:
--
--     local gateway = require("helpers.gateway")
--     local emulator = require("helpers.emulator")
--
--     describe("a poll that meets one 503", function()
--       local emu, gw
--       setup(function()
--         emu = emulator.start{ speed = 200 }
--         gw = gateway.start{ upstream = emu.url, cases = {
--           { name = "odd poll", method = "GET", pattern = "^/v1/tasks/", times = 1,
--             status = 503, headers = { { "Retry-After", "0" } },
--             json = { error = { code = 503, type = "bad_gateway", message = "busy" } } },
--         } }
--       end)
--       teardown(function()
--         assert.is_true(gw:stop(), gw.stderr)   -- false when the gateway itself failed
--         emu:stop()
--       end)
--       it("polls again and finishes", function()
--         local client = require("seedance").new{ api_key = "sk-spec", base_url = gw.url }
--         -- ... generate and wait through gw.url ...
--         assert.equal(1, #gw:requests{ case = "odd poll" })
--         for _, r in ipairs(gw:requests()) do assert.equal("Bearer sk-spec", r:header("authorization")) end
--       end)
--     end)
--
-- Mind libcurl's own retry: when a reused keep-alive connection ends with no
-- answer at all (drop, reset), libcurl sends the request once more on a new
-- connection, so the gateway records it twice (both answered by the fault
-- while it applies: give the case `times = 1` to fault only the first).
--
-- Lua strings are sent as they are: a body or raw answer with bytes >= 0x80 goes
-- as base64 (body_b64, raw_b64), so any bytes work there; header values, names
-- and patterns must be UTF-8 text. Waits are bounded: start raises after 10 s
-- without the gateway's first line, control calls time out after 10 s, stop
-- sends SIGKILL after 5 s, and the gateway exits by itself after `lifetime`.
-- Works on Lua 5.1 to 5.4 and LuaJIT (io.popen, os.execute, the curl command, lua-cjson).
local cjson = require("cjson")
local process = require("helpers.process")

local M = {}

--- The server the helper starts.
M.script_path = process.ROOT .. "/spec/support/gateway.py"
--- The Python that runs it (Debian's, with its standard library).
M.python = "/usr/bin/python3"

local Gw = {}
Gw.__index = Gw

local Record = {}
Record.__index = Record

local sh_quote, read_all, write_all, alive, sleep = process.quote, process.read, process.write, process.alive,
  process.sleep

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64_VALUE = {}
for i = 1, 64 do B64_VALUE[B64:byte(i)] = i - 1 end

--- Base64 of a string (portable: arithmetic, no bit operators).
-- @tparam string s
-- @treturn string
function M.b64encode(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local d1, d2 = math.floor(n / 262144) % 64, math.floor(n / 4096) % 64
    local d3, d4 = math.floor(n / 64) % 64, n % 64
    out[#out + 1] = B64:sub(d1 + 1, d1 + 1) .. B64:sub(d2 + 1, d2 + 1) ..
      (b and B64:sub(d3 + 1, d3 + 1) or "=") .. (c and B64:sub(d4 + 1, d4 + 1) or "=")
  end
  return table.concat(out)
end

--- The bytes of a base64 string.
-- @tparam string s
-- @treturn string
function M.b64decode(s)
  s = s:gsub("[^%w%+/]", "")
  local out = {}
  for i = 1, #s, 4 do
    local n, k = 0, 0
    for j = i, math.min(i + 3, #s) do
      n = n * 64 + B64_VALUE[s:byte(j)]
      k = k + 1
    end
    for _ = k + 1, 4 do n = n * 64 end
    local b1, b2, b3 = math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256
    out[#out + 1] = string.char(b1, b2, b3):sub(1, k - 1)
  end
  return table.concat(out)
end

--- A poll answer (GET /v1/tasks/ID) about a task: `{ code = 200, data = ... }` with `data.id`
-- (default "task_A"), `data.status`, a progress (100 when completed, else 10) and, when
-- completed, one video at `fields.url` (default http://127.0.0.1:9/v.mp4); `fields` adds to
-- or replaces data's fields (`url` aside).
-- @tparam string status
-- @tparam[opt] table fields
-- @treturn table
function M.task_json(status, fields)
  fields = fields or {}
  local data = { id = "task_A", status = status, progress = status == "completed" and 100 or 10 }
  if status == "completed" then
    data.result = { videos = { { url = fields.url or "http://127.0.0.1:9/v.mp4", expires_at = os.time() + 3600 } } }
  end
  for k, v in pairs(fields) do
    if k ~= "url" then data[k] = v end
  end
  return { code = 200, data = data }
end

--- A case answering every poll (GET /v1/tasks/...) with `task_json(status, fields)`.
-- @tparam string status
-- @tparam[opt] table fields
-- @treturn table
function M.poll_case(status, fields)
  return { method = "GET", pattern = "^/v1/tasks/", json = M.task_json(status, fields) }
end

--- A case of a busy service: `status` (429: rate_limit_error, else bad_gateway) with
-- Retry-After (one value, or a list: one header each); `extra` adds match fields
-- (method, path, times...).
-- @tparam number status
-- @tparam string|table retry_after
-- @tparam[opt] table extra
-- @treturn table
function M.busy(status, retry_after, extra)
  local headers = {}
  for i, v in ipairs(type(retry_after) == "table" and retry_after or { retry_after }) do
    headers[i] = { "Retry-After", v }
  end
  local c = { status = status, headers = headers, json = { error = { code = status,
    type = status == 429 and "rate_limit_error" or "bad_gateway", message = "busy" } } }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

--- The cases of a completed task `task_V` whose one video is the media listener's
-- `/v.mp4`, followed by `media` (cases for the media listener; `path` defaults to /v.mp4).
-- @tparam table media
-- @treturn table a script (`{ cases = ... }`) for `gw:script`
function M.completed_video(media)
  local cases = { { listener = "api", method = "GET", pattern = "^/v1/tasks/",
    json = { code = 200, data = { id = "task_V", status = "completed", progress = 100,
      result = { videos = { { url = "{{base:media}}/v.mp4", expires_at = os.time() + 3600 } } } } } } }
  for _, c in ipairs(media) do
    c.listener = "media"
    c.path = c.path or "/v.mp4"
    cases[#cases + 1] = c
  end
  return { cases = cases }
end

local block
--- n bytes of the gateway's generated body (`bytes = N`, `endless`), from offset (default 0):
-- byte i is (i*7 + floor(i/256)) % 256, so a shifted or repeated range never compares equal.
-- @tparam number n
-- @tparam[opt] number offset
-- @treturn string
function M.pattern(n, offset)
  if not block then
    local t = {}
    for i = 0, 65535 do t[#t + 1] = string.char((i * 7 + math.floor(i / 256)) % 256) end
    block = table.concat(t)
  end
  local parts, pos, left = {}, offset or 0, n
  while left > 0 do
    local o = pos % 65536
    local k = math.min(left, 65536 - o)
    parts[#parts + 1] = block:sub(o + 1, o + k)
    pos, left = pos + k, left - k
  end
  return table.concat(parts)
end

-- A copy of a script ready for cjson: bytes >= 0x80 in body/raw go as base64,
-- empty lists are left out (cjson would write them as objects).
local function prepare(script)
  local out = { upstream = script.upstream }
  local cases = script.cases or {}
  if #cases > 0 then out.cases = {} end
  for i, c in ipairs(cases) do
    local copy = {}
    for k, v in pairs(c) do copy[k] = v end
    for _, key in ipairs({ "body", "raw" }) do
      if type(copy[key]) == "string" and copy[key]:find("[\128-\255]") then
        copy[key .. "_b64"] = M.b64encode(copy[key])
        copy[key] = nil
      end
    end
    for _, key in ipairs({ "headers", "replace", "method" }) do
      if type(copy[key]) == "table" and next(copy[key]) == nil then copy[key] = nil end
    end
    out.cases[i] = copy
  end
  return out
end

-- curl against the control port: the status and the decoded answer.
local function control(self, method, path, doc)
  local data = ""
  local tmp
  if doc ~= nil then
    tmp = os.tmpname()
    write_all(tmp, cjson.encode(doc))
    data = " -H 'Content-Type: application/json' --data-binary @" .. sh_quote(tmp)
  end
  local cmd = string.format("curl -sS --max-time 10 -X %s%s -w '\\n%%{http_code}' %s 2>&1", method, data,
    sh_quote(self.control .. path))
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  if tmp then os.remove(tmp) end
  local body, code = out:match("^(.*)\n(%d%d%d)$")
  if not code or code == "000" then
    error("gateway control " .. method .. " " .. path .. " failed: " .. out .. "\n" .. self:log(), 2)
  end
  local ok, decoded = pcall(cjson.decode, body)
  return tonumber(code), ok and decoded or body
end

--- Start a gateway. Raises when it does not come up within 10 seconds, or refuses the script.
-- @tparam[opt] table opts
--   `cases` (list) and `upstream` (URL): the script (see gateway.py);
--   `listeners`: list of names or `{ name =, host = "127.0.0.1" | "::1", tls = { cert =, key = } }`
--   (default one listener "main"); `tls`: `{ cert =, key = }` for the default listener;
--   `lifetime`: seconds before the gateway exits by itself (default 120; 0 for none).
-- @return the gateway: `url`, `port` (its first listener), `urls[name]`, `ports[name]`,
--   `listeners` (list of `{ name, port, url, host, scheme }`), `control` (URL), `pid`
function M.start(opts)
  return M.launch(setmetatable({}, Gw), opts, 2)
end

--- A gateway for the enclosing describe: started before its first test and stopped after
-- its last (busted's setup and teardown), or with `each = true` started afresh before each
-- test and stopped after it, where its stop must be clean (no handler of its own failed).
-- Its fields are there once it has started.
-- @tparam[opt] table|function opts as for `start`, or a function giving them when it starts
-- @tparam[opt] table how `{ each = true }`
-- @return the gateway, as `start` gives it
function M.fixture(opts, how)
  local self = setmetatable({}, Gw)
  local busted = require("busted")
  local function up() M.launch(self, type(opts) == "function" and opts() or opts, 3) end
  if how and how.each then
    busted.before_each(up)
    busted.after_each(function() assert(self:stop(), "the gateway failed: " .. self:log()) end)
  else
    busted.setup(up)
    busted.teardown(function() self:stop() end)
  end
  return self
end

--- Start a gateway into `self` (new or stopped): what `start` does.
-- @local
function M.launch(self, opts, level)
  opts = opts or {}
  local listeners = {}
  for i, l in ipairs(opts.listeners or { { name = "main", tls = opts.tls } }) do
    if type(l) == "string" then l = { name = l } end
    listeners[i] = { name = l.name or "main", host = l.host, cert = l.tls and l.tls.cert, key = l.tls and l.tls.key }
  end
  local cfg = os.tmpname()
  write_all(cfg, cjson.encode({ listeners = listeners, lifetime = opts.lifetime or 120,
                                script = prepare(opts) }))
  local out, err = os.tmpname(), os.tmpname()
  process.background(self, string.format("%s %s %s >%s 2>%s </dev/null", M.python, sh_quote(M.script_path),
    sh_quote(cfg), sh_quote(out), sh_quote(err)))
  local pid = self.pid
  self.out, self.err, self.stderr = out, err, nil
  local first
  local deadline = os.time() + 10
  repeat
    first = read_all(out):match("^([^\n]*)\n")
    if first or not alive(pid) then break end
    sleep(0.01)
  until os.time() > deadline
  os.remove(cfg)
  if not first then
    self:stop()
    error("the gateway did not start: " .. self.stderr, level or 2)
  end
  local info = cjson.decode(first)
  self.control = ("http://127.0.0.1:%d"):format(info.control)
  self.listeners, self.urls, self.ports = info.listeners, {}, {}
  for _, l in ipairs(info.listeners) do
    l.port = math.floor(l.port) -- an integer on 5.3+, where cjson gives a float
    self.urls[l.name], self.ports[l.name] = l.url, l.port
  end
  self.url, self.port = info.listeners[1].url, info.listeners[1].port
  return self
end

--- Replace the script (use counts start again; the record stays). Raises with the gateway's
-- reason when it refuses the script.
-- @tparam table script `{ cases = {...}, upstream = url }`
function Gw:script(script)
  local code, doc = control(self, "PUT", "/_gateway/script", prepare(script))
  if code ~= 200 then error("the gateway refused the script: " .. tostring(type(doc) == "table" and doc.error
    or doc), 2) end
end

local function keep(rec, filter)
  for k, v in pairs(filter or {}) do
    if rec[k] ~= v then return false end
  end
  return true
end

--- The requests received so far, in arrival order, each a record with fields `n`, `conn`, `listener`, `port`,
-- `method`, `target` (path and query), `path`, `query`, `version`, `headers` (list of `{ name, value }` as sent),
-- `body` (the bytes), `body_len`, `body_sha256`, `case` (the case's name or index, "upstream", "none"),
-- `forwarded`, `upstream_status`, `upstream_error`, `outcome`, `time`; and methods `header`, `header_all`, `json`.
-- @tparam[opt] table filter keep only records whose fields equal these (e.g. `{ listener = "media" }`)
-- @treturn table list of records
function Gw:requests(filter)
  local code, doc = control(self, "GET", "/_gateway/requests")
  assert(code == 200, "gateway: cannot read the record")
  local out = {}
  for _, rec in ipairs(doc.requests) do
    rec.body = M.b64decode(rec.body_b64)
    rec.body_b64 = nil
    for k, v in pairs(rec) do
      if v == cjson.null then rec[k] = nil
      elseif type(v) == "number" and v == math.floor(v) then rec[k] = math.floor(v) end -- 1, not 1.0, on 5.3+
    end
    setmetatable(rec, Record)
    if keep(rec, filter) then out[#out + 1] = rec end
  end
  return out
end

--- Wait until at least n requests (matching filter) were received, at most limit seconds (default 10).
-- Raises when they do not come.
-- @tparam number n
-- @tparam[opt] table filter as for requests
-- @tparam[opt] number limit seconds
-- @treturn table the records, as requests(filter)
function Gw:wait_requests(n, filter, limit)
  limit = limit or 10
  -- at least limit seconds (each round sleeps 20 ms), at most about limit + 1
  local deadline = os.time() + limit + 1
  for _ = 1, math.max(1, math.ceil(limit / 0.02)) do
    local got = self:requests(filter)
    if #got >= n then return got end
    if os.time() > deadline then break end
    sleep(0.02)
  end
  error(("gateway: %d request(s) awaited, %d came"):format(n, #self:requests(filter)), 2)
end

--- The connections accepted so far: `{ n, listener, port, peer, tls, tls_error, requests, ended }` each.
-- @treturn table
function Gw:connections()
  local _, doc = control(self, "GET", "/_gateway/connections")
  return doc.connections
end

--- The gateway's state: `listeners`, `used` (answers per case, in script order), `errors` (its own failures).
-- @treturn table
function Gw:info()
  local _, doc = control(self, "GET", "/_gateway/info")
  return doc
end

--- Forget the requests and connections recorded so far.
function Gw:reset()
  control(self, "DELETE", "/_gateway/requests")
end

--- What the gateway wrote on stderr so far (its own errors, tracebacks).
-- @treturn string
function Gw:log()
  return self.stderr or read_all(self.err)
end

--- Whether the gateway process is still running.
-- @treturn boolean
function Gw:running()
  return self.shell ~= nil and alive(self.pid)
end

--- Stop the gateway (idempotent), keep its stderr in `self.stderr`, remove its files.
-- @treturn boolean true when it exited with status 0 (3 means a handler of its own failed: see `self.stderr`)
-- @treturn[opt] number its exit status (128 + N after signal N)
function Gw:stop()
  if not self.shell then return self.exit_ok, self.exit_code end
  local ok, code = process.stop_background(self)
  self.stderr = read_all(self.err)
  os.remove(self.out)
  os.remove(self.err)
  return ok, code
end

--- The first value of a request header, the name compared without case (nil when absent).
-- @tparam string name
-- @treturn string|nil
function Record:header(name)
  name = name:lower()
  for _, h in ipairs(self.headers) do
    if h[1]:lower() == name then return h[2] end
  end
  return nil
end

--- Every value of a request header, in order, the name compared without case.
-- @tparam string name
-- @treturn table list of strings
function Record:header_all(name)
  local out = {}
  name = name:lower()
  for _, h in ipairs(self.headers) do
    if h[1]:lower() == name then out[#out + 1] = h[2] end
  end
  return out
end

--- The request body decoded as JSON.
-- @return the value
function Record:json()
  return cjson.decode(self.body)
end

return M
