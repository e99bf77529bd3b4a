-- An adversary against the rewritten `seedance.map` (pools of submitters, pollers and
-- downloaders over a heap of waiters): money, paid videos, hangs, order and progress.
-- A spec marked `-- FOUND:` failed on the code it was written against (a real problem,
-- left for the lead to fix); the others document attacks the library survived.
-- spec/adversary_map_more_spec.lua: the body, the scheduler's pauses, the governor, handles.
--
-- A map that may raise from inside its pools, or hang, runs in a child process under
-- `timeout`: what a raising pool leaves in the scheduler would hang this process's later specs.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local process = require("helpers.process")
local util = require("helpers.util")

local q = process.quote
local function rmrf(dir) os.execute("rm -rf " .. q(dir)) end
local function R(p, d) return { model = "doubao-seedance-2.0", prompt = p, duration = d } end
local PNG = "\137PNG\r\n\26\n" .. string.rep("\0", 64)

-- The child's first lines: a client `c` for $URL (the emulator at util.SPEED), `R(prompt)`, and
-- quiet spawned-coroutine errors (what a pool raises is the finding, not log noise).
local PRELUDE = [[
local seedance = require("seedance")
local c = seedance.new{ api_key = "sk-adv", base_url = os.getenv("URL"), time_scale = 1 / 200,
                        backoff = 0.01, max_backoff = 0.05 }
local function R(p) return { model = "doubao-seedance-2.0", prompt = p } end
require("seedance.scheduler").set_error_handler(function() end)
]]

-- Run PRELUDE .. code in a child with URL = url, killed after `limit` seconds: ok, output, exit code.
local function child(url, code, limit)
  return util.run(("URL=%s timeout -s KILL %d env LUA_PATH=%s LUA_CPATH=%s %s -e %s"):format(q(url), limit or 20,
    q(package.path), q(package.cpath), util.LUA, q(PRELUDE .. code)))
end

