--- Progress display for the command line: a bar redrawn in place on a
-- terminal, plain lines otherwise (only when something changes, so logs stay short).
--
-- What it shows is meant to be true:
--
-- - the bar and the ETA are the task's own estimate (`Task:progress_at`, the
--   one a game's HUD reads): between polls (up to 30 s apart on the real
--   service) the bar moves on, never past 99% before the task completes and
--   never backwards; the ETA is in wall-clock seconds, and a task that has
--   ended shows none; the percent next to the bar is the one the service reported;
-- - download speed is measured over the last few seconds of this attempt's
--   bytes, so bytes already on disk from a cut download never count;
-- - on a terminal a line never wraps: it fits the terminal's width (read
--   at each redraw, so a resize is followed), the bar shrinking first, then
--   the text cut; a status the server sent is shown without control characters.
--
-- The clock is injectable (`clock`), so every figure can be checked without
-- waiting.
-- @module seedance.progress
-- @local

local numbers = require("seedance.numbers")
local output = require("seedance.cli.output")
local scheduler = require("seedance.scheduler")

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

local Progress = {}
Progress.__index = Progress

--- Make a display writing to `stream`.
-- @tparam file stream usually io.stderr
-- @tparam[opt] table opts `quiet`, `tty` (redraw in place), `columns` (the terminal's width: a number,
--   or a function returning one or nil; default `COLUMNS`), `clock` (seconds on the library's monotonic
--   clock, the one `Task:progress_at` reads; default the scheduler's)
-- @treturn table the display
function M.new(stream, opts)
  opts = opts or {}
  return setmetatable({
    out = stream, quiet = opts.quiet, tty = opts.tty, columns = opts.columns,
    clock = opts.clock or scheduler.now,
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
  if n >= 1024 * 1024 then return numbers.format("%.1f", n / 1048576) .. " MiB" end
  if n >= 1024 then return numbers.format("%.1f", n / 1024) .. " KiB" end
  return string.format("%d B", n)
end

-- ---- the task phase ---------------------------------------------------------

--- Record a task as a poll returned it and draw it. The bar and the ETA are
-- the task's own estimate (`Task:progress_at`), read again at every redraw;
-- the percent beside them is the one the service reported.
-- @tparam seedance.Task t
function Progress:task(t)
  self.phase, self.handle = "task", t
  local p = math.max(0, math.min(100, math.floor(tonumber(t.progress) or 0)))
  if t.status == "completed" then p = 100 end
  self.status, self.reported = output.line(t.status or "unknown"), p
  local key = self.status .. ":" .. math.floor(p / 10)
  self:_draw(self:render(), key ~= self.last_key)
  self.last_key = key
end

--- The task's estimate at `now`: percent and wall seconds left (or nil).
-- A task without an estimate (a plain table) shows what was reported.
-- @tparam number now a `clock` reading
-- @treturn number percent
-- @treturn number|nil seconds left
function Progress:estimate(now)
  local t = self.handle
  if type(t.progress_at) == "function" then return t:progress_at(now) end
  return self.reported, nil
end

--- The task line at `now`: the bar, the status, the reported percent, the ETA.
-- @tparam[opt] number now
-- @treturn string
function Progress:render(now)
  now = now or self.clock()
  if self.phase == "bytes" then return self:_bytes_line(now) end
  if self.phase == "batch" then return self:_batch_line(now) end
  local shown, eta = self:estimate(now)
  if not self.tty then shown = self.reported end
  return M.fit(shown / 100, string.format("%-10s %3d%%%s", self.status, self.reported,
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
