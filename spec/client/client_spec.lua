-- Specs for the client against the real emulator on a loopback port, with
-- real libcurl and real files: every call in the three ways to run, every
-- error type, retries, idempotency, downloads, and handle lifetimes.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local nowait = require("helpers.nowait")

local util = require("helpers.util")
local SPEED, client_for, tmpfile, size_of, head, is_mp4 =
  util.SPEED, util.client_for, util.tmpfile, util.size_of, util.head, util.is_mp4

local REQ = { model = "doubao-seedance-2.0", prompt = "a kitten yawns at the camera", duration = 5 }

local cleanup = util.cleanup()

describe("client against the emulator #c", function()
  local emu = emulator.fixture{ speed = SPEED }

  describe("in plain code (blocking)", function()
    it("generates, waits with progress, and downloads a playable MP4", function()
      local c = client_for(emu)
      local task = assert(c:generate(REQ))
      assert.matches("^task_", task.id)
      assert.equals("submitted", task.status)
      local seen = {}
      assert(task:wait{ on_progress = function(t) seen[#seen + 1] = t.status .. ":" .. tostring(t.progress) end })
      assert.equals("completed", task.status)
      assert.equals(100, task.progress)
      assert.truthy(seen[#seen]:match("^completed"))
      assert.matches("^http://127%.0%.0%.1:%d+/", task.video_url)
      assert.is_number(task.expires_at)
      local path = tmpfile("plain.mp4")
      local got = {}
      assert.equals(path, task:download(path, { on_progress = function(d, t) got[#got + 1] = { d, t } end }))
      assert.equals(0, emu:stats().media_with_authorization)   -- the key never goes to the media host
      assert.is_true(is_mp4(path))
      assert.is_nil(size_of(path .. ".part"))
      assert.equals(size_of(path), got[#got][1])
      os.remove(path)
    end)

    it("refreshes a handle made from an id, and reads the balance", function()
      local c = client_for(emu)
      local task = assert(c:generate(REQ))
      local again = c:task(task.id)
      assert.is_nil(again.status)
      assert(again:refresh())
      assert.is_string(again.status)
      local bal = assert(c:balance())
      assert.is_number(bal.remain_balance)
      assert.is_number(bal.used_balance)
    end)

    it("uploads a local image given as seedance.file and sends its URL", function()
      local c = client_for(emu)
      local png = tmpfile("cat.png")
      local f = assert(io.open(png, "wb"))
      f:write("\137PNG\r\n\26\n", string.rep("\0", 64))
      f:close()
      local url = assert(c:upload_image(png))
      assert.matches("^https?://", url)
      local task = assert(c:generate{ model = "doubao-seedance-2.0", image_urls = { seedance.file(png) } })
      assert(task:wait())
      os.remove(png)
    end)

    it("returns the last frame with return_last_frame", function()
      local c = client_for(emu)
      local task = assert(c:generate{ model = "doubao-seedance-2.0", prompt = "x", return_last_frame = true })
      assert(task:wait())
      assert.matches("^http", task.last_frame_url)
      local path = tmpfile("last.png")
      assert(task:download(path, { source = "last_frame" }))
      assert.equals("\137PNG", head(path, 4))
      os.remove(path)
    end)

    it("answers an unknown task id with an error, not a raise", function()
      local c = client_for(emu)
      local ok, err = c:task("task_00000000000000000000000000"):refresh()
      assert.is_nil(ok)
      assert.is_true(err.status == 400 or err.status == 404)
      assert.is_false(err.retryable)
    end)
  end)

  describe("under seedance.run", function()
    it("runs three videos concurrently, each waiting with progress and downloading", function()
      local c = client_for(emu)
      local t0 = core.now()
      local paths = seedance.run(function()
        local jobs = {}
        for i = 1, 3 do
          jobs[i] = seedance.spawn(function()
            local task = assert(c:generate(REQ))
            local updates = 0
            assert(task:wait{ on_progress = function() updates = updates + 1 end })
            assert.is_true(updates >= 1)
            return assert(task:download(tmpfile("run" .. i .. ".mp4")))
          end)
        end
        local out = {}
        for i = 1, 3 do out[i] = assert(jobs[i]:wait()) end
        return out
      end)
      for _, p in ipairs(paths) do
        assert.is_true(is_mp4(p))
        os.remove(p)
      end
      print(string.format("\n  three concurrent videos took %.2f s", core.now() - t0))
    end)

    it("completes 200 tasks at once", function()
      local c = client_for(emu)
      local done = 0
      seedance.run(function()
        for _ = 1, 200 do
          seedance.spawn(function()
            local task = assert(c:generate(REQ))
            assert(task:wait())
            done = done + 1
          end)
        end
      end)
      assert.equals(200, done)
    end)
  end)

  describe("from a frame loop with seedance.step(0)", function()
    it("generates, waits and downloads without ever blocking #m-step-never-blocks", function()
      local c = client_for(emu)
      local path = tmpfile("frames.mp4")
      local result
      seedance.spawn(function()
        local task = assert(c:generate(REQ))
        assert(task:wait())
        result = { task:download(path) }
      end)
      local waits, stop, pause = nowait.record()
      finally(stop)
      local worst, frames = 0, 0
      local deadline = core.now() + 60
      while not result and core.now() < deadline do
        local t0 = core.now()
        seedance.step(0)
        worst = math.max(worst, core.now() - t0)
        frames = frames + 1
        pause(0.001)
      end
      stop()
      assert.equals(path, result[1])
      assert.is_true(is_mp4(path))
      os.remove(path)
      print(string.format("\n  %d frames, slowest step(0) %.2f ms", frames, worst * 1000))
      assert.is_true(#waits > 0)
      assert.is_nil(nowait.first_wait(waits))
    end)

    it("keeps step(0) short with 500 tasks in flight #m-step-never-blocks", function()
      -- the wait's bound in wall seconds, not service seconds sped up: valgrind
      -- slows the client, not the emulator's clock
      local c = client_for(emu, { wait_timeout = 1e6 })
      local finished, failed = 0, {}
      for _ = 1, 500 do
        seedance.spawn(function()
          local task, err = c:generate(REQ)
          if task then task, err = task:wait() end
          if task then finished = finished + 1 else failed[#failed + 1] = tostring(err) end
        end)
      end
      local waits, stop, pause = nowait.record()
      finally(stop)
      local times = {}
      local deadline = core.now() + 300 -- a bound for slow runs (valgrind takes about 125 s)
      while finished + #failed < 500 and core.now() < deadline do
        local t0 = core.now()
        seedance.step(0)
        times[#times + 1] = core.now() - t0
        pause(0.0005)
      end
      stop()
      assert.same({}, failed)
      assert.equals(500, finished)
      table.sort(times)
      local p99 = times[math.max(1, math.floor(#times * 0.99))]
      print(string.format("\n  500 tasks: %d steps, p50 %.3f ms, p99 %.3f ms, max %.3f ms", #times,
        times[math.floor(#times / 2) + 1] * 1000, p99 * 1000, times[#times] * 1000))
      -- the figures belong to bench/ (B3); this proves step(0) never waits on IO
      assert.is_true(#waits > 0)
      assert.is_nil(nowait.first_wait(waits))
    end)
  end)

  describe("every API call, in each of the three ways to run", function()
    -- One pass over the whole API; returns what it saw.
    local function every_call(c)
      local png = tmpfile("every.png")
      local f = assert(io.open(png, "wb"))
      f:write("\137PNG\r\n\26\n", string.rep("\0", 16))
      f:close()
      local seen = {}
      seen.upload = assert(c:upload_image(png))
      local task = assert(c:generate{ model = "doubao-seedance-2.0", image_urls = { seedance.file(png) },
                                      return_last_frame = true })
      seen.generate = task.id
      seen.refresh = assert(task:refresh()).status
      seen.handle = assert(c:task(task.id):refresh()).id
      seen.wait = assert(task:wait()).status
      local out = tmpfile("every.mp4")
      seen.download = is_mp4(assert(task:download(out)))
      seen.balance = type(assert(c:balance()).remain_balance)
      os.remove(out)
      os.remove(png)
      return seen
    end
    local function check(seen)
      assert.matches("^http", seen.upload)
      assert.matches("^task_", seen.generate)
      assert.is_string(seen.refresh)
      assert.equals(seen.generate, seen.handle)
      assert.equals("completed", seen.wait)
      assert.is_true(seen.download)
      assert.equals("number", seen.balance)
    end

    it("blocks in plain code", function()
      check(every_call(client_for(emu)))
    end)

    it("yields under seedance.run while another coroutine goes on", function()
      local c = client_for(emu)
      local ticks = 0
      local seen = seedance.run(function()
        local ticker = seedance.spawn(function()
          for _ = 1, 5 do seedance.sleep(0.001); ticks = ticks + 1 end
        end)
        local s = every_call(c)
        ticker:wait()
        return s
      end)
      check(seen)
      assert.equals(5, ticks)
    end)

    it("never blocks when stepped with seedance.step(0) #m-step-never-blocks", function()
      local c = client_for(emu)
      local seen
      seedance.spawn(function() seen = every_call(c) end)
      local waits, stop, pause = nowait.record()
      finally(stop)
      local worst, deadline = 0, core.now() + 60
      while not seen and core.now() < deadline do
        local t0 = core.now()
        seedance.step(0)
        worst = math.max(worst, core.now() - t0)
        pause(0.0005)
      end
      stop()
      check(seen)
      print(string.format("\n  every call: slowest step(0) %.2f ms", worst * 1000))
      assert.is_true(#waits > 0)
      assert.is_nil(nowait.first_wait(waits))
    end)
  end)

  describe("lifetimes", function()
    it("survives task handles collected mid-flight", function()
      local c = client_for(emu)
      local weak = setmetatable({}, { __mode = "v" })
      for i = 1, 20 do
        seedance.spawn(function()
          local task = c:generate(REQ)
          weak[i] = task
          task:wait()
        end)
      end
      for _ = 1, 5 do seedance.step(0); collectgarbage("collect") end
      -- abandon the coroutines' results; they finish on their own
      local deadline = core.now() + 60
      while seedance.step(0.01) > 0 and core.now() < deadline do collectgarbage("step") end
      collectgarbage("collect")
      assert.equals(0, require("seedance.scheduler").stats().transfers)
    end)

    it("a closed client makes no more calls #m-closed-client-refuses", function()
      local c = client_for(emu)
      c:close()
      local before = emu:stats().submits
      assert.has_error(function() c:generate(REQ) end, "attempt to use a closed client")
      assert.equals(before, emu:stats().submits)
    end)

    it("closes a task twice, and raises on use after close", function()
      local c = client_for(emu)
      local task = assert(c:generate(REQ))
      task:close()
      task:close()
      assert.has_error(function() task:refresh() end, "attempt to use a closed task")
    end)

    if _VERSION == "Lua 5.4" then
      it("closes a task with <close>", function()
        local c = client_for(emu)
        local chunk = assert(load([[
          local c = ...
          local kept
          do
            local t <close> = assert(c:generate{ model = "doubao-seedance-2.0", prompt = "x" })
            kept = t
          end
          return kept
        ]]))
        local t = chunk(c)
        assert.is_true(t.closed)
      end)
    end
  end)
end)

describe("a client's settings and notices #c", function()
  local emu = emulator.fixture{ speed = SPEED }

  it("hands out its settings as a copy: changing client.settings changes nothing #m-settings-copy", function()
    local c = client_for(emu)
    c.settings.validate = false
    c.settings.journal = "elsewhere.journal"
    local task, err = c:generate{ model = "doubao-seedance-2.0", prompt = "x", duration = 99 }
    assert.is_nil(task)
    assert.equals("validation_error", err.type)
    assert.equals(0, emu:stats().tasks_created)
    c:close()
  end)

  local function journal_with_bad_record()
    return cleanup(util.tmpfile("notice.journal",
      '{"v":1,"type":"journal","format":"seedance-journal","created":1764000000}\nnot json\n'))
  end

  it("writes nothing to stderr itself: a journal's skipped records go to the logger #child #m-journal-notice-logger", function()
    local quiet, noted = journal_with_bad_record(), journal_with_bad_record()
    local ok, out = require("helpers.child").run(emu.url, ([[
      local lines = {}
      local c2 = seedance.new{ api_key = "k", base_url = os.getenv("URL"), journal = %q,
                               logger = function(level, line) lines[#lines + 1] = level .. ": " .. line end }
      c2:close()
      io.stdout:write(table.concat(lines, "\n"), "\n")
    ]]):format(noted), { journal = quiet })
    assert(ok, out)
    -- the first client (no logger, no SEEDANCE_LOG) wrote nothing; the second told its logger
    assert.equals("warn: journal " .. noted .. ": skipped 0 malformed and 1 torn records\n", out)
  end)
end)

describe("client errors against the emulator #c", function()
  it("gives authentication_error (401) and payment_required (402) for the built-in test keys", function()
    local emu = cleanup(emulator.start{ speed = SPEED })
    local _, e401 = client_for(emu, { api_key = "sk-test-401" }):generate(REQ)
    local _, e402 = client_for(emu, { api_key = "sk-test-402" }):generate(REQ)
    emu:stop()
    assert.equals("authentication_error", e401.type)
    assert.equals(401, e401.status)
    assert.is_false(e401.retryable)
    assert.equals("payment_required", e402.type)
    assert.equals(402, e402.status)
    assert.is_nil(tostring(e401):find("sk-test-401", 1, true))
  end)

  it("passes a request past client checks with validate = false, and the service's 400 names the field", function()
    local emu = cleanup(emulator.start{ speed = SPEED })
    local c = client_for(emu, { validate = false })
    local _, err = c:generate{ model = "doubao-seedance-2.0", prompt = "x", duration = 99 }
    local t2, err2 = client_for(emu):generate({ model = "doubao-seedance-2.0", prompt = "x", duration = 99 },
      { validate = false })
    emu:stop()
    assert.equals("invalid_request_error", err.type)
    assert.equals(400, err.status)
    assert.matches("duration", err.message)
    assert.is_nil(t2)
    assert.equals(400, err2.status)
  end)

  it("retries 429 after Retry-After, and gives up when it is longer than max_retry_after", function()
    local emu = cleanup(emulator.start{ speed = SPEED, rpm = 2, rpm_window = 1 })
    local retries, waits = 0, {}
    local c = client_for(emu, { on_retry = function(_, _, delay) retries = retries + 1; waits[#waits + 1] = delay end })
    for _ = 1, 3 do assert(c:balance()) end   -- the third is over the limit: 429, then a retry after Retry-After
    assert.is_true(retries >= 1)
    assert.is_true(waits[1] >= 1, "delay was " .. tostring(waits[1]))
    local strict = client_for(emu, { max_retry_after = 0.5 })
    local err
    for _ = 1, 5 do
      local ok, e = strict:balance()
      if not ok then err = e; break end
    end
    emu:stop()
    assert.equals("rate_limit_error", err.type)
    assert.equals(429, err.status)
    assert.matches("max_retry_after", err.message)
  end)

  it("retries 5xx answers until success, and one submit makes one task", function()
    local emu = cleanup(emulator.start{ speed = SPEED, error_rate = 0.5, fault_seed = 7 })
    local retried = 0
    local c = client_for(emu, { max_retries = 12, on_retry = function() retried = retried + 1 end })
    for _ = 1, 10 do assert(c:generate(REQ)) end
    local stats = emu:stats()
    emu:stop()
    assert.is_true(retried > 0)
    assert.equals(10, stats.tasks_created)
  end)

  it("retries dropped connections, and a retried submit never makes a second task #m-idempotency-key-same-every-retry #m-submit-no-idempotency-key", function()
    local emu = cleanup(emulator.start{ speed = SPEED, drop_rate = 0.4, fault_seed = 11 })
    local c = client_for(emu, { max_retries = 15 })
    for _ = 1, 10 do assert(c:generate(REQ)) end
    local stats = emu:stats()
    emu:stop()
    assert.equals(10, stats.tasks_created)
  end)

  it("turns garbage bodies into clear errors carrying the status, and retries them", function()
    local emu = cleanup(emulator.start{ speed = SPEED, garbage_rate = 1, fault_seed = 3 })
    local c = client_for(emu, { max_retries = 0 })
    local _, err = c:balance()
    emu:stop()
    assert.is_number(err.status)
    assert.is_true(err.retryable)
    assert.truthy(err.message:match("not the service's JSON") or err.message:match("HTTP %d+"))
    local emu2 = cleanup(emulator.start{ speed = SPEED, garbage_rate = 0.5, fault_seed = 5 })
    local c2 = client_for(emu2, { max_retries = 15 })
    for _ = 1, 5 do assert(c2:balance()) end
    emu2:stop()
  end)

  it("gives task_failed with the service's error when a task fails", function()
    local emu = cleanup(emulator.start{ speed = SPEED, fail_rate = 1 })
    local c = client_for(emu)
    local task = assert(c:generate(REQ))
    local ok, err = task:wait()
    emu:stop()
    assert.is_nil(ok)
    assert.equals("task_failed", err.type)
    assert.equals(task.id, err.task_id)
    assert.is_string(err.message)
    assert.equals("failed", task.status)
    assert.is_table(task.error)
  end)

  it("gives timeout_error when the wait deadline passes", function()
    local emu = cleanup(emulator.start{ speed = 1 })
    local c = client_for(emu, { time_scale = 1 })
    local task = assert(c:generate(REQ))
    local ok, err = task:wait{ timeout = 0.3 }
    emu:stop()
    assert.is_nil(ok)
    assert.equals("timeout_error", err.type)
    assert.equals(task.id, err.task_id)
  end)

  it("gives expired when the result URL has expired", function()
    local emu = cleanup(emulator.start{ speed = SPEED, url_ttl = 1 })
    local c = client_for(emu)
    local task = assert(c:generate(REQ))
    assert(task:wait())
    core.sleep(1.5)
    local path = tmpfile("expired.mp4")
    local ok, err = task:download(path)
    emu:stop()
    assert.is_nil(ok)
    assert.equals("expired", err.type)
    assert.equals(403, err.status)
    assert.is_nil(size_of(path))
  end)

  it("resumes an interrupted download with Range #m-download-progress-counts-part #m-download-progress-total-whole #m-range-resume", function()
    local bytes = 8 * 1024 * 1024
    -- the resumed 2 MB take 0.5 s: ticks
    local emu = cleanup(emulator.start{ speed = SPEED, video_bytes = bytes, media_rate = 4 * 1024 * 1024 })
    local c = client_for(emu)
    local task = assert(c:generate(REQ))
    assert(task:wait())
    local path = tmpfile("resume.mp4")
    local ok, err = task:download(path, { on_progress = function(done)
      if done > 6 * 1024 * 1024 then error("stop here") end -- most of it: a resumed tick sees less
    end })
    assert.is_nil(ok)
    assert.equals("callback_error", err.type)
    local partial = size_of(path .. ".part")
    assert.is_true(partial and partial > 0 and partial < bytes)
    assert.is_nil(size_of(path))
    local least, totals = math.huge, {}
    local ranges = emu:stats().range_requests
    assert(task:download(path, { on_progress = function(done, total)
      least = math.min(least, done)
      totals[#totals + 1] = total
    end }))
    local stats = emu:stats()
    emu:stop()
    assert.equals(ranges + 1, stats.range_requests) -- the second download asked for the rest only
    assert.equals(bytes, size_of(path))
    -- progress counts the whole file: the bytes already in .part, and the whole size
    assert.is_true(least >= partial, "resumed at " .. tostring(least) .. ", partial " .. partial)
    assert.is_true(#totals > 1)
    for _, total in ipairs(totals) do assert.equals(bytes, total) end
    os.remove(path)
  end)

  it("answers a replayed Idempotency-Key with the original task", function()
    local emu = cleanup(emulator.start{ speed = SPEED })
    local c = client_for(emu)
    local a = assert(c:generate(REQ, { idempotency_key = "spec-key-1" }))
    local b = assert(c:generate(REQ, { idempotency_key = "spec-key-1" }))
    local stats = emu:stats()
    emu:stop()
    assert.equals(a.id, b.id)
    assert.is_true(b.replayed)
    assert.equals(1, stats.tasks_created)
  end)

  it("gives network_error when nothing listens", function()
    local c = seedance.new{ api_key = "k", base_url = "http://127.0.0.1:9", max_retries = 1, backoff = 0.01 }
    local _, err = c:balance()
    assert.equals("network_error", err.type)
    assert.is_true(err.retryable)
  end)
end)

describe("closing while a call waits out the service's rate limit #found #c", function()
  local gateway = require("helpers.gateway")
  local emu, gw
  before_each(function()
    emu = emulator.start{ speed = SPEED }
    gw = gateway.start{ upstream = emu.url }
  end)
  after_each(function()
    gw:stop()
    emu:stop()
  end)
  local function client()
    return seedance.new{ api_key = "sk-spec", base_url = gw.url, time_scale = 1 / SPEED, max_retries = 3 }
  end
  local RATE = { status = 429, headers = { { "Retry-After", "5" } },
                 json = { error = { code = 429, type = "rate_limit_error", message = "slow down" } } }
  local function rate_limited(case)
    for k, v in pairs(RATE) do case[k] = v end
    return case
  end

  -- call() in a coroutine; once the gateway has answered its case `case`, and the caller pauses on it, close().
  -- Returns call()'s results as a list.
  local function close_during_pause(case, call, close)
    local result
    seedance.run(function()
      seedance.spawn(function() result = { call() } end)
      while #gw:requests{ case = case } < 1 do seedance.sleep(0.01) end
      seedance.sleep(0.2)
      close()
    end)
    return result
  end

  it("a task closed while its wait, or another task's, pauses for a 429's Retry-After (which every sender of the "
    .. "client waits out) ends at once and sends nothing more #m-poll-stops-when-closed", function()
    local c = client()
    local a, b = assert(c:generate(REQ)), assert(c:generate(REQ))
    gw:script{ upstream = emu.url, cases = { rate_limited{ name = "rate", method = "GET", pattern = "^/v1/tasks/",
                                                           times = 2 } } }
    local results = {}
    seedance.run(function()
      seedance.spawn(function() results.a = { a:wait() } end)
      seedance.spawn(function()
        while #gw:requests{ case = "rate" } < 1 do seedance.sleep(0.01) end
        seedance.sleep(0.2) -- a 429 came: the client pauses every sender; b's poll waits in that pause too
        seedance.spawn(function() results.b = { b:wait() } end)
        seedance.sleep(0.2)
        a:close()
        b:close()
      end)
    end)
    assert.equals("aborted", results.a[2].type)
    assert.equals("aborted", results.b[2].type)
    assert.equals(1, #gw:requests{ method = "GET" }) -- the one that met the 429; nothing after the close
    -- and nothing left to send once the pause ends (b's poll waited in the client's window: it went with b)
    assert.equals(0, require("seedance.scheduler").engine():pending())
  end)

  it("a task closed while its download waits to try again (a 503's Retry-After) ends the download at once and "
    .. "fetches nothing more #m-download-stops-when-closed", function()
    gw:script{ upstream = emu.url, cases = {
      -- the task's result URL through the gateway, whose first answer for it is a 503
      { name = "poll", method = "GET", pattern = "^/v1/tasks/", forward = true, replace = { { emu.url, "{{base}}" } } },
      { name = "busy", method = "GET", pattern = "^/media/", times = 1, status = 503,
        headers = { { "Retry-After", "5" } }, json = { error = { code = 503, type = "server_error", message = "busy" } } } } }
    local c = client()
    local task = assert(c:generate(REQ))
    assert(task:wait())
    assert.truthy(task.video_url:find(gw.url, 1, true), task.video_url)
    local path = tmpfile("closed.mp4")
    local result = close_during_pause("busy", function() return task:download(path) end, function() task:close() end)
    assert.is_nil(result[1])
    assert.equals("aborted", result[2].type)
    local media = 0
    for _, r in ipairs(gw:requests{ method = "GET" }) do
      if r.path:find("^/media/") then media = media + 1 end
    end
    assert.equals(1, media) -- the 503; nothing fetched after the close
    assert.is_nil(size_of(path))
    os.remove(path .. ".part")
    os.remove(path .. ".part.meta")
  end)

  it("a client closed while its submit pauses for a 429's Retry-After ends the submit at once: aborted, with its "
    .. "key, and nothing more is sent (nothing paid after close) #m-submit-stops-when-closed", function()
    gw:script{ upstream = emu.url, cases = { rate_limited{ name = "rate", method = "POST", times = 2 } } }
    local c = client()
    local result = close_during_pause("rate", function() return c:generate(REQ) end, function() c:close() end)
    assert.is_nil(result[1])
    assert.equals("aborted", result[2].type)
    assert.is_string(result[2].idempotency_key)
    assert.is_nil(result[2].maybe_paid)
    assert.equals(1, #gw:requests{ method = "POST" })
    assert.equals(0, emu:stats().tasks_created)
  end)

  -- a's submit met a 429 and pauses; b's submit came after it, so its request waits in the client's window
  -- (the pause every sender waits out) without being sent; then stop() (a close, or the run's token)
  local function second_submit_in_pause(c, stop, opts)
    gw:script{ upstream = emu.url, cases = { rate_limited{ name = "rate", method = "POST", times = 3 } } }
    local results = {}
    seedance.run(function()
      seedance.spawn(function() results.a = { c:generate(REQ, opts) } end)
      while #gw:requests{ case = "rate" } < 1 do seedance.sleep(0.01) end
      seedance.sleep(0.1)
      seedance.spawn(function() results.b = { c:generate(REQ, opts) } end)
      seedance.sleep(0.2)
      stop()
    end)
    for _, r in pairs{ results.a, results.b } do
      assert.is_nil(r[1])
      assert.equals("aborted", r[2].type)
      assert.is_string(r[2].idempotency_key)
      assert.is_nil(r[2].maybe_paid) -- (b's request was never sent; a's was answered, 429)
    end
    assert.equals(1, #gw:requests{ method = "POST" }) -- a's; b's went with the close, unsent
    assert.equals(0, require("seedance.scheduler").engine():pending()) -- nothing left to send when the pause ends
    assert.equals(0, emu:stats().tasks_created)
    return results
  end

  it("#found a client closed while another submit waits in the client's 429 pause, unsent, withdraws it: both "
    .. "end at once, aborted, nothing sent after close #m-submit-withdrawn-when-closed #m-withdrawn-is-unsent", function()
    local c = client()
    local r = second_submit_in_pause(c, function() c:close() end)
    assert.matches("client was closed while the request waited to be sent", r.b[2].message)
  end)

  it("#found a run stopped (generate's cancel token interrupted: a batch's Ctrl-C) while its submit waits in the "
    .. "client's 429 pause, unsent, withdraws it #m-submit-withdrawn-when-run-stopped", function()
    local scheduler = require("seedance.scheduler")
    local c, cancel = client(), {}
    local r = second_submit_in_pause(c, function() scheduler.interrupt(cancel) end, { cancel = cancel })
    assert.matches("run was stopped while the request waited to be sent", r.b[2].message)
  end)

  -- a submit waits for a max_in_flight slot that a running task holds (no 429 at all); then stop() (a close, or
  -- the run's token). With a 5 s deadline: an unfixed wait ends at it (timeout_error), not at the stop.
  local function submit_waiting_for_slot(stop, opts)
    local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, time_scale = 1 / SPEED, max_in_flight = 1 }
    local holder = assert(c:generate(REQ)) -- holds the one slot until it ends or is closed (nobody waits for it)
    local result, waited
    seedance.run(function()
      seedance.spawn(function()
        local o = { timeout = 5 }
        for k, v in pairs(opts or {}) do o[k] = v end
        result = { c:generate(REQ, o) }
      end)
      seedance.sleep(0.2)
      local t0 = seedance.now()
      stop(c)
      while not result do seedance.sleep(0.01) end
      waited = seedance.now() - t0
    end)
    assert.is_nil(result[1])
    assert.equals("aborted", result[2].type, tostring(result[2]))
    assert.is_true(waited < 1, "the waiting submit ended " .. waited .. " s after the stop")
    assert.equals(1, #gw:requests{ method = "POST" }) -- the holder's; nothing after the stop
    assert.equals(1, emu:stats().tasks_created)
    holder:close()
    return result
  end

  it("#found a client closed while a submit waits for a max_in_flight slot (held by a running task) ends that "
    .. "submit at once, aborted, nothing sent #m-slot-wait-ends-when-closed", function()
    submit_waiting_for_slot(function(c) c:close() end)
  end)

  it("#found a run stopped (generate's cancel token interrupted) while its submit waits for a max_in_flight slot "
    .. "ends that submit at once, aborted, nothing sent #m-slot-wait-ends-when-run-stopped", function()
    local cancel = {}
    submit_waiting_for_slot(function() require("seedance.scheduler").interrupt(cancel) end, { cancel = cancel })
  end)

  it("a client closed while its submit is on the wire lets it finish: the task it paid for is returned, named "
    .. "#m-withdraw-only-unsent", function()
    gw:script{ upstream = emu.url, cases = { { name = "slow", method = "POST", forward = true, stall = 1 } } }
    local c = client()
    local result
    seedance.run(function()
      seedance.spawn(function() result = { c:generate(REQ) } end)
      while #gw:requests{ case = "slow" } < 1 do seedance.sleep(0.01) end
      seedance.sleep(0.2) -- (the service made the task; its answer is on its way)
      c:close()
    end)
    assert.equals(1, emu:stats().tasks_created)
    assert.is_table(result[1], tostring(result[2]))
    assert.matches("^task_", result[1].id)
  end)
end)
