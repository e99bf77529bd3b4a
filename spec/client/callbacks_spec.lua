-- User callbacks (on_progress of wait, download and map, on_retry, on_clip,
-- map's output function, the logger): what they raise comes back as a
-- callback_error and never raises into the host; callbacks that yield or make
-- seedance calls of their own work under seedance.run, on every Lua (5.1 has
-- no yield across pcall: the scheduler protects them).
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local util = require("helpers.util")

local R, cleanup = util.request, util.cleanup()
local REQ = R("a paper boat", 5)
local OPTS = { time_scale = 1, max_backoff = 0.02, max_retries = 2 }

describe("user callbacks #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }
  local gw = gateway.fixture(function() return { listeners = { "api", "media" }, upstream = emu.url } end,
    { each = true })

  describe("that raise come back as callback_error", function()
    it("whatever they raise: nil, a number, a table", function()
      gw:script{ cases = { gateway.poll_case("processing") } }
      local c = util.client_for(gw, OPTS)
      for _, v in ipairs{ false, 42, { why = "a table" }, seedance.errors.new{ type = "mine", message = "own" } } do
        local ok, err = c:task("task_A"):wait{ timeout = 5, on_progress = function() error(v) end }
        assert.is_nil(ok)
        assert.equals("callback_error", err.type)
      end
      local ok, err = c:task("task_A"):wait{ timeout = 5, on_progress = function() error() end }
      assert.is_nil(ok)
      assert.equals("callback_error", err.type)
    end)

    -- found: a callback raising an object whose __tostring fails made wait raise into the host
    it("never raise into the host, even when what they raise cannot be printed #found #m-callback-unprintable", function()
      gw:script{ cases = { gateway.poll_case("processing") } }
      local odd = setmetatable({}, { __tostring = function() error("cannot print me") end })
      local task = util.client_for(gw, OPTS):task("task_A")
      local ok, a, b = pcall(task.wait, task, { timeout = 5, on_progress = function() error(odd) end })
      assert.is_true(ok, "wait raised: " .. tostring(a))
      assert.is_nil(a)
      assert.equals("callback_error", b.type)
    end)

    it("on_retry #found #m-on-retry-protected", function()
      gw:script{ upstream = emu.url, cases = { { method = "POST", times = 1, status = 503,
        json = { error = { type = "bad_gateway", message = "busy" } } } } }
      local c = util.client_for(gw, { time_scale = 1, on_retry = function() error("my on_retry broke") end })
      local task, err = c:generate(REQ)
      assert.is_nil(task)
      assert.equals("callback_error", err.type)
      assert.matches("my on_retry broke", err.message)
    end)

    it("wait's and download's on_progress #found #m-download-callback-protected #m-wait-callback-protected", function()
      local t = assert(util.client_for(emu):generate(REQ))
      local ok, err = t:wait{ on_progress = function() error("my wait progress broke") end }
      assert.is_nil(ok)
      assert.equals("callback_error", err.type)
      assert.matches("my wait progress broke", err.message)
      -- a download slow enough (0.4 s) for progress ticks during the transfer, not only at its end
      local slow = cleanup(emulator.start{ speed = util.SPEED, video_bytes = 400000, media_rate = 1000000 })
      local t2 = assert(util.client_for(slow):generate(REQ))
      assert(t2:wait())
      local calls = 0
      local path, derr = t2:download(util.tmpfile("cb.mp4"), { on_progress = function(done, total)
        calls = calls + 1
        if done < total then error("my bytes broke") end
      end })
      assert.is_nil(path)
      assert.equals("callback_error", derr.type)
      assert.matches("my bytes broke", derr.message)
      assert.equals(1, calls)
    end)

    it("chain's on_clip #found #m-on-clip-protected", function()
      local clips, err = seedance.chain(util.client_for(emu), { REQ, REQ },
        { on_clip = function() error("my on_clip broke") end })
      assert.equals(1, #clips)
      assert.equals("callback_error", err.type)
      assert.matches("my on_clip broke", err.message)
    end)

    it("map's output function, before anything is paid #found", function()
      local before = emu:created()
      local results, stats = seedance.map(util.client_for(emu), { REQ, REQ },
        { output = function(i) if i == 2 then error("my output broke") end return util.tmpfile("o.mp4") end })
      assert.equals(before, emu:created())
      assert.equals("callback_error", results[2].error.type)
      assert.equals(1, stats.skipped)
    end)

    it("map's on_progress stops the batch, keeping what ran #found", function()
      local results, stats = seedance.map(util.client_for(emu), { REQ, REQ, REQ },
        { concurrency = 1, on_progress = function() error("my on_progress broke") end })
      assert.equals("callback_error", stats.error.type)
      assert.truthy(results[1].task)
      assert.equals("skipped", results[3].error.type)
    end)

    it("ends the batch when on_progress raises: no submit after it, a callback_error in stats", function()
      local before = emu:created()
      local reqs = util.requests("p", 10)
      local started
      local results, stats = seedance.map(util.client_for(emu), reqs, { concurrency = 2,
        on_progress = function(s) started = s.done + s.failed + s.running; error({ "a table" }) end })
      assert.equals("callback_error", stats.error.type)
      assert.equals(started, emu:created() - before)
      assert.equals("skipped", results[10].error.type)
    end)
  end)

  it("calls on_progress only when the status or the progress changed #m-wait-progress-on-change", function()
    gw:script{ cases = {
      { name = "running", method = "GET", pattern = "^/v1/tasks/task_A", times = 3,
        json = gateway.task_json("running", { progress = 50 }) },
      { name = "completed", method = "GET", pattern = "^/v1/tasks/task_A", json = gateway.task_json("completed") },
    } }
    local c = util.client_for(gw, { time_scale = 1, poll_min = 0.01, poll_max = 0.02 })
    local seen = {}
    local task = assert(c:task("task_A"):wait{ timeout = 30, on_progress = function(t)
      seen[#seen + 1] = t.status .. ":" .. tostring(t.progress)
    end })
    assert.equals("completed", task.status)
    assert.equals(4, #gw:requests()) -- three polls saw the same state
    assert.same({ "running:50", "completed:100" }, seen)
  end)

  -- found: the library's log lines carried a result URL's raw bytes: invalid UTF-8 reached the logger
  it("log only valid UTF-8 #found #m-log-utf8", function()
    gw:script{ cases = {
      { listener = "api", method = "GET", pattern = "^/v1/tasks/", headers = { { "Content-Type", "application/json" } },
        body = '{"code":200,"data":{"id":"task_A","status":"completed","progress":100,'
          .. '"result":{"videos":[{"url":"{{base:media}}/v\255\254.mp4"}]}}}' },
      { listener = "media", headers = { { "ETag", '"v"' } }, body = "video bytes" } } }
    local lines = {}
    local task = util.client_for(gw.urls.api, OPTS, { logger = function(_, l) lines[#lines + 1] = l end }):task("task_A")
    assert(task:wait())
    task:download(util.tmpfile("utf8.mp4"))
    assert.is_true(#lines > 1)
    for _, l in ipairs(lines) do assert.equals(l, core.utf8_clean(l)) end
  end)

  describe("that yield or call seedance #compat", function()
    -- found: a callback that yields (coroutine.yield) under the scheduler parked its coroutine for
    -- ever: wait{ timeout = 2 } never returned and seedance.run never ended
    it("do not hang the coroutine past its deadline when they yield #found #child #m-bare-yield-cooperative", function()
      gw:script{ cases = { gateway.poll_case("processing") } }
      -- in a child: a coroutine parked for ever would hang every later seedance.run of this process
      local ok, out = child.lua(([[
        local seedance = require("seedance")
        local task = seedance.new{ api_key = "sk-x", base_url = %q, poll_min = 0.05 }:task("task_A")
        local done, res, err = false, nil, nil
        seedance.spawn(function()
          res, err = task:wait{ timeout = 2, on_progress = function() coroutine.yield() end }
          done = true
        end)
        local t0 = require("seedance.core").now()
        while not done and require("seedance.core").now() - t0 < 5 do seedance.step(0.05) end
        io.write(done and ("ended: " .. tostring(err)) or "still parked after 5 s")]]):format(gw.url), { limit = 10 })
      assert.is_true(ok, out)
      assert.matches("^ended", out)
    end)

    -- found (Lua 5.1 only): user callbacks were called through compat.xpcall from inside managed
    -- coroutines; on 5.1 a coroutine cannot yield across xpcall, so a callback that made any seedance
    -- call failed with "attempt to yield across metamethod/C-call boundary", and the failed yield left
    -- the scheduler corrupt (a stale wake resumed a dead coroutine; every later seedance.run returned at
    -- once or never). Every user callback now goes through scheduler.protect (its own coroutine on 5.1).
    it("lets Task:wait's on_progress call seedance.sleep under seedance.run; seedance.run works after #found #child #m-protect-coroutine-lua51", function()
      local ok, out = child.run(emu.url, [[
        local ok, err = seedance.run(function()
          local t = assert(c:generate(R"w"))
          return t:wait{ on_progress = function() seedance.sleep(0) end }
        end)
        io.write(ok and "waited" or tostring(err):match("[^\n]*"), "; ")
        io.stdout:flush()
        local rok, v = pcall(seedance.run, function() return 42 end)
        io.write("run: ", tostring(rok), " ", tostring(v))]])
      assert.is_true(ok, "the child hung or failed: " .. out)
      assert.equals("waited; run: true 42", out)
    end)

    it("lets map's on_progress make a network call and run a nested map; seedance.run works after #found #child #m-protect-coroutine-lua51", function()
      local before = emu:created()
      local ok, out = child.run(emu.url, [[
        local inner, balance
        local results, stats = seedance.map(c, { R"o1", R"o2" }, { concurrency = 1, on_progress = function(s)
          if not balance then balance = assert(c:balance()) end
          if s.done == 1 and not inner then inner = seedance.map(c, { R"inner" }) end
        end })
        io.write(tostring(stats.error and stats.error.message:match("[^\n]*")), "; done=", stats.done,
          "; inner=", tostring(inner and inner[1].task ~= nil), "; ")
        io.stdout:flush()
        run_returns()]])
      assert.is_true(ok, "the child hung or failed: " .. out)
      assert.equals("nil; done=2; inner=true; run returned", out)
      assert.equals(3, emu:created() - before)
    end)
  end)
end)
