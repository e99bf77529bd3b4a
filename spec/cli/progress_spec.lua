-- Progress that tells the truth: the display's figures with clocks the spec
-- sets (no waiting), then the real command on a pseudo-terminal (util-linux
-- `script`) against the emulator.
local emulator = require("helpers.emulator")
local cli = require("helpers.cli")
local util = require("helpers.util")
local progress = require("seedance.progress")
local estimate = require("seedance.estimate")
local output = require("seedance.cli.output")

local q = cli.q
local cleanup = util.cleanup()

-- A display writing into a table, with a clock the spec moves.
local function display(opts)
  local written = {}
  local stream = { write = function(self, ...) for _, s in ipairs{ ... } do written[#written + 1] = s end
    return self end, flush = function() end }
  local t = { now = 100 }
  opts = opts or {}
  opts.clock = opts.clock or function() return t.now end
  local d = progress.new(stream, opts)
  return d, t, written
end

-- A task as the display sees it: the fields of the last answer, and the
-- task's own estimate (seedance.estimate, as Task:progress_at) on the spec's clock.
local function task_on(t, scale)
  local e = estimate.new(t.now, scale or 1)
  local task = {}
  function task.answer(fields)
    for k, v in pairs(fields) do task[k] = v end
    e:observe(t.now, task.status, task.progress, task.estimated_time)
    return task
  end
  function task.progress_at(_, now) return e:at(now) end
  return task
end

-- Seconds from an "ETA m:ss" in a line, or nil.
local function eta_of(line)
  local m, s = line:match("ETA (%d+):(%d%d)")
  return m and tonumber(m) * 60 + tonumber(s) or nil
end

local function hashes(line)
  return #(line:match("%[(#*)") or "")
end

describe("progress.lua #c", function()
  it("draws the task's own estimate: the ETA in wall time as m:ss #m-progress-draws-task-estimate", function()
    local d, t = display{ tty = true }
    local task = task_on(t, 0.05)
    d:task(task.answer{ status = "pending", progress = 0, estimated_time = 60 })
    assert.equals(3, eta_of(d:render()))          -- 60 service seconds at speed 20: 3 wall seconds
    t.now = t.now + 1
    assert.equals(2, eta_of(d:render()))
    local rt = { now = 0 }
    local real = display{ tty = true, clock = function() return rt.now end }
    real:task(task_on(rt).answer{ status = "pending", progress = 0, estimated_time = 600 })
    assert.equals("10:00", real:render(0):match("ETA (%S+)"))
  end)

  it("moves the bar between polls with the estimate, the percent staying what the service said #m-progress-draws-task-estimate", function()
    local d, t = display{ tty = true }
    local task = task_on(t)
    d:task(task.answer{ status = "processing", progress = 10, estimated_time = 100 })
    t.now = t.now + 10
    d:task(task.answer{ status = "processing", progress = 20, estimated_time = 100 })
    local at_poll = hashes(d:render(t.now))
    t.now = t.now + 20                           -- no poll for 20 s: the rate says about 40 %
    local between = d:render(t.now)
    assert.is_true(hashes(between) > at_poll, between)
    assert.equals(math.floor(0.4 * progress.WIDTH), hashes(between))
    assert.matches(" 20%%", between)             -- the figure stays what the service said
    t.now = t.now + 1000
    assert.equals(math.floor(0.99 * progress.WIDTH), hashes(d:render(t.now)))
    assert.is_nil(d:render(t.now):find("ETA", 1, true))   -- past the rate's end: no made-up ETA
    d:task(task.answer{ status = "processing", progress = 30, estimated_time = 100 })
    assert.equals(math.floor(0.99 * progress.WIDTH), hashes(d:render(t.now)))   -- never pulled back
    d:task(task.answer{ status = "completed", progress = 100 })
    assert.equals(progress.WIDTH, hashes(d:render(t.now)))
  end)

  it("off a terminal the bar is what the service said, in one line per change", function()
    local d, t, written = display{ tty = false }
    d:task{ status = "processing", progress = 10, estimated_time = 100 }
    t.now = t.now + 5
    d:task{ status = "processing", progress = 12, estimated_time = 100 }   -- same tens: no line
    t.now = t.now + 5
    d:tick()
    d:task{ status = "processing", progress = 25, estimated_time = 100 }
    local text = table.concat(written)
    assert.is_nil(text:find("\r", 1, true))
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equals(2, #lines, text)
    assert.equals(math.floor(0.25 * progress.WIDTH), hashes(lines[2]))
  end)

  it("shows no ETA once the task has ended #m-estimate-no-eta-after-end", function()
    for _, status in ipairs{ "failed", "cancelled", "completed" } do
      local d, t = display{ tty = true }
      local task = task_on(t)
      d:task(task.answer{ status = "processing", progress = 40, estimated_time = 100 })
      t.now = t.now + 5
      d:task(task.answer{ status = status, progress = status == "completed" and 100 or 50, estimated_time = 100 })
      assert.is_nil(d:render(t.now):find("ETA", 1, true), status)
      assert.matches(status, d:render(t.now))
    end
  end)

  it("measures download speed from this attempt's bytes only #m-progress-speed-this-attempt", function()
    local d, t = display{ tty = true }
    -- a resumed download: 1,000,000 bytes were on disk before this attempt
    d:bytes(1000000 + 5000, 2000000)
    assert.is_nil(d:speed(t.now))                -- one sample: too early to tell
    assert.is_nil(d:render(t.now):find("/s", 1, true))
    t.now = t.now + 1
    d:bytes(1000000 + 55000, 2000000)
    assert.near(50000, d:speed(t.now), 1e-6)     -- 50 KB in a second, not 1 MB
    assert.matches("48%.8 KiB/s", d:render(t.now))
    -- a sliding window: a stall shows as a falling speed, not an average since the start
    for _ = 1, 4 do
      t.now = t.now + 1
      d:bytes(1000000 + 55000, 2000000)
    end
    assert.near(0, d:speed(t.now), 1e-6)
    -- a download that starts over measures afresh
    t.now = t.now + 1
    d:bytes(1000, 2000000)
    assert.is_nil(d:speed(t.now))
  end)

  it("fits the terminal's width: the bar shrinks, then goes, then the text is cut; a resize is followed #m-progress-fits-width", function()
    local cols = 80
    local d, t = display{ tty = true, columns = function() return cols end }
    d:task{ status = "processing", progress = 42, estimated_time = 600 }
    for _, w in ipairs{ 80, 40, 30, 24, 12, 5, 1 } do
      cols = w
      local line = d:render(t.now)
      assert.is_true(#line <= math.max(0, w - 1), ("%d columns: %q"):format(w, line))
      assert.is_true(line:find("processing", 1, true) ~= nil or w < 12, line)
    end
    cols = 80
    assert.equals(progress.WIDTH, hashes(d:render(t.now)) + #d:render(t.now):match("%[#*(%-*)%]"))
    cols = 40
    assert.matches("^%[#*%-*%] processing", d:render(t.now))          -- a narrower bar, the text whole
    assert.is_true(hashes(d:render(t.now)) + #d:render(t.now):match("%[#*(%-*)%]") < progress.WIDTH)
    d:bytes(500000, 2000000)
    for _, w in ipairs{ 80, 30, 10 } do
      cols = w
      assert.is_true(#d:render(t.now) <= w - 1, d:render(t.now))
    end
    assert.equals("ab", progress.cut("ab\226\130\172", 4))           -- never half a UTF-8 character
  end)

  it("shows a status the server sent without control characters", function()
    local d, _, written = display{ tty = true }
    d:task{ status = "\27]0;PWNED\7\27[2J\r\nx", progress = 1 }
    local all = table.concat(written):gsub("\r\27%[K", "")          -- the display's own redraw
    assert.is_nil(all:find("[%c]"), ("%q"):format(all))
    local plain, _, lines = display{}
    plain:task{ status = "\27[31mred\nline", progress = 1 }
    assert.is_nil(table.concat(lines):gsub("\n$", ""):find("[%c]"), table.concat(lines))
  end)

  it("prints whole numbers as whole numbers", function()
    assert.equals("999873", output.number(999873.0))
    assert.equals("-1", output.number(-1.0))
    assert.equals("0.5", output.number(0.5))
    assert.equals("0:05", progress.clock(4.6))
    assert.equals("1:00:00", progress.clock(3600))
    assert.equals("1.5 KiB", progress.bytes(1536))
  end)
end)

describe("the seedance command's progress on a terminal #child", function()
  local emu, env = cli.emulator({ speed = 20, task_seconds = 100 }, { SEEDANCE_API_KEY = "sk-pty" }) -- 5 s of wall time

  it("redraws one line: the bar moves between polls, ETAs in wall time, none once completed #slow #m-progress-bar-between-polls #m-estimate-eta-wall-time #m-progress-draws-task-estimate", function()
    local out = util.tmpfile("pty.mp4")
    local polls = emu:stats().polls
    local code, screen = cli.pty("generate --prompt 'a heron' -o " .. q(out), env)
    assert.equals(0, code, screen)
    polls = emu:stats().polls - polls
    local frames = cli.frames(screen)
    local task_frames, states, etas = {}, {}, {}
    for _, f in ipairs(frames) do
      if f:match("^%[[#%-]+%] %a") then
        task_frames[#task_frames + 1] = f
        states[f:match("^%S+") .. f:match("(%d+)%%")] = true
        etas[#etas + 1] = eta_of(f)
      end
    end
    local n = 0
    for _ in pairs(states) do n = n + 1 end
    -- more distinct (bar, reported percent) pairs than polls: the bar moved while no poll came
    assert.is_true(n > polls, ("%d bar states for %d polls:\n%s"):format(n, polls, table.concat(frames, "\n")))
    -- a 100 s task at speed 20 takes 5 s of wall time: no ETA says more than that (plus rounding),
    -- where the service's clock would say up to 1:40
    assert.is_true(#etas > 0)
    for _, e in ipairs(etas) do assert.is_true(e <= 6, "ETA of " .. e .. " s on a 5 s task") end
    local last = task_frames[#task_frames]
    assert.matches("^%[#+%] completed  100%%$", last)
    assert.truthy(screen:find("4.6 KiB / 4.6 KiB", 1, true), screen)
    assert.is_true(util.is_mp4(out))
    os.remove(out)
  end)

  it("a failed task ends on its status, without an ETA #m-estimate-no-eta-after-end", function()
    local failing = cleanup(emulator.start{ speed = 20, fail_rate = 1 })
    local code, screen = cli.pty("generate --prompt x --wait", cli.env(failing, { SEEDANCE_API_KEY = "k" }))
    assert.equals(9, code)
    local frames = cli.frames(screen)
    local last
    for _, f in ipairs(frames) do if f:match("^%[") then last = f end end
    assert.matches("failed", last)
    assert.is_nil(last:find("ETA", 1, true), last)
    assert.matches("task_failed", screen)
  end)

  it("after a resume, the speed is this attempt's (bytes on disk do not count) #slow #m-progress-speed-this-attempt", function()
    local rate = 20000
    local media = cleanup(emulator.start{ speed = 20, task_seconds = 4, media_rate = rate, video_bytes = 120000 })
    local menv = cli.env(media, { SEEDANCE_API_KEY = "k" })
    local out = cleanup(util.tmpfile("resume.mp4"))
    local c1, _, e1 = cli.terminated_mid_download("x", out, 60000, menv)
    assert.equals(143, c1, e1)
    local id = e1:match("submitted task (task_%w+)")
    local code, screen = cli.pty("wait " .. id .. " -o " .. q(out), menv)
    assert.equals(0, code, screen)
    local speeds = {}
    for _, f in ipairs(cli.frames(screen)) do
      local v, unit = f:match("([%d.]+) (%a+)/s")
      if v then speeds[#speeds + 1] = tonumber(v) * (unit == "MiB" and 1048576 or unit == "KiB" and 1024 or 1) end
    end
    assert.is_true(#speeds > 0, screen)
    -- the media host sends 20,000 bytes a second; counting the 60,000+ bytes on disk would show far more
    for _, s in ipairs(speeds) do assert.is_true(s <= 3 * rate, ("%.0f B/s from a %d B/s host"):format(s, rate)) end
    assert.equals(120000, util.size_of(out))
  end)

  -- found: the bar line was about 60 columns whatever the width, so each redraw wrapped and left a
  -- trail of lines
  it("fits a narrow terminal (30 columns): no frame wider than the terminal #found", function()
    local fast = cleanup(emulator.start{ speed = 200 })
    local out = cleanup(util.tmpfile("narrow.mp4"))
    local screen = os.tmpname()
    util.run("script -qec " .. q("stty cols 30 2>/dev/null; " .. cli.command("generate --prompt x -o " .. q(out),
      cli.env(fast))) .. " /dev/null >" .. q(screen) .. " </dev/null")
    local frames = cli.frames(cli.slurp(screen))
    os.remove(screen)
    assert.is_true(#frames > 0)
    for _, f in ipairs(frames) do
      assert.is_true(#f <= 30, ("%d columns: %q"):format(#f, f))
    end
  end)
end)

describe("the seedance command's progress with a server whose clock is 10 minutes behind #found #child", function()
  it("reads a task's age on the service's clock (its answers' Date): the ETA stands #m-progress-server-clock", function()
    local gateway = require("helpers.gateway")
    local server_now = os.time() - 600
    local gw = gateway.start{ cases = {
      { path = "/v1/tasks/task_SKEW", headers = { { "Date", os.date("!%a, %d %b %Y %H:%M:%S GMT", server_now) } },
        json = { code = 200, data = { id = "task_SKEW", status = "processing", progress = 0,
                 created = server_now - 5, estimated_time = 100 } } } } }
    finally(function() gw:stop() end)
    local code, _, err = cli.run("wait task_SKEW --wait-timeout 0.3", { SEEDANCE_BASE_URL = gw.url,
      SEEDANCE_API_KEY = "k" })
    assert.equals(12, code, err)
    -- 5 s into a task estimated at 100 s: about 95 s left (on this machine's clock it would look 605 s old)
    local eta
    for line in err:gmatch("[^\n]+") do eta = eta or eta_of(line) end
    assert.is_truthy(eta, err)
    assert.is_true(eta >= 90 and eta <= 96, "ETA " .. eta .. " s")
  end)
end)