describe("adversary map: money and hangs", function()
  local emu
  setup(function() emu = emulator.start{ speed = util.SPEED } end)
  teardown(function() emu:stop() end)
  local function created() return emu:stats().tasks_created end

  -- FOUND: a list with a hole ({ r1, nil, r3 }: # is 3, ipairs stops at 1) passes check_requests
  -- (pipeline.lua:105, ipairs); the pools pay for r1 and for r3 (whose output was never checked),
  -- then map raises "bad argument #1 to 'generate'" from inside a pool: the handles of both paid tasks
  -- are lost. A hole should be a caller mistake raised before anything is paid.
  it("pays for nothing when the request list has a hole", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local ok, err = pcall(seedance.map, c, { R"a", nil, R"c" }, { concurrency = 3 })
      io.write(ok and "returned" or "raised")]])
    assert.is_true(ok, out)
    assert.equals(before, created(), "paid for the items around the hole, then: " .. out)
  end)

  -- FOUND: closing the client from a callback mid-map: the next submit raises "attempt to use a closed
  -- client" inside a submitter (pipeline.lua:224), map re-raises it from its join (pipeline.lua:292),
  -- and the tasks already paid for never reach the caller; four coroutines stay parked in the scheduler.
  -- Items not started should end with an error, and every paid task come back in the results.
  it("returns every paid task when the client is closed mid-map", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local reqs = {}
      for i = 1, 6 do reqs[i] = R("x" .. i) end
      local ok, results = pcall(seedance.map, c, reqs, { concurrency = 2,
        on_progress = function(s) if s.done >= 1 then c:close() end end })
      if not ok then io.write("raised: ", tostring(results):match("[^\n]*")) return end
      local n = 0
      for _, r in ipairs(results) do if r.task then n = n + 1 end end
      io.write("handles=", n)]])
    assert.is_true(ok, out)
    local paid = created() - before
    assert.equals("handles=" .. paid, out)
  end)

  -- FOUND: map never checks its own options: a NaN (or string) timeout reaches generate inside every
  -- submitter, which raises there (pipeline.lua:224); map re-raises, blaming 'generate', and leaves its
  -- pollers and downloaders parked for ever, so every later seedance.run in the process never returns.
  it("a map given a bad timeout raises before starting anything, and seedance.run still works after", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local ok, err = pcall(seedance.map, c, { R"a", R"b" }, { timeout = 0 / 0 })
      io.write(ok and "returned" or ("raised: " .. tostring(err):match("[^\n]*")), "\n")
      seedance.run(function() end)
      io.write("run returned")]], 10)
    assert.is_true(ok, "seedance.run never returned after the map raised: " .. out)
    assert.equals(before, created())
    assert.truthy(out:find("'map'", 1, true), "the error blames another function: " .. out)
  end)

  -- FOUND: an output path holding a NUL byte passes every check (the C side reads it up to the NUL),
  -- both tasks are paid, then the download raises inside a downloader ("field 'output' must not contain
  -- NUL", download.lua:201 via scheduler.transfer), the item never finishes, and map hangs for ever.
  it("refuses an output path holding a NUL byte before paying, and never hangs", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local before = created()
    local ok, out = child(emu.url, ([[
      local ok = pcall(seedance.map, c, { R"a", R"b" }, { output = function(i) return %q .. "\0" .. i end })
      io.write(ok and "returned" or "raised")]]):format(dir .. "/v.mp4"))
    assert.is_true(ok, "map hung after paying: " .. out)
    assert.equals(before, created())
  end)

  -- FOUND: an output that is another item's download companion ("v.mp4.part" beside "v.mp4") passes
  -- the checks (preflight compares only whole outputs); item 2's download streams to v.mp4.part,
  -- over item 1's finished video, and renames it away: both items say done, item 1's video is gone.
  it("never lets one item's download run over another item's output (.part)", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local before = created()
    local outs = { dir .. "/v.mp4.part", dir .. "/v.mp4" }
    local results = seedance.map(util.client_for(emu), { R("a", 4), R("b", 10) },
      { concurrency = 1, output = function(i) return outs[i] end })
    if created() == before then return end -- refused before paying: fine
    for i = 1, 2 do
      if results[i].path then
        assert.is_true(util.is_mp4(results[i].path), "item " .. i .. " says done, its file is gone: " .. outs[i])
      end
    end
    assert.are_not.equal(util.size_of(outs[1]), util.size_of(outs[2]))
  end)

  -- FOUND: an output naming the client's own journal passes map's checks (the command refuses it):
  -- the video replaces the journal, the next records are appended to the video (a paid video with
  -- JSON lines at its end), and a re-run cannot open the journal at all, so it re-attaches to nothing.
  it("refuses an output that names the client's journal", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local c = util.client_for(emu, { journal = dir .. "/run.journal" })
    finally(function() c:close() end)
    local before = created()
    local outs = { dir .. "/run.journal", dir .. "/b.mp4" }
    seedance.map(c, { R("a", 4), R("b", 10) }, { concurrency = 1, output = function(i) return outs[i] end })
    c:close()
    local reopened = pcall(seedance.new, { api_key = "sk-x", base_url = emu.url, journal = dir .. "/run.journal" })
    assert.is_true(reopened, "the journal no longer opens: its records are lost")
    assert.equals(before, created(), "paid with an output over the journal")
  end)

  -- FOUND: an output naming a local image a request of the batch reads passes map's checks (the
  -- command compares outputs with its inputs by identity): item 1's video replaces item 2's input image.
  it("refuses an output that names a local image of the batch", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    process.write(dir .. "/in.png", PNG)
    local reqs = { R("a", 4), { model = "doubao-seedance-2.0", prompt = "b", image_urls = { seedance.file(dir .. "/in.png") } } }
    local before = created()
    seedance.map(util.client_for(emu), reqs, { concurrency = 1,
      output = function(i) return i == 1 and dir .. "/./in.png" or dir .. "/b.mp4" end })
    assert.equals(PNG, util.read_file(dir .. "/in.png"), "the input image was overwritten by a video")
    assert.equals(before, created())
  end)

  -- FOUND: a local image path holding a NUL byte passes check_inputs (stat and io.open read up to the
  -- NUL), generate takes a max_in_flight slot, then the upload raises in the engine ("field 'path' must
  -- not contain NUL", client.lua:171 via upload): generate raises into the host and the slot is never
  -- given back, so with max_in_flight = 1 every later generate times out waiting for it.
  it("refuses a seedance.file path holding a NUL byte before paying, and keeps no slot", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    process.write(dir .. "/in.png", PNG)
    local c = util.client_for(emu, { max_in_flight = 1 })
    local ok, t, err = pcall(c.generate, c, { model = "doubao-seedance-2.0", prompt = "p",
      image_urls = { seedance.file(dir .. "/in.png\0trailing") } })
    assert.is_true(ok, "generate raised into the host: " .. tostring(t))
    assert.is_nil(t)
    assert.truthy(err)
    assert(c:generate(R"after", { timeout = 5 }), "the slot was kept")
  end)

  -- FOUND: a wrong-typed on_progress (a string) is not checked: items are paid for, then the first
  -- report fails ("attempt to call a string value") and ends the batch with a callback_error; the
  -- caller's fix and re-run pays for them again. Wrong types should be refused before paying.
  it("refuses a wrong-typed callback before paying", function()
    local before = created()
    local ok = pcall(seedance.map, util.client_for(emu), { R"a", R"b" }, { on_progress = "print" })
    assert.equals(before, created(), "paid, then " .. (ok and "returned a callback_error" or "raised"))
  end)

  -- FOUND: concurrency = 2.5 makes two submitters (for _ = 1, 2.5) but lets a third item start
  -- (in_flight >= 2.5 is false at 2): three items in flight. A fraction should be refused or floored.
  it("never has more items in flight than concurrency (2.5)", function()
    local peak = 0
    local reqs = {}
    for i = 1, 8 do reqs[i] = R("c" .. i) end
    local ok = pcall(seedance.map, util.client_for(emu), reqs, { concurrency = 2.5,
      on_progress = function(s) if s.running > peak then peak = s.running end end })
    if not ok then return end -- refused as a caller mistake: fine
    assert.is_true(peak <= 2, "items in flight: " .. peak)
  end)

  -- FOUND: a request naming a seedance.file image is validated at once but written (by lua-cjson,
  -- request.encode) only after its max_in_flight slot comes free (client.lua:152): a callback that
  -- changes it meanwhile sends a request the validator never saw (here duration 99, which the
  -- emulator refuses; a service that took it would charge for it).
  it("never sends a request changed after it was validated (a seedance.file request waiting for a slot)", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    process.write(dir .. "/in.png", PNG)
    local reqs = { R"first" }
    reqs[2] = { model = "doubao-seedance-2.0", prompt = "second", image_urls = { seedance.file(dir .. "/in.png") } }
    local refused = emu:stats().validation_errors
    local changed = false
    seedance.map(util.client_for(emu, { max_in_flight = 1 }), reqs, { concurrency = 2,
      on_progress = function() if not changed then changed = true; reqs[2].duration = 99 end end })
    assert.is_true(changed)
    assert.equals(refused, emu:stats().validation_errors, "sent a request that was never validated")
  end)

  it("pays once per item and keeps order over a 1,500-item batch at concurrency 300", function()
    local before = created()
    local reqs = {}
    for i = 1, 1500 do reqs[i] = { model = "doubao-seedance-2.0-fast", prompt = "n" .. i } end
    local calls, last = 0, nil
    local results, stats = seedance.map(util.client_for(emu, { time_scale = 1 / 2000 }), reqs, {
      concurrency = 300, on_progress = function(s) calls = calls + 1; last = s.percent end })
    assert.equals(1500, created() - before)
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

  it("returns at once from an empty batch, sending nothing", function()
    local requests = emu:stats().requests
    local results, stats = seedance.map(util.client_for(emu), {}, { output = "/nonexistent/%d.mp4" })
    assert.same({}, results)
    assert.same({ 0, 0, 0 }, { stats.total, stats.done, stats.failed })
    assert.equals(requests, emu:stats().requests)
  end)

  it("pays for nothing when one output of a 50-item batch cannot be written (the 50th)", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local before = created()
    local reqs = {}
    for i = 1, 50 do reqs[i] = R("o" .. i) end
    local results, stats = seedance.map(util.client_for(emu), reqs, { concurrency = 16,
      output = function(i) return i == 50 and dir .. "/missing/50.mp4" or dir .. "/" .. i .. ".mp4" end })
    assert.equals(before, created())
    assert.equals("io_error", results[50].error.type)
    assert.equals("skipped", results[1].error.type)
    assert.same({ 0, 1, 49 }, { stats.done, stats.failed, stats.skipped })
  end)

  it("refuses one output spelled three ways (./, //, a linked folder) before paying", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    assert(os.execute("mkdir " .. q(dir .. "/out") .. " && ln -s out " .. q(dir .. "/link")))
    local spell = { dir .. "/out/v.mp4", dir .. "/out/./v.mp4", dir .. "//out//v.mp4", dir .. "/link/v.mp4" }
    for k = 2, #spell do
      local before = created()
      local results = seedance.map(util.client_for(emu), { R"a", R"b" },
        { output = function(i) return spell[i == 1 and 1 or k] end })
      assert.equals(before, created(), spell[k])
      assert.truthy(results[2].error)
    end
  end)

  it("stops submitting after a task fails mid-batch with fail_fast", function()
    local femu = emulator.start{ speed = util.SPEED, fail_rate = 1 }
    finally(function() femu:stop() end)
    local reqs = {}
    for i = 1, 6 do reqs[i] = R("f" .. i) end
    local results, stats = seedance.map(util.client_for(femu), reqs, { concurrency = 1, fail_fast = true })
    assert.equals(1, femu:stats().tasks_created)
    assert.equals("task_failed", results[1].error.type)
    assert.same({ 1, 5 }, { stats.failed, stats.skipped })
  end)

  it("ends the batch when on_progress raises: no submit after it, a callback_error in stats", function()
    local before = created()
    local reqs = {}
    for i = 1, 10 do reqs[i] = R("p" .. i) end
    local started
    local results, stats = seedance.map(util.client_for(emu), reqs, { concurrency = 2,
      on_progress = function(s) started = s.done + s.failed + s.running; error({ "a table" }) end })
    assert.equals("callback_error", stats.error.type)
    assert.equals(started, created() - before)
    assert.equals("skipped", results[10].error.type)
  end)

  it("runs to the end from a frame loop that only calls step(0), downloads included, order kept", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local c = util.client_for(emu)
    local reqs = {}
    for i = 1, 12 do reqs[i] = R("frame " .. i, 4 + i % 3) end
    local results, stats
    seedance.spawn(function()
      results, stats = seedance.map(c, reqs, { concurrency = 5, output = dir .. "/%02d.mp4" })
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
    local before = created()
    local a, b = {}, {}
    for i = 1, 7 do a[i] = R("A" .. i); b[i] = R("B" .. i) end
    local ra, rb = seedance.run(function()
      local h1 = seedance.spawn(seedance.map, c, a, { concurrency = 4 })
      local h2 = seedance.spawn(seedance.map, c, b, { concurrency = 4 })
      return h1:wait(), h2:wait()
    end)
    assert.equals(14, created() - before)
    for i = 1, 7 do
      assert.equals("A" .. i, ra[i].task.request.prompt)
      assert.equals("B" .. i, rb[i].task.request.prompt)
    end
  end)
end)

describe("adversary map: hostile answers", function()
  it("pays once per item when submits are dropped after the task is made, one Idempotency-Key each", function()
    local emu = emulator.start{ speed = util.SPEED, drop_rate = 0.4, fault_paths = "submit", fault_seed = 7 }
    finally(function() emu:stop() end)
    local gw = gateway.start{ upstream = emu.url }
    finally(function() gw:stop() end)
    local reqs = {}
    for i = 1, 16 do reqs[i] = R("drop " .. i) end
    local results, stats = seedance.map(util.client_for(emu, { base_url = gw.url, max_retries = 10 }), reqs,
      { concurrency = 6 })
    assert.equals(16, stats.done)
    assert.equals(16, emu:stats().tasks_created)
    local keys, bodies = {}, {}
    for _, r in ipairs(gw:requests{ method = "POST" }) do
      local k = r:header("idempotency-key")
      if bodies[k] then assert.equals(bodies[k], r.body, "one key, two bodies") end
      bodies[k] = r.body
      keys[k] = true
    end
    local n = 0
    for _ in pairs(keys) do n = n + 1 end
    assert.equals(16, n)
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
      { listener = "api", method = "GET", pattern = "^/v1/tasks/task_H2", times = 100, json = { code = 200, data = {
        id = "task_H2", status = "failed", progress = 50, error = { code = 1, type = "x", message = "refused" } } } },
      { listener = "api", method = "GET", pattern = "^/v1/tasks/task_H6", times = 100, body = "<html>a proxy page</html>",
        headers = { { "Content-Type", "text/html" } } },
      { listener = "api", method = "GET", pattern = "^/v1/tasks/task_H(\\d)", json = { code = 200, data = {
        id = "task_H{{1}}", status = "completed", progress = 100,
        result = { videos = { { url = "{{base:media}}/v{{1}}.mp4", expires_at = os.time() + 3600 } } } } } },
      { listener = "media", path = "/v4.mp4", times = 100, status = 410 },
      { listener = "media", pattern = "^/v\\d\\.mp4$", bytes = 3000 },
    } do cases[#cases + 1] = c end
    local gw = gateway.start{ listeners = { "api", "media" }, cases = cases }
    finally(function() gw:stop() end)
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local c = seedance.new{ api_key = "sk-adv-key", base_url = gw.urls.api, backoff = 0.01, max_backoff = 0.02 }
    local reqs = {}
    for i = 1, 6 do reqs[i] = R("h" .. i) end
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
