--- Start seedance-emulator on a free loopback port for a spec, and stop it.
--
--     local emu = require("helpers.emulator").start{ speed = 100, rpm = 5 }
--     emu.url        -- "http://127.0.0.1:PORT"
--     emu:stats()    -- the emulator's counters (GET /_emulator/stats)
--     emu:stop()     -- SIGTERM, then wait for it to exit
--
-- Option names are the emulator's flags with '_' for '-' (fail_rate = 0.5 is
-- --fail-rate 0.5); `true` passes a bare flag.
local cjson = require("cjson")

local M = {}

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)/spec/helpers/emulator%.lua$") or ".")
local BIN = ROOT .. "/build/seedance-emulator"

local Emu = {}
Emu.__index = Emu

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

--- Start an emulator. Raises when it does not come up within 10 seconds.
-- @tparam[opt] table opts flags
function M.start(opts)
  local args = { "--host", "127.0.0.1", "--port", "0" }
  for k, v in pairs(opts or {}) do
    args[#args + 1] = "--" .. k:gsub("_", "-")
    if v ~= true then args[#args + 1] = tostring(v) end
  end
  for i = 1, #args do args[i] = sh_quote(args[i]) end
  local log = os.tmpname()
  local p = assert(io.popen(string.format("%s %s >%s 2>&1 & echo $!", sh_quote(BIN), table.concat(args, " "),
    sh_quote(log))))
  local pid = p:read("*l")
  p:close()
  local self = setmetatable({ pid = pid, log = log }, Emu)
  for _ = 1, 1000 do
    local url = read_all(log):match("^listening on (http://[^\n]+)\n")
    if url then
      self.url = url
      return self
    end
    if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then break end
    os.execute("sleep 0.01")
  end
  local out = read_all(log)
  self:stop()
  error("seedance-emulator did not start: " .. out)
end

--- The emulator's counters.
-- @treturn table
function Emu:stats()
  local p = assert(io.popen("curl -s --max-time 5 " .. sh_quote(self.url .. "/_emulator/stats")))
  local body = p:read("*a")
  p:close()
  return cjson.decode(body)
end

--- Stop the emulator (idempotent) and remove its log.
function Emu:stop()
  if not self.pid then return end
  os.execute("kill " .. self.pid .. " 2>/dev/null; i=0; while kill -0 " .. self.pid
    .. " 2>/dev/null && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done; kill -9 " .. self.pid .. " 2>/dev/null")
  os.remove(self.log)
  self.pid = nil
end

return M
