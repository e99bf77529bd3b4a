-- Tests that bite: promises of README.md and of the public functions' LDoc
-- that no mutation in mutants/ held before. Each spec here fails with the
-- mutation named beside it (mutants/NAME.patch) and passes without it.
local seedance = require("seedance")
local scheduler = require("seedance.scheduler")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local process = require("helpers.process")
local util = require("helpers.util")

local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat", duration = 5 }

-- Step until every managed coroutine has ended (bounded), so no spec leaves work to the next.
local function drain()
  for _ = 1, 1000 do
    if seedance.step(0.01) == 0 then return end
  end
  error("managed coroutines still alive after 1000 steps")
end

-- A poll answer about task_A.
local function answer(status, progress)
  local data = { id = "task_A", status = status, progress = progress }
  if status == "completed" then
    data.result = { videos = { { url = "http://127.0.0.1:9/v.mp4", expires_at = os.time() + 3600 } } }
  end
  return { code = 200, data = data }
end

describe("bite5: the scheduler", function()
  -- mutants/error-handler-unjoined.patch
  it("hands the error handler only errors nobody waits on (not a waited spawn's, not run's own) #m-error-handler-unjoined", function()
    local seen = {}
    scheduler.set_error_handler(function(e) seen[#seen + 1] = e end)
    finally(function() scheduler.set_error_handler(nil) end)
    seedance.run(function()
      local h = seedance.spawn(function() error("waited for") end)
      local v, err = h:wait()
      assert.is_nil(v)
      assert.matches("waited for", err)
    end)
    local ok, err = pcall(seedance.run, function() error("raised by run") end)
    assert.is_false(ok)
    assert.matches("raised by run", err)
    assert.same({}, seen)
  end)

  -- mutants/step-ready-snapshot.patch
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

  -- mutants/sleep-nan-refused.patch
  it("refuses a NaN pause as a caller mistake #m-sleep-nan-refused", function()
    local ok, err = pcall(seedance.sleep, 0 / 0)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'sleep' %(number of seconds expected, got NaN%)", err)
  end)

  -- mutants/step-not-reentrant.patch
  it("raises when step is called from inside a step #m-step-not-reentrant", function()
    local ok, err
    seedance.spawn(function() ok, err = pcall(seedance.step, 0) end)
    drain()
    assert.is_false(ok)
    assert.matches("seedance.step called from inside a step", err)
  end)
end)

describe("bite5: Task:wait", function()
  -- mutants/wait-progress-on-change.patch
  it("calls on_progress only when the status or the progress changed #m-wait-progress-on-change", function()
    local gw = gateway.start{ listeners = { "api" }, cases = {} }
    finally(function() gw:stop() end)
    gw:script{ cases = {
      { name = "running", method = "GET", pattern = "^/v1/tasks/task_A", times = 3, json = answer("running", 50) },
      { name = "completed", method = "GET", pattern = "^/v1/tasks/task_A", json = answer("completed", 100) },
    } }
    local c = seedance.new{ api_key = "sk-bite5", base_url = gw.urls.api, poll_min = 0.01, poll_max = 0.02 }
    local seen = {}
    local task = assert(c:task("task_A"):wait{ timeout = 30, on_progress = function(t)
      seen[#seen + 1] = t.status .. ":" .. tostring(t.progress)
    end })
    assert.equals("completed", task.status)
    assert.equals(4, #gw:requests()) -- three polls saw the same state
    assert.same({ "running:50", "completed:100" }, seen)
  end)

  -- mutants/wait-timeout-option.patch
  it("takes its deadline from the client's wait_timeout when given none #m-wait-timeout-option", function()
    local gw = gateway.start{ listeners = { "api" }, cases = {} }
    finally(function() gw:stop() end)
    gw:script{ cases = {
      { method = "GET", pattern = "^/v1/tasks/task_A", json = answer("completed", 100) },
    } }
    local c = seedance.new{ api_key = "sk-bite5", base_url = gw.urls.api, wait_timeout = 0 }
    local task, err = c:task("task_A"):wait()
    assert.is_nil(task)
    assert.equals("timeout_error", err.type)
  end)
end)

describe("bite5: the journal", function()
  -- mutants/journal-download-size.patch
  it("fetches a journaled download again when its file is gone, without paying again #m-journal-download-size", function()
    local emu = emulator.start{ speed = util.SPEED }
    local dir = util.tmpdir()
    finally(function() -- (one finally: busted keeps only the last one given)
      emu:stop()
      process.remove_dir(dir)
    end)
    local path = dir .. "/v.mp4"
    local function once()
      local c = util.client_for(emu, { journal = dir .. "/j.journal" })
      local task = assert(c:generate(REQ))
      local got, err = task:download(path)
      c:close() -- the journal's lock back, for the re-run
      return task, got, err
    end
    local first = once()
    assert.is_true(util.size_of(path) > 0)
    os.remove(path)
    local second, got, err = once()
    assert.is_nil(err)
    assert.equals(first.id, second.id) -- re-attached: one task paid for
    assert.equals(1, emu:stats().tasks_created)
    assert.equals(path, got)
    assert.is_true((util.size_of(path) or 0) > 0, "the journal said done, and no file stands there")
  end)
end)

describe("bite5: seedance.chain", function()
  -- mutants/chain-keeps-images.patch
  it("puts the previous last frame before a clip's own images, keeping them #m-chain-keeps-images", function()
    local emu = emulator.start{ speed = util.SPEED }
    finally(function() emu:stop() end)
    local own = "https://example.com/style.png"
    local reqs = {}
    for i = 1, 2 do reqs[i] = { model = "doubao-seedance-2.0", prompt = "clip " .. i, image_urls = { own } } end
    local sent = {}
    local clips, err = seedance.chain(util.client_for(emu), reqs, {
      on_clip = function(i, task) sent[i] = task.request end,
    })
    assert.is_nil(err)
    assert.equals(2, #clips)
    assert.same({ own }, sent[1].image_urls)
    assert.same({ clips[1].task.last_frame_url, own }, sent[2].image_urls)
  end)
end)

describe("bite5: seedance.new's checks", function()
  local function new_error(over)
    local o = { api_key = "sk-bite5", base_url = "http://127.0.0.1:9" }
    for k, v in pairs(over) do o[k] = v end
    local ok, err = pcall(seedance.new, o)
    assert.is_false(ok, "accepted")
    return err
  end

  -- mutants/options-whole-numbers.patch
  it("refuses a fraction where an option is a whole number #m-options-whole-numbers", function()
    assert.matches("option 'max_retries' must be a whole number, got 1.5", new_error{ max_retries = 1.5 })
    assert.matches("option 'max_in_flight' must be a whole number", new_error{ max_in_flight = 2.5 })
  end)

  -- mutants/options-minimum.patch
  it("refuses a value below an option's minimum #m-options-minimum", function()
    assert.matches("option 'max_retries' must be at least 0, got %-1", new_error{ max_retries = -1 })
    assert.matches("option 'max_in_flight' must be at least 1, got 0", new_error{ max_in_flight = 0 })
    assert.matches("option 'timeout' must be at least 0", new_error{ timeout = -5 })
  end)
end)
