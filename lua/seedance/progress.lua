--- Progress display for the command line: a bar redrawn in place on a
-- terminal, plain lines otherwise (only when something changes, so logs stay short).
--
-- What it shows is meant to be true:
--
-- - the ETA is in wall-clock seconds: the service's `estimated_time` is on the
--   service's clock, which a sped-up emulator runs `1/time_scale` times faster;
-- - between polls (up to 30 s apart on the real service) the bar advances from
--   the progress rate seen so far, else from `estimated_time`, never past 99%
--   before the task completes and never backwards; the percent next to it is
--   the one the service reported;
-- - a task that has ended shows no ETA;
-- - download speed is measured over the last few seconds of this attempt's
--   bytes, so bytes already on disk from a cut download never count;
-- - on a terminal a line never wraps: it fits the terminal's width (read
--   at each redraw, so a resize is followed), the bar shrinking first, then
--   the text cut; a status the server sent is shown without control characters.
--
-- The clocks are injectable (`clock`, `wall`), so every figure can be checked
-- without waiting.
-- @module seedance.progress
-- @local

local core = require("seedance.core")
local output = require("seedance.cli.output")

local M = {}

--- Width of the bar in characters.
M.WIDTH = 28
--- Narrowest bar drawn; on a terminal narrower than that and the text, the bar is left out.
M.MIN_WIDTH = 8
--- Terminal width assumed when the terminal does not say.
M.COLUMNS = 80
--- Seconds between redraws on a terminal (see `Progress:tick`).
M.TICK = 0.2
--- Seconds of download history the speed is measured over.
M.WINDOW = 3
--- Shortest span of history (seconds) a speed is shown for.
M.MIN_SPAN = 0.5

local TERMINAL = { completed = true, failed = true, cancelled = true }

local Progress = {}
Progress.__index = Progress

--- Make a display writing to `stream`.
-- @tparam file stream usually io.stderr
-- @tparam[opt] table opts `quiet`, `tty` (redraw in place), `time_scale` (service seconds to wall
--   seconds; default 1), `columns` (the terminal's width: a number, or a function returning one or nil;
--   default `COLUMNS`), `clock` (monotonic seconds; default `core.now`), `wall` (unix time; default `os.time`)
-- @treturn table the display
function M.new(stream, opts)
  opts = opts or {}
  return setmetatable({
    out = stream, quiet = opts.quiet, tty = opts.tty, scale = opts.time_scale or 1, columns = opts.columns,
    clock = opts.clock or core.now, wall = opts.wall or os.time,
    drawn = nil, last_key = nil, last_plain = -math.huge,
  }, Progress)
end

--- A bar for a fraction in [0, 1].
-- @tparam number fraction
-- @tparam[opt] integer width cells inside the brackets (default `WIDTH`)
-- @treturn string
function M.bar(fraction, width)
  width = width or M.WIDTH
  fraction = math.max(0, math.min(1, fraction))
  local full = math.floor(fraction * width + 1e-9)
  return "[" .. string.rep("#", full) .. string.rep("-", width - full) .. "]"
end

--- At most `n` bytes of s, never cutting a UTF-8 character in two.
-- @tparam string s
-- @tparam integer n
-- @treturn string
function M.cut(s, n)
  if #s <= n then return s end
  n = math.max(0, n)
  while n > 0 and s:byte(n + 1) and s:byte(n + 1) >= 0x80 and s:byte(n + 1) < 0xC0 do n = n - 1 end
  return s:sub(1, n)
end

--- A bar and its text as one line of at most `columns - 1` bytes (the last
-- column stays free: writing there makes some terminals wrap): the bar
-- shrinks first, down to `MIN_WIDTH`, then goes, then the text is cut.
-- Without `columns`, the full bar and text.
-- @tparam number fraction
-- @tparam string text
-- @tparam[opt] integer columns
-- @treturn string
function M.fit(fraction, text, columns)
  if not columns then return M.bar(fraction) .. " " .. text end
  local room = columns - 1
  local width = math.min(M.WIDTH, room - 3 - #text)   -- "[", "]" and a space
  if width >= M.MIN_WIDTH then return M.bar(fraction, width) .. " " .. text end
  return M.cut(text, room)
end

--- The terminal's width now (on a terminal), or nil off one.
-- @treturn integer|nil
function Progress:width()
  if not self.tty then return nil end
  local c = self.columns
  if type(c) == "function" then c = c() end
  c = tonumber(c)
  if not c or c < 1 then c = M.COLUMNS end
  return math.floor(c)
end

--- Seconds as `m:ss` (or `h:mm:ss`).
-- @tparam number seconds
-- @treturn string
function M.clock(seconds)
  seconds = math.max(0, math.floor(seconds + 0.5))
  local h, m, s = math.floor(seconds / 3600), math.floor(seconds / 60) % 60, seconds % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, s) end
  return string.format("%d:%02d", m, s)
