-- Specs for the shared journal (seedance.journal.redis): `journal = "redis://..."`
-- against a real redis-server on loopback (helpers.redis) and the emulator.
-- A request is claimed with a lease its worker renews while alive; another
-- worker waits for it, and re-attaches to the task a SIGKILLed worker paid
-- for; the intent (with its Idempotency-Key) is in Redis before the submit is
-- sent, and nothing is sent while Redis is down; step(0) never waits on
-- Redis; a password and TLS work; the service's key never reaches Redis.
local seedance = require("seedance")
local child = require("helpers.child")
local cli = require("helpers.cli")
local emulator = require("helpers.emulator")
local journal = require("seedance.journal")
local nowait = require("helpers.nowait")
local redis = require("helpers.redis")
local tls = require("helpers.tls")
local util = require("helpers.util")

-- Step seedance from a frame loop until done() (at most `limit` seconds).
local function frames(done, limit)
  local deadline = seedance.now() + (limit or 60)
  while not done() and seedance.now() < deadline do seedance.step(0) end
end

-- Run fn in a coroutine, stepping from a frame loop until it returns; its results.
local function in_frames(fn, limit)
  local result
  seedance.spawn(function() result = table.pack(fn()) end)
  frames(function() return result ~= nil end, limit)
  assert(result, "did not finish")
  return table.unpack(result, 1, result.n)
end

-- A child that opens the journal at url, claims `key` and prints "claimed" (then lives on).
local function claiming_child(url, key)
  local code = string.format([[
    local scheduler = require("seedance.scheduler")
    local j = assert(require("seedance.journal").open(%q))
    scheduler.spawn(function()
      assert(j:claim(%q))
      io.stdout:write("claimed ", j.worker, "\n")
      io.stdout:flush()
    end)
    scheduler.run(function() return false end)
  ]], url, key)
  return cli.background(child.command(code))
end

