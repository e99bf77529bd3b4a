-- Lifetimes under the collector: engines, task handles and clients dropped
-- while their transfers are in flight, collections forced between steps, and
-- a Lua state closed with everything still running. `make check` also runs
-- the whole suite with an aggressive collector (spec/support/check_helper.lua);
-- these cases make sure that run has handles to drop mid-flight.
local seedance = require("seedance")
local core = require("seedance.core")
local scheduler = require("seedance.scheduler")
local emulator = require("helpers.emulator")
local engine = require("helpers.engine")
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local util = require("helpers.util")

local REQ = util.request("a kitten yawns at the camera", 5)
local tmpfile = util.tmpfile

local function full_gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

describe("lifetimes under the collector #c", function()
  local srv = engine.server(true)
  local emu = emulator.fixture{ speed = util.SPEED }

  describe("seedance.core.engine", function()
    it("is collected in every state: idle, running, finished unread, half read, uploading, downloading", function()
      local weak = setmetatable({}, { __mode = "k" })
      local out = tmpfile("engine.bin")
      for round = 1, 24 do
        local e = core.engine{ max_host_connections = 4 }
        weak[e] = round
        local kind = round % 6
        -- the quick requests first (4 connections): they finish while the slow ones run
        if kind >= 1 then e:add{ url = srv.url .. "/echo" } end
        if kind == 4 then
          e:add{ method = "POST", url = srv.url .. "/upload", form_file = { name = "f", path = gateway.script_path } }
        elseif kind == 5 then
          e:add{ url = srv.url .. "/file", output = out }
          e:add{ url = srv.url .. "/stall?s=3", output = out .. "2" } -- mid-download when dropped
        end
        if kind >= 1 then
          for _ = 1, 8 do e:add{ url = srv.url .. "/slow?ms=1500" } end
        end
        if kind >= 2 then -- the echo (and the file) finished; the upload, the stall, the slow ones in flight
          local deadline = core.now() + 5
          local left = (kind >= 4) and 9 or 8
          while e:pending() > left and core.now() < deadline do e:step(10) end
        end
        if kind == 3 then e:next() end -- one result read, the others left queued
        e = nil -- luacheck: ignore 311
        if round % 3 == 0 then full_gc() end
      end
      full_gc()
      assert.equal(0, count_keys(weak))
      os.remove(out)
      os.remove(out .. "2")
    end)

    it("is collected from another object's finalizer", function()
      local weak = setmetatable({}, { __mode = "v" })
      do
        local e = core.engine()
        e:add{ url = srv.url .. "/slow?ms=2000" }
        e:step(10)
        weak[1] = e
        -- a finalizer that touches the engine while the collector runs
        setmetatable({}, { __gc = function() e:step(0); e:close() end })
      end
      full_gc()
      full_gc()
      assert.is_nil(weak[1])
    end)
  end)

  describe("task handles", function()

    it("are dropped mid-flight by a host loop that collects after every step", function()
      local weak = setmetatable({}, { __mode = "k" })
      local finished, paths = 0, {}
      do -- the client and the tasks are only reachable from the coroutines
        local c = util.client_for(emu)
        for i = 1, 12 do
          paths[i] = tmpfile("drop" .. i .. ".mp4")
          seedance.spawn(function()
            local task = assert(c:generate(REQ))
            weak[task] = true
            assert(task:wait())
            if i % 3 == 0 then assert(task:download(paths[i])) end
            finished = finished + 1
          end)
        end
      end
      local deadline = core.now() + 60
      while seedance.step(0.005) > 0 and core.now() < deadline do
        collectgarbage("collect")
      end
      assert.equal(12, finished)
      full_gc()
      -- (a timer or worker job of the last task may still be due in a loaded machine's last few steps: a few
      -- more steps let it end; a handle kept for good stays counted)
      for _ = 1, 50 do
        if count_keys(weak) == 0 then break end
        seedance.step(0.01)
        full_gc()
      end
      assert.equal(0, count_keys(weak))
      assert.equal(0, scheduler.stats().transfers)
      for _, p in ipairs(paths) do os.remove(p) end
    end)

    it("are closed mid-flight and dropped; waiters get an error, not a raise", function()
      local results, started = {}, 0
      do
        local c, tasks = util.client_for(emu), {}
        for i = 1, 6 do
          seedance.spawn(function()
            local task = assert(c:generate(REQ))
            tasks[i] = task
            started = started + 1
            results[i] = { task:wait() }
          end)
        end
        local deadline = core.now() + 30
        while started < 6 and core.now() < deadline do seedance.step(0.005) end
        for i = 1, 6 do tasks[i]:close() end
      end
      full_gc()
      local deadline = core.now() + 30
      while seedance.step(0.005) > 0 and core.now() < deadline do collectgarbage("step") end
      for i = 1, 6 do
        assert.is_nil(results[i][1])
        assert.equal("aborted", results[i][2].type)
      end
      assert.equal(0, scheduler.stats().transfers)
    end)

    -- found here: a task closed by one coroutine while another slept between polls in task:wait()
    -- made the waiter raise "attempt to use a closed task" from its next refresh
    it("wait() returns an aborted error when another coroutine closes the task between polls #found", function()
      local c = util.client_for(emu)
      local got
      seedance.run(function()
        local task = assert(c:generate(REQ))
        local waiter = seedance.spawn(function() return task:wait() end)
        seedance.sleep(0.05) -- the waiter polled once and sleeps now
        task:close()
        got = { waiter:wait() }
      end)
      assert.is_nil(got[1])
      assert.equal("aborted", got[2].type)
    end)

    it("and their client are dropped while coroutines queue on the client's governor", function()
      local weak = setmetatable({}, { __mode = "k" })
      local finished = 0
      do
        local c = util.client_for(emu, { max_in_flight = 2 })
        weak[c] = true
        for _ = 1, 6 do
          seedance.spawn(function()
            local task = assert(c:generate(REQ))
            weak[task] = true
            assert(task:wait())
            finished = finished + 1
          end)
        end
      end
      local deadline = core.now() + 60
      while seedance.step(0.005) > 0 and core.now() < deadline do collectgarbage("collect") end
      assert.equal(6, finished)
      full_gc()
      assert.equal(0, count_keys(weak))
    end)
  end)

  describe("closing the Lua state", function()
    -- A child interpreter (under the same sanitizer or GC settings as this run)
    -- closes its state with engines, tasks and downloads still in flight: every
    -- finalizer runs at lua_close, in whatever order the collector picks.
    -- (the work runs in a child, yet this is no #child spec: the sanitizer pass preloads its runtime
    -- into the child through SEEDANCE_CHILD_PRELOAD, so it belongs with the #c specs)
    it("with transfers, tasks and downloads in flight exits cleanly", function()
      local out = tmpfile("exit.bin")
      -- the child finds the same modules as this run (its core build included),
      -- and runs under the same sanitizer runtime when make check-asan runs this
      local preload = os.getenv("SEEDANCE_CHILD_PRELOAD")
      local ok, output, code = child.lua(([[
        local seedance = require("seedance")
        local core = require("seedance.core")
        local base, emu_url, out = %q, %q, %q
        local e = core.engine()
        for _ = 1, 10 do e:add{ url = base .. "/slow?ms=3000" } end
        e:add{ url = base .. "/file", output = out }
        e:step(20)
        local c = seedance.new{ api_key = "sk-gc", base_url = emu_url, time_scale = 1 / 200 }
        for i = 1, 8 do
          seedance.spawn(function()
            local task = assert(c:generate{ model = "doubao-seedance-2.0", prompt = "x", duration = 5 })
            assert(task:wait())
            assert(task:download(out .. i))
          end)
        end
        local deadline = core.now() + 0.5
        while core.now() < deadline do seedance.step(0.01) end
        os.exit(0, true) -- close the state: every finalizer runs now
      ]]):format(srv.url, emu.url, out), { env = { LD_PRELOAD = preload ~= "" and preload or nil } })
      assert.equal("", output)
      assert.is_true(ok, "exit " .. tostring(code))
      os.remove(out)
      for i = 1, 8 do
        os.remove(out .. i)
        os.remove(out .. i .. ".part")
        os.remove(out .. i .. ".part.meta")
      end
    end)
  end)
end)
