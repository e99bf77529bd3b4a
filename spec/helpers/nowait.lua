-- "step(0) never blocks", checked on what it asks for, not on a clock: while
-- a recorder is on, every wait seedance hands to the engine's poll
-- (`engine:step(ms)`) or to `core.sleep(sec)` is written down. A frame loop
-- that only ever asks for zero never waits on IO, however slow the machine.
-- Timings are for people to read; a spike on a loaded machine is not a fault.
local scheduler = require("seedance.scheduler")
local core = require("seedance.core")

local M = {}

--- Start recording; returns the list of waits, a function that stops, and
-- the real `core.sleep` (for the spec's own pause between frames).
function M.record()
  local methods = getmetatable(scheduler.engine()).__index
  local real_step, real_sleep = methods.step, core.sleep
  local waits = {}
  methods.step = function(e, ms) waits[#waits + 1] = ms or 0; return real_step(e, ms) end
  core.sleep = function(sec) waits[#waits + 1] = sec; return real_sleep(sec) end
  local function stop() methods.step, core.sleep = real_step, real_sleep end
  return waits, stop, real_sleep
end

--- The first wait that was not zero (index and value), or nil.
function M.first_wait(waits)
  for i, w in ipairs(waits) do
    if w ~= 0 then return i, w end
  end
  return nil
end

return M
