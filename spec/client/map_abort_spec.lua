-- seedance.map ended early, by a closed client (from a callback, an output
-- function, another coroutine) or by a raise inside one of its pools: the
-- batch ends `aborted`, items never submitted are `skipped`, every task it
-- paid for comes back in its item, and no coroutine stays parked (seedance.run
-- works after). What may hang runs in a child (helpers.child).
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local child = require("helpers.child")
local util = require("helpers.util")

local R, cleanup = util.request, util.cleanup()

describe("seedance.map ended early #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }

  -- found: closing the client from a callback mid-map made the next submit raise inside a
  -- submitter, map re-raised it from its join, and the tasks already paid for never reached the
  -- caller; four coroutines stayed parked. Fixed: a submitter stops at a closed client, and every
  -- call a pool makes goes through scheduler.protect (its raise is its item's error).
  it("returns every paid task when the client is closed mid-map #found #child #m-map-closed-client-stops", function()
    local before = emu:created()
    local ok, out = child.run(emu.url, [[
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
      run_returns()]])
    assert.is_true(ok, out)
    assert.equals(("aborted the client was closed; handles=%d; run returned"):format(emu:created() - before), out)
  end)

  it("map on a closed client raises before paying; a client closed by the output function pays nothing", function()
    local c = util.client_for(emu)
    c:close()
    local before = emu:created()
    local ok, err = pcall(seedance.map, c, { R"a" })
    assert.is_false(ok)
    assert.matches("closed client", err)
    ok, err = pcall(seedance.chain, c, { R"a" })
    assert.is_false(ok)
    assert.matches("closed client", err)
    local c2 = util.client_for(emu)
    local dir = cleanup(util.tmpdir())
    local results, stats = seedance.map(c2, { R"a", R"b" },
      { output = function(i) c2:close(); return dir .. "/" .. i .. ".mp4" end })
    assert.equals(before, emu:created())
    assert.equals("aborted", stats.error.type)
    assert.equals("skipped", results[1].error.type)
    local clips, cerr = seedance.chain(util.client_for(emu), { R"a" }, { output = function()
      error("output raised") end })
    assert.same({}, clips)
    assert.equals("callback_error", cerr.type)
    assert.equals(before, emu:created())
  end)

  it("a client closed by on_download: downloads of paid items go on, nothing more is submitted", function()
    local dir = cleanup(util.tmpdir())
    local c = util.client_for(emu)
    local before = emu:created()
    local reqs = util.requests("d", 6)
    local results, stats = seedance.map(c, reqs, { concurrency = 2, output = dir .. "/%d.mp4",
      on_download = function() c:close() end })
    local paid = emu:created() - before
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
    local before = emu:created()
    local reqs = util.requests("s", 8)
    local results, stats = seedance.run(function()
      local h = seedance.spawn(seedance.map, c, reqs, { concurrency = 2 })
      seedance.spawn(function()
        while emu:created() - before < 2 do seedance.sleep(0.01) end
        c:close()
      end)
      return h:wait()
    end)
    local handles = 0
    for _, r in ipairs(results) do if r.task then handles = handles + 1 end end
    assert.equals(emu:created() - before, handles)
    assert.equals("aborted", stats.error.type)
  end)

  it("a hole made in the list by on_progress after the checks: the batch ends, every paid task comes back #child", function()
    local before = emu:created()
    local ok, out = child.run(emu.url, [[
      local reqs = { R"a", R"b", R"c", R"d" }
      local results, stats = seedance.map(c, reqs, { concurrency = 1,
        on_progress = function(s) if s.done == 1 then reqs[3] = nil end end })
      local n = 0
      for _, r in ipairs(results) do if r.task then n = n + 1 end end
      io.write(stats.error and stats.error.type or "none", "; ", results[3].error.type, "; handles=", n, "; ")
      run_returns()]])
    assert.is_true(ok, out)
    assert.equals(("aborted; aborted; handles=%d; run returned"):format(emu:created() - before), out)
  end)

  describe("by a raise inside a pool", function()
    it("makes what a pool's call raises its item's error, and ends the batch; no coroutine parked #child #m-map-pool-call-protected", function()
      local before = emu:created()
      local ok, out = child.run(emu.url, [[
        local calls = 0
        c.generate = function(self, ...) -- a fault injected into the client: the second submit raises
          calls = calls + 1
          if calls == 2 then error("injected fault") end
          return getmetatable(self).__index.generate(self, ...)
        end
        local results, stats = seedance.map(c, { R"a", R"b", R"c", R"d" }, { concurrency = 1 })
        io.write(results[1].error and "1 failed; " or "1 done; ", results[2].error.type, " ",
          results[2].error.message:match("[^\n]*"), "; ", results[3].error.type, "; ", stats.error.type, "; ")
        run_returns()]])
      assert.is_true(ok, out)
      assert.matches("^1 done; aborted generate raised: [^;]*injected fault; skipped; aborted; run returned$", out)
      assert.equals(1, emu:created() - before)
    end)

    it("a pool's call raising nil, a table, or an object whose __tostring raises: every paid task comes back #child", function()
      local before = emu:created()
      local ok, out = child.run(emu.url, [[
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
        io.write(table.concat(report, " "), "; ")
        run_returns()]])
      assert.is_true(ok, out)
      assert.equals("nil:t,aborted,skipped,aborted table:t,aborted,skipped,aborted "
        .. "bad tostring:t,aborted,skipped,aborted; run returned", out)
      assert.equals(3, emu:created() - before)
    end)

    it("ends the batch when a pool itself raises, every paid task in its item; no coroutine parked #child #m-map-pool-raise-ends-batch", function()
      local before = emu:created()
      local ok, out = child.run(emu.url, [[
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
        run_returns()]], { limit = 30 })
      assert.is_true(ok, out)
      assert.matches("^aborted map raised: [^;]*injected bug; handles=(%d+); run returned$", out)
      assert.equals(emu:created() - before, tonumber(out:match("handles=(%d+)")))
    end)
  end)
end)
