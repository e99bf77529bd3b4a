-- Round 4 adversary: fresh attacks on the fixes of spec/adversary_map_spec.lua (preflight of map and
-- chain, seedance.paths, scheduler.protect, NUL checks, request copies), as a new user would meet them.
-- A spec marked `-- FOUND` failed on the code it was written against (a real problem; each says how it
-- was fixed, and mutants/ holds a mutation that removes the fix);
-- the others are attacks the library survived.
-- Run under Lua 5.1 too: make build-lua5.1, then
--   SEEDANCE_SPEC_LUA=lua5.1 LUA_CPATH="$PWD/build/lua5.1/?.so;;" lua5.1 /usr/bin/busted --lua=lua5.1 \
--     spec/adversary_round4_spec.lua
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local process = require("helpers.process")
local util = require("helpers.util")

local q = process.quote
local rmrf = process.remove_dir
local function R(p, d) return { model = "doubao-seedance-2.0", prompt = p, duration = d } end
local PNG = "\137PNG\r\n\26\n" .. string.rep("\0", 64)

local child = require("helpers.child").run

describe("adversary round 4: chain keeps what it paid for", function()
  local emu
  setup(function() emu = emulator.start{ speed = util.SPEED } end)
  teardown(function() emu:stop() end)
  local function created() return emu:stats().tasks_created end

  -- FOUND: chain drops the task of the clip whose wait or download fails. run_one (pipeline.lua) returns
  -- { task = task, error = err }, but M.chain does `if item.error then return clips, item.error end`,
  -- so the item (and its task) never reaches `clips`; a callback_error carries no task_id either
  -- (errors.callback). Here clip 2's on_progress raises: clip 2 is paid for (and goes on rendering on the
  -- service), yet the caller holds neither its handle nor its id. README promises "A raise inside the
  -- batch (a callback, a closed client) ends it with every paid task in its item" for map and chain.
  -- Fixed: a chain stopped at a paid clip names its task in the error (task_id); mutants/chain-error-names-task.
  it("returns the paid task of a clip whose on_progress raises #m-chain-error-names-task", function()
    local before = created()
    local clips, err = seedance.chain(util.client_for(emu), { R"a", R"b", R"c" },
      { on_progress = function(i) if i == 2 then error("a bug in the caller's progress bar") end end })
    assert.equals(2, created() - before)
    assert.equals("callback_error", err.type)
    assert.equals(1, #clips)
    assert.truthy((clips[2] and clips[2].task) or err.task_id,
      "clip 2 was paid for, and its task is neither in clips nor named by the error")
  end)

  -- FOUND: the same kind from the download side: clip 1 completes (paid, a video ready on the service),
  -- its download fails (here on_download raises; a media server that keeps failing, an io_error on
  -- rename, a stall: download.lua's err_of errors mostly carry no task_id), and chain returns {} and the
  -- error: the completed clip's handle is lost (pipeline.lua M.chain, `if item.error then return clips, ...`).
  -- Fixed: as above (task_id on the error); mutants/chain-error-names-task.
  it("returns the completed, paid clip whose download fails #m-chain-error-names-task", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local before = created()
    local clips, err = seedance.chain(util.client_for(emu), { R"a", R"b" },
      { output = dir .. "/clip-%d.mp4", on_download = function() error("disk quota script raised") end })
    assert.equals(1, created() - before)
    assert.equals("callback_error", err.type)
    local task = (clips[1] and clips[1].task) or nil
    assert.truthy(task or err.task_id, "clip 1 was paid for and completed; its task is lost")
  end)

  it("closing the client from chain's on_progress keeps clip 1 (downloaded) and pays for no clip 2", function()
    local dir = util.tmpdir()
    local c = util.client_for(emu)
    finally(function() rmrf(dir) end)
    local before = created()
    local clips, err = seedance.chain(c, { R"a", R"b", R"c" }, { output = dir .. "/clip-%d.mp4",
      on_progress = function() c:close() end })
    assert.equals(1, created() - before)
    assert.equals("aborted", err.type)
    assert.equals(1, #clips)
    assert.truthy(clips[1].task.id)
    assert.is_true(util.size_of(clips[1].path) > 0)
  end)

  it("closing the client from chain's on_clip keeps the clip and pays for nothing after it", function()
    local c = util.client_for(emu)
    local before = created()
    local clips, err = seedance.chain(c, { R"a", R"b" }, { on_clip = function() c:close() end })
    assert.equals(1, created() - before)
    assert.equals("aborted", err.type)
    assert.equals(1, #clips)
  end)

  it("refuses bad steps of a chain before paying (not tables, invalid, invalid only with the frame added)", function()
    local c = util.client_for(emu)
    local before = created()
    assert.has_error(function() seedance.chain(c, { R"a", "b" }) end)
    assert.has_error(function() seedance.chain(c, { R"a", seedance.file }) end)
    local clips, err = seedance.chain(c, { R"a", { model = "doubao-seedance-2.0", prompt = "b", duration = 99 } })
    assert.same({}, clips)
    assert.equals("validation_error", err.type)
    -- valid alone, invalid once the previous last frame is added beside a first_frame role
    local second = { model = "doubao-seedance-2.0", prompt = "b",
      image_with_roles = { { url = "https://example.com/f.png", role = "first_frame" } } }
    assert.is_true(seedance.validate(second))
    clips, err = seedance.chain(c, { R"a", second })
    assert.same({}, clips)
    assert.equals("validation_error", err.type)
    clips, err = seedance.chain(c, {})
    assert.same({}, clips)
    assert.is_nil(err)
    assert.equals(before, created())
  end)
end)

describe("adversary round 4: options and requests that are not plain tables", function()
  local emu
  setup(function() emu = emulator.start{ speed = util.SPEED } end)
  teardown(function() emu:stop() end)
  local function created() return emu:stats().tasks_created end

  -- FOUND: preflight.options walks the options with pairs, but map reads them with plain indexing: an
  -- option given by a defaults table through __index (`setmetatable(opts, { __index = defaults })`, a
  -- common Lua idiom) is never checked. A string on_progress is paid for first, then ends the batch
  -- with a callback_error (pipeline.lua report); a string on_download fails every download after the
  -- video was paid and rendered. The same mistake given directly raises before anything is paid.
  -- Fixed: preflight.options reads every known option as the table gives it (__index too), checks it and
  -- returns a plain copy that the batch runs with; mutants/options-through-index.
  it("checks options a defaults table gives through __index before paying #m-options-through-index", function()
    local c = util.client_for(emu)
    local before = created()
    for _, defaults in ipairs{ { on_progress = "print" }, { on_download = "print", output = nil } } do
      local dir = util.tmpdir()
      local opts = setmetatable({ concurrency = 1, output = dir .. "/%d.mp4" }, { __index = defaults })
      local ok, results, stats = pcall(seedance.map, c, { R"a", R"b" }, opts)
      rmrf(dir)
      if ok then
        assert.equals(before, created(), ("paid for %d, then: %s"):format(created() - before,
          tostring(stats.error or (results[1].error))))
      end
    end
  end)

  it("a generate option given through __index is not shared: one task per item", function()
    local c = util.client_for(emu)
    local before = created()
    local results, stats = seedance.map(c, { R"k1", R"k2", R"k3" },
      { generate = setmetatable({}, { __index = { idempotency_key = "one-key-for-all" } }) })
    assert.equals(3, stats.done)
    assert.equals(3, created() - before)
    assert.are_not.equal(results[1].task.id, results[2].task.id)
  end)

  it("refuses a request that is userdata or a coroutine before paying; a proxy request pays nothing", function()
    local c = util.client_for(emu)
    local before = created()
    for _, bad in ipairs{ io.stdout, coroutine.create(function() end), newproxy and newproxy(true) or io.stderr } do
      local ok, err = pcall(seedance.map, c, { R"a", bad })
      assert.is_false(ok)
      assert.matches("bad argument #2 to 'map'", err)
    end
    -- a request whose fields come through __index: the validator reads raw fields, as JSON is written
    local proxy = setmetatable({}, { __index = R"proxied" })
    local results = seedance.map(c, { proxy })
    assert.equals("validation_error", results[1].error.type)
    assert.equals(before, created())
  end)

  it("a NUL byte in model or a URL is refused before paying; in a prompt it is sent whole, not cut", function()
    local gw = gateway.start{ upstream = emu.url }
    finally(function() gw:stop() end)
    local c = util.client_for(emu, { base_url = gw.url })
    local before = created()
    local results = seedance.map(c, {
      { model = "doubao-seedance-2.0\0-fast", prompt = "m" },
      { model = "doubao-seedance-2.0", prompt = "u", image_urls = { "https://example.com/a.png\0.evil" } },
    })
    assert.equals("validation_error", results[1].error.type)
    assert.equals("validation_error", results[2].error.type)
    assert.equals(before, created())
    local task = c:generate{ model = "doubao-seedance-2.0", prompt = "before\0after" }
    if task then
      local posts = gw:requests{ method = "POST" }
      assert.truthy(posts[#posts].body:find("before\\u0000after", 1, true), posts[#posts].body)
    end
  end)
end)

describe("adversary round 4: callbacks that do IO, nested batches, a closed client", function()
  local emu
  setup(function() emu = emulator.start{ speed = util.SPEED } end)
  teardown(function() emu:stop() end)
  local function created() return emu:stats().tasks_created end

  -- FOUND (Lua 5.1 only; both pass on 5.4): user callbacks are called through compat.xpcall (pipeline.lua
  -- report, task.lua Waiter:_decide, download.lua on_tick) from inside managed coroutines. On 5.1 a
  -- coroutine cannot yield across xpcall, so a callback that makes any seedance call (client:balance(),
  -- seedance.sleep, a nested map) fails with "attempt to yield across metamethod/C-call boundary": a map
  -- ends with a callback_error (item 2 skipped), a wait with one. Worse, the failed yield leaves the
  -- scheduler corrupt: suspend() (scheduler.lua) set rec.waiting = true and registered a wake (timer,
  -- transfer) before coroutine.yield raised; the stale wake later resumes the record again, a dead
  -- coroutine's resume "fails", finish() runs twice and `live` goes to -1. Every later seedance.run then
  -- either returns at once raising a nil error (block_until(live == 0) holds before fn ran: scheduler.lua
  -- M.run, `error(h.error, 0)` with h.error nil) or never returns (live stays below 0). A nested map also
  -- leaves its 14 pool coroutines parked. scheduler.protect exists for exactly this on 5.1 (a managed
  -- coroutine of its own) but user callbacks do not go through it. Run in children: they hang.
  -- Fixed: every user callback goes through scheduler.protect (its own coroutine on 5.1), and a coroutine
  -- ends once (a stale wake of a finished one is ignored: the spec "a seedance call that cannot
  -- yield" holds it on every Lua; mutants/scheduler-stale-wake).
  it("lets Task:wait's on_progress call seedance.sleep under seedance.run; seedance.run works after #m-protect-coroutine-lua51", function()
    local ok, out = child(emu.url, [[
      local ok, err = seedance.run(function()
        local t = assert(c:generate(R"w"))
        return t:wait{ on_progress = function() seedance.sleep(0) end }
      end)
      io.write(ok and "waited" or tostring(err):match("[^\n]*"), "; ")
      io.stdout:flush()
      local rok, v = pcall(seedance.run, function() return 42 end)
      io.write("run: ", tostring(rok), " ", tostring(v))]], { limit = 20 })
    assert.is_true(ok, "the child hung or failed: " .. out)
    assert.equals("waited; run: true 42", out)
  end)

  -- The kind on every Lua: a seedance call whose yield raises (inside a C call, here string.gsub's
  -- callback) has registered its wake first; the coroutine ends, and the stale wake must not end it twice.
  it("a seedance call that cannot yield (inside a C call) ends its coroutine once; seedance.run works after #m-scheduler-stale-wake", function()
    local ok, out = child(emu.url, [[
      local h = seedance.spawn(function()
        ("x"):gsub("x", function() seedance.sleep(0.05) end)
      end)
      local wok, werr = h:wait()
      io.write(tostring(wok), " ", tostring(werr and tostring(werr):match("yield") or werr), "; ")
      io.stdout:flush()
      seedance.sleep(0.1) -- the stale timer fires here
      local rok, v = pcall(seedance.run, function() seedance.sleep(0.01) return 42 end)
      io.write("run: ", tostring(rok), " ", tostring(v))]], { limit = 20 })
    assert.is_true(ok, "the child hung or failed: " .. out)
    assert.equals("nil yield; run: true 42", out)
  end)

  it("lets map's on_progress make a network call and run a nested map; seedance.run works after #m-protect-coroutine-lua51", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local inner, balance
      local results, stats = seedance.map(c, { R"o1", R"o2" }, { concurrency = 1, on_progress = function(s)
        if not balance then balance = assert(c:balance()) end
        if s.done == 1 and not inner then inner = seedance.map(c, { R"inner" }) end
      end })
      io.write(tostring(stats.error and stats.error.message:match("[^\n]*")), "; done=", stats.done,
        "; inner=", tostring(inner and inner[1].task ~= nil), "; ")
      io.stdout:flush()
      seedance.run(function() end)
      io.write("run returned")]], { limit = 20 })
    assert.is_true(ok, "the child hung or failed: " .. out)
    assert.equals("nil; done=2; inner=true; run returned", out)
    assert.equals(3, created() - before)
  end)

  it("map on a closed client raises before paying; a client closed by the output function pays nothing", function()
    local c = util.client_for(emu)
    c:close()
    local before = created()
    local ok, err = pcall(seedance.map, c, { R"a" })
    assert.is_false(ok)
    assert.matches("closed client", err)
    ok, err = pcall(seedance.chain, c, { R"a" })
    assert.is_false(ok)
    assert.matches("closed client", err)
    local c2 = util.client_for(emu)
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local results, stats = seedance.map(c2, { R"a", R"b" },
      { output = function(i) c2:close(); return dir .. "/" .. i .. ".mp4" end })
    assert.equals(before, created())
    assert.equals("aborted", stats.error.type)
    assert.equals("skipped", results[1].error.type)
    local clips, cerr = seedance.chain(util.client_for(emu), { R"a" }, { output = function()
      error("output raised") end })
    assert.same({}, clips)
    assert.equals("callback_error", cerr.type)
    assert.equals(before, created())
  end)

  it("a hole made in the list by on_progress after the checks: the batch ends, every paid task comes back", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local reqs = { R"a", R"b", R"c", R"d" }
      local results, stats = seedance.map(c, reqs, { concurrency = 1,
        on_progress = function(s) if s.done == 1 then reqs[3] = nil end end })
      local n = 0
      for _, r in ipairs(results) do if r.task then n = n + 1 end end
      io.write(stats.error and stats.error.type or "none", "; ", results[3].error.type, "; handles=", n, "; ")
      seedance.run(function() end)
      io.write("run returned")]])
    assert.is_true(ok, out)
    local paid = created() - before
    assert.equals(("aborted; aborted; handles=%d; run returned"):format(paid), out)
  end)

  it("a client closed by on_download: downloads of paid items go on, nothing more is submitted", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local c = util.client_for(emu)
    local before = created()
    local reqs = {}
    for i = 1, 6 do reqs[i] = R("d" .. i) end
    local results, stats = seedance.map(c, reqs, { concurrency = 2, output = dir .. "/%d.mp4",
      on_download = function() c:close() end })
    local paid = created() - before
    assert.is_true(paid >= 1 and paid < 6, "paid " .. paid)
    assert.equals("aborted", stats.error.type)
    for i = 1, 6 do
      if results[i].task then
        assert.truthy(results[i].path or results[i].error, "item " .. i)
      else
        assert.equals("skipped", results[i].error.type)
      end
    end
    assert.truthy(results[1].path, tostring(results[1].error))
    assert.is_true(util.ffprobe_ok(results[1].path))
  end)

  it("closes the client from a spawned coroutine while map runs beside it: paid tasks all come back", function()
    local c = util.client_for(emu)
    local before = created()
    local reqs = {}
    for i = 1, 8 do reqs[i] = R("s" .. i) end
    local results, stats = seedance.run(function()
      local h = seedance.spawn(seedance.map, c, reqs, { concurrency = 2 })
      seedance.spawn(function()
        while created() - before < 2 do seedance.sleep(0.01) end
        c:close()
      end)
      return h:wait()
    end)
    local handles = 0
    for _, r in ipairs(results) do if r.task then handles = handles + 1 end end
    assert.equals(created() - before, handles)
    assert.equals("aborted", stats.error.type)
  end)
end)

