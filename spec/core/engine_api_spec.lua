-- Specs for the engine's per-request path (src/engine_api.c, engine_sched.c,
-- answer.c) against the emulator on loopback: a client's profile given once,
-- API calls whose answers are read in C, watches that poll a task and wake
-- Lua only when its waiter is to be told, and the budget of one step.
-- No assertion is on a clock: waits are bounded by a deadline only so a
-- broken engine fails instead of hanging.
local core = require("seedance.core")
local emulator = require("helpers.emulator")

local BODY = '{"model":"doubao-seedance-2.0","prompt":"a heron in the rain","duration":5}'
local SUBMIT, TASK = 1, 2

-- Step until the engine hands id over (other ids are dropped); bounded by limit seconds.
local function until_popped(eng, id, limit)
  local deadline = core.now() + (limit or 10)
  while core.now() < deadline do
    eng:step(10)
    local got = eng:pop()
    while got do
      if got == id then return true end
      got = eng:pop()
    end
  end
  error("nothing handed over for " .. tostring(id) .. " in time")
end

local function submit(eng, prof, key)
  local id = eng:api(prof, "POST", "/v1/videos/generations", BODY, key, nil, nil, SUBMIT)
  until_popped(eng, id)
  return eng:take(id)
end

describe("the engine's API calls #c", function()
  local emu = emulator.fixture{ speed = 1000000, max_tasks = 100000 }
  local eng, prof
  before_each(function()
    eng = core.engine()
    prof = eng:profile{ base = emu.url, headers = { "Authorization: Bearer sk-engine-spec" } }
  end)
  after_each(function() eng:close() end)

  it("reads a submit's clean answer in C: the task id, its status, the service's clock", function()
    local ok, http, seconds, server_now, id, status, replayed = submit(eng, prof, "key-engine-1")
    assert.is_true(ok)
    assert.equals(200, http)
    assert.is_true(seconds >= 0)
    assert.is_true(math.abs(server_now - os.time()) < 5) -- the answer's Date
    assert.matches("^task_[%w]+$", id)
    assert.equals("submitted", status)
    assert.is_false(replayed)
    -- the same key again: the service replays the task it made
    local ok2, _, _, _, id2, _, replayed2 = submit(eng, prof, "key-engine-1")
    assert.is_true(ok2)
    assert.equals(id, id2)
    assert.is_true(replayed2)
  end)

  it("reads a task's answer in C, and only as the task it asked about #m-engine-answer-same-task", function()
    local _, _, _, _, tid = submit(eng, prof, "key-engine-2")
    local id = eng:api(prof, "GET", "/v1/tasks/" .. tid, nil, nil, nil, nil, TASK)
    until_popped(eng, id)
    local ok, http, _, _, status, progress, est, created, completed, _, result, video, expires = eng:take(id, tid)
    assert.is_true(ok)
    assert.equals(200, http)
    assert.equals("completed", status)
    assert.equals(100, progress)
    assert.is_true(est > 0)
    assert.is_true(created > 0 and completed >= created)
    assert.equals("string", type(result)) -- the result object's text, decoded when first read
    assert.equals(video, core.json_decode(result).videos[1].url[1])
    assert.matches("^http://127%.0%.0%.1:%d+/media/", video)
    assert.is_true(expires > completed)
    -- the same answer asked about as another task's: not read, the whole result instead
    id = eng:api(prof, "GET", "/v1/tasks/" .. tid, nil, nil, nil, nil, TASK)
    until_popped(eng, id)
    local ok2, r = eng:take(id, "task_SOMEONE_ELSE")
    assert.is_false(ok2)
    assert.equals(200, r.status)
    assert.matches(tid, r.body, 1, true)
  end)

  it("starts at most budget.starts calls a step, the rest at the next steps #m-engine-budget-starts", function()
    eng:budget{ starts = 2, downloads = 2, sockets = 16, answers = 32, us = 0 }
    local ids = {}
    for i = 1, 6 do ids[i] = eng:api(prof, "GET", "/v1/tasks/task_none" .. i, nil, nil, nil, nil, 0) end
    eng:step(0)
    local s = eng:stats()
    assert.equals(2, s.starts)
    assert.is_true(s.more) -- called again at once: work is left
    eng:step(0)
    assert.equals(2, eng:stats().starts)
    local left = #ids
    local deadline = core.now() + 10
    while left > 0 and core.now() < deadline do
      eng:step(10)
      assert.is_true(eng:stats().starts <= 2)
      while eng:pop() do left = left - 1 end
    end
    assert.equals(0, left)
  end)
end)

