-- Specs for `seedance batch FILE --journal redis://HOST:PORT/NAME` run by several
-- workers at once, as users scale a batch out: the workers split the items,
-- SIGKILLed workers' leases lapse and other workers re-attach to what they
-- paid for, Redis restarting mid-batch pauses submits, and `seedance journal`
-- reads the shared journal. A real redis-server (helpers.redis: append-only
-- file, appendfsync always) and the emulator on loopback.
local cjson = require("cjson")
local cli = require("helpers.cli")
local emulator = require("helpers.emulator")
local process = require("helpers.process")
local redis = require("helpers.redis")
local util = require("helpers.util")

local q = cli.q

-- A batch file of n lines ("clip N").
local function batch_file(dir, n)
  local lines = {}
  for i = 1, n do lines[i] = cjson.encode{ prompt = "clip " .. i, duration = 4 } end
  local path = dir .. "/reqs.jsonl"
  process.write(path, table.concat(lines, "\n") .. "\n")
  return path
end

describe("seedance batch on a shared Redis journal #child", function()
  local emu, srv, dir, env
  before_each(function()
    dir = util.tmpdir()
  end)
  after_each(function()
    if emu then emu:stop() end
    if srv then srv:stop() end
    emu, srv = nil, nil
    util.rmrf(dir)
  end)

  it("3 workers, 10 SIGKILLs of workers and a Redis restart: 60 items, exactly 60 tasks paid, 60 whole videos, "
    .. "no partial file under a final name #slow", function()
    emu = emulator.start{ speed = 40, task_seconds = 60, video_bytes = 65536, media_rate = 131072 }
    srv = redis.start{ password = "pw-batch" }
    env = cli.env(emu)
    local file = batch_file(dir, 60)
    local url = srv:url("big", "lease=2")
    local cmd = "batch -q " .. q(file) .. " --concurrency 6 --journal " .. q(url) .. " -o " .. q(dir .. "/%02d.mp4")
    math.randomseed(20261206)
    local workers, finished, kills, restarted = {}, {}, 0, false
    for w = 1, 3 do workers[w] = cli.start(cmd, env) end
    local function whole_count()
      local n = 0
      for i = 1, 60 do
        local size = util.size_of(string.format("%s/%02d.mp4", dir, i))
        assert(size == nil or size == 65536, "a partial file under its final name: " .. i .. " " .. tostring(size))
        if size then n = n + 1 end
      end
      return n
    end
    -- kill a random worker every 0.4 to 1.2 s (and start another in its place), restart Redis once
    while kills < 10 do
      process.sleep(0.4 + math.random() * 0.8)
      local w = math.random(3)
      os.execute("kill -9 " .. workers[w].pid .. " 2>/dev/null")
      finished[#finished + 1] = { workers[w]:finish() }
      kills = kills + 1
      if kills == 5 and not restarted then
        assert(whole_count() < 60, "the batch ended before Redis restarted: give its tasks more time")
        srv:restart()
        restarted = true
      end
      workers[w] = cli.start(cmd, env)
      whole_count()
    end
    for w = 1, 3 do
      local code, out, err = workers[w]:finish()
      assert.equals(0, code, out .. err)
      assert.is_nil(err:find("pw-batch", 1, true), err)  -- the password is masked
      assert.is_nil(err:find("sk-cli-secret", 1, true))
    end
    assert.equals(60, whole_count())
    assert.equals(60, emu:stats().tasks_created)
    -- the service's key is never written to Redis
    assert.equals("", srv:cli("--scan", "--pattern", "*"):gsub("big:[%w:#]+", ""):gsub("%s", ""))
    local records = srv:cli("LRANGE", "big:records", "0", "-1")
    assert.is_nil(records:find("sk-cli-secret", 1, true))
    -- the shared journal reads as a file journal does
    local code, out, err = cli.run("journal --json " .. q(url), env)
    assert.equals(0, code, err)
    local list = cjson.decode(out)
    assert.equals(60, #list.items)
    for _, item in ipairs(list.items) do assert.equals("downloaded", item.status) end
    assert.is_nil(out:find("pw-batch", 1, true))
  end)

  it("split between workers: each item is paid once, the summary counts those done by the others", function()
    emu = emulator.start{ speed = 100, task_seconds = 20 }
    srv = redis.start{}
    env = cli.env(emu)
    local file = batch_file(dir, 12)
    local url = srv:url("split")
    local cmd = "batch " .. q(file) .. " --concurrency 3 --journal " .. q(url) .. " -o " .. q(dir .. "/%02d.mp4")
    local a, b = cli.start(cmd, env), cli.start(cmd, env)
    local ca, oa, ea = a:finish()
    local cb, ob, eb = b:finish()
    assert.equals(0, ca, oa .. ea)
    assert.equals(0, cb, ob .. eb)
    assert.equals(12, emu:stats().tasks_created)
    assert.matches("12 done", oa)
    assert.matches("12 done", ob)
    assert.is_truthy(oa:find("by other workers", 1, true) or ob:find("by other workers", 1, true))
    for i = 1, 12 do assert.is_truthy(util.size_of(string.format("%s/%02d.mp4", dir, i))) end
    -- a re-run pays nothing: every item is done
    local code, out = cli.run(cmd, env)
    assert.equals(0, code)
    assert.equals(12, emu:stats().tasks_created)
    assert.matches("12 done", out)
  end)

  it("Redis gone for good mid-batch: the worker says it waits for Redis, and Ctrl-C ends it (130), naming the "
    .. "tasks it paid for #found #m-redis-interrupt-waits", function()
    emu = emulator.start{ speed = 20, task_seconds = 60 }
    srv = redis.start{}
    env = cli.env(emu)
    local file = batch_file(dir, 6)
    local job = cli.start("batch " .. q(file) .. " --concurrency 2 --journal " .. q(srv:url("gone")) .. " -o "
      .. q(dir .. "/%d.mp4"), env)
    assert(cli.until_true(function() return select(2, job:stderr():gsub("submitted task", "")) == 2 end),
      job:stderr())
    srv:down() -- and never back
    assert(cli.until_true(function() return job:stderr():find("waiting for Redis", 1, true) ~= nil end),
      job:stderr())
    job:signal("INT")
    local ended = cli.until_true(function() return not process.alive(job.pid) end, 20)
    if not ended then job:signal("KILL") end
    local code, out, err = job:finish()
    assert.is_true(ended, "the worker did not end on Ctrl-C while Redis was gone: " .. err)
    assert.equals(130, code, out .. err)
    assert.matches("interrupted %(SIGINT%): 2 tasks keep running", err)
    assert.equals(2, emu:stats().tasks_created)
  end)

  it("two batch files under one NAME and one output pattern, at once: each file holds one request's video, the "
    .. "other request's item fails saying so #found #m-redis-output-claim", function()
    emu = emulator.start{ speed = 20, task_seconds = 40, video_bytes = 65536, media_rate = 65536 } -- (1 s downloads)
    srv = redis.start{}
    env = cli.env(emu)
    local a, b = dir .. "/a.jsonl", dir .. "/b.jsonl"
    process.write(a, '{"prompt":"from a 1","duration":4}\n{"prompt":"from a 2","duration":4}\n')
    process.write(b, '{"prompt":"from b 1","duration":4}\n{"prompt":"from b 2","duration":4}\n')
    local tail = " --journal " .. q(srv:url("mixed")) .. " -o " .. q(dir .. "/%d.mp4")
    local ja, jb = cli.start("batch " .. q(a) .. tail, env), cli.start("batch " .. q(b) .. tail, env)
    local ca, oa, ea = ja:finish()
    local cb, ob, eb = jb:finish()
    local da, db = tonumber(oa:match("(%d+) done")), tonumber(ob:match("(%d+) done"))
    assert.equals(2, da + db, oa .. ea .. ob .. eb) -- (one video per file, never two items claiming one file)
    -- which batch claims which file first is a race (#found: one may get both files, or each one): a batch
    -- whose items all came through ends 0, one with an item refused ends 9
    assert.equals(da == 2 and 0 or 9, ca, oa .. ea)
    assert.equals(db == 2 and 0 or 9, cb, ob .. eb)
    assert.matches("holds the video of task", oa .. ob)
    assert.equals(4, emu:stats().tasks_created)
  end)

  it("seedance journal and abandon read a rediss:// journal with --ca-file (without it the server's certificate "
    .. "is refused) #m-journal-commands-ca-file", function()
    local certs = require("helpers.tls").make()
    finally(function() certs:remove() end)
    emu = emulator.start{ speed = 20 }
    srv = redis.start{ tls = certs }
    env = cli.env(emu)
    local url = srv:url("over-tls")
    local file = batch_file(dir, 1)
    local code, out, err = cli.run("batch " .. q(file) .. " --ca-file " .. q(certs.ca) .. " --journal " .. q(url)
      .. " -o " .. q(dir .. "/%d.mp4"), env)
    assert.equals(0, code, out .. err)
    local id = err:match("submitted task (task_[%w_-]+)")
    assert.truthy(id, err)
    local lcode, list, lerr = cli.run("journal " .. q(url) .. " --ca-file " .. q(certs.ca))
    assert.equals(0, lcode, lerr)
    assert.matches(id, list)
    local ncode = cli.run("journal " .. q(url))
    assert.is_not.equals(0, ncode) -- (the system's CAs do not know this server)
    local acode, aout, aerr = cli.run("abandon " .. id .. " --journal " .. q(url) .. " --ca-file " .. q(certs.ca))
    assert.equals(0, acode, aout .. aerr)
    local _, list2 = cli.run("journal " .. q(url) .. " --ca-file " .. q(certs.ca))
    assert.matches(id .. "%s+abandoned", list2)
  end)

  it("a journal URL naming no journal, or a bad lease, is refused before anything is paid", function()
    emu = emulator.start{ speed = 100 }
    env = cli.env(emu)
    local file = batch_file(dir, 2)
    local port = process.free_port()
    local err = cli.refused(emu, "batch " .. q(file) .. " --journal " .. q("redis://127.0.0.1:" .. port) .. " -o "
      .. q(dir .. "/%d.mp4"), 2, env)
    assert.matches("/NAME", err)
    err = cli.refused(emu, "generate --prompt x --journal " .. q("redis://:hidden@127.0.0.1:" .. port .. "/j?lease=0"),
      2, env)
    assert.matches("lease", err)
    assert.is_nil(err:find("hidden", 1, true))
  end)
end)
