--- Start nghttpx (Debian package nghttp2-proxy) on loopback as a TLS terminator
-- in front of a plain-HTTP backend (the emulator, the gateway), and read what it saw.
--
--     local ng = require("helpers.nghttpx").start{ backend = emu.url, tls = certs.server }
--     ng.url                 -- "https://127.0.0.1:PORT"
--     ng:requests()          -- its access log: one record per request
--     ng:connections()       -- the client connections those requests came on
--     ng:handshakes()        -- TLS handshakes accepted, completed and failed (log_level = "INFO")
--     ng:stop()
--
-- Options: `backend` (URL, http://HOST:PORT), `tls` (`{ cert =, key = }`, see helpers.tls;
-- without it the frontend is plain HTTP), `http2` (default true: ALPN offers h2 then
-- http/1.1; false offers http/1.1 only), `log_level` ("NOTICE" default; "INFO" logs
-- every connection, which `handshakes` counts, and every request's headers),
-- `lifetime` (seconds before the watchdog ends it, default 120), `args` (more flags).
--
-- nghttpx takes no port 0: the helper picks a free port and tries another when the
-- bind fails (at most 5 times). start raises when nghttpx does not listen within
-- 10 s; stop() kills it (SIGKILL after 5 s). Its logs stay in `ng.dir` until stop().
local process = require("helpers.process")

local M = {}

--- The executable the helper starts.
M.bin = os.getenv("SEEDANCE_NGHTTPX_BIN") or "/usr/sbin/nghttpx"

-- Fields of each access-log line, in order.
local FORMAT = "$remote_port $alpn $protocol_version $tls_protocol $tls_session_reused $status $method $path"

local Ng = {}
Ng.__index = Ng

local function host_port(url)
  local host, port = url:match("^https?://%[([^%]]+)%]:(%d+)")
  if not host then host, port = url:match("^https?://([^/:]+):(%d+)") end
  assert(host, "nghttpx: backend must be http://HOST:PORT, got " .. tostring(url))
  return host, port
end

--- Whether nghttpx is installed.
-- @treturn boolean
function M.available()
  local f = io.open(M.bin, "rb")
  if f then f:close() end
  return f ~= nil
end

--- Start nghttpx. Raises when it does not listen within 10 seconds.
-- @tparam table opts see the module's comment
-- @return the terminator: `url`, `port`, `dir`, `requests()`, `connections()`, `handshakes()`,
--   `wait_requests(n)`, `log()`, `stop()`
function M.start(opts)
  assert(type(opts) == "table" and opts.backend, "nghttpx.start{ backend = URL, ... }")
  if not M.available() then
    error(M.bin .. " is missing: `sh .ci/install-deps test` installs Debian's nghttp2-proxy", 2)
  end
  local bhost, bport = host_port(opts.backend)
  local dir = process.tmpdir("nghttpx")
  local self = setmetatable({ dir = dir, access = dir .. "/access.log", errors = dir .. "/error.log" }, Ng)
  local last
  for _ = 1, 5 do
    local port = process.free_port()
    local front = "127.0.0.1," .. port .. (opts.tls and "" or ";no-tls")
    local argv = { M.bin, "--conf=/dev/null", "--single-process", "--workers=1", "--no-ocsp",
      "--frontend=" .. front, "--backend=" .. bhost .. "," .. bport,
      "--accesslog-file=" .. self.access, "--accesslog-format=" .. FORMAT,
      "--errorlog-file=" .. self.errors, "--log-level=" .. (opts.log_level or "NOTICE") }
    if opts.http2 == false then argv[#argv + 1] = "--npn-list=http/1.1" end
    for _, a in ipairs(opts.args or {}) do argv[#argv + 1] = a end
    if opts.tls then
      argv[#argv + 1] = opts.tls.key
      argv[#argv + 1] = opts.tls.cert
    end
    os.remove(self.errors)
    local proc = process.spawn{ argv = argv, log = dir .. "/stdout.log", lifetime = opts.lifetime or 120 }
    local listening = "Listening on 127.0.0.1:" .. port
    if proc:wait_for(function() return process.read(self.errors):find(listening, 1, true) ~= nil end) then
      self.proc, self.port = proc, port
      self.url = (opts.tls and "https" or "http") .. "://127.0.0.1:" .. port
      return self
    end
    proc:stop()
    last = process.read(self.errors) .. process.read(dir .. "/stdout.log")
    if not last:find("bind", 1, true) and not last:find("in use", 1, true) then break end
  end
  process.remove_dir(dir)
  error("nghttpx did not start: " .. tostring(last), 2)
end

--- The requests nghttpx has logged (a request is logged when it ends), in order: each
-- `{ port = client port, alpn = "h2" | "http/1.1", protocol = "HTTP/2" | "HTTP/1.1",
-- tls = "TLSv1.3" | "-", resumed = boolean, status = number, method, path }`.
-- @treturn table
function Ng:requests()
  if not self.proc and self.stopped_requests then return self.stopped_requests end
  local out = {}
  for line in process.read(self.access):gmatch("[^\n]+") do
    local port, alpn, proto, tls, reused, status, method, path =
      line:match("^(%d+) (%S+) (%S+) (%S+) (%S+) (%d+) (%S+) (%S+)$")
    if port then
      out[#out + 1] = { port = tonumber(port), alpn = alpn, protocol = proto, tls = tls, resumed = reused == "r",
                        status = tonumber(status), method = method, path = path }
    end
  end
  return out
end

--- Wait until at least n requests are logged, at most limit seconds (default 10).
-- @tparam number n
-- @tparam[opt] number limit
-- @treturn table the requests
function Ng:wait_requests(n, limit)
  local got
  self.proc:wait_for(function()
    got = self:requests()
    return #got >= n
  end, limit)
  return got
end

--- The client connections the logged requests came on (told apart by the client's port),
-- in order of first use: each `{ port, requests = count, alpn, protocol }`.
-- @treturn table
function Ng:connections()
  local out, by_port = {}, {}
  for _, r in ipairs(self:requests()) do
    local c = by_port[r.port]
    if not c then
      c = { port = r.port, requests = 0, alpn = r.alpn, protocol = r.protocol }
      by_port[r.port] = c
      out[#out + 1] = c
    end
    c.requests = c.requests + 1
  end
  return out
end

--- TLS handshakes as nghttpx logged them (start it with log_level = "INFO"):
-- `{ accepted = TCP connections accepted, completed = handshakes completed, failed = handshakes
-- that failed, resumed = completed ones that resumed a session }`.
-- @treturn table
function Ng:handshakes()
  local log = self:log()
  local n = { accepted = 0, completed = 0, failed = 0, resumed = 0 }
  for line in log:gmatch("[^\n]+") do
    if line:find("Accepted connection from", 1, true) then n.accepted = n.accepted + 1
    elseif line:find("%(shrpx_connection%.cc:%d+%) SSL/TLS handshake completed") then n.completed = n.completed + 1
    elseif line:find("tls: handshake libssl error", 1, true) then n.failed = n.failed + 1
    elseif line:find("%(shrpx_connection%.cc:%d+%) cipher=.* resumption=yes") then n.resumed = n.resumed + 1
    end
  end
  return n
end

--- The whole service behind one HTTPS address: nghttpx (TLS) in front of a gateway
-- (helpers.gateway) that forwards to the emulator and writes nghttpx's address for the
-- emulator's in task answers, so result URLs, and so media downloads, go through nghttpx too.
--
--     local stack = nghttpx.in_front_of(emu, { tls = certs.server })
--     stack.url, stack.ng, stack.gw    -- nghttpx's address; the terminator; the gateway (its record)
--     stack:stop()
-- @param emu a started emulator (helpers.emulator)
-- @tparam table opts as for start (without `backend`)
-- @treturn table `{ url, ng, gw, stop }`
function M.in_front_of(emu, opts)
  local gateway = require("helpers.gateway")
  local gw = gateway.start{ upstream = emu.url }
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.backend = gw.url
  local ok, ng = pcall(M.start, o)
  if not ok then
    gw:stop()
    error(ng, 2)
  end
  gw:script{ upstream = emu.url, cases = {
    { name = "task", method = "GET", pattern = "^/v1/tasks/", forward = true, replace = { { emu.url, ng.url } } },
  } }
  return { url = ng.url, ng = ng, gw = gw, stop = function()
    ng:stop()
    return gw:stop()
  end }
end

--- Wait until nghttpx has logged at least n handshakes that ended (completed or failed),
-- at most limit seconds (default 10). Needs log_level = "INFO".
-- @tparam number n
-- @tparam[opt] number limit
-- @treturn table as handshakes()
function Ng:wait_handshakes(n, limit)
  local got
  self.proc:wait_for(function()
    got = self:handshakes()
    return got.completed + got.failed >= n
  end, limit)
  return got
end

--- nghttpx's error log so far.
-- @treturn string
Ng.log = process.log_reader("errors")

--- Stop nghttpx (idempotent), keep its error log in `stopped_log`, remove its folder.
function Ng:stop()
  process.wind_up(self, { "proc" }, "errors", { stopped_requests = "requests" })
  self.proc = nil
end

return M
