-- A small LOVE game that generates and downloads a video with seedance while
-- it keeps drawing at 60 frames per second: love.update calls
-- seedance.step(0), which never blocks, and the generation runs in a
-- seedance coroutine. See README.md here for how to run it.
--
-- Environment: SEEDANCE_BASE_URL, SEEDANCE_API_KEY (and SEEDANCE_TIME_SCALE
-- against the emulator); SEEDANCE_LUA_DIR (the seedance lua/ folder) and
-- SEEDANCE_CPATH (a cpath entry for the LuaJIT build of seedance.core) when
-- the rock is not installed; SEEDANCE_OUT (the video), SEEDANCE_REPORT (a
-- report file written at the end), SEEDANCE_SCREENSHOT (a PNG of the
-- progress screen) and SEEDANCE_QUIT=1 to quit by itself when done.
local lua_dir = os.getenv("SEEDANCE_LUA_DIR")
if lua_dir then package.path = lua_dir .. "/?.lua;" .. lua_dir .. "/?/init.lua;" .. package.path end
if os.getenv("SEEDANCE_CPATH") then package.cpath = os.getenv("SEEDANCE_CPATH") .. ";" .. package.cpath end

local seedance = require("seedance")

local OUT = os.getenv("SEEDANCE_OUT") or "seedance-love.mp4"
local FRAME = 1 / 60
local WARMUP = 3     -- the first frames create the window and its GL state: not counted

local state = { status = "starting", task = nil, bytes = 0, total = nil, done = false, ok = false }
-- The generation bar as drawn each frame (task:progress_at): for the report, how often it moved
-- while the service's last answer stayed the same, and whether it ever went back or passed 99 early.
local hud = { shown = 0, answer = nil, moves = 0, backwards = 0, over_99 = 0 }
local frames = {}    -- seconds of work per frame (update + draw + present)
local steps = {}     -- seconds spent in seedance.step(0) per frame
local intervals = {} -- seconds from one frame's start to the next's (what a player sees)
local last_start
local shot_frame    -- the frame whose pixels were captured (it also reads the framebuffer back)
local screenshot_taken, screenshot, quit_at = false, nil, nil

local function p(fmt, ...) return string.format(fmt, ...) end

function love.load()
  local client = seedance.new()
  seedance.spawn(function()
    local task, err = client:generate{ model = "doubao-seedance-2.0", prompt = "a red kite over green hills",
                                       duration = 5 }
    if not task then state.status, state.done = "failed: " .. tostring(err), true; return end
    state.task_id, state.task = task.id, task
    local ok
    ok, err = task:wait{ on_progress = function(t) state.status = t.status end }
    if not ok then state.status, state.done = "failed: " .. tostring(err), true; return end
    state.status = "downloading"
    local path
    path, err = task:download(OUT, { on_progress = function(done, total)
      state.bytes, state.total = done, total
    end })
    state.ok = path ~= nil
    state.status, state.done = path and ("saved " .. path) or ("failed: " .. tostring(err)), true
  end)
end

