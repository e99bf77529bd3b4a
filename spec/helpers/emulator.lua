--- Start seedance-emulator on a free loopback port for a spec, and stop it.
--
--     local emu = require("helpers.emulator").start{ speed = 100, rpm = 5 }
--     emu.url        -- "http://127.0.0.1:PORT"
--     emu:stats()    -- the emulator's counters (GET /_emulator/stats)
--     emu:stop()     -- SIGTERM, wait for it to exit; true when it exited 0
--     emu:created()  -- tasks created so far (what was paid for)
--
--     local emu = require("helpers.emulator").fixture{ speed = 200 }   -- in a describe:
--     -- started before its first test, stopped after its last
--
-- Option names are the emulator's flags with '_' for '-' (fail_rate = 0.5 is
-- --fail-rate 0.5); `true` passes a bare flag, a list the flag once per value
-- (flag_word = { "a=X", "b=Y" }). Waits are bounded: start
-- raises after 10 s without the "listening on" line, stop sends SIGKILL after
-- 5 s. The emulator runs as the child of a shell that waits for it, so it is
-- reaped at once and stop() learns its exit status.
local cjson = require("cjson")
local process = require("helpers.process")

local M = {}

--- The emulator executable the helper starts: $SEEDANCE_EMULATOR_BIN when set
-- (make check-emulator-asan points it at the sanitizer build), else
-- build/seedance-emulator.
M.bin = os.getenv("SEEDANCE_EMULATOR_BIN") or process.ROOT .. "/build/seedance-emulator"

local Emu = {}
Emu.__index = Emu

local sh_quote, read_all, alive = process.quote, process.read, process.alive

-- Start the emulator into `self` (fresh or stopped). Raises when it does not come up within 10 seconds.
local function launch(self, opts)
  local args = { "--host", "127.0.0.1", "--port", "0" }
  for k, v in pairs(opts or {}) do
    for _, one in ipairs(type(v) == "table" and v or { v }) do -- a list: the flag once per value
      args[#args + 1] = "--" .. k:gsub("_", "-")
      if one ~= true then args[#args + 1] = tostring(one) end
    end
  end
  for i = 1, #args do args[i] = sh_quote(args[i]) end
  local log = os.tmpname()
  process.background(self, string.format("%s %s >%s 2>&1 </dev/null", sh_quote(M.bin), table.concat(args, " "),
    sh_quote(log)))
  local pid = self.pid
  self.log, self.speed, self.url = log, (opts or {}).speed, nil
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

--- Start an emulator. Raises when it does not come up within 10 seconds.
-- @tparam[opt] table opts flags
-- @return the emulator: `url`, `pid`, `speed`, `log` (its stdout and stderr), `stats()`, `created()`, `stop()`
function M.start(opts)
  return launch(setmetatable({}, Emu), opts)
end

--- An emulator for the enclosing describe: started before its first test (busted's setup),
-- stopped after its last (teardown). Its fields are there once it has started.
-- @tparam[opt] table opts flags
-- @return the emulator, as `start` gives it
function M.fixture(opts)
  local self = setmetatable({}, Emu)
  local busted = require("busted")
  busted.setup(function() launch(self, opts) end)
  busted.teardown(function() self:stop() end)
  return self
end

--- The emulator's counters.
-- @treturn table
function Emu:stats()
  local p = assert(io.popen("curl -s --max-time 5 " .. sh_quote(self.url .. "/_emulator/stats")))
  local body = p:read("*a")
  p:close()
  return cjson.decode(body)
end

--- How many tasks the emulator has created so far: what its clients paid for.
-- @treturn number
function Emu:created()
  return self:stats().tasks_created
end

local function pack(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack -- luacheck: ignore 143

--- What running fn cost: the tasks the emulator created meanwhile, then what fn returned.
-- @tparam function fn
-- @treturn number tasks created
-- @return fn's results
function Emu:cost(fn)
  local before = self:created()
  local r = pack(fn())
  return self:created() - before, unpack(r, 1, r.n)
end

--- Stop the emulator (idempotent) and remove its log.
-- @treturn boolean true when it exited with status 0 (after SIGTERM)
-- @treturn[opt] number its exit status (128 + N after signal N)
function Emu:stop()
  local running = self.shell ~= nil
  local ok, code = process.stop_background(self)
  if running then os.remove(self.log) end
  return ok, code
end

return M
