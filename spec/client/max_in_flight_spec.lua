-- max_in_flight: a task holds one of the client's slots from submit to its
-- end, and gives it back on every exit path (a wait that times out or fails,
-- a close, its handle collected); waiting for a slot honours the caller's
-- deadline and pays for nothing once the client is closed.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local REQ = util.request("a paper boat on a river", 5)

local cleanup = util.cleanup()

describe("a max_in_flight slot comes back on every exit path #c #found", function()
  local emu = emulator.fixture{ speed = 1, task_seconds = 3600 }
  local function slot_client() return util.client_for(emu, { max_in_flight = 1, time_scale = 1 }) end

  it("when wait times out, so the next generate does not hang #m-slot-back-when-wait-fails", function()
    local c = slot_client()
    local t1 = assert(c:generate(REQ))
    local ok, err = t1:wait{ timeout = 0.2 }
    assert.is_nil(ok)
    assert.equals("timeout_error", err.type)
    local t2, err2 = c:generate(REQ, { timeout = 5 })
    assert.truthy(t2, tostring(err2))
  end)

  it("when the task is closed, and when its handle is collected #m-slot-back-when-closed #m-slot-back-when-collected", function()
    local c = slot_client()
    local t1 = assert(c:generate(REQ))
    t1:close()
    assert(c:generate(REQ, { timeout = 5 })) -- its handle is dropped at once
    collectgarbage()
    collectgarbage()
    assert.truthy(c:generate(REQ, { timeout = 5 }))
  end)

  it("when wait ends with an error that is not retried #m-slot-back-when-wait-fails", function()
    local gw = cleanup(gateway.start{ upstream = emu.url, cases = {
      { method = "GET", pattern = "^/v1/tasks/", status = 400,
        json = { error = { code = 400, type = "invalid_request_error", message = "no such task" } } } } })
    local c = util.client_for(gw, { max_in_flight = 1, time_scale = 1 })
    local t1 = assert(c:generate(REQ))
    local _, err = t1:wait()
    assert.equals("invalid_request_error", err.type)
    assert.truthy(c:generate(REQ, { timeout = 5 }))
  end)

  it("when the task is closed during a long pause between polls, at once #m-close-wakes-wait", function()
    local c = util.client_for(emu, { time_scale = 1, poll_min = 20, poll_max = 60 })
    local t = assert(c:generate(REQ))
    local t0, took = core.now(), nil
    seedance.run(function()
      local w = seedance.spawn(function() return t:wait{ timeout = 600 } end)
      seedance.sleep(0.3) -- the wait is in its 20 s pause now
      t:close()
      local ok, err = w:wait()
      took = core.now() - t0
      assert.is_nil(ok)
      assert.equals("aborted", err.type)
    end)
    assert.is_true(took < 2, "took " .. took)
    assert.truthy(c:generate(REQ, { timeout = 5 })) -- and its slot came back
  end)

  it("and waiting for a slot honours the caller's deadline #m-slot-wait-deadline", function()
    local c = slot_client()
    -- held to the end: a collected handle gives its slot back (a GC-stress run collects it early)
    local first = assert(c:generate(REQ))
    local t0 = core.now()
    local t, err = c:generate(REQ, { timeout = 0.3 })
    assert.is_nil(t)
    assert.equals("timeout_error", err.type)
    assert.is_true(core.now() - t0 < 3)
    assert.is_string(first.id)
  end)

  it("so map over a slot that a timed-out wait held finishes instead of hanging", function()
    local results, stats = seedance.map(slot_client(), { REQ, REQ, REQ }, { timeout = 0.2, concurrency = 3 })
    assert.equals(3, stats.failed)
    for i = 1, 3 do assert.equals("timeout_error", results[i].error.type) end
  end)
end)

