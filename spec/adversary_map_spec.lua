-- An adversary against the rewritten `seedance.map` (pools of submitters, pollers and
-- downloaders over a heap of waiters): money, paid videos, hangs, order and progress.
-- A spec marked `-- FOUND` failed on the code it was written against (a real problem; each
-- says how it was fixed, as a kind, and mutants/ holds a patch that removes each fix and that
-- these specs catch); the others document attacks the library survived.
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
local rmrf = process.remove_dir
local function R(p, d) return { model = "doubao-seedance-2.0", prompt = p, duration = d } end
local PNG = "\137PNG\r\n\26\n" .. string.rep("\0", 64)

local child = require("helpers.child").run

describe("adversary map: money and hangs", function()
  local emu
  setup(function() emu = emulator.start{ speed = util.SPEED } end)
  teardown(function() emu:stop() end)
  local function created() return emu:stats().tasks_created end

  -- FOUND (fixed): a list with a hole ({ r1, nil, r3 }: # is 3, ipairs stops at 1) passed check_requests
  -- (ipairs); the pools paid for r1 and for r3 (whose output was never checked), then map raised
  -- "bad argument #1 to 'generate'" from inside a pool: the handles of both paid tasks were lost.
  -- Fixed: map and chain take a list whose every key is one of 1 to # and every one of those a table
  -- (preflight.requests), whichever border # gives; anything else raises before anything starts.
  it("pays for nothing when the request list has a hole #m-map-list-no-holes", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local short = { R"a" }
      short[3] = R"c" -- in the hash part: # is 1
      for _, list in ipairs{ { R"a", nil, R"c" }, short, { R"a", R"b", name = "x" } } do
        for _, f in ipairs{ seedance.map, seedance.chain } do
          local ok, err = pcall(f, c, list, {})
          io.write(ok and "returned " or tostring(err):match("bad argument #2 to '%a+'") or tostring(err), "\n")
        end
      end]])
    assert.is_true(ok, out)
    assert.equals(before, created(), "paid for the items around the hole, then: " .. out)
    assert.equals(("bad argument #2 to 'map'\nbad argument #2 to 'chain'\n"):rep(3), out)
  end)

  -- FOUND (fixed): closing the client from a callback mid-map: the next submit raised "attempt to use a
  -- closed client" inside a submitter, map re-raised it from its join, and the tasks already paid for
  -- never reached the caller; four coroutines stayed parked in the scheduler.
  -- Fixed: a submitter stops at a closed client (the batch ends `aborted`, items never submitted are
  -- `skipped`), a submit that waited for a slot meanwhile pays for nothing, and every call a pool makes
  -- goes through scheduler.protect: what it raises is its item's error (see the specs below).
  it("returns every paid task when the client is closed mid-map #m-map-closed-client-stops", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local reqs = {}
      for i = 1, 6 do reqs[i] = R("x" .. i) end
      local ok, results, stats = pcall(seedance.map, c, reqs, { concurrency = 2,
        on_progress = function(s) if s.done >= 1 then c:close() end end })
      if not ok then io.write("raised: ", tostring(results):match("[^\n]*")) return end
      local n = 0
      for _, r in ipairs(results) do
        if r.task then n = n + 1
        elseif r.error.type ~= "skipped" then io.write("not started, yet ", r.error.type, ": ", r.error.message, "\n") end
      end
      io.write(stats.error.type, " ", stats.error.message, "; handles=", n, "; ")
      seedance.run(function() end)
      io.write("run returned")]])
    assert.is_true(ok, out)
    local paid = created() - before
    assert.equals(("aborted the client was closed; handles=%d; run returned"):format(paid), out)
  end)

  it("pays for nothing when the client is closed while a submit waits for its max_in_flight slot #m-submit-closed-while-waiting", function()
    local c = util.client_for(emu, { max_in_flight = 1 })
    local before = created()
    local second, err
    seedance.run(function()
      local first = assert(c:generate(R("holds the slot", 4)))
      local h = seedance.spawn(function() return c:generate(R"waits for the slot") end)
      seedance.sleep(0.05)
      c:close()
      assert(first:wait())
      second, err = h:wait()
    end)
    assert.is_nil(second)
    assert.equals("aborted", err.type)
    assert.equals(1, created() - before)
  end)

  it("makes what a pool's call raises its item's error, and ends the batch; no coroutine parked #m-map-pool-call-protected", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local calls = 0
      c.generate = function(self, ...) -- a fault injected into the client: the second submit raises
        calls = calls + 1
        if calls == 2 then error("injected fault") end
        return getmetatable(self).__index.generate(self, ...)
      end
      local results, stats = seedance.map(c, { R"a", R"b", R"c", R"d" }, { concurrency = 1 })
      io.write(results[1].error and "1 failed; " or "1 done; ", results[2].error.type, " ",
        results[2].error.message:match("[^\n]*"), "; ", results[3].error.type, "; ", stats.error.type, "; ")
      seedance.run(function() end)
      io.write("run returned")]])
    assert.is_true(ok, out)
    assert.matches("^1 done; aborted generate raised: [^;]*injected fault; skipped; aborted; run returned$", out)
    assert.equals(1, created() - before)
  end)

  it("ends the batch when a pool itself raises, every paid task in its item; no coroutine parked #m-map-pool-raise-ends-batch", function()
    local before = created()
    local ok, out = child(emu.url, [[
      -- a fault injected into map's own pollers (a bug of map, say): heap.pop raises when map calls it
      local heap = require("seedance.heap")
      local pop = heap.pop
      heap.pop = function(h)
        if debug.getinfo(2, "S").source:find("pipeline", 1, true) then error("injected bug") end
        return pop(h)
      end
      local results, stats = seedance.map(c, { R"a", R"b", R"c" }, { concurrency = 2 })
      local n = 0
      for _, r in ipairs(results) do if r.task then n = n + 1 end end
      io.write(stats.error.type, " ", stats.error.message:match("[^\n]*"), "; handles=", n, "; ")
      seedance.run(function() end)
      io.write("run returned")]], { limit = 30 })
    assert.is_true(ok, out)
    assert.matches("^aborted map raised: [^;]*injected bug; handles=(%d+); run returned$", out)
    assert.equals(created() - before, tonumber(out:match("handles=(%d+)")))
  end)

  -- FOUND (fixed): map never checked its own options: a NaN (or string) timeout reached generate inside
  -- every submitter, which raised there; map re-raised, blaming 'generate', and left its pollers and
  -- downloaders parked for ever, so every later seedance.run in the process never returned.
  -- Fixed: map and chain check every option (names, types, ranges) before anything starts
  -- (preflight.options), blaming 'map' or 'chain'; and a raise inside a pool no longer parks the others.
  it("a map given a bad timeout raises before starting anything, and seedance.run still works after #m-map-options-checked", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local ok, err = pcall(seedance.map, c, { R"a", R"b" }, { timeout = 0 / 0 })
      io.write(ok and "returned" or ("raised: " .. tostring(err):match("[^\n]*")), "\n")
      seedance.run(function() end)
      io.write("run returned")]], { limit = 10 })
    assert.is_true(ok, "seedance.run never returned after the map raised: " .. out)
    assert.equals(before, created())
    assert.truthy(out:find("'map'", 1, true), "the error blames another function: " .. out)
  end)

  it("refuses every ill-typed option of map and chain, blaming them, before anything is paid #m-map-options-checked", function()
    local c = util.client_for(emu)
    local before = created()
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
    assert.equals(before, created())
  end)

  -- FOUND (fixed): an output path holding a NUL byte passed every check (the C side read it up to the
  -- NUL), both tasks were paid, then the download raised inside a downloader ("field 'output' must not
  -- contain NUL", via scheduler.transfer), the item never finished, and map hung for ever.
  -- Fixed as a kind with the next one (see below): the output checks before paying refuse such a path.
  it("refuses an output path holding a NUL byte before paying, and never hangs #m-paths-nul-refused", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local before = created()
    local ok, out = child(emu.url, ([[
      local results = seedance.map(c, { R"a", R"b" }, { output = function(i) return %q .. "\0" .. i end })
      io.write(results[1].error.type, " ", results[1].error.message:match("NUL") or results[1].error.message)]])
      :format(dir .. "/v.mp4"))
    assert.is_true(ok, "map hung after paying: " .. out)
    assert.equals("io_error NUL", out)
    assert.equals(before, created())
  end)

  it("never lets a string holding a NUL byte reach C cut short: core, options, paths #m-core-strings-nul #m-options-nul-refused", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local p = dir .. "/f\0.x"
    for _, call in ipairs{
      { "stat", p }, { "file_id", p }, { "read_file", p, 10 }, { "probe_dir", p }, { "append_sync", p, "x" },
      { "remove", p }, { "replace", p, dir .. "/g" }, { "replace", dir .. "/g", p }, { "lock", p }, { "file", p },
    } do
      local ok, err = pcall(core[call[1]], call[2], call[3])
      assert.is_false(ok, call[1])
      assert.matches("must not contain NUL bytes", err, nil, true)
    end
    for _, opt in ipairs{ "journal", "ca_file", "proxy", "user_agent", "base_url" } do
      local ok, err = pcall(seedance.new, { api_key = "sk-x", base_url = emu.url, [opt] = "http://127.0.0.1/\0x" })
      assert.is_false(ok, opt)
      assert.matches("bad argument #1 to 'new' (option '" .. opt .. "' must not contain NUL bytes)", err, nil, true)
    end
    local c = util.client_for(emu)
    local ok, err = pcall(c.upload_image, c, p)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'upload_image' (path must not contain NUL bytes)", err, nil, true)
    local task = c:task("task_nul")
    ok, err = pcall(task.download, task, p)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'download' (path must not contain NUL bytes)", err, nil, true)
    assert.is_nil(util.size_of(dir .. "/f"))
  end)

  -- FOUND (fixed): an output that is another item's download companion ("v.mp4.part" beside "v.mp4")
  -- passed the checks (preflight compared only whole outputs); item 2's download streamed to v.mp4.part,
  -- over item 1's finished video, and renamed it away: both items said done, item 1's video was gone.
  -- Fixed with the next two as one kind: the command's check of the files a run touches moved to the
  -- library (seedance.paths) and map and chain use it (preflight.items): every output with the download's
  -- companions, every image a request reads and the client's journal, compared by identity.
  it("never lets one item's download run over another item's output (.part) #m-map-output-companions", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local before = created()
    local outs = { dir .. "/v.mp4.part", dir .. "/v.mp4" }
    local results = seedance.map(util.client_for(emu), { R("a", 4), R("b", 10) },
      { concurrency = 1, output = function(i) return outs[i] end })
    assert.equals(before, created())
    assert.equals("skipped", results[1].error.type)
    assert.equals("io_error", results[2].error.type)
    assert.matches("item 1's output [^\n]*v%.mp4%.part and item 2's output [^\n]*v%.mp4 %(its file [^\n]*v%.mp4%.part%) "
      .. "name the same file", results[2].error.message)
    -- the other way round, and a chain's clips alike
    results = seedance.map(util.client_for(emu), { R"a", R"b" }, { output = function(i) return outs[3 - i] end })
    assert.equals("io_error", results[2].error.type)
    local clips, err = seedance.chain(util.client_for(emu), { R"a", R"b" }, { output = function(i) return outs[i] end })
    assert.same({}, clips)
    assert.matches("name the same file", err.message)
    assert.equals(before, created())
  end)

  -- FOUND (fixed): an output naming the client's own journal passed map's checks (the command refused
  -- it): the video replaced the journal, the next records were appended to the video (a paid video with
  -- JSON lines at its end), and a re-run could not open the journal at all, so it re-attached to nothing.
  -- Fixed with the one above (the journal is a file the batch keeps, in seedance.paths' terms).
  it("refuses an output that names the client's journal #m-map-journal-kept", function()
    local dir = util.tmpdir()
    local c = util.client_for(emu, { journal = dir .. "/run.journal" })
    finally(function() c:close(); rmrf(dir) end) -- (busted runs one finally per test: the last given)
    local before = created()
    local outs = { dir .. "/run.journal", dir .. "/b.mp4" }
    seedance.map(c, { R("a", 4), R("b", 10) }, { concurrency = 1, output = function(i) return outs[i] end })
    c:close()
    local reopened, again = pcall(seedance.new, { api_key = "sk-x", base_url = emu.url, journal = dir .. "/run.journal" })
    assert.is_true(reopened, "the journal no longer opens: its records are lost")
    assert.equals(before, created(), "paid with an output over the journal")
    again:close()
    c = util.client_for(emu, { journal = dir .. "/run.journal" })
    local results = seedance.map(c, { R"a" }, { output = dir .. "//./run.journal" })
    assert.matches("the client's journal [^\n]* name the same file", results[1].error.message)
  end)

  -- FOUND (fixed): an output naming a local image a request of the batch reads passed map's checks (the
  -- command compared outputs with its inputs by identity): item 1's video replaced item 2's input image.
  -- Fixed with the two above.
  it("refuses an output that names a local image of the batch #m-map-images-kept", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    process.write(dir .. "/in.png", PNG)
    local reqs = { R("a", 4), { model = "doubao-seedance-2.0", prompt = "b", image_urls = { seedance.file(dir .. "/in.png") } } }
    local before = created()
    seedance.map(util.client_for(emu), reqs, { concurrency = 1,
      output = function(i) return i == 1 and dir .. "/./in.png" or dir .. "/b.mp4" end })
    assert.equals(PNG, util.read_file(dir .. "/in.png"), "the input image was overwritten by a video")
    assert.equals(before, created())
    -- a hard link to the image, and an image that is another item's partial download, alike
    assert(os.execute("ln " .. q(dir .. "/in.png") .. " " .. q(dir .. "/hard.mp4")))
    for _, out in ipairs{ dir .. "/hard.mp4", dir .. "/in" } do
      reqs[2].image_urls[1] = seedance.file(out == dir .. "/in" and dir .. "/in.part" or dir .. "/in.png")
      if out == dir .. "/in" then process.write(dir .. "/in.part", PNG) end
      local results = seedance.map(util.client_for(emu), reqs, { output = function(i) return i == 1 and out or dir .. "/b.mp4" end })
      assert.matches("name the same file", results[2].error.message)
    end
    assert.equals(before, created())
  end)

  -- FOUND (fixed): a local image path holding a NUL byte passed check_inputs (stat and io.open read up to the
  -- NUL), generate took a max_in_flight slot, then the upload raised in the engine ("field 'path' must
  -- not contain NUL", client.lua:171 via upload): generate raised into the host and the slot was never
  -- given back, so with max_in_flight = 1 every later generate timed out waiting for it.
  -- Fixed as a kind: no Lua string becomes a C string cut at a NUL. seedance.file (where a path enters)
  -- raises; the core's file calls refuse such strings (src/compat.h sd_checkcstring); the checks before
  -- paying (files.path_problem) make a marker whose path was changed afterwards an io_error of generate,
  -- returned before any slot is taken.
  it("refuses a seedance.file path holding a NUL byte before paying, and keeps no slot #m-paths-nul-refused", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    process.write(dir .. "/in.png", PNG)
    local c = util.client_for(emu, { max_in_flight = 1 })
    assert.has_error(function() seedance.file(dir .. "/in.png\0trailing") end,
      "bad argument #1 to 'file' (path must not contain NUL bytes)")
    local marker = seedance.file(dir .. "/in.png")
    marker.path = dir .. "/in.png\0trailing"
    local before = created()
    local ok, t, err = pcall(c.generate, c, { model = "doubao-seedance-2.0", prompt = "p",
      image_urls = { marker } })
    assert.is_true(ok, "generate raised into the host: " .. tostring(t))
    assert.is_nil(t)
    assert.equals("io_error", err.type)
    assert.matches("NUL", err.message)
    assert.equals(before, created())
    assert(c:generate(R"after", { timeout = 5 }), "the slot was kept")
  end)

  -- FOUND (fixed): a wrong-typed on_progress (a string) was not checked: items were paid for, then the
  -- first report failed ("attempt to call a string value") and ended the batch with a callback_error; the
  -- caller's fix and re-run paid for them again. Fixed: every option's type is checked before anything
  -- starts (preflight.options; see "refuses every ill-typed option" above).
  it("refuses a wrong-typed callback before paying #m-map-callbacks-typed", function()
    local before = created()
    local ok, err = pcall(seedance.map, util.client_for(emu), { R"a", R"b" }, { on_progress = "print" })
    assert.equals(before, created(), "paid, then " .. (ok and "returned a callback_error" or "raised"))
    assert.matches("bad argument #3 to 'map' (option 'on_progress' must be a function, got string)", err, nil, true)
  end)

  -- FOUND (fixed): concurrency = 2.5 made two submitters (for _ = 1, 2.5) but let a third item start
  -- (in_flight >= 2.5 is false at 2): three items in flight. Fixed: concurrency must be a whole number
  -- of at least 1 (fractions, NaN and infinity are caller mistakes), as the client's integer options are.
  it("never has more items in flight than concurrency (2.5) #m-map-concurrency-whole", function()
    local peak = 0
    local reqs = {}
    for i = 1, 8 do reqs[i] = R("c" .. i) end
    for _, bad in ipairs{ 2.5, 0 / 0, -1 } do
      local ok, err = pcall(seedance.map, util.client_for(emu), reqs, { concurrency = bad,
        on_progress = function(s) if s.running > peak then peak = s.running end end })
      assert.is_false(ok, "took concurrency " .. tostring(bad) .. ", items in flight: " .. peak)
      assert.matches("bad argument #3 to 'map' (option 'concurrency' must be a whole number of at least 1",
        err, nil, true)
    end
    assert.equals(0, peak)
  end)

  -- FOUND (fixed): a request naming a seedance.file image was validated at once but written (by lua-cjson,
  -- request.encode) only after its max_in_flight slot came free: a callback that changed it meanwhile
  -- sent a request the validator never saw (here duration 99, which the emulator refuses; a service that
  -- took it would charge for it). Fixed: generate copies such a request at the call (request.copy) and
  -- checks, hashes and sends the copy; the caller's table is the task's `request` still.
  it("never sends a request changed after it was validated (a seedance.file request waiting for a slot) #m-generate-sends-what-it-checked", function()
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
    -- a marker changed meanwhile (its path) is not read either
    local marker = seedance.file(dir .. "/in.png")
    local c = util.client_for(emu, { max_in_flight = 1 })
    local uploads = emu:stats().uploads
    seedance.run(function()
      local first = assert(c:generate(R"first"))
      local h = seedance.spawn(c.generate, c, { model = "doubao-seedance-2.0", prompt = "m", image_urls = { marker } })
      seedance.sleep(0.02)
      marker.path = dir .. "/missing.png"
      assert(first:wait())
      assert(h:wait())
    end)
    assert.equals(uploads + 1, emu:stats().uploads)
  end)

  it("pays once per item and keeps order over a 1,500-item batch at concurrency 300", function()
    local before = created()
    local reqs = {}
    for i = 1, 1500 do reqs[i] = { model = "doubao-seedance-2.0-fast", prompt = "n" .. i } end
    local calls, last = 0, nil
    -- wait_timeout in service seconds: 1e6 of them, not 600 (0.3 s of wall time at this clock)
    local results, stats = seedance.map(util.client_for(emu, { time_scale = 1 / 2000, wait_timeout = 1e6 }), reqs, {
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
    local gw = gateway.start{ upstream = emu.url }
    finally(function() gw:stop(); emu:stop() end)
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
    local dir = util.tmpdir()
    finally(function() gw:stop(); rmrf(dir) end)
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