describe("adversary round 4: files of a batch under other spellings", function()
  local emu
  setup(function() emu = emulator.start{ speed = util.SPEED } end)
  teardown(function() emu:stop() end)
  local function created() return emu:stats().tasks_created end

  it("refuses an output that is another's .part.meta, or the same file through '..', for map and chain #m-paths-case-folded", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    assert(os.execute("mkdir " .. q(dir .. "/sub")))
    local before = created()
    for _, pair in ipairs{
      { dir .. "/v.mp4.part.meta", dir .. "/v.mp4" },
      { dir .. "/v.mp4", dir .. "/v.mp4.part.meta" },
      { dir .. "/sub/../w.mp4", dir .. "/w.mp4" },
      { "v.mp4", "./v.mp4" },
      -- one file where case is ignored (macOS, Windows, a FAT or SMB folder mounted here)
      { dir .. "/Out.mp4", dir .. "/out.MP4" },
      { dir .. "/sub/Clip.mp4", dir .. "/sub/clip.mp4.part" },
    } do
      local results = seedance.map(util.client_for(emu), { R"a", R"b" },
        { output = function(i) return pair[i] end })
      assert.equals("io_error", results[2].error.type, pair[1] .. " / " .. pair[2])
      assert.matches("name the same file", results[2].error.message)
      local clips, err = seedance.chain(util.client_for(emu), { R"a", R"b" },
        { output = function(i) return pair[i] end })
      assert.same({}, clips)
      assert.matches("name the same file", err.message)
    end
    assert.equals(before, created())
  end)

  it("takes a backslash in a POSIX name as a character of the name, not a folder", function()
    if package.config:sub(1, 1) == "\\" then return end -- a separator on Windows
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local results = seedance.map(util.client_for(emu), { R"a" }, { output = dir .. "/a\\b-%d.mp4" })
    assert.is_nil(results[1].error, tostring(results[1].error))
    assert.is_true(util.is_mp4(dir .. "/a\\b-1.mp4"))
  end)

  it("refuses an image that is another item's .part.meta reached through a linked folder, before paying", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    assert(os.execute("mkdir " .. q(dir .. "/out") .. " && ln -s out " .. q(dir .. "/link")))
    process.write(dir .. "/out/v.mp4.part.meta", PNG)
    local before = created()
    local reqs = { R"a", { model = "doubao-seedance-2.0", prompt = "b",
      image_urls = { seedance.file(dir .. "/link/v.mp4.part.meta") } } }
    local results = seedance.map(util.client_for(emu), reqs,
      { output = function(i) return i == 1 and dir .. "/out/v.mp4" or dir .. "/b.mp4" end })
    assert.equals("io_error", results[2].error.type)
    assert.matches("name the same file", results[2].error.message)
    assert.equals(PNG, util.read_file(dir .. "/out/v.mp4.part.meta"))
    assert.equals(before, created())
  end)

  it("refuses an output that is the journal given by a relative path (journal relative, output absolute)", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local before = created()
    local ok, out = child(emu.url, ([[
      local results = seedance.map(c, { R"a" }, { output = %q })
      io.write(results[1].error and results[1].error.message or "no error")]]):format(dir .. "/run.journal"),
      { cwd = dir, journal = "run.journal" })
    assert.is_true(ok, out)
    assert.matches("the client's journal run%.journal .* name the same file", out)
    assert.equals(before, created())
  end)

  it("keeps item 1's video when item 2's output is a link to it (the link is replaced, not followed)", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    assert(os.execute("ln -s a.mp4 " .. q(dir .. "/b.mp4")))
    local results, stats = seedance.map(util.client_for(emu), { R("a", 4), R("b", 10) },
      { concurrency = 1, output = function(i) return dir .. (i == 1 and "/a.mp4" or "/b.mp4") end })
    assert.equals(2, stats.done)
    assert.are_not.equal(util.size_of(dir .. "/a.mp4"), util.size_of(dir .. "/b.mp4"))
    assert.is_true(util.ffprobe_ok(dir .. "/a.mp4"))
    assert.equals(results[1].path, dir .. "/a.mp4")
  end)

  it("keeps item 1's video when item 2's partial file is a link to it, and still saves item 2", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    assert(os.execute("ln -s a.mp4 " .. q(dir .. "/b.mp4.part") .. " && ln -s a.mp4 " .. q(dir .. "/b.mp4.part.meta")))
    local before = created()
    local results, stats = seedance.map(util.client_for(emu), { R("a", 4), R("b", 10) },
      { concurrency = 1, output = function(i) return dir .. (i == 1 and "/a.mp4" or "/b.mp4") end })
    assert.is_true(util.ffprobe_ok(dir .. "/a.mp4"), "item 1's video was written through item 2's .part link")
    local paid = created() - before
    -- either refused before paying, or item 2 saved: never paid for and then lost
    if paid > 0 then
      assert.equals(2, stats.done, tostring(results[2].error))
      assert.is_true(util.ffprobe_ok(dir .. "/b.mp4"))
    end
  end)

  it("refuses a clash at the end of a 20,000-item batch before paying for any", function()
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    local before = created()
    local reqs = {}
    for i = 1, 20000 do reqs[i] = R("n" .. i) end
    local results, stats = seedance.map(util.client_for(emu), reqs, { concurrency = 300,
      output = function(i) return dir .. "/" .. (i == 20000 and 1 or i) .. ".mp4" end })
    assert.equals(before, created())
    assert.equals("io_error", results[20000].error.type)
    assert.same({ 0, 1, 19999 }, { stats.done, stats.failed, stats.skipped })
  end)
end)