describe("a submit waiting for a max_in_flight slot #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }

  -- a small PNG file (removed after the spec): a local image whose upload a paid-nothing submit never makes
  local function a_png(name)
    local png = util.tmpfile(name)
    finally(function() os.remove(png) end)
    local f = assert(io.open(png, "wb"))
    f:write("\137PNG\r\n\26\n", string.rep("\0", 64))
    f:close()
    return png
  end

  -- A client with max_in_flight = 1: one task holds the slot, a second submit (with a local image) waits for it;
  -- close(c, first) closes the client at some moment. The waiting submit pays for nothing and uploads nothing.
  local function closed_while_waiting(name, close)
    local c = util.client_for(emu, { max_in_flight = 1 })
    local png = a_png(name)
    local before, stats = emu:created(), emu:stats()
    local second, err
    seedance.run(function()
      local first = assert(c:generate(util.request("holds the slot", 4)))
      local waiting = util.request("waits for the slot")
      waiting.image_urls = { seedance.file(png) }
      local h = seedance.spawn(function() return c:generate(waiting) end)
      close(c, first)
      second, err = h:wait()
    end)
    assert.is_nil(second)
    assert.equals("aborted", err.type)
    assert.equals(1, emu:created() - before)
    assert.equals(stats.uploads, emu:stats().uploads)
    assert.equals(stats.submits + 1, emu:stats().submits)
  end

  it("pays for nothing and sends nothing (not even its local image's upload) when the client is closed while a "
    .. "submit waits for its max_in_flight slot #m-submit-closed-while-waiting", function()
    closed_while_waiting("slot.png", function(c, first)
      seedance.sleep(0.05)
      c:close()
      assert(first:wait())
    end)
  end)

  -- A re-attach (a journaled task, paid for by an earlier client) waits for its slot as a submit does.
  local function reattach_stopped(stop, want, timeout)
    local dir = cleanup(util.tmpdir())
    local path = dir .. "/j.journal"
    local c1 = util.client_for(emu, { journal = path })
    local paid = assert(c1:generate(util.request("paid before the restart", 4)))
    c1:close()
    local c2 = util.client_for(emu, { journal = path, max_in_flight = 1 })
    local before = emu:created()
    local again, err, h
    local cancel = {}
    seedance.run(function()
      local first = assert(c2:generate(util.request("holds the slot", 4)))
      h = seedance.spawn(function()
        return c2:generate(util.request("paid before the restart", 4), { cancel = cancel, timeout = timeout or 5 })
      end)
      seedance.sleep(0.05)
      stop(c2, cancel)
      again, err = h:wait()
      first:close()
    end)
    assert.is_nil(again)
    assert.equals(want or "aborted", err.type)
    assert.equals(paid.id, err.task_id) -- the task paid for stays named
    assert.equals(paid.idempotency_key, err.idempotency_key)
    assert.equals(1, emu:created() - before)
    c2:close()
  end

  it("#found ends a re-attach waiting for its max_in_flight slot when the client is closed, naming its task "
    .. "#m-reattach-slot-wait-stops", function()
    reattach_stopped(function(c) c:close() end)
  end)

  it("#found ends a re-attach waiting for its max_in_flight slot when its run is stopped, naming its task "
    .. "#m-reattach-slot-wait-stops", function()
    reattach_stopped(function(_, cancel) require("seedance.scheduler").interrupt(cancel) end)
  end)

  it("#found names the task and its Idempotency-Key when a re-attach's slot wait reaches its deadline "
    .. "#m-reattach-timeout-names-key", function()
    reattach_stopped(function() seedance.sleep(0.3) end, "timeout_error", 0.1)
  end)

  it("#found pays for nothing and uploads nothing when the client is closed just as its slot comes free (the "
    .. "wait is over, the submit not yet begun) #m-submit-closed-while-waiting", function()
    closed_while_waiting("slot-free.png", function(c, first)
      assert(first:wait()) -- the slot comes free: the waiting submit is woken, to run at the next step
      c:close()            -- before it runs
    end)
  end)
end)