function love.update()
  local t0 = love.timer.getTime()
  seedance.step(0)   -- pump IO and resume the generation coroutine; never blocks
  steps[#steps + 1] = love.timer.getTime() - t0
  -- the generation's progress for this frame: the task's own estimate, which moves on between
  -- the service's answers (seconds apart), never backwards, and says 100 only once completed
  local task = state.task
  if task then
    local percent, eta = task:progress_at()
    local answer = tostring(task.status) .. ":" .. tostring(task.progress)
    if percent < hud.shown then hud.backwards = hud.backwards + 1 end
    if percent > hud.shown and answer == hud.answer then hud.moves = hud.moves + 1 end
    if percent > 99 and task.status ~= "completed" then hud.over_99 = hud.over_99 + 1 end
    hud.shown, hud.eta, hud.answer = percent, eta, answer
  end
end

function love.draw()
  local g = love.graphics
  g.clear(0.08, 0.09, 0.12)
  g.setColor(1, 1, 1)
  g.print("seedance in LOVE", 24, 20, 0, 2, 2)
  g.print(p("task %s", state.task_id or "(submitting)"), 24, 70)
  g.print(p("status: %s", state.status), 24, 92)
  -- the task's progress, then the download's
  local w = 592
  g.setColor(0.25, 0.27, 0.33)
  g.rectangle("fill", 24, 130, w, 24)
  g.rectangle("fill", 24, 190, w, 24)
  g.setColor(0.30, 0.75, 0.45)
  g.rectangle("fill", 24, 130, w * hud.shown / 100, 24)
  local frac = state.total and state.total > 0 and state.bytes / state.total or (state.ok and 1 or 0)
  g.setColor(0.35, 0.55, 0.95)
  g.rectangle("fill", 24, 190, w * frac, 24)
  g.setColor(1, 1, 1)
  g.print(p("generation %d%%%s", math.floor(hud.shown), hud.eta and p("  about %d s left", math.ceil(hud.eta)) or ""),
    30, 134)
  g.print(p("download %d / %s bytes", state.bytes, state.total and tostring(state.total) or "?"), 30, 194)
  local n = #frames
  g.print(p("frame %d   fps %d", n, love.timer.getFPS()), 24, 320)
  -- a spinner: it only turns if frames keep coming
  local a = love.timer.getTime() * 4
  g.circle("fill", 600 + 12 * math.cos(a), 330 + 12 * math.sin(a), 5)
end

local function write_report()
  local path = os.getenv("SEEDANCE_REPORT")
  if not path then return end
  local counted, worst_at, step_worst = {}, 0, 0
  for i = WARMUP + 1, #frames do
    counted[#counted + 1] = frames[i]
    if frames[i] >= (frames[worst_at] or 0) then worst_at = i end
  end
  for i = WARMUP + 1, #steps do step_worst = math.max(step_worst, steps[i]) end
  local gaps, seconds = {}, 0
  for i = WARMUP + 1, #intervals do gaps[#gaps + 1] = intervals[i]; seconds = seconds + intervals[i] end
  table.sort(gaps)
  table.sort(counted)
  local worst = counted[#counted] or 0
  local p50 = counted[math.max(1, math.ceil(#counted * 0.5))] or 0
  local p99 = counted[math.max(1, math.ceil(#counted * 0.99))] or 0
  local f = assert(io.open(path, "w"))
  f:write(p("ok=%s\nstatus=%s\nframes=%d\nworst_ms=%.3f\nworst_frame=%d\np50_ms=%.3f\np99_ms=%.3f\n"
    .. "step_worst_ms=%.3f\ninterval_p99_ms=%.3f\ninterval_worst_ms=%.3f\n"
    .. "screenshot_frame=%s\nwarmup_frames=%d\nout=%s\nseconds=%.3f\n"
    .. "hud_final=%.3f\nhud_moves=%d\nhud_backwards=%d\nhud_over_99=%d\n",
    tostring(state.ok), state.status, #counted, worst * 1000, worst_at, p50 * 1000, p99 * 1000,
    step_worst * 1000, (gaps[math.max(1, math.ceil(#gaps * 0.99))] or 0) * 1000, (gaps[#gaps] or 0) * 1000,
    tostring(shot_frame), WARMUP, OUT, seconds, hud.shown, hud.moves, hud.backwards, hud.over_99))
  f:close()
end

-- Screenshot of the progress screen, once: a third into the download (or,
-- for a download too quick to see, at the end).
local function maybe_screenshot()
  local path = os.getenv("SEEDANCE_SCREENSHOT")
  if not path or screenshot_taken then return end
  local downloading = state.status == "downloading" and state.total and state.bytes * 3 >= state.total
  if not (downloading or state.done) then return end
  screenshot_taken = true
  shot_frame = #frames + 1
  -- keep the pixels now; encode the PNG when the game quits, not mid-frame
  love.graphics.captureScreenshot(function(image) screenshot = image end)
end

local function write_screenshot()
  local path = os.getenv("SEEDANCE_SCREENSHOT")
  if not (path and screenshot) then return end
  local f = assert(io.open(path, "wb"))
  f:write(screenshot:encode("png"):getString())
  f:close()
end

-- The frame loop: LOVE's default, timed and paced at 60 Hz.
function love.run()
  love.load()
  love.timer.step()
  return function()
    local t0 = love.timer.getTime()
    if last_start then intervals[#intervals + 1] = t0 - last_start end
    last_start = t0
    love.event.pump()
    for name, a, b, c, d, e, f in love.event.poll() do
      if name == "quit" then
        write_report()
        write_screenshot()
        return a or 0
      end
      love.handlers[name](a, b, c, d, e, f)
    end
    love.timer.step()
    love.update(love.timer.getDelta())
    if love.graphics.isActive() then
      love.graphics.origin()
      maybe_screenshot()
      love.draw()
      love.graphics.present()
    end
    local spent = love.timer.getTime() - t0
    frames[#frames + 1] = spent
    if state.done and os.getenv("SEEDANCE_QUIT") == "1" then
      quit_at = quit_at or #frames + 5      -- a few more frames: the screenshot is written at the end of one
      if #frames >= quit_at then love.event.quit(state.ok and 0 or 1) end
    end
    if spent < FRAME then love.timer.sleep(FRAME - spent) end
  end
end
