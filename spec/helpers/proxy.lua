--- Start a real forward proxy, tinyproxy (Debian package tinyproxy-bin), on loopback
-- for a spec, with a recording relay in front of it (spec/support/tap.py) that keeps
-- every byte clients send to the proxy.
--
--     local px = require("helpers.proxy").start{ connect_ports = { ng.port } }
--     px.url          -- "http://127.0.0.1:PORT": give this to clients (the relay, then tinyproxy)
--     px:requests()   -- the requests tinyproxy logged: { method, target } each, in order
--     px:captures()   -- what each client connection sent to the proxy, as strings
--     px:stop()
--
-- Options: `connect_ports` (list: the ports CONNECT may reach; tinyproxy refuses the
-- others with 403), `lifetime` (seconds before the watchdogs end both, default 120).
-- tinyproxy takes no port 0: the helper picks a free port and tries another when
-- the bind fails (at most 5 times). start raises when either does not come up
-- within 10 s; stop() kills both (SIGKILL after 5 s). Files stay in `px.dir` until stop().
local process = require("helpers.process")

local M = {}

--- The executables the helper starts.
M.bin = os.getenv("SEEDANCE_TINYPROXY_BIN") or "/usr/bin/tinyproxy"
M.python = "/usr/bin/python3"
M.tap = (debug.getinfo(1, "S").source:match("^@(.*)/spec/helpers/proxy%.lua$") or ".") .. "/spec/support/tap.py"

local Px = {}
Px.__index = Px

--- Whether tinyproxy is installed.
-- @treturn boolean
function M.available()
  local f = io.open(M.bin, "rb")
  if f then f:close() end
  return f ~= nil
end

local function config(port, log, connect_ports)
  local lines = {
    "Port " .. port,
    "Listen 127.0.0.1",
    "Timeout 30",
    "MaxClients 100",
    "Allow 127.0.0.1",
    "LogLevel Info",
    "LogFile \"" .. log .. "\"",
  }
  -- tinyproxy allows CONNECT to every port when no ConnectPort is given: name at least one
  local ports = connect_ports or {}
  if #ports == 0 then ports = { 443 } end
  for _, p in ipairs(ports) do lines[#lines + 1] = "ConnectPort " .. p end
  return table.concat(lines, "\n") .. "\n"
end

--- Start tinyproxy and its relay. Raises when they do not come up within 10 seconds.
-- @tparam[opt] table opts see the module's comment
-- @return the proxy: `url`, `port` (the relay's), `proxy_port` (tinyproxy's), `dir`,
--   `requests()`, `captures()`, `log()`, `stop()`
function M.start(opts)
  opts = opts or {}
  if not M.available() then
    error(M.bin .. " is missing: `sh .ci/install-deps test` installs Debian's tinyproxy-bin", 2)
  end
  local dir = process.tmpdir("proxy")
  local self = setmetatable({ dir = dir, logfile = dir .. "/tinyproxy.log", capdir = dir .. "/capture" }, Px)
  os.execute("mkdir -p " .. process.quote(self.capdir))
  local lifetime = opts.lifetime or 120
  local last
  for _ = 1, 5 do
    local port = process.free_port()
    local conf = dir .. "/tinyproxy.conf"
    process.write(conf, config(port, self.logfile, opts.connect_ports))
    os.remove(self.logfile)
    local proc = process.spawn{ argv = { M.bin, "-d", "-c", conf }, log = dir .. "/stdout.log", lifetime = lifetime }
    if proc:wait_for(function()
      return process.read(self.logfile):find("Accepting connections", 1, true) ~= nil
    end) then
      self.proc, self.proxy_port = proc, port
      break
    end
    proc:stop()
    last = process.read(self.logfile) .. process.read(dir .. "/stdout.log")
  end
  if not self.proc then
    process.remove_dir(dir)
    error("tinyproxy did not start: " .. tostring(last), 2)
  end
  local out = dir .. "/tap.out"
  self.tap = process.spawn{ argv = { M.python, M.tap, tostring(self.proxy_port), self.capdir, tostring(lifetime) },
    log = out, lifetime = lifetime + 5 }
  if not self.tap:wait_for(function() return process.read(out):match("^%d+\n") ~= nil end) then
    local why = process.read(out)
    self:stop()
    error("the proxy's relay did not start: " .. why, 2)
  end
  self.port = tonumber(process.read(out):match("^(%d+)\n"))
  self.url = "http://127.0.0.1:" .. self.port
  return self
end

--- The requests tinyproxy logged, in order: `{ method, target }` each (a CONNECT's
-- target is HOST:PORT, another method's the absolute URL).
-- @treturn table
function Px:requests()
  local out = {}
  for method, target in self:log():gmatch("Request %(file descriptor %d+%): (%u+) (%S+)") do
    out[#out + 1] = { method = method, target = target }
  end
  return out
end

--- What each client connection sent to the proxy, in order of accept (strings of bytes).
-- @treturn table
function Px:captures()
  if self.stopped_captures then return self.stopped_captures end
  local out = {}
  for i = 1, 100000 do
    local f = io.open(self.capdir .. "/" .. i .. ".in", "rb")
    if not f then break end
    out[i] = f:read("*a")
    f:close()
  end
  return out
end

--- tinyproxy's log so far.
-- @treturn string
Px.log = process.log_reader("logfile")

--- Stop tinyproxy and the relay (idempotent); keep the log and captures; remove the folder.
function Px:stop()
  process.wind_up(self, { "tap", "proc" }, "logfile", { stopped_captures = "captures" })
end

return M
