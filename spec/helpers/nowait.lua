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

-- The bytes of the regular file at path (0 when none).
local function size_of(path)
  local st = type(path) == "string" and core.stat(path)
  return st and st.type == "file" and st.size or 0
end

--- Start recording file work of unbounded size done on this thread (reading a
-- file with no cap of 64 KiB, hashing more than 64 KiB, an fsync'd append, removing a file of
-- more than 64 KiB or renaming over one, which frees its blocks: core.read_file,
-- core.hash, core.append_sync, core.remove, core.replace) and the file jobs
-- handed to the engine's worker instead (eng:job, by op). Returns the work list
-- ({ what, bytes } each), the jobs list (op names) and a function that stops.
function M.record_file_work()
  local methods = getmetatable(scheduler.engine()).__index
  local real = { read_file = core.read_file, hash = core.hash, append_sync = core.append_sync, job = methods.job,
                 remove = core.remove, replace = core.replace }
  local work, jobs = {}, {}
  core.read_file = function(path, max)
    -- (a read capped small, a download's 4 KiB validator say, is bounded work)
    if not max or max > 64 * 1024 then work[#work + 1] = { "read_file " .. tostring(path), max } end
    return real.read_file(path, max)
  end
  core.hash = function(s)
    if #s > 64 * 1024 then work[#work + 1] = { "hash", #s } end
    return real.hash(s)
  end
  core.append_sync = function(path, data)
    work[#work + 1] = { "append_sync " .. tostring(path), #data }
    return real.append_sync(path, data)
  end
  core.remove = function(path)
    local n = size_of(path)
    if n > 64 * 1024 then work[#work + 1] = { "remove " .. tostring(path), n } end
    return real.remove(path)
  end
  core.replace = function(from, to)
    local n = size_of(to)
    if n > 64 * 1024 then work[#work + 1] = { "replace onto " .. tostring(to), n } end
    return real.replace(from, to)
  end
  methods.job = function(e, spec)
    jobs[#jobs + 1] = spec.op
    return real.job(e, spec)
  end
  local function stop()
    core.read_file, core.hash, core.append_sync, methods.job = real.read_file, real.hash, real.append_sync, real.job
    core.remove, core.replace = real.remove, real.replace
  end
  return work, jobs, stop
end

--- The first wait that was not zero (index and value), or nil.
function M.first_wait(waits)
  for i, w in ipairs(waits) do
    if w ~= 0 then return i, w end
  end
  return nil
end

return M