describe("adversary round 4: the command, and odd things a pool's call may raise", function()
  local emu
  setup(function() emu = emulator.start{ speed = util.SPEED } end)
  teardown(function() emu:stop() end)
  local function created() return emu:stats().tasks_created end

  it("the command refuses -o whose companions are another file of the run, before paying", function()
    local cli = require("helpers.cli")
    local dir = util.tmpdir()
    finally(function() rmrf(dir) end)
    process.write(dir .. "/v.mp4.part", "sk-cli\n")
    local env = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-cli", SEEDANCE_TIME_SCALE = tostring(1 / util.SPEED) }
    local before = created()
    local v = q(dir .. "/v.mp4")
    for _, args in ipairs{
      "-o " .. v .. " --save-last-frame " .. q(dir .. "/./v.mp4.part"),
      "-o " .. v .. " --save-last-frame " .. q(dir .. "//v.mp4.part.meta"),
      "-o " .. v .. " --journal " .. q(dir .. "/v.mp4.part.meta"),
      "-o " .. v .. " --api-key-file " .. q(dir .. "/v.mp4.part"),
      "-o " .. q(dir .. "/v.mp4.part.meta") .. " --save-last-frame " .. v,
    } do
      local code, _, err = cli.run("generate --model doubao-seedance-2.0 --prompt x -q " .. args, env)
      assert.equals(2, code, args .. ": " .. err)
      assert.matches("name the same file", err)
    end
    assert.equals(before, created())
    assert.equals("sk-cli\n", util.read_file(dir .. "/v.mp4.part"))
  end)

  it("a pool's call raising nil, a table, or an object whose __tostring raises: every paid task comes back", function()
    local before = created()
    local ok, out = child(emu.url, [[
      local faults = { false, nil, {}, setmetatable({}, { __tostring = function() error("no") end }) }
      local kinds = { "nil", "table", "bad tostring" }
      local report = {}
      for k = 1, 3 do
        local calls = 0
        local d = seedance.new{ api_key = "sk-adv", base_url = os.getenv("URL"), time_scale = 1 / 200 }
        d.generate = function(self, ...)
          calls = calls + 1
          if calls == 2 then error(faults[k + 1]) end
          return getmetatable(self).__index.generate(self, ...)
        end
        local results, stats = seedance.map(d, { R"a", R"b", R"c" }, { concurrency = 1 })
        report[#report + 1] = kinds[k] .. ":" .. (results[1].task and "t" or "-") .. ","
          .. results[2].error.type .. "," .. results[3].error.type .. "," .. stats.error.type
      end
      seedance.run(function() end)
      io.write(table.concat(report, " "), "; run returned")]])
    assert.is_true(ok, out)
    assert.equals("nil:t,aborted,skipped,aborted table:t,aborted,skipped,aborted "
      .. "bad tostring:t,aborted,skipped,aborted; run returned", out)
    assert.equals(3, created() - before)
  end)
end)
