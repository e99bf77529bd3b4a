-- seedance.map: a batch in input order with bounded fan-out, each item's own
-- outcome, progress, fail_fast; every option and request checked before
-- anything is paid; a batch that ends early (a closed client, a raise inside
-- a pool) returns every task it paid for and leaves no coroutine parked; many
-- items, a frame loop, two maps at once, hostile answers, a rate limit.
-- A map that may raise from inside its pools, or hang, runs in a child
-- (helpers.child): what it leaves in the scheduler would hang later specs.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local util = require("helpers.util")
local rmrf = util.rmrf

local R, cleanup = util.request, util.cleanup()

describe("seedance.map #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }

  it("keeps input order, collects per-item errors, and reports batch progress", function()
    local reqs = util.requests("item ", 12)
    reqs[5] = R{ prompt = "bad", duration = 99 }   -- fails validation
    local peak, last = 0, nil
    local results, stats = seedance.map(util.client_for(emu), reqs, { concurrency = 3, on_progress = function(s)
      peak = math.max(peak, s.running); last = s.percent end })
    assert.equals(12, #results)
    assert.equals("validation_error", results[5].error.type)
    for i, r in ipairs(results) do
      if i ~= 5 then
        assert.is_nil(r.error)
        assert.equals("item " .. i, r.task.request.prompt)
      end
    end
    assert.same({ 11, 1 }, { stats.done, stats.failed })
    assert.is_true(peak <= 3)
    assert.equals(100, last)
  end)

  -- Parking an item paces the collector (a step per parked task, for the garbage it leaves): never
  -- while the host has stopped it, since an explicit step runs even a stopped collector.
  it("#found runs no collection while the host has stopped the collector #m-park-gc-respects-stop", function()
    if _VERSION ~= "Lua 5.4" then return pending("a step that is a whole cycle (stepsize 40) is Lua 5.4's") end
    if os.getenv("SEEDANCE_GC_STRESS") then return pending("the collector's stress check steps it itself") end
    collectgarbage("collect")
    local mode = collectgarbage("incremental", 0, 0, 40) -- (a step, were one run, is a whole cycle)
    collectgarbage("stop")
    local ok, err = pcall(function()
      do local _ = string.rep("x", 8 * 1024 * 1024) end -- garbage a collection would free
      local before = collectgarbage("count")
      local results = seedance.map(util.client_for(emu), util.requests("stopped ", 3), { concurrency = 3 })
      for _, r in ipairs(results) do assert.equals("completed", r.task.status) end
      assert.is_true(collectgarbage("count") >= before, "a collection ran while the host had stopped the collector")
    end)
    collectgarbage("restart")
    collectgarbage("incremental", 0, 0, 13)
    if mode == "generational" then collectgarbage("generational") end
    assert(ok, err)
  end)

  it("#found works in a host without collectgarbage (a sandbox): parking skips its pacing "
    .. "#m-park-gc-without-collectgarbage", function()
    local gc = collectgarbage
    rawset(_G, "collectgarbage", nil)
    local ok, results = pcall(seedance.map, util.client_for(emu), util.requests("sandboxed ", 2), { concurrency = 2 })
    rawset(_G, "collectgarbage", gc)
    assert(ok, results)
    for _, r in ipairs(results) do
      assert.is_nil(r.error)
      assert.equals("completed", r.task.status)
    end
  end)

  it("stops starting new items after the first error with fail_fast", function()
    local reqs = { R{ prompt = "bad", duration = 99 } }
    for i = 2, 6 do reqs[i] = R("x" .. i) end
    local results, stats = seedance.map(util.client_for(emu), reqs, { concurrency = 1, fail_fast = true })
    assert.equals(5, stats.skipped)
    assert.equals("skipped", results[6].error.type)
  end)

  it("stops submitting after a task fails mid-batch with fail_fast", function()
    local femu = cleanup(emulator.start{ speed = util.SPEED, fail_rate = 1 })
    local reqs = util.requests("f", 6)
    local results, stats = seedance.map(util.client_for(femu), reqs, { concurrency = 1, fail_fast = true })
    assert.equals(1, femu:created())
    assert.equals("task_failed", results[1].error.type)
    assert.same({ 1, 5 }, { stats.failed, stats.skipped })
  end)

  it("returns at once from an empty batch, sending nothing", function()
    local requests = emu:stats().requests
    local results, stats = seedance.map(util.client_for(emu), {}, { output = "/nonexistent/%d.mp4" })
    assert.same({}, results)
    assert.same({ 0, 0, 0 }, { stats.total, stats.done, stats.failed })
    assert.equals(requests, emu:stats().requests)
  end)

  it("pays once per item and keeps order over a 1,500-item batch at concurrency 300", function()
    local before = emu:created()
    local reqs = {}
    for i = 1, 1500 do reqs[i] = { model = "doubao-seedance-2.0-fast", prompt = "n" .. i } end
    local calls, last = 0, nil
    -- wait_timeout in service seconds: 1e6 of them, not 600 (0.3 s of wall time at this clock)
    local results, stats = seedance.map(util.client_for(emu, { time_scale = 1 / 2000, wait_timeout = 1e6 }), reqs, {
      concurrency = 300, on_progress = function(s) calls = calls + 1; last = s.percent end })
    assert.equals(1500, emu:created() - before)
    assert.same({ 1500, 1500, 0, 0 }, { stats.total, stats.done, stats.failed, stats.skipped })
    local ids = {}
    for i = 1, 1500 do
      assert.equals("n" .. i, results[i].task.request.prompt)
      assert.is_nil(ids[results[i].task.id], "one task for two items")
      ids[results[i].task.id] = true
    end
    assert.equals(100, last)
    assert.is_true(calls >= 1500)
  end)

  it("runs to the end from a frame loop that only calls step(0), downloads included, order kept", function()
    local dir = cleanup(util.tmpdir())
    local reqs = {}
    for i = 1, 12 do reqs[i] = R("frame " .. i, 4 + i % 3) end
    local results, stats
    seedance.spawn(function()
      results, stats = seedance.map(util.client_for(emu), reqs, { concurrency = 5, output = dir .. "/%02d.mp4" })
    end)
    local deadline = core.now() + 60
    while not results and core.now() < deadline do
      seedance.step(0)
      core.sleep(0.002)
    end
    assert.truthy(results, "the map did not end in 60 s of frames")
    assert.equals(12, stats.done)
    for i = 1, 12 do
      assert.equals("frame " .. i, results[i].task.request.prompt)
      assert.is_true(util.ffprobe_ok(results[i].path))
    end
  end)

  it("runs under seedance.run beside other coroutines, two maps at once on one client", function()
    local c = util.client_for(emu, { max_in_flight = 3 })
    local before = emu:created()
    local a, b = {}, {}
    for i = 1, 7 do a[i] = R("A" .. i); b[i] = R("B" .. i) end
    local ra, rb = seedance.run(function()
      local h1 = seedance.spawn(seedance.map, c, a, { concurrency = 4 })
      local h2 = seedance.spawn(seedance.map, c, b, { concurrency = 4 })
      return h1:wait(), h2:wait()
    end)
    assert.equals(14, emu:created() - before)
    for i = 1, 7 do
      assert.equals("A" .. i, ra[i].task.request.prompt)
      assert.equals("B" .. i, rb[i].task.request.prompt)
    end
  end)

  describe("checks its requests and options before paying", function()
    -- found: a list with a hole ({ r1, nil, r3 }: # is 3, ipairs stops at 1) passed the checks; the
    -- pools paid for r1 and r3, then map raised from inside a pool: both paid handles were lost.
    -- Fixed: map and chain take a list whose every key is one of 1 to # and every one of those a table.
    it("pays for nothing when the request list has a hole #found #child #m-map-list-no-holes", function()
      local before = emu:created()
      local ok, out = child.run(emu.url, [[
        local short = { R"a" }
        short[3] = R"c" -- in the hash part: # is 1
        for _, list in ipairs{ { R"a", nil, R"c" }, short, { R"a", R"b", name = "x" } } do
          for _, f in ipairs{ seedance.map, seedance.chain } do
            local ok, err = pcall(f, c, list, {})
            io.write(ok and "returned " or tostring(err):match("bad argument #2 to '%a+'") or tostring(err), "\n")
          end
        end]])
      assert.is_true(ok, out)
      assert.equals(before, emu:created(), "paid for the items around the hole, then: " .. out)
      assert.equals(("bad argument #2 to 'map'\nbad argument #2 to 'chain'\n"):rep(3), out)
    end)

    -- found: a request that was not a table passed map's checks; map paid for its siblings, then
    -- raised, and the caller never saw the handles of what was paid for
    it("map pays for nothing when one request is not a table #found #m-map-requests-tables", function()
      local before = emu:created()
      local scheduler = require("seedance.scheduler")
      scheduler.set_error_handler(function() end) -- the worker's raise is the finding; keep the log quiet
      cleanup(function() scheduler.set_error_handler(nil) end)
      local ok, results = pcall(seedance.map, util.client_for(emu), { R"a", "a prompt, not a request" })
      assert.equals(before, emu:created(), "paid, then " .. (ok and "returned" or "raised: " .. tostring(results)))
    end)

    it("refuses a request that is userdata or a coroutine before paying; a proxy request pays nothing", function()
      local c = util.client_for(emu)
      local before = emu:created()
      for _, bad in ipairs{ io.stdout, coroutine.create(function() end), newproxy and newproxy(true) or io.stderr } do
        local ok, err = pcall(seedance.map, c, { R"a", bad })
        assert.is_false(ok)
        assert.matches("bad argument #2 to 'map'", err)
      end
      -- a request whose fields come through __index: the validator reads raw fields, as JSON is written
      local results = seedance.map(c, { setmetatable({}, { __index = R"proxied" }) })
      assert.equals("validation_error", results[1].error.type)
      assert.equals(before, emu:created())
    end)

    -- found: map never checked its own options: a NaN timeout reached generate inside every submitter,
    -- which raised there; map re-raised, blaming 'generate', and left its pollers and downloaders
    -- parked for ever. Fixed: map and chain check every option before anything starts.
    it("a map given a bad timeout raises before starting anything, and seedance.run still works after #found #child #m-map-options-checked", function()
      local before = emu:created()
      local ok, out = child.run(emu.url, [[
        local ok, err = pcall(seedance.map, c, { R"a", R"b" }, { timeout = 0 / 0 })
        io.write(ok and "returned" or ("raised: " .. tostring(err):match("[^\n]*")), "\n")
        run_returns()]], { limit = 10 })
      assert.is_true(ok, "seedance.run never returned after the map raised: " .. out)
      assert.equals(before, emu:created())
      assert.truthy(out:find("'map'", 1, true), "the error blames another function: " .. out)
    end)

    it("refuses every ill-typed option of map and chain, blaming them, before anything is paid #m-map-options-checked", function()
      local c = util.client_for(emu)
      local before = emu:created()
      local bad = {
        { seedance.map, { timeout = "5" }, "option 'timeout' must be a number of seconds, got string" },
        { seedance.map, { concurency = 2 }, "unknown option 'concurency'" },
        { seedance.map, { concurrency = 0 }, "option 'concurrency' must be a whole number of at least 1, got 0" },
        { seedance.map, { concurrency = math.huge }, "option 'concurrency' must be a whole number of at least 1" },
        { seedance.map, { concurrency = "4" }, "option 'concurrency' must be a whole number, got string" },
        { seedance.map, { fail_fast = 1 }, "option 'fail_fast' must be a boolean, got number" },
        { seedance.map, { on_download = true }, "option 'on_download' must be a function, got boolean" },
        { seedance.map, { output = 3 }, "option 'output' must be a format string or a function, got number" },
        { seedance.map, { output = "out/%d\0.mp4" }, "option 'output' must not contain NUL bytes" },
        { seedance.map, { generate = { idempotency_key = "k1" } }, "option 'generate' must not hold 'idempotency_key'" },
        { seedance.map, { generate = { timeout = 0 / 0 } }, "option 'generate' field 'timeout' must be a number" },
        { seedance.chain, { frame_as = "last" }, "option 'frame_as' must be \"image_urls\" or \"first_frame\"" },
        { seedance.chain, { on_clip = "print" }, "option 'on_clip' must be a function, got string" },
        { seedance.chain, { concurrency = 2 }, "unknown option 'concurrency'" },
      }
      for _, b in ipairs(bad) do
        local ok, err = pcall(b[1], c, { R"a", R"b" }, b[2])
        assert.is_false(ok, b[3])
        assert.matches("bad argument #3 to '%a+' %(", err)
        assert.truthy(err:find(b[3], 1, true), err)
      end
      local ok, err = pcall(seedance.map, {}, { R"a" })
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'map' %(seedance client expected, got table%)", err)
      -- a callable table is a function here, as everywhere in Lua
      local results = seedance.map(c, {}, { on_progress = setmetatable({}, { __call = function() end }) })
      assert.same({}, results)
      assert.equals(before, emu:created())
    end)

    -- found: a wrong-typed on_progress (a string) was not checked: items were paid for, then the
    -- first report failed and ended the batch; the caller's fix and re-run paid for them again
    it("refuses a wrong-typed callback before paying #found #m-map-callbacks-typed", function()
      local before = emu:created()
      local ok, err = pcall(seedance.map, util.client_for(emu), { R"a", R"b" }, { on_progress = "print" })
      assert.equals(before, emu:created(), "paid, then " .. (ok and "returned a callback_error" or "raised"))
      assert.matches("bad argument #3 to 'map' (option 'on_progress' must be a function, got string)", err, nil, true)
    end)

    -- found: concurrency = 2.5 made two submitters but let a third item start (in_flight >= 2.5 is
    -- false at 2). Fixed: concurrency must be a whole number of at least 1.
    it("never has more items in flight than concurrency (2.5) #found #m-map-concurrency-whole", function()
      local peak = 0
      local reqs = util.requests("c", 8)
      for _, bad in ipairs{ 2.5, 0 / 0, -1 } do
        local ok, err = pcall(seedance.map, util.client_for(emu), reqs, { concurrency = bad,
          on_progress = function(s) if s.running > peak then peak = s.running end end })
        assert.is_false(ok, "took concurrency " .. tostring(bad) .. ", items in flight: " .. peak)
        assert.matches("bad argument #3 to 'map' (option 'concurrency' must be a whole number of at least 1",
          err, nil, true)
      end
      assert.equals(0, peak)
    end)

    -- found: preflight.options walked the options with pairs, but map read them with plain indexing:
    -- an option a defaults table gave through __index was never checked, and paid for before it failed
    it("checks options a defaults table gives through __index before paying #found #m-options-through-index", function()
      local c = util.client_for(emu)
      local before = emu:created()
      for _, defaults in ipairs{ { on_progress = "print" }, { on_download = "print", output = nil } } do
        local dir = util.tmpdir()
        local opts = setmetatable({ concurrency = 1, output = dir .. "/%d.mp4" }, { __index = defaults })
        local ok, results, stats = pcall(seedance.map, c, { R"a", R"b" }, opts)
        rmrf(dir)
        if ok then
          assert.equals(before, emu:created(), ("paid for %d, then: %s"):format(emu:created() - before,
            tostring(stats.error or (results[1].error))))
        end
      end
    end)

    it("a generate option given through __index is not shared: one task per item", function()
      local before = emu:created()
      local results, stats = seedance.map(util.client_for(emu), { R"k1", R"k2", R"k3" },
        { generate = setmetatable({}, { __index = { idempotency_key = "one-key-for-all" } }) })
      assert.equals(3, stats.done)
      assert.equals(3, emu:created() - before)
      assert.are_not.equal(results[1].task.id, results[2].task.id)
    end)
  end)

  describe("against hostile answers", function()
    it("pays once per item when submits are dropped after the task is made, one Idempotency-Key each", function()
      local demu = cleanup(emulator.start{ speed = util.SPEED, drop_rate = 0.4, fault_paths = "submit", fault_seed = 7 })
      local gw = cleanup(gateway.start{ upstream = demu.url })
      local reqs = util.requests("drop ", 16)
      local results, stats = seedance.map(util.client_for(gw, { max_retries = 10 }), reqs,
        { concurrency = 6 })
      assert.equals(16, stats.done)
      assert.equals(16, demu:created())
      local keys, bodies = {}, {}
      for _, r in ipairs(gw:requests{ method = "POST" }) do
        local k = r:header("idempotency-key")
        if bodies[k] then assert.equals(bodies[k], r.body, "one key, two bodies") end
        bodies[k] = r.body
        keys[k] = true
      end
      assert.equals(16, #util.sorted_keys(keys))
      local seen = {}
      for i = 1, 16 do
        assert.is_nil(seen[results[i].task.id]); seen[results[i].task.id] = true
      end
    end)

    it("keeps each item's own outcome when tasks fail, expire or answer garbage mid-batch; no key to media", function()
      -- (placeholders take captures of `pattern` only, not of `body_pattern`: one submit case per task;
      -- `times` keeps a case answering where a later case could answer the same request)
      local cases = {}
      for i = 1, 6 do
        cases[i] = { listener = "api", method = "POST", body_pattern = '"prompt":"h' .. i .. '"',
          json = { code = 200, data = { { status = "submitted", task_id = "task_H" .. i } } } }
      end
      for _, c in ipairs{
        { listener = "api", method = "GET", pattern = "^/v1/tasks/task_H2", times = 100, json = gateway.task_json("failed",
          { id = "task_H2", progress = 50, error = { code = 1, type = "x", message = "refused" } }) },
        { listener = "api", method = "GET", pattern = "^/v1/tasks/task_H6", times = 100, body = "<html>a proxy page</html>",
          headers = { { "Content-Type", "text/html" } } },
        { listener = "api", method = "GET", pattern = "^/v1/tasks/task_H(\\d)", json = gateway.task_json("completed",
          { id = "task_H{{1}}", url = "{{base:media}}/v{{1}}.mp4" }) },
        { listener = "media", path = "/v4.mp4", times = 100, status = 410 },
        { listener = "media", pattern = "^/v\\d\\.mp4$", bytes = 3000 },
      } do cases[#cases + 1] = c end
      local gw = cleanup(gateway.start{ listeners = { "api", "media" }, cases = cases })
      local dir = cleanup(util.tmpdir())
      local c = util.client_for(gw.urls.api, { api_key = "sk-adv-key", time_scale = 1, max_backoff = 0.02 })
      local reqs = util.requests("h", 6)
      local results, stats = seedance.map(c, reqs, { concurrency = 3, output = dir .. "/%d.mp4" })
      for _, i in ipairs{ 1, 3, 5 } do
        assert.is_nil(results[i].error, tostring(results[i].error))
        assert.equals(3000, util.size_of(results[i].path))
      end
      assert.equals("task_failed", results[2].error.type)
      assert.equals("expired", results[4].error.type)
      assert.truthy(results[6].error)
      assert.is_nil(util.size_of(dir .. "/4.mp4"))
      assert.same({ 3, 3 }, { stats.done, stats.failed })
      for _, r in ipairs(gw:requests{ listener = "media" }) do assert.is_nil(r:header("authorization")) end
      assert.equals(6, #gw:requests{ method = "POST" })
    end)
  end)

  it("finishes a 200-item batch under --rpm (the governor) with no request lost and fewer 429s than ungoverned #slow", function()
    local function batch(governed)
      local remu = cleanup(emulator.start{ speed = util.SPEED, rpm = 100, rpm_window = 1 })
      local c = util.client_for(remu, { governor = governed, max_retries = 50, backoff = 0.05, max_backoff = 1,
                                        time_scale = 1, poll_min = 0.2, poll_max = 0.5 })
      local reqs = {}
      for i = 1, 200 do reqs[i] = { model = "doubao-seedance-2.0-fast", prompt = "g" .. i } end
      local _, stats = seedance.map(c, reqs, { concurrency = 50 })
      local s = remu:stats()
      remu:stop()
      return stats, s
    end
    local gstats, gemu = batch(true)
    local ustats, uemu = batch(false)
    print(string.format("\n  429s: governed %d, ungoverned %d", gemu.rate_limited, uemu.rate_limited))
    assert.equals(200, gstats.done)
    assert.equals(200, gemu.tasks_created)
    assert.equals(200, ustats.done)
    assert.is_true(gemu.rate_limited < uemu.rate_limited)
  end)
end)
