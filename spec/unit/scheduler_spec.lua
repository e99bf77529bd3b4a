-- Specs for the coroutine scheduler without network: spawn, run, sleep, step.
local seedance = require("seedance")
local scheduler = require("seedance.scheduler")
local core = require("seedance.core")
local nowait = require("helpers.nowait")
local child = require("helpers.child")

-- Under seedance.run, a spawned coroutine that raises `message`: its waiter gets nil and the error.
local function waiter_gets_error(message)
  seedance.run(function()
    local v, err = seedance.spawn(function() error(message) end):wait()
    assert.is_nil(v)
    assert.matches(message, err)
  end)
end

-- Step until every managed coroutine has ended (bounded), so no spec leaves work to the next.
local function drain()
  for _ = 1, 1000 do
    if seedance.step(0.01) == 0 then return end
  end
  error("managed coroutines still alive after 1000 steps")
end

describe("seedance.run #c #compat", function()
  it("returns what the function returns", function()
    assert.same({ 1, "two" }, { seedance.run(function() return 1, "two" end) })
  end)

  it("interleaves spawned coroutines that sleep", function()
    local order = {}
    seedance.run(function()
      local a = seedance.spawn(function()
        seedance.sleep(0.03); order[#order + 1] = "a"; return "A"
      end)
      local b = seedance.spawn(function()
        seedance.sleep(0.01); order[#order + 1] = "b"; return "B"
      end)
      assert.equals("A", a:wait())
      assert.equals("B", b:wait())
    end)
    assert.same({ "b", "a" }, order)
  end)

  it("sleeps concurrently: ten 200 ms sleeps take about 200 ms, not 2 s", function()
    local t0 = core.now()
    seedance.run(function()
      for _ = 1, 10 do seedance.spawn(function() seedance.sleep(0.2) end) end
    end)
    local took = core.now() - t0
    -- halfway between the two answers: room for a loaded machine either way
    assert.is_true(took >= 0.2 and took < 1.1, "took " .. took)
  end)

  it("raises what the function raised, with a traceback", function()
    local ok, err = pcall(seedance.run, function() error("boom") end)
    assert.is_false(ok)
    assert.matches("boom", err)
    assert.matches("traceback", err)
  end)

  it("hands a spawned coroutine's error to its waiter", function()
    waiter_gets_error("inner")
  end)

  it("reports errors nobody waits for to the error handler, and goes on", function()
    local seen
    scheduler.set_error_handler(function(e) seen = e end)
    seedance.run(function()
      seedance.spawn(function() error("lost") end)
      seedance.sleep(0.01)
    end)
    scheduler.set_error_handler(nil)
    assert.matches("lost", seen)
  end)

  it("hands the error handler only errors nobody waits on (not a waited spawn's, not run's own) #m-error-handler-unjoined", function()
    local seen = {}
    scheduler.set_error_handler(function(e) seen[#seen + 1] = e end)
    finally(function() scheduler.set_error_handler(nil) end)
    waiter_gets_error("waited for")
    local ok, err = pcall(seedance.run, function() error("raised by run") end)
    assert.is_false(ok)
    assert.matches("raised by run", err)
    assert.same({}, seen)
  end)

  it("refuses a NaN pause as a caller mistake #m-sleep-nan-refused", function()
    local ok, err = pcall(seedance.sleep, 0 / 0)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'sleep' %(number of seconds expected, got NaN%)", err)
  end)

  -- The kind on every Lua: a seedance call whose yield raises (inside a C call, here string.gsub's
  -- callback) has registered its wake first; the coroutine ends, and the stale wake must not end it twice.
  it("a seedance call that cannot yield (inside a C call) ends its coroutine once; seedance.run works after #child #m-scheduler-stale-wake", function()
    local ok, out = child.lua([[
      local seedance = require("seedance")
      local h = seedance.spawn(function()
        ("x"):gsub("x", function() seedance.sleep(0.05) end)
      end)
      local wok, werr = h:wait()
      io.write(tostring(wok), " ", tostring(werr and tostring(werr):match("yield") or werr), "; ")
      io.stdout:flush()
      seedance.sleep(0.1) -- the stale timer fires here
      local rok, v = pcall(seedance.run, function() seedance.sleep(0.01) return 42 end)
      io.write("run: ", tostring(rok), " ", tostring(v))]])
    assert.is_true(ok, "the child hung or failed: " .. out)
    assert.equals("nil yield; run: true 42", out)
  end)

  it("refuses a non-function and nested run", function()
    assert.has_error(function() seedance.run(1) end, "bad argument #1 to 'run' (function expected, got number)")
    local ok, err = pcall(seedance.run, function() seedance.run(function() end) end)
    assert.is_false(ok)
    assert.matches("inside seedance.run", err)
  end)
end)

describe("seedance.step #c #compat", function()
  it("never blocks, and drives spawned coroutines to the end #m-step-never-blocks", function()
    -- "never blocks" checked on what step(0) asks for, not on a clock: every
    -- wait it hands to the engine's poll or to core.sleep is zero
    local waits, stop = nowait.record()
    finally(stop)
    local done = false
    seedance.spawn(function()
      seedance.sleep(0.02)
      -- a transfer in flight too, so the engine's poll is asked (nothing listens on port 9)
      scheduler.transfer{ url = "http://127.0.0.1:9/", connect_timeout = 1 }
      done = true
    end)
    local steps = 0
    local deadline = core.now() + 5
    while not done and core.now() < deadline do
      seedance.step(0)
      steps = steps + 1
    end
    assert.is_true(done)
    assert.is_true(steps > 1)
    assert.is_true(#waits > 0)
    assert.is_nil(nowait.first_wait(waits))
  end)

  it("keeps to its frame budget: past it, ready coroutines wait for the next step #m-resume-budget", function()
    local saved = scheduler.budget
    finally(function() scheduler.budget = saved end)
    scheduler.budget = 0          -- every step stops after its first resume
    local ran = 0
    for _ = 1, 5 do seedance.spawn(function() ran = ran + 1 end) end
    seedance.step(0)
    assert.equals(1, ran)
    assert.equals(0, seedance.timeout())   -- the rest are ready: call again now
    for _ = 1, 4 do seedance.step(0) end
    assert.equals(5, ran)
    assert.is_nil(seedance.timeout())
  end)

  it("resumes at most RESUMES coroutines in a host's step, however much time is left #m-resume-count", function()
    local saved = scheduler.budget
    finally(function() scheduler.budget = saved end)
    scheduler.budget = math.huge
    local ran = 0
    for _ = 1, scheduler.RESUMES + 8 do seedance.spawn(function() ran = ran + 1 end) end
    seedance.step(0)
    assert.equals(scheduler.RESUMES, ran)
    drain()
    assert.equals(scheduler.RESUMES + 8, ran)
  end)

  it("resumes and hands over at least one a step, whatever a host set the counts to #found #m-step-does-one", function()
    -- (found by a helper: RESUMES = 0 made every step resume nothing, and a run hang for ever)
    local saved = { scheduler.RESUMES, scheduler.HANDOVERS, scheduler.PUMP }
    finally(function() scheduler.RESUMES, scheduler.HANDOVERS, scheduler.PUMP = saved[1], saved[2], saved[3] end)
    for _, n in ipairs{ 0, -1, 0 / 0, false } do
      scheduler.RESUMES = n or nil
      local ran = 0
      for _ = 1, 3 do seedance.spawn(function() ran = ran + 1 end) end
      seedance.step(0)
      assert.equals(1, ran, tostring(n))
      drain()
      assert.equals(3, ran)
    end
    scheduler.RESUMES, scheduler.PUMP = saved[1], { budget = 0.0003, handovers = 32, resumes = 0 }
    local ran = 0
    assert.equals("done", seedance.run(function()
      for _ = 1, 3 do seedance.spawn(function() ran = ran + 1 end) end
      return "done"
    end))
    assert.equals(3, ran)
  end)

  it("steps plain code that blocks with the pump's budget, never a host's frame budget #m-pump-budget", function()
    -- (a host's budget this small would make a blocking call resume one coroutine a step)
    local runner = require("seedance.runner")
    local saved, resume_ready = { scheduler.budget, scheduler.RESUMES }, runner.resume_ready
    finally(function()
      scheduler.budget, scheduler.RESUMES = saved[1], saved[2]
      runner.resume_ready = resume_ready
    end)
    scheduler.budget, scheduler.RESUMES = 0, 1
    local most = {}
    runner.resume_ready = function(stop_at, max)
      most[#most + 1] = max
      return resume_ready(stop_at, max)
    end
    local ran = 0
    seedance.run(function()
      for _ = 1, 20 do seedance.spawn(function() ran = ran + 1 end) end
    end)
    assert.equals(20, ran)
    assert.is_true(#most > 0)
    for _, m in ipairs(most) do assert.equals(scheduler.PUMP.resumes, m) end
    most = {}
    seedance.spawn(function() end)
    seedance.step(0)
    assert.same({ 1 }, most) -- (and a host's step keeps its own)
  end)

  it("hands finished transfers over within the budget too, and loses none #m-dispatch-budget", function()
    local saved = scheduler.budget
    finally(function() scheduler.budget = saved end)
    local results, done = {}, 0
    for i = 1, 6 do
      seedance.spawn(function()
        -- nothing listens on port 9 here: each transfer ends at once, refused
        results[i] = scheduler.transfer{ url = "http://127.0.0.1:9/" }
        done = done + 1
      end)
    end
    scheduler.budget = math.huge -- a slow machine (valgrind) must not cut this step short
    seedance.step(0) -- all six start their transfer
    assert.equals(6, scheduler.stats().transfers)
    local eng = scheduler.engine()
    local deadline = core.now() + 10
    while eng:pending() > 0 and core.now() < deadline do eng:step(10) end -- all six finished, queued in C
    scheduler.budget = 0
    seedance.step(0)
    assert.equals(5, scheduler.stats().transfers) -- one handed over, five left queued for the next steps
    local live = 1
    while live > 0 and core.now() < deadline do live = seedance.step(0.01) end
    for i = 1, 6 do assert.is_table(results[i]) end
    assert.equals(6, done)
  end)

  it("resumes in one step only what was ready when it began: a bare yield runs again at the next step #m-step-ready-snapshot", function()
    local saved = scheduler.budget
    finally(function() scheduler.budget = saved end)
    scheduler.budget = math.huge -- no frame budget cuts the step short
    local turns, child_ran = 0, false
    seedance.spawn(function()
      seedance.spawn(function() child_ran = true end)
      for _ = 1, 3 do
        turns = turns + 1
        coroutine.yield()
      end
    end)
    seedance.step(0)
    assert.equals(1, turns)
    assert.is_false(child_ran) -- spawned during this step: it first runs at the next
    seedance.step(0)
    assert.equals(2, turns)
    assert.is_true(child_ran)
    drain()
  end)

  it("raises when step is called from inside a step #m-step-not-reentrant", function()
    local ok, err
    seedance.spawn(function() ok, err = pcall(seedance.step, 0) end)
    drain()
    assert.is_false(ok)
    assert.matches("seedance.step called from inside a step", err)
  end)

  it("tells the host how long it may sleep", function()
    assert.is_nil(seedance.timeout())
    seedance.spawn(function() seedance.sleep(0.05) end)
    assert.equals(0, seedance.timeout())  -- ready to start
    seedance.step(0)
    local t = seedance.timeout()
    assert.is_true(t > 0 and t <= 0.05)
    while seedance.step(0.01) > 0 do end
    assert.is_nil(seedance.timeout())
  end)

  it("tells a host a wait it can take while a coroutine sleeps for ever, at most a day, and nothing once that pause "
    .. "ended early #found #m-timeout-finite #m-timeout-drops-stale", function()
    local token, done = {}, false
    seedance.spawn(function()
      scheduler.sleep(math.huge, token) -- seedance.sleep(math.huge), here with a way to end it
      done = true
    end)
    seedance.step(0)
    local t = seedance.timeout()
    assert.is_true(t > 0 and t <= scheduler.TIMEOUT_MAX and t == t, tostring(t))
    scheduler.interrupt(token)
    seedance.step(0)
    assert.is_true(done)
    assert.is_nil(seedance.timeout())
  end)

  it("interrupt(token) ends the pause of every coroutine sleeping on the token, not only the last one's "
    .. "(several submits of a client pausing at a 429) #found #m-sleep-token-wakes-all", function()
    local token, ended = {}, 0
    for _ = 1, 3 do
      seedance.spawn(function()
        scheduler.sleep(3600, token)
        ended = ended + 1
      end)
    end
    seedance.step(0)
    assert.equals(0, ended)
    scheduler.interrupt(token)
    -- a few steps with no time to pass (#found: under valgrind one step's Lua budget resumed only one of them;
    -- the rest go at the next steps): every pause ended, none waits out its hour
    for _ = 1, 20 do
      if ended == 3 then break end
      seedance.step(0)
    end
    assert.equals(3, ended)
    assert.is_nil(seedance.timeout())
  end)

  it("sleeps what plain code asks (1/60 s asks for about 16.7 ms, not a 50 ms slice) #m-plain-sleep-length", function()
    -- checked on the waits it hands to core.sleep and the engine's poll, not on a clock
    local waits, stop = nowait.record()
    finally(stop)
    seedance.sleep(1 / 60)
    stop()
    local asked = 0
    for _, w in ipairs(waits) do
      -- (the engine's poll takes milliseconds, core.sleep seconds; none is in flight here)
      asked = asked + w
      assert.is_true(w <= 1 / 60 + 1e-9, "one wait of " .. w .. " s for a sleep of 1/60 s")
    end
    assert.is_true(asked <= 1 / 60 + 1e-9, "asked to wait " .. asked .. " s in all for a sleep of 1/60 s")
    assert.is_true(#waits >= 1)
  end)

  it("exports the monotonic clock of its deadlines as seedance.now #m-now-exported", function()
    assert.is_function(seedance.now)
    local a = seedance.now()
    local c = core.now()
    local b = seedance.now()
    assert.is_true(a <= c and c <= b, "seedance.now is not the core's monotonic clock")
  end)

  it("blocks plain code in sleep while spawned coroutines progress", function()
    local ran = false
    seedance.spawn(function() ran = true end)
    seedance.sleep(0.01)
    assert.is_true(ran)
  end)
end)