end

--- Human-readable byte counts.
-- @tparam number n
-- @treturn string
function M.bytes(n)
  if n >= 1024 * 1024 then return string.format("%.1f MiB", n / 1048576) end
  if n >= 1024 then return string.format("%.1f KiB", n / 1024) end
  return string.format("%d B", n)
end

-- ---- the task phase ---------------------------------------------------------

--- Record a task as a poll returned it (status, progress, estimated_time, created) and draw it.
-- @tparam seedance.Task t
function Progress:task(t)
  local now = self.clock()
  if self.phase ~= "task" then
    self.phase, self.t0, self.first, self.last, self.shown = "task", now, nil, nil, 0
  end
  local p = math.max(0, math.min(100, math.floor(tonumber(t.progress) or 0)))
  if t.status == "completed" then p = 100 end
  self.status = output.line(t.status or "unknown")
  self.estimated, self.created = t.estimated_time, t.created
  if not self.last or p ~= self.last.p then
    self.last = { t = now, p = p }
    if p > 0 and not self.first then self.first = self.last end
  end
  local key = self.status .. ":" .. math.floor(p / 10)
  self:_draw(self:render(now), key ~= self.last_key)
  self.last_key = key
end

--- Wall seconds the task has been running: since this display first saw it,
-- or since its `created` time when that says clearly more (a task met by id).
-- @tparam number now a `clock` reading
-- @treturn number
function Progress:elapsed(now)
  local e = now - self.t0
  local created = tonumber(self.created)
  if created then
    local since = self.wall() - created
    if since > e + 2 then e = since end
  end
  return e
end

--- Percent per wall second seen so far (from the first non-zero report to the last), or nil.
-- @treturn number|nil
function Progress:rate()
  local a, b = self.first, self.last
  if a and b and b.p > a.p and b.t > a.t then return (b.p - a.p) / (b.t - a.t) end
  return nil
end

--- The progress the bar shows at `now`: the reported one, advanced by the
-- rate (else by `estimated_time`), at most 99 before completion, never less
-- than shown before.
-- @tparam number now
-- @treturn number percent
function Progress:predicted(now)
  local reported = self.last and self.last.p or 0
  if self.status == "completed" then return 100 end
  if TERMINAL[self.status] then return reported end
  local p = reported
  local rate = self:rate()
  local est = tonumber(self.estimated)
  if rate then
    p = reported + rate * (now - self.last.t)
  elseif est and est > 0 then
    p = 100 * self:elapsed(now) / (est * self.scale)
  end
  p = math.min(math.max(p, reported), 99)
  if p > self.shown then self.shown = p end
  return self.shown
end

--- Wall seconds left, or nil: none once the task has ended, none when past
-- the estimate with nothing better to go by.
-- @tparam number now
-- @treturn number|nil
function Progress:eta(now)
  if TERMINAL[self.status] then return nil end
  local rate = self:rate()
  if rate then
    local p = self.last.p + rate * (now - self.last.t)
    if p >= 99 then return nil end
    return (100 - p) / rate
  end
  local est = tonumber(self.estimated)
  if est then
    local left = est * self.scale - self:elapsed(now)
    if left > 0 then return left end
  end
  return nil
end

--- The task line at `now`: the bar, the status, the reported percent, the ETA.
-- @tparam[opt] number now
-- @treturn string
function Progress:render(now)
  now = now or self.clock()
  if self.phase == "bytes" then return self:_bytes_line(now) end
  if self.phase == "batch" then return self:_batch_line(now) end
  local reported = self.last and self.last.p or 0
  local shown = self.tty and self:predicted(now) or reported
  local eta = self:eta(now)
  return M.fit(shown / 100, string.format("%-10s %3d%%%s", self.status, reported,
    eta and ("  ETA " .. M.clock(eta)) or ""), self:width())
end

-- ---- the download phase -----------------------------------------------------

