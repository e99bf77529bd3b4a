-- task:progress_at against the emulator, read every frame of a frame loop as a
-- game's HUD reads it while seedance.step(0) drives the wait: it moves between
-- polls, never runs backwards, never passes 99 % before the task completes and
-- is 100 % once it has. The estimate's arithmetic is spec/unit/estimate_spec.lua.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local util = require("helpers.util")

local REQ = { model = "doubao-seedance-2.0", prompt = "a kite over green hills", duration = 5 }
-- every task takes 100 service seconds, 2 s here; progress comes in steps of 20 %, as coarse as the
-- real service's
local SPEED = 50

-- Wait for a new task from a frame loop, reading task:progress_at() every frame
-- (bounded); the readings, each with the status and progress the task had then.
local function frames(client)
  local task = assert(client:generate(REQ))
  local waiting = seedance.spawn(function() return task:wait() end)
  local seen = {}
  for _ = 1, 20000 do
    seedance.step(0)
    local p, eta = task:progress_at()
    seen[#seen + 1] = { p = p, eta = eta, status = task.status, reported = task.progress }
    if waiting.done then break end
    core.sleep(0.002)
  end
  assert.is_true(waiting.done, "the wait did not end")
  assert.is_true(waiting.ok, tostring(waiting.error))
  return task, seen
end

-- Every reading is at least the one before; none before completion says more than 99.
local function assert_honest(seen)
  for i, r in ipairs(seen) do
    assert.is_true(r.p >= 0 and r.p <= 100, tostring(r.p))
    if i > 1 then assert.is_true(r.p >= seen[i - 1].p, ("frame %d: %g after %g"):format(i, r.p, seen[i - 1].p)) end
    if r.status ~= "completed" then
      assert.is_true(r.p <= 99, ("frame %d: %g while %s"):format(i, r.p, tostring(r.status)))
    end
  end
end

local cleanup = util.cleanup()

describe("task:progress_at, read every frame #c", function()
  it("moves between polls, never backwards, never past 99 % early, 100 % at completion #m-task-progress-observes", function()
    local emu = cleanup(emulator.start{ speed = SPEED, task_seconds = 100, progress_step = 20 })
    local client = util.client_for(emu, { time_scale = 1 / SPEED })
    local task, seen = frames(client)
    assert_honest(seen)
    -- between two answers that changed nothing, the reading went on moving
    local moved, answers = 0, {}
    for i = 2, #seen do
      local a, b = seen[i - 1], seen[i]
      answers[b.status .. ":" .. tostring(b.reported)] = true
      if a.status == b.status and a.reported == b.reported and b.p > a.p then moved = moved + 1 end
    end
    local n = 0
    for _ in pairs(answers) do n = n + 1 end
    assert.is_true(moved > 2 * n, ("%d moves between %d distinct answers"):format(moved, n))
    assert.is_true(#seen > 0 and seen[#seen].p == 100)
    local p, eta = task:progress_at()
    assert.equals(100, p)
    assert.is_nil(eta)
    -- some frame while it ran had an ETA, and no ETA said more than the task's 2 s (plus a poll)
    local etas = 0
    for _, r in ipairs(seen) do
      if r.eta then
        etas = etas + 1
        assert.is_true(r.eta <= 100 / SPEED + 1, tostring(r.eta))
      end
    end
    assert.is_true(etas > 0)
    client:close()
  end)

  it("holds at 99 % under an estimate ten times too short, and does not fall back when the rate is slower #m-task-progress-observes #m-estimate-cap-99 #m-estimate-monotonic", function()
    local emu = cleanup(emulator.start{ speed = SPEED, task_seconds = 100, progress_step = 20, estimate_factor = 0.1 })
    local client = util.client_for(emu, { time_scale = 1 / SPEED })
    local task, seen = frames(client)
    assert_honest(seen)
    local at_cap = 0
    for _, r in ipairs(seen) do
      if r.status ~= "completed" and r.p == 99 then at_cap = at_cap + 1 end
    end
    assert.is_true(at_cap > 0, "never reached the cap")
    assert.equals(100, (task:progress_at()))
    client:close()
  end)

  it("answers on a closed handle and for a time the host gives; refuses a time that is not a number", function()
    local emu = cleanup(emulator.start{ speed = SPEED, task_seconds = 100 })
    local client = util.client_for(emu, { time_scale = 1 / SPEED })
    local task = assert(client:generate(REQ))
    assert.equals(0, (task:progress_at(seedance.now and seedance.now() or core.now())))
    task:close()
    assert.is_number((task:progress_at()))
    assert.has_error(function() task:progress_at("soon") end,
      "bad argument #1 to 'progress_at' (number expected, got string)")
    assert.has_error(function() task:progress_at(0 / 0) end,
      "bad argument #1 to 'progress_at' (number expected, got nan)")
    client:close()
  end)
end)
