-- Money and paid videos (issue "Never lose money, a video or the key", cases
-- 6 to 10), against the emulator and the hostile gateway in front of it.
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local process = require("helpers.process")
local util = require("helpers.util")
local client_for, tmpfile, tmpdir = util.client_for, util.tmpfile, util.tmpdir

local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat on a river", duration = 5 }

describe("money and paid videos", function()
  describe("6. a max_in_flight slot comes back on every exit path", function()
    local emu
    setup(function() emu = emulator.start{ speed = 1, task_seconds = 3600 } end)
    teardown(function() emu:stop() end)
    local function slot_client() return client_for(emu, { max_in_flight = 1, time_scale = 1 }) end

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
      local gw = gateway.start{ upstream = emu.url, cases = {
        { method = "GET", pattern = "^/v1/tasks/", status = 400,
          json = { error = { code = 400, type = "invalid_request_error", message = "no such task" } } } } }
      finally(function() gw:stop() end)
      local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, max_in_flight = 1 }
      local t1 = assert(c:generate(REQ))
      local _, err = t1:wait()
      assert.equals("invalid_request_error", err.type)
      assert.truthy(c:generate(REQ, { timeout = 5 }))
    end)

    it("when the task is closed during a long pause between polls, at once #m-close-wakes-wait", function()
      local c = client_for(emu, { time_scale = 1, poll_min = 20, poll_max = 60 })
      local t = assert(c:generate(REQ))
      local t0, took = require("seedance.core").now(), nil
      seedance.run(function()
        local w = seedance.spawn(function() return t:wait{ timeout = 600 } end)
        seedance.sleep(0.3) -- the wait is in its 20 s pause now
        t:close()
        local ok, err = w:wait()
        took = require("seedance.core").now() - t0
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
      local t0 = require("seedance.core").now()
      local t, err = c:generate(REQ, { timeout = 0.3 })
      assert.is_nil(t)
      assert.equals("timeout_error", err.type)
      assert.is_true(require("seedance.core").now() - t0 < 3)
      assert.is_string(first.id)
    end)

    it("so map over a slot that a timed-out wait held finishes instead of hanging", function()
      local c = slot_client()
      local results, stats = seedance.map(c, { REQ, REQ, REQ }, { timeout = 0.2, concurrency = 3 })
      assert.equals(3, stats.failed)
      for i = 1, 3 do assert.equals("timeout_error", results[i].error.type) end
    end)
  end)

  describe("7. a task seen completed before its video URL", function()
    local emu
    setup(function() emu = emulator.start{ speed = util.SPEED } end)
    teardown(function() emu:stop() end)

    -- A finished task of the emulator, met again through a gateway whose first
    -- `n` polls say completed with no usable URL (each shape in turn).
    local function finished_task_behind(n)
      local t = assert(client_for(emu):generate(REQ))
      assert(t:wait())
      local shapes = { {}, { videos = {} }, { videos = { { url = "" } } }, { videos = { { url = {} } } } }
      local cases = {}
      for i = 1, n do
        cases[i] = { method = "GET", pattern = "^/v1/tasks/([^/?]+)", times = 1,
          json = { code = 200, data = { id = "{{1}}", status = "completed", progress = 100,
                                        result = shapes[(i - 1) % #shapes + 1] } } }
      end
      local gw = gateway.start{ upstream = emu.url, cases = cases }
      return gw, t.id
    end

    it("re-reads the task for it, then downloads the paid video #m-missing-url-reread", function()
      local gw, id = finished_task_behind(2)
      finally(function() gw:stop() end)
      local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, backoff = 0.01, max_backoff = 0.02 }
      local task = c:task(id)
      assert(task:wait())
      local target = tmpfile("late-url.mp4")
      assert(task:download(target))
      assert.is_true(util.is_mp4(target))
      os.remove(target)
    end)

    it("gives up with a clear error after a bounded number of reads, and records no download", function()
      local gw, id = finished_task_behind(50)
      finally(function() gw:stop() end)
      local dir = tmpdir()
      local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, backoff = 0.01, max_backoff = 0.02,
                              journal = dir .. "/j" }
      local task = c:task(id)
      local target = dir .. "/v.mp4"
      local path, err = task:download(target)
      assert.is_nil(path)
      assert.matches("no video url", err.message)
      assert.is_true(#gw:requests() <= 1 + require("seedance.download").MISSING_URL_READS)
      assert.is_nil(util.size_of(target))
      c:close()
      local j = assert(require("seedance.journal").open(dir .. "/j"))
      for _, e in pairs(j.entries) do assert.is_nil(next(e.downloads)) end
      j:close()
      process.remove_dir(dir)
    end)

    it("with a journal, a re-run re-attaches to the paid task and fetches its video #m-missing-url-reread", function()
      local dir = tmpdir()
      local jpath = dir .. "/j"
      -- run 1: every poll through the gateway says completed, without a URL
      local gw = gateway.start{ upstream = emu.url, cases = {
        { method = "GET", pattern = "^/v1/tasks/([^/?]+)",
          json = { code = 200, data = { id = "{{1}}", status = "completed", progress = 100, result = {} } } } } }
      local c1 = seedance.new{ api_key = "sk-spec", base_url = gw.url, backoff = 0.01, max_backoff = 0.02,
                               journal = jpath, time_scale = 1 / util.SPEED }
      local r1 = seedance.map(c1, { REQ }, { output = dir .. "/v-%d.mp4" })
      assert.truthy(r1[1].error)
      c1:close()
      gw:stop()
      assert(client_for(emu):task(r1[1].task.id):wait()) -- the emulator's own clock catches up
      -- run 2: the gateway is gone; the same pipeline against the emulator itself
      local before = emu:stats().tasks_created
      local c2 = client_for(emu, { journal = jpath })
      local r2 = seedance.map(c2, { REQ }, { output = dir .. "/v-%d.mp4" })
      c2:close()
      assert.is_nil(r2[1].error, tostring(r2[1].error))
      assert.is_true(r2[1].task.reattached)
      assert.equals(before, emu:stats().tasks_created)
      assert.is_true(util.is_mp4(dir .. "/v-1.mp4"))
      process.remove_dir(dir)
    end)
  end)

  describe("8. answers that cannot be read", function()
    it("reads a failed task whose message ends in half a surrogate pair, at the first poll #m-json-lone-surrogate", function()
      local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/",
        headers = { { "Content-Type", "application/json" } },
        body = '{"code":200,"data":{"id":"task_A","status":"failed",'
          .. '"error":{"code":500,"type":"generation_failed","message":"the model broke \\ud83d"}}}' } } }
      finally(function() gw:stop() end)
      local task = seedance.new{ api_key = "sk-spec", base_url = gw.url }:task("task_A")
      local ok, err = task:wait{ timeout = 60 }
      assert.is_nil(ok)
      assert.equals("task_failed", err.type)
      assert.matches("the model broke \239\191\189", err.message, 1, true)
      assert.equals(1, #gw:requests())
    end)

    it("gives up after a few answers in a row that are not JSON, naming the status and the first bytes #m-undecodable-cap", function()
      local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/",
        headers = { { "Content-Type", "text/html" } }, body = "<html><body>proxy says hi</body></html>" } } }
      finally(function() gw:stop() end)
      local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, max_retries = 1, backoff = 0.01,
                              max_backoff = 0.02, poll_min = 0.01 }
      local ok, err = c:task("task_A"):wait{ timeout = 20 }
      assert.is_nil(ok)
      assert.is_false(err.retryable)
      assert.matches("HTTP 200", err.message)
      assert.matches("<html>", err.message, 1, true)
      assert.equals(require("seedance.task").UNDECODABLE_MAX * 2, #gw:requests())
    end)
  end)

  describe("the journal", function()
    it("has the submit, with its Idempotency-Key, on disk before the submit is sent #m-journal-submit-before-send", function()
      local gw = gateway.start{ cases = { { method = "POST", drop = true } } }
      finally(function() gw:stop() end)
      local dir = tmpdir()
      local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, max_retries = 0, journal = dir .. "/j" }
      local t = c:generate(REQ)
      assert.is_nil(t)
      c:close()
      local sent = gw:requests{ method = "POST" }[1]:header("idempotency-key")
      local f = assert(io.open(dir .. "/j", "rb"))
      local text = f:read("*a")
      f:close()
      assert.matches('"type":"submit"', text)
      assert.truthy(text:find('"idempotency_key":"' .. sent .. '"', 1, true))
      process.remove_dir(dir)
    end)
  end)

  describe("9. one process per journal", function()
    it("refuses a second client on the same journal, in this process or another #m-journal-lock", function()
      local dir = tmpdir()
      local jpath = dir .. "/j"
      local c1 = seedance.new{ api_key = "k", base_url = "http://127.0.0.1:9", journal = jpath }
      local ok, err = pcall(seedance.new, { api_key = "k", base_url = "http://127.0.0.1:9", journal = jpath })
      assert.is_false(ok)
      assert.matches("held by another", err)
      c1:close()
      -- another process holds it now
      local child = assert(io.popen(string.format("%s -e %q", util.LUA, [[
        local s = require("seedance")
        local c = s.new{ api_key = "k", base_url = "http://127.0.0.1:9", journal = ]] .. string.format("%q", jpath) .. [[ }
        io.write("locked\n"); io.flush()
        os.execute("sleep 2")]])))
      assert.equals("locked", child:read("*l"))
      ok, err = pcall(seedance.new, { api_key = "k", base_url = "http://127.0.0.1:9", journal = jpath })
      assert.is_false(ok)
      assert.matches("held by another", err)
      child:close()
      local c3 = seedance.new{ api_key = "k", base_url = "http://127.0.0.1:9", journal = jpath }
      c3:close()
      process.remove_dir(dir)
    end)
  end)

  describe("10. checks before paying", function()
    local emu
    setup(function() emu = emulator.start{ speed = util.SPEED } end)
    teardown(function() emu:stop() end)

    it("map pays for nothing when an output folder is missing #m-preflight-map", function()
      local before = emu:stats().tasks_created
      local results, stats = seedance.map(client_for(emu), { REQ, REQ, REQ },
        { output = "/nonexistent-seedance-dir/%03d.mp4" })
      assert.equals(before, emu:stats().tasks_created)
      assert.equals(3, stats.failed)
      assert.equals("io_error", results[1].error.type)
      assert.matches("does not exist", results[1].error.message)
    end)

    it("map pays for nothing when one local image cannot be read, or one output is a folder #m-preflight-map", function()
      local dir = tmpdir()
      local before = emu:stats().tasks_created
      os.execute("mkdir '" .. dir .. "/002.mp4'")
      local reqs = { REQ, REQ, { model = "doubao-seedance-2.0", prompt = "x",
                                 image_urls = { seedance.file(dir .. "/nope.png") } } }
      local results, stats = seedance.map(client_for(emu), reqs, { output = dir .. "/%03d.mp4" })
      assert.equals(before, emu:stats().tasks_created)
      assert.equals(2, stats.failed)
      assert.equals(1, stats.skipped)
      assert.equals("skipped", results[1].error.type)
      assert.equals("io_error", results[2].error.type)
      assert.equals("io_error", results[3].error.type)
      process.remove_dir(dir)
    end)

    it("chain pays for nothing when a later clip's folder is missing #m-preflight-chain", function()
      local before = emu:stats().tasks_created
      local clips, err = seedance.chain(client_for(emu), { REQ, REQ }, {
        output = function(i) return i == 1 and tmpfile("clip1.mp4") or "/nonexistent-seedance-dir/2.mp4" end })
      assert.equals(0, #clips)
      assert.equals("io_error", err.type)
      assert.equals(before, emu:stats().tasks_created)
    end)

    it("map pays for nothing when a download's companion file could not be made #m-output-companions #m-preflight-map", function()
      local dir = tmpdir()
      local before = emu:stats().tasks_created
      os.execute("mkdir '" .. dir .. "/002.mp4.part'")
      local long = dir .. "/" .. string.rep("n", 250) .. ".mp4"
      local _, stats = seedance.map(client_for(emu), { REQ, REQ }, { output = dir .. "/%03d.mp4" })
      assert.equals(1, stats.failed)
      local r2 = seedance.map(client_for(emu), { REQ }, { output = function() return long end })
      assert.equals("io_error", r2[1].error.type)
      assert.equals(before, emu:stats().tasks_created)
      process.remove_dir(dir)
    end)

    it("generate reads a FIFO named as an image without hanging, and pays for nothing #m-image-not-fifo", function()
      local fifo = tmpfile("image.png")
      assert(os.execute("mkfifo '" .. fifo .. "'"))
      local before = emu:stats().tasks_created
      local t, err = client_for(emu):generate{ model = "doubao-seedance-2.0", prompt = "x",
        image_urls = { seedance.file(fifo) } }
      os.remove(fifo)
      assert.is_nil(t)
      assert.equals("io_error", err.type)
      assert.equals(before, emu:stats().tasks_created)
    end)

    it("generate uploads and pays for nothing when a later local image cannot be read #m-preflight-generate-inputs", function()
      local png = tmpfile("ok.png")
      local f = assert(io.open(png, "wb"))
      f:write("\137PNG\r\n\26\n", string.rep("\0", 64))
      f:close()
      local before = emu:stats()
      local t, err = client_for(emu):generate{ model = "doubao-seedance-2.0", prompt = "x",
        image_urls = { seedance.file(png), seedance.file("/nonexistent/b.png") } }
      os.remove(png)
      assert.is_nil(t)
      assert.equals("io_error", err.type)
      assert.equals(before.tasks_created, emu:stats().tasks_created)
      assert.equals(before.uploads, emu:stats().uploads)
    end)
  end)
end)
