--- A real redis-server for specs (Debian's redis-server), on a free loopback
-- port, its files in a folder of the spec's: an append-only file synced at
-- every write (`appendonly yes`, `appendfsync always`), no snapshots, no
-- other listener.
--
--     local redis = require("helpers.redis")
--     local r = redis.start{ password = "s3cret" }   -- or { tls = certs } (helpers.tls), or {}
--     r:url("batch")        -- "redis://:s3cret@127.0.0.1:PORT/batch" (rediss:// with tls)
--     r:cli("LLEN", "batch:records")  -- redis-cli's answer, as text
--     r:restart()           -- SIGTERM, then the same server again on the same port and files
--     r:stop()              -- and its folder removed
--
-- Waits are bounded: start raises after 10 s without an answer to PING.
local process = require("helpers.process")

local M = {}

local R = {}
R.__index = R

-- The server's command line (the same at every start, so a restart finds its files).
local function argv(self)
  local a = { "redis-server", "--bind", "127.0.0.1", "--port", tostring(self.tls and 0 or self.port),
    "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
    "--daemonize", "no", "--logfile", "", "--protected-mode", "no" }
  if self.password then a[#a + 1] = "--requirepass" a[#a + 1] = self.password end
  if self.tls then
    for _, kv in ipairs{ { "--tls-port", tostring(self.port) }, { "--tls-cert-file", self.tls.server.cert },
        { "--tls-key-file", self.tls.server.key }, { "--tls-ca-cert-file", self.tls.ca },
        { "--tls-auth-clients", "no" } } do
      a[#a + 1] = kv[1]
      a[#a + 1] = kv[2]
    end
  end
  return a
end

--- redis-cli with this server's address (and password, TLS), its output as text.
-- @param ... the command's words
-- @treturn string
function R:cli(...)
  local words = { "redis-cli", "-h", "127.0.0.1", "-p", tostring(self.port) }
  if self.password then words[#words + 1] = "--no-auth-warning" words[#words + 1] = "-a"
    words[#words + 1] = self.password end
  if self.tls then
    words[#words + 1] = "--tls"
    words[#words + 1] = "--cacert"
    words[#words + 1] = self.tls.ca
  end
  for _, w in ipairs{ ... } do words[#words + 1] = w end
  for i, w in ipairs(words) do words[i] = process.quote(w) end
  local _, out = process.run(table.concat(words, " "))
  return (out:gsub("%s+$", ""))
end

-- Start the server process and wait for PING.
function R:_up()
  self.proc = process.spawn{ argv = argv(self), log = self.dir .. "/redis.log", lifetime = self.lifetime }
  local up = self.proc:wait_for(function() return self:cli("PING") == "PONG" end, 10)
  if not up then
    local log = process.read(self.dir .. "/redis.log")
    self:stop()
    error("redis-server did not start: " .. log)
  end
end

--- Start a server.
-- @tparam[opt] table opts `password`, `tls` (a helpers.tls set), `lifetime` (seconds, default 300)
-- @return the server: `port`, `dir`, `url(name)`, `cli(...)`, `restart()`, `down()`, `up()`, `stop()`
function M.start(opts)
  opts = opts or {}
  local self = setmetatable({ password = opts.password, tls = opts.tls, lifetime = opts.lifetime or 300,
    dir = process.tmpdir("redis") }, R)
  local err
  for _ = 1, 5 do
    self.port = process.free_port()
    local ok
    ok, err = pcall(self._up, self)
    if ok then return self end
    self.dir = process.tmpdir("redis")
  end
  error("redis-server did not start on any port: " .. tostring(err))
end

--- The journal URL of NAME on this server (with the password; rediss:// with TLS; `?query` appended).
-- @tparam string name
-- @tparam[opt] string query e.g. "lease=3"
-- @treturn string
function R:url(name, query)
  return string.format("%s://%s127.0.0.1:%d/%s%s", self.tls and "rediss" or "redis",
    self.password and (":" .. self.password .. "@") or "", self.port, name, query and ("?" .. query) or "")
end

--- Stop the server (SIGTERM, as a restart does), keeping its files.
function R:down()
  if self.proc then self.proc:stop() end
  self.proc = nil
end

--- Start it again on the same port and files.
function R:up()
  self:_up()
end

--- Stop and start again on the same port and files (what it wrote survives: appendfsync always).
function R:restart()
  self:down()
  self:up()
end

--- Stop the server and remove its folder (idempotent).
function R:stop()
  self:down()
  process.remove_dir(self.dir)
  self.dir = nil
end

return M
