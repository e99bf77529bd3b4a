--- Progress display for the command line: a redrawn bar on a terminal, plain
-- lines otherwise (only when something changes, so logs stay short).
-- @module seedance.progress

local core = require("seedance.core")

local M = {}

local Progress = {}
Progress.__index = Progress

local WIDTH = 28

--- Make a display writing to `stream`.
-- @tparam file stream usually io.stderr
-- @tparam table opts `quiet`, `tty` (redraw in place), `time_scale` (for ETAs on a scaled emulator)
function M.new(stream, opts)
  return setmetatable({
    out = stream, quiet = opts.quiet, tty = opts.tty, scale = opts.time_scale or 1,
    start = core.now(), drawn = false, last_line = nil, last_bytes_at = 0,
  }, Progress)
end

local function bar(fraction)
  fraction = math.max(0, math.min(1, fraction))
  local full = math.floor(fraction * WIDTH + 0.5)
  return "[" .. string.rep("#", full) .. string.rep("-", WIDTH - full) .. "]"
end

local function clock(seconds)
  seconds = math.max(0, math.floor(seconds + 0.5))
  return string.format("%d:%02d", math.floor(seconds / 60), seconds % 60)
end

--- Human-readable byte counts.
-- @tparam number n
-- @treturn string
function M.bytes(n)
  if n >= 1024 * 1024 then return string.format("%.1f MiB", n / 1048576) end
  if n >= 1024 then return string.format("%.1f KiB", n / 1024) end
  return string.format("%d B", n)
end

function Progress:_emit(line, changed)
  if self.quiet then return end
  if self.tty then
    self.out:write("\r\27[K", line)
    self.drawn = true
  elseif changed then
    self.out:write(line, "\n")
  end
  self.out:flush()
end

--- Show a task's status and progress, with an ETA from `estimated_time`.
-- @tparam seedance.Task t
function Progress:task(t)
  local p = t.progress or 0
  local elapsed = (core.now() - self.start) / self.scale
  local eta = ""
  if t.status ~= "completed" then
    local left
    if t.estimated_time then left = t.estimated_time - elapsed end
    if p > 0 and p < 100 then
      local by_rate = (100 - p) * elapsed / p
      if not left or left < 0 then left = by_rate end
    end
    if left and left > 0 then eta = "  ETA " .. clock(left) end
  end
  local status = tostring(t.status or "unknown")
  local line = string.format("%s %-10s %3d%%%s", bar(p / 100), status, p, eta)
  -- plain lines: one per status change or 10-point step
  local key = status .. ":" .. math.floor(p / 10)
  self:_emit(line, key ~= self.last_line)
  self.last_line = key
end

--- Show download bytes and speed.
-- @tparam integer done bytes so far
-- @tparam integer|nil total expected bytes
function Progress:bytes(done, total)
  local now = core.now()
  if not self.dl_start then self.dl_start = now end
  local speed = done / math.max(now - self.dl_start, 1e-3)
  local line
  if total and total > 0 then
    line = string.format("%s %s / %s  %s/s", bar(done / total), M.bytes(done), M.bytes(total), M.bytes(speed))
  else
    line = string.format("downloading %s  %s/s", M.bytes(done), M.bytes(speed))
  end
  local finished = total and done >= total
  self:_emit(line, finished or now - self.last_bytes_at >= 1)
  if finished or now - self.last_bytes_at >= 1 then self.last_bytes_at = now end
end

--- End the current bar (a newline on a terminal).
function Progress:done()
  if self.tty and self.drawn and not self.quiet then
    self.out:write("\n")
    self.out:flush()
  end
  self.drawn = false
  self.last_line = nil
end

return M
