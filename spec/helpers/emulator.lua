--- Start seedance-emulator on a free loopback port for a spec, and stop it.
--
--     local emu = require("helpers.emulator").start{ speed = 100, rpm = 5 }
--     emu.url        -- "http://127.0.0.1:PORT"
--     emu:stats()    -- the emulator's counters (GET /_emulator/stats)
--     emu:stop()     -- SIGTERM, wait for it to exit; true when it exited 0
--
-- Option names are the emulator's flags with '_' for '-' (fail_rate = 0.5 is
-- --fail-rate 0.5); `true` passes a bare flag, a list the flag once per value
-- (flag_word = { "a=X", "b=Y" }). Waits are bounded: start
-- raises after 10 s without the "listening on" line, stop sends SIGKILL after
-- 5 s. The emulator runs as the child of a shell that waits for it, so it is
-- reaped at once and stop() learns its exit status.
local cjson = require("cjson")

local M = {}

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)/spec/helpers/emulator%.lua$") or ".")

--- The emulator executable the helper starts: $SEEDANCE_EMULATOR_BIN when set
-- (make check-emulator-asan points it at the sanitizer build), else
-- build/seedance-emulator.
M.bin = os.getenv("SEEDANCE_EMULATOR_BIN") or ROOT .. "/build/seedance-emulator"

local Emu = {}
Emu.__index = Emu

local process = require("helpers.process")
local sh_quote, read_all, alive = process.quote, process.read, process.alive

--- Start an emulator. Raises when it does not come up within 10 seconds.
-- @tparam[opt] table opts flags
-- @return the emulator: `url`, `pid`, `log` (its stdout and stderr), `stats()`, `stop()`
function M.start(opts)
  local args = { "--host", "127.0.0.1", "--port", "0" }
  for k, v in pairs(opts or {}) do
    for _, one in ipairs(type(v) == "table" and v or { v }) do -- a list: the flag once per value
      args[#args + 1] = "--" .. k:gsub("_", "-")
      if one ~= true then args[#args + 1] = tostring(one) end
    end
  end
  for i = 1, #args do args[i] = sh_quote(args[i]) end
  local log = os.tmpname()
  -- The shell prints the emulator's pid, then waits for it and prints its
  -- exit status (128 + N for signal N): close() does not tell on Lua 5.1.
  local cmd = string.format("%s %s >%s 2>&1 </dev/null & echo $!; wait $!; echo \"exit=$?\"", sh_quote(M.bin),
    table.concat(args, " "), sh_quote(log))
  local shell = assert(io.popen(cmd, "r"))
  local pid = shell:read("*l")
  local self = setmetatable({ pid = pid, log = log, shell = shell }, Emu)
  for _ = 1, 1000 do
    local url = read_all(log):match("^listening on (http://[^\n]+)\n")
    if url then
      self.url = url
      return self
    end
    if not alive(pid) then break end
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
-- @treturn boolean true when it exited with status 0 (after SIGTERM)
-- @treturn[opt] number its exit status (128 + N after signal N)
function Emu:stop()
  if not self.shell then return self.exit_ok, self.exit_code end
  os.execute("kill " .. self.pid .. " 2>/dev/null")
  for _ = 1, 500 do
    if not alive(self.pid) then break end
    os.execute("sleep 0.01")
  end
  if alive(self.pid) then os.execute("kill -9 " .. self.pid .. " 2>/dev/null") end
  local code = tonumber((self.shell:read("*a") or ""):match("exit=(%d+)"))
  self.shell:close()
  self.shell = nil
  self.exit_ok, self.exit_code = code == 0, code
  os.remove(self.log)
  return self.exit_ok, self.exit_code
end

return M