describe("the shared journal on Redis #c", function()
  local srv, emu
  local cleanup = util.cleanup()
  setup(function()
    srv = redis.start{ password = "pw-spec" }
    emu = emulator.start{ speed = util.SPEED }
  end)
  teardown(function()
    if emu then emu:stop() end
    if srv then srv:stop() end
  end)

  it("a request claimed by one worker is refused to another, renewed while its worker lives, and free once "
    .. "it is killed and its lease lapses #child #m-redis-lease", function()
    local url = srv:url("lease", "lease=1")
    local j = assert(journal.open(url))
    cleanup(function() j:close() end)
    local job, ended = claiming_child(url, "k#1"), false
    finally(function()
      if not ended then
        job:signal("KILL")
        job:finish()
      end
    end)
    assert(cli.until_true(function() return job:stderr() ~= "" or util.read_file(job.out):find("claimed") end, 20))
    local holder = util.read_file(job.out):match("claimed (%S+)")
    assert.is_truthy(holder, job:stderr())
    local ok, by = in_frames(function() return j:claim("k#1") end)
    assert.is_false(ok)
    assert.equals(holder, by)
    in_frames(function() seedance.sleep(2.5) end) -- 2.5 leases: the child renews it
    assert.is_false((in_frames(function() return j:claim("k#1") end)))
    job:signal("KILL")
    job:finish()
    ended = true
    in_frames(function() seedance.sleep(1.5) end) -- its lease lapses
    assert.is_true((in_frames(function() return j:claim("k#1") end)))
    assert.equals(j.worker, srv:cli("GET", "lease:lease:k#1"))
  end)

  it("records the intent, with its Idempotency-Key, in Redis before the submit is sent; the service's key "
    .. "never reaches Redis #m-redis-intent", function()
    local url = srv:url("intent")
    local c = util.client_for(emu, { journal = url, api_key = "sk-never-in-redis" })
    cleanup(function() c:close() end)
    local seen
    local task, err = in_frames(function()
      local t, e = c:generate({ model = util.MODEL, prompt = "intent first" }, { before_submit = function(key)
        seen = { key = key, records = srv:cli("LRANGE", "intent:records", "0", "-1") }
        return true
      end })
      if t then t, e = t:wait() end
      return t, e
    end)
    assert.is_truthy(task, tostring(err))
    assert.is_truthy(seen.records:find('"idempotency_key":"' .. seen.key .. '"', 1, true), seen.records)
    assert.is_truthy(seen.records:find('"type":"submit"', 1, true))
    local all = srv:cli("LRANGE", "intent:records", "0", "-1")
    assert.is_truthy(all:find(task.id, 1, true))
    assert.is_nil(all:find("sk-never-in-redis", 1, true))
    -- the journal reads back as a file journal does
    local j = assert(journal.read(url))
    local e = j:find_task(task.id)
    assert.equals("completed", e.status)
    assert.equals(seen.key, e.idempotency_key)
  end)

  it("another worker re-attaches to the task a SIGKILLed worker paid for: never paid again #child "
    .. "#m-redis-reattach", function()
    local slow = emulator.start{ speed = 20, task_seconds = 40 }
    finally(function() slow:stop() end)
    local url = srv:url("reattach", "lease=1")
    local req = { model = util.MODEL, prompt = "paid once" }
    -- this worker opens the journal first (it reads nothing), then the other one pays and is killed
    local c = util.client_for(slow, { journal = url })
    cleanup(function() c:close() end)
    local code = string.format([[
      local seedance = require("seedance")
      local c = seedance.new{ api_key = "sk-spec", base_url = %q, journal = %q }
      local t = assert(c:generate(%s))
      io.stdout:write("paid ", t.id, "\n")
      io.stdout:flush()
      t:wait()
    ]], slow.url, url, "{ model = " .. string.format("%q", util.MODEL) .. ", prompt = \"paid once\" }")
    local job = cli.background(child.command(code))
    assert(cli.until_true(function() return util.read_file(job.out):find("paid task_") end, 20), job:stderr())
    job:signal("KILL")
    local _, out = job:finish()
    local paid = out:match("paid (%S+)")
    assert.equals(1, slow:stats().tasks_created)
    local task, err = in_frames(function()
      local t, e = c:generate(req)
      if t then t, e = t:wait() end
      return t, e
    end)
    assert.is_truthy(task, tostring(err))
    assert.equals(paid, task.id)
    assert.is_true(task.reattached)
    assert.equals("completed", task.status)
    assert.equals(1, slow:stats().tasks_created)
  end)

  it("Redis down: nothing is submitted until it answers again, then the request goes on #slow", function()
    local url = srv:url("outage")
    local c = util.client_for(emu, { journal = url })
    cleanup(function() c:close() end)
    local before = emu:stats().tasks_created
    srv:down()
    local result
    seedance.spawn(function()
      local t, e = c:generate{ model = util.MODEL, prompt = "while Redis is down" }
      if t then t, e = t:wait() end
      result = { t, e }
    end)
    frames(function() return result ~= nil end, 1.5)
    assert.is_nil(result)
    assert.equals(before, emu:stats().tasks_created)
    srv:up()
    frames(function() return result ~= nil end, 30)
    assert.is_truthy(result and result[1], tostring(result and result[2]))
    assert.equals(before + 1, emu:stats().tasks_created)
    local j = assert(journal.read(url))
    assert.equals("completed", j:find_task(result[1].id).status)
  end)

  it("step(0) never waits on Redis: a generate, its wait and its download from a frame loop", function()
    local url = srv:url("frames")
    local c = util.client_for(emu, { journal = url })
    cleanup(function() c:close() end)
    local out = util.tmpfile("redis-frames.mp4")
    cleanup(function() os.remove(out) end)
    local waits, stop = nowait.record()
    finally(stop)
    local result
    seedance.spawn(function()
      local t, e = c:generate{ model = util.MODEL, prompt = "frames" }
      if t then t, e = t:wait() end
      if t then t, e = t:download(out) end
      result = { t, e }
    end)
    frames(function() return result ~= nil end)
    stop()
    assert.is_truthy(result and result[1], tostring(result and result[2]))
    assert.is_nil(nowait.first_wait(waits))
    assert.is_truthy(srv:cli("LRANGE", "frames:records", "0", "-1"):find('"type":"download"', 1, true))
  end)

  it("Redis loses the journal (flushed, a fresh journal under its NAME since): the worker submits nothing more "
    .. "with it and says why #found #m-redis-journal-gone", function()
    local url = srv:url("flushed")
    local c = util.client_for(emu, { journal = url })
    cleanup(function() c:close() end)
    local first, ferr = in_frames(function() return c:generate{ model = util.MODEL, prompt = "before the flush" } end)
    assert.is_truthy(first, tostring(ferr))
    local paid = emu:stats().tasks_created
    srv:cli("FLUSHALL")
    local other = assert(journal.open(url)) -- a worker started on the emptied Redis: a journal of its own
    other:close()
    local task, err = in_frames(function() return c:generate{ model = util.MODEL, prompt = "after the flush" } end)
    assert.is_nil(task)
    assert.is_true(err.journal_gone)
    assert.matches("Redis no longer holds the journal this worker read", err.message)
    assert.equals(paid, emu:stats().tasks_created)
    assert.is_nil(srv:cli("LRANGE", "flushed:records", "0", "-1"):find("after the flush", 1, true))
  end)

  it("a wrong password is refused with the password masked", function()
    local bad = srv:url("x"):gsub("pw%-spec", "wrong-pass")
    local j, err = journal.open(bad, { wait = 1 })
    assert.is_nil(j)
    assert.is_nil(tostring(err):find("wrong-pass", 1, true), err)
    assert.matches("redis://:%*%*%*@", err)
  end)

  -- a redis-server with a tls-port and certificates this spec makes (spec/helpers/tls.lua)
  it("over TLS (rediss://) works with the server's CA, and is refused without it; a scheme that does not match "
    .. "the port is named #m-redis-scheme-hint", function()
    local certs = tls.make()
    local tls_srv = redis.start{ tls = certs }
    finally(function()
      tls_srv:stop()
      certs:remove()
    end)
    local url = tls_srv:url("tls")
    -- a scheme that does not match the port is named as the likely cause, either way (found: a bare timeout)
    local plain_srv = redis.start{}
    finally(function() plain_srv:stop() end)
    local _, to_tls = journal.open((url:gsub("^rediss://", "redis://")), { wait = 2, timeout = 1 })
    assert.matches("if this port is a TLS one, use rediss://", tostring(to_tls))
    local _, to_plain = journal.open((plain_srv:url("x"):gsub("^redis://", "rediss://")),
      { wait = 2, timeout = 1, ca_file = certs.ca })
    assert.matches("if this port is a plain Redis one, use redis://", tostring(to_plain))
    assert.matches("^rediss://", url)
    local j, err = journal.open(url, { wait = 2 })
    assert.is_nil(j)
    assert.is_truthy(err)
    local c = util.client_for(emu, { journal = url, ca_file = certs.ca })
    local task, terr = in_frames(function()
      local t, e = c:generate{ model = util.MODEL, prompt = "over tls" }
      if t then t, e = t:wait() end
      return t, e
    end)
    c:close()
    assert.is_truthy(task, tostring(terr))
    assert.is_truthy(tls_srv:cli("LRANGE", "tls:records", "0", "-1"):find(task.id, 1, true))
  end)
end)