--- Record download progress and draw it.
-- @tparam integer done bytes of the file so far (resumed bytes included)
-- @tparam integer|nil total the file's size, when known
function Progress:bytes(done, total)
  local now = self.clock()
  local win = self.window
  if self.phase ~= "bytes" or (win[#win] and done < win[#win].done) then
    self.phase, win = "bytes", {}   -- a new download, or one that started over
    self.window = win
  end
  win[#win + 1] = { t = now, done = done }
  while #win > 2 and win[2].t <= now - M.WINDOW do table.remove(win, 1) end
  self.done_bytes, self.total = done, total
  local finished = total and done >= total
  self:_draw(self:_bytes_line(now), finished or now - self.last_plain >= 1)
end

--- Bytes per second over the recent window of this attempt, or nil while too short to tell.
-- @tparam[opt] number now
-- @treturn number|nil
function Progress:speed(now)
  local win = self.window
  if not win or #win < 2 then return nil end
  local a, b = win[1], win[#win]
  local span = (now or b.t) - a.t
  if span < M.MIN_SPAN or b.done < a.done then return nil end
  return (b.done - a.done) / span
end

function Progress:_bytes_line(now)
  local done, total = self.done_bytes or 0, self.total
  local speed = self:speed(now)
  local rate = speed and ("  " .. M.bytes(speed) .. "/s") or ""
  if total and total > 0 then
    local eta = ""
    if speed and speed > 0 and done < total then eta = "  ETA " .. M.clock((total - done) / speed) end
    return M.fit(done / total, string.format("%s / %s%s%s", M.bytes(done), M.bytes(total), rate, eta), self:width())
  end
  local line = string.format("downloading %s%s", M.bytes(done), rate)
  local width = self:width()
  return width and M.cut(line, width - 1) or line
end

-- ---- a batch ------------------------------------------------------------------

--- Record a batch's counts (`seedance.map`'s stats: `total`, `done`, `failed`,
-- `skipped`, `running`, `percent`) and draw them: items done, failed and
-- running, the mean percent, and an ETA from the pace since the batch began.
-- @tparam table stats
function Progress:batch(stats)
  local now = self.clock()
  if self.phase ~= "batch" then
    self.phase, self.t0, self.p0 = "batch", now, stats.percent or 0
  end
  self.counts = { total = stats.total, done = stats.done, failed = stats.failed, skipped = stats.skipped,
                  running = stats.running, percent = stats.percent or 0 }
  local settled = stats.done + stats.failed + stats.skipped
  self:_draw(self:render(now), settled ~= self.settled or stats.running ~= self.running_shown)
  self.settled, self.running_shown = settled, stats.running
end

function Progress:_batch_line(now)
  local c = self.counts
  local p = c.percent
  local eta = ""
  local settled = c.done + c.failed + c.skipped
  if settled < c.total and p > self.p0 and now > self.t0 then
    eta = "  ETA " .. M.clock((100 - p) * (now - self.t0) / (p - self.p0))
  end
  local words = { string.format("%d/%d done", c.done, c.total) }
  if c.failed > 0 then words[#words + 1] = c.failed .. " failed" end
  if c.skipped > 0 then words[#words + 1] = c.skipped .. " skipped" end
  words[#words + 1] = c.running .. " running"
  return M.fit(c.total > 0 and settled / c.total or 1, string.format("%s  %3d%%%s", table.concat(words, ", "),
    p, eta), self:width())
end

-- ---- drawing ------------------------------------------------------------------

-- Draw a line: in place on a terminal; off one, only when `changed`.
function Progress:_draw(line, changed)
  if self.quiet then return end
  if self.tty then
    if line == self.drawn then return end
    self.out:write("\r\27[K", line)
    self.drawn = line
  elseif changed then
    self.out:write(line, "\n")
    self.last_plain = self.clock()
  else
    return
  end
  self.out:flush()
end

--- Redraw the current line from the estimate (on a terminal; nothing otherwise).
-- The command calls it every `TICK` seconds while it waits, so the bar moves between polls.
function Progress:tick()
  if self.tty and self.phase and not self.quiet then self:_draw(self:render(), false) end
end

--- Write a line (a log line, say) above the bar, then redraw the bar.
-- @tparam string line
function Progress:log(line)
  if self.tty and self.drawn and not self.quiet then
    self.out:write("\r\27[K", line, "\n")
    local bar = self.drawn
    self.drawn = nil
    self:_draw(bar, false)
  else
    self.out:write(line, "\n")
    self.out:flush()
  end
end

--- Erase the bar (before an error line).
function Progress:clear()
  if self.tty and self.drawn and not self.quiet then
    self.out:write("\r\27[K")
    self.out:flush()
  end
  self.drawn = nil
end

--- End the current bar (a newline on a terminal); the next `task` or `bytes` starts afresh.
function Progress:done()
  if self.tty and self.drawn and not self.quiet then
    self.out:write("\n")
    self.out:flush()
  end
  self.drawn, self.last_key, self.phase = nil, nil, nil
end

return M