describe("the engine's connections #c", function()
  local emu = emulator.fixture{ speed = 1000000, latency_ms = 150 }

  it("hands libcurl no more transfers than it has connections for #m-engine-max-running", function()
    local eng = core.engine{ max_host_connections = 2 }
    finally(function() eng:close() end)
    local prof = eng:profile{ base = emu.url, headers = { "Authorization: Bearer sk-engine-spec" } }
    for i = 1, 6 do eng:api(prof, "GET", "/v1/tasks/task_none" .. i, nil, nil, nil, nil, 0) end
    local left, most = 6, 0
    local deadline = core.now() + 20
    while left > 0 and core.now() < deadline do
      eng:step(10)
      local running = eng:stats().running
      if running > most then most = running end
      while eng:pop() do left = left - 1 end
    end
    assert.equals(0, left)
    assert.equals(2, most)
  end)

  it("does not ask to be stepped again at once while due polls wait for a connection #m-engine-no-busy-step",
    function()
      local eng = core.engine{ max_host_connections = 1 }
      finally(function() eng:close() end)
      eng:budget{ starts = 1, downloads = 2, sockets = 16, answers = 32, us = 0 }
      local prof = eng:profile{ base = emu.url, headers = { "Authorization: Bearer sk-engine-spec" },
                                poll_min = 0.001, poll_max = 0.001 }
      for i = 1, 3 do eng:api(prof, "GET", "/v1/tasks/task_none" .. i, nil, nil, nil, nil, 0) end
      eng:watch(prof, "task_WATCHED", nil, 2, "running") -- its first poll is due at once
      eng:step(0) -- one call runs (150 ms away), two wait to start, the watch's poll is due behind them
      eng:step(0)
      local s = eng:stats()
      assert.equals(1, s.running)
      assert.is_false(s.more)
      local ms = eng:timeout()
      assert.is_true(ms > 0, "the engine asks to be stepped again in " .. tostring(ms) .. " ms")
    end)
end)

describe("the engine's watches #c", function()
  -- tasks that run for a day: their status stays "running", their progress 0
  local emu = emulator.fixture{ speed = 1, task_seconds = 86400 }

  it("reads polls that change nothing in C and does not wake Lua for them #m-engine-absorbs-unchanged-polls",
    function()
      local eng = core.engine()
      finally(function() eng:close() end)
      local prof = eng:profile{ base = emu.url, headers = { "Authorization: Bearer sk-engine-spec" },
                                poll_min = 0.005, poll_max = 0.005 }
      local _, _, _, _, tid = submit(eng, prof, "key-engine-watch")
      local wid = eng:watch(prof, tid, nil, 3, "submitted", 0) -- told: submitted, 0 %
      until_popped(eng, wid)
      local kind, absorbed, changed = eng:event(wid)
      assert.equals("task", kind)
      assert.is_nil(absorbed)
      assert.is_true(changed) -- submitted -> queued or running
      assert.is_true(eng:take(wid))
      eng:rearm(wid)
      -- many more polls, none of them news: no event, each counted
      local deadline = core.now() + 20
      while (eng:watch_info(wid).absorbed or 0) < 5 and core.now() < deadline do
        eng:step(5)
        assert.is_nil(eng:pop())
        assert.is_nil(eng:event(wid))
      end
      assert.is_true(eng:watch_info(wid).absorbed >= 5)
      assert.is_true(emu:stats().polls >= 6)
    end)

  it("ends a watch with a deadline event when its deadline comes #m-engine-watch-deadline", function()
    local eng = core.engine()
    finally(function() eng:close() end)
    local prof = eng:profile{ base = emu.url, headers = { "Authorization: Bearer sk-engine-spec" },
                              poll_min = 1000, poll_max = 1000 }
    local wid = eng:watch(prof, "task_DEADLINE", core.now() + 0.05, 2, "running")
    until_popped(eng, wid) -- its first poll (an answer the engine does not read: a 404)
    assert.equals("answer", (eng:event(wid)))
    eng:take(wid)
    eng:rearm(wid, 1000) -- the next poll far past the deadline
    until_popped(eng, wid)
    assert.equals("deadline", (eng:event(wid)))
    assert.is_false(eng:take(wid))
  end)
end)
