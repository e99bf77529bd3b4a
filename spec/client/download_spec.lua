-- Task:download keeps a paid video whole: against a media host (the scriptable
-- gateway) that changes files, cuts, stalls and never ends, local files that
-- are not what they seem, and a task seen completed before its video URL.
-- Cases a hostile review found carry #found.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local util = require("helpers.util")
local read, write = util.read_file, util.write

local N = 200000
local A, B = string.rep("A", N), string.rep("B", N)
local OPTS = { time_scale = 1, max_backoff = 0.02, max_retries = 3 }
local script = gateway.completed_video

-- A first answer: A under `etag`, cut in the middle.
local function cut_A(etag)
  return { times = 1, headers = { { "ETag", etag } }, body = A, cut_after = N / 2 }
end

-- The cases of a server that then sends B's second half as a 206 under `etag` (whatever If-Range
-- said), then B whole under `etag`.
local function then_half_of_B(etag)
  return { times = 1, status = 206, body = B:sub(N / 2 + 1),
           headers = { { "ETag", etag }, { "Content-Range", ("bytes %d-%d/%d"):format(N / 2, N - 1, N) } } },
         { headers = { { "ETag", etag } }, body = B }
end

local cleanup = util.cleanup()

describe("Task:download #c", function()
  local gw = gateway.fixture({ listeners = { "api", "media" } }, { each = true })

  -- The completed task_V of the gateway's script (its video on the media listener).
  local function completed_task(over)
    local t = util.client_for(gw.urls.api, OPTS, over):task("task_V")
    assert(t:wait())
    return t
  end

  -- Download task_V's video to target.
  local function download(target, over)
    return completed_task(over):download(target)
  end

  describe("a file that changes between a cut and its resume", function()
    it("keeps the first answer's validator at once and resumes with If-Range: the new file, whole #found #m-if-range-sent #m-range-resume #m-validator-kept-at-once", function()
      gw:script(script{
        cut_A('"A"'),
        { headers = { { "ETag", '"B"' }, { "Accept-Ranges", "bytes" } }, body = B, ranges = true },
      })
      local target = cleanup(util.tmpfile("changed.mp4"))
      assert(download(target))
      assert.equals(B, read(target))
      local media = gw:requests{ listener = "media" }
      assert.equals(2, #media)
      assert.equals('"A"', media[2]:header("if-range"))
      assert.truthy(media[2]:header("range"))
    end)

    it("refuses a 206 of another version (a server that ignores If-Range), and starts over #found #m-range-206-validator", function()
      gw:script(script{ cut_A('"A"'), then_half_of_B('"B"') })
      local target = cleanup(util.tmpfile("ignored-if-range.mp4"))
      assert(download(target))
      assert.equals(B, read(target))
      assert.equals(3, #gw:requests{ listener = "media" })
    end)

    it("refuses a 206 that does not start where the part ends #found #m-range-206-offset", function()
      local P = gateway.pattern(N)
      gw:script(script{
        { times = 1, headers = { { "ETag", '"P"' } }, body = P, cut_after = N / 2 },
        -- the first half again, labelled as the first half: appended, it would make a whole-looking file
        { times = 1, status = 206, body = P:sub(1, N / 2),
          headers = { { "ETag", '"P"' }, { "Content-Range", ("bytes 0-%d/%d"):format(N / 2 - 1, N) } } },
        { headers = { { "ETag", '"P"' } }, body = P, ranges = true },
      })
      local target = cleanup(util.tmpfile("wrong-offset.mp4"))
      assert(download(target))
      assert.equals(P, read(target))
    end)

    it("starts over, rather than resume blind, when the server sent no validator #found #m-resume-needs-validator", function()
      gw:script(script{
        { times = 1, body = A, cut_after = N / 2 },
        { body = B, ranges = true },
      })
      local target = cleanup(util.tmpfile("no-validator.mp4"))
      assert(download(target))
      assert.equals(B, read(target))
      assert.is_nil(gw:requests{ listener = "media" }[2]:header("range"))
    end)

    -- found: a weak ETag (W/"…", which promises no byte equality) was kept as the validator and sent
    -- as If-Range; a server that answered it with a 206 of changed bytes got them spliced onto the old half
    it("never splices two versions under a weak ETag #found #m-weak-etag-no-resume", function()
      gw:script(script{ cut_A('W/"v1"'), then_half_of_B('W/"v1"') })
      local target = cleanup(util.tmpfile("weak.mp4"))
      assert(download(target))
      local got = read(target)
      assert.is_true(got == A or got == B, "spliced: " .. got:sub(N / 2 - 2, N / 2 + 3))
    end)

    -- found: a 416 whose "bytes */SIZE" equalled the part's size ended the download as done whatever
    -- its validator: the first half of the old file was renamed onto the target as the whole video
    it("never takes a 416 of another version as proof that the part is whole #found #m-range-416-validator", function()
      gw:script(script{
        cut_A('"A"'),
        { times = 1, status = 416, headers = { { "ETag", '"B"' }, { "Content-Range", ("bytes */%d"):format(N / 2) } } },
        { headers = { { "ETag", '"B"' } }, body = B:sub(1, N / 2) },
      })
      local target = cleanup(util.tmpfile("416.mp4"))
      assert(download(target))
      local got = read(target)
      assert.is_true(got == B:sub(1, N / 2), "the target holds " .. #got .. " bytes starting " .. got:sub(1, 3)
        .. ": the old file's first half stands as the video")
    end)

    -- found: a validator file whose first line holds a control byte (a zero-filled block after a
    -- crash: the companion is written without fsync) made download raise into the host
    it("never raises over a damaged validator file beside the part #found #m-damaged-validator", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A, ranges = true } })
      local dir = cleanup(util.tmpdir())
      write(dir .. "/v.mp4.part", A:sub(1, 1000))
      write(dir .. "/v.mp4.part.meta", "\0\0\0\0\0\0\0\0\n")
      local ok, path, err = pcall(download, dir .. "/v.mp4")
      assert.is_true(ok, "download raised: " .. tostring(path))
      assert.truthy(path, tostring(err))
      assert.equals(A, read(dir .. "/v.mp4"))
    end)

    it("restarts on a multipart/byteranges 206 instead of appending it", function()
      local boundary = "THIS_STRING_SEPARATES"
      gw:script(script{
        cut_A('"A"'),
        { times = 1, status = 206, headers = { { "ETag", '"A"' },
            { "Content-Type", "multipart/byteranges; boundary=" .. boundary } },
          body = "--" .. boundary .. "\r\nContent-Type: video/mp4\r\nContent-Range: bytes "
            .. (N / 2) .. "-" .. (N - 1) .. "/" .. N .. "\r\n\r\n" .. A:sub(N / 2 + 1) .. "\r\n--" .. boundary .. "--\r\n" },
        { headers = { { "ETag", '"A"' } }, body = A },
      })
      local target = cleanup(util.tmpfile("multipart.mp4"))
      assert(download(target))
      assert.equals(A, read(target))
    end)
  end)

  it("leaves nothing under the target name when a download fails for good, and keeps the part to resume #found #m-atomic-rename", function()
    gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A, cut_after = 1000 } })
    local target = cleanup(util.tmpfile("cut.mp4"))
    local path, err = download(target, { max_retries = 1 })
    assert.is_nil(path)
    assert.equals("network_error", err.type)
    assert.is_nil(util.size_of(target))
    assert.equals(1000, util.size_of(target .. ".part"))
  end)

  describe("bodies that never end", function()
    it("stops an endless body at max_download, leaving nothing behind #found #m-download-size-cap", function()
      gw:script(script{ { headers = { { "ETag", '"E"' } }, endless = true } })
      local target = cleanup(util.tmpfile("endless.mp4")) -- (a mutant without the cap writes gigabytes here)
      local path, err = completed_task{ max_download = 1000000 }:download(target, { timeout = 10 })
      assert.is_nil(path)
      assert.equals("too_large", err.type)
      assert.is_nil(util.size_of(target))
      assert.is_nil(util.size_of(target .. ".part"))
      assert.equals(1, #gw:requests{ listener = "media" })
    end)

    it("ends a trickling body at the download's deadline #found #m-download-deadline", function()
      gw:script(script{ { headers = { { "ETag", '"T"' } }, bytes = 100000, trickle = { bytes = 2, every = 1 } } })
      local target = cleanup(util.tmpfile("trickle.mp4"))
      local t0 = core.now()
      local path, err = completed_task():download(target, { timeout = 1.5 })
      assert.is_nil(path)
      assert.equals("timeout_error", err.type)
      assert.is_true(core.now() - t0 < 10)
      assert.is_nil(util.size_of(target))
    end)
  end)

  describe("targets that are not regular files", function()
    -- (a FIFO, not a device: a mutant that lost this check must not replace /dev/null as root)
    it("refuses a FIFO as the target, and leaves it as it was #found #m-target-regular-file", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A } })
      local fifo = cleanup(util.tmpfile("fifo.mp4"))
      assert(os.execute("mkfifo '" .. fifo .. "'"))
      local path, err = download(fifo)
      assert.is_nil(path)
      assert.equals("io_error", err.type)
      assert.equals("fifo", core.stat(fifo).type)
      assert.equals(0, #gw:requests{ listener = "media" })
    end)

    it("never writes through a planted .part symlink #found #m-part-nofollow", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A, ranges = true } })
      local dir = cleanup(util.tmpdir())
      local target, victim = dir .. "/v.mp4", write(dir .. "/victim.txt", "precious")
      assert(os.execute(("ln -s '%s' '%s.part'"):format(victim, target)))
      assert(download(target))
      assert.equals(A, read(target))
      assert.equals("precious", read(victim))
    end)

    it("never reads a planted .part.meta symlink (its target's first line would go out as If-Range) #found #m-meta-nofollow", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A, ranges = true } })
      local dir = cleanup(util.tmpdir())
      local target, secret = dir .. "/v.mp4", write(dir .. "/secret.txt", '"SECRET-TOKEN"\n')
      write(target .. ".part", A:sub(1, 1000))
      assert(os.execute(("ln -s '%s' '%s.part.meta'"):format(secret, target)))
      assert(download(target))
      assert.equals(A, read(target))
      for _, r in ipairs(gw:requests{ listener = "media" }) do
        assert.is_nil(r:header("if-range"))
      end
    end)

    it("replaces a target that is a symbolic or a hard link, never the file it shares", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A } })
      local dir = cleanup(util.tmpdir())
      write(dir .. "/victim", "precious")
      assert(os.execute(("ln -s '%s/victim' '%s/sym.mp4' && ln '%s/victim' '%s/hard.mp4'"):format(dir, dir, dir, dir)))
      assert(download(dir .. "/sym.mp4"))
      assert(download(dir .. "/hard.mp4"))
      assert.equals("precious", read(dir .. "/victim"))
      assert.equals(A, read(dir .. "/sym.mp4"))
      assert.equals(A, read(dir .. "/hard.mp4"))
      assert.equals("file", core.stat(dir .. "/sym.mp4").type)
    end)

    it("does not block on a FIFO planted as the part's validator file (refuses it, before any request)", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A, ranges = true } })
      local dir = cleanup(util.tmpdir())
      write(dir .. "/v.mp4.part", A:sub(1, 1000))
      assert(os.execute("mkfifo '" .. dir .. "/v.mp4.part.meta'"))
      local path, err = download(dir .. "/v.mp4")
      assert.is_nil(path)
      assert.equals("io_error", err.type)
      assert.matches("fifo", err.message)
    end)
  end)

  describe("local file failures are io_error, not retried, and leave no partial file", function()
    it("a missing folder fails before any request #found", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A } })
      local path, err = download("/nonexistent-seedance-dir/v.mp4")
      assert.is_nil(path)
      assert.equals("io_error", err.type)
      assert.is_false(err.retryable)
      assert.equals(0, #gw:requests{ listener = "media" })
    end)

    it("a full disk (a file size limit) fails once, as io_error, and removes the part #found #child #m-io-error-drops-part #m-io-error-not-retried", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A } })
      local target = util.tmpfile("full.mp4")
      -- a child whose files may not pass 64 KiB: writes fail with EFBIG, as on a full disk
      local ok, out = child.lua(([[
        local s = require("seedance")
        local c = s.new{ api_key = "sk-spec", base_url = %q, backoff = 0.01, max_backoff = 0.02 }
        local t = c:task("task_V")
        assert(t:wait())
        local path, err = t:download(%q)
        io.write(path and "ok" or (err.type .. " " .. tostring(err.retryable)))]]):format(gw.urls.api, target),
        { prefix = "trap '' XFSZ; ulimit -f 64; " })
      assert.is_true(ok, out)
      assert.equals("io_error false", out)
      assert.equals(1, #gw:requests{ listener = "media" })
      assert.is_nil(util.size_of(target .. ".part"))
      assert.is_nil(util.size_of(target))
    end)
  end)
end)

describe("Task:download of a task seen completed before its video URL #c #found", function()
  local emu = emulator.fixture{ speed = util.SPEED }
  local REQ = util.request("a paper boat on a river", 5)

  -- A finished task of the emulator, met again through a gateway whose first
  -- `n` polls say completed with no usable URL (each shape in turn).
  local function finished_task_behind(n)
    local t = assert(util.client_for(emu):generate(REQ))
    assert(t:wait())
    local shapes = { {}, { videos = {} }, { videos = { { url = "" } } }, { videos = { { url = {} } } } }
    local cases = {}
    for i = 1, n do
      cases[i] = { method = "GET", pattern = "^/v1/tasks/([^/?]+)", times = 1,
        json = { code = 200, data = { id = "{{1}}", status = "completed", progress = 100,
                                      result = shapes[(i - 1) % #shapes + 1] } } }
    end
    return cleanup(gateway.start{ upstream = emu.url, cases = cases }), t.id
  end

  it("re-reads the task for it, then downloads the paid video #m-missing-url-reread", function()
    local gw, id = finished_task_behind(2)
    local target = cleanup(util.tmpfile("late-url.mp4"))
    local task = util.client_for(gw, { time_scale = 1, max_backoff = 0.02 }):task(id)
    assert(task:wait())
    assert(task:download(target))
    assert.is_true(util.is_mp4(target))
  end)

  it("gives up with a clear error after a bounded number of reads, and records no download", function()
    local gw, id = finished_task_behind(50)
    local dir = cleanup(util.tmpdir())
    local c = util.client_for(gw, { time_scale = 1, max_backoff = 0.02, journal = dir .. "/j" })
    local target = dir .. "/v.mp4"
    local path, err = c:task(id):download(target)
    assert.is_nil(path)
    assert.matches("no video url", err.message)
    assert.is_true(#gw:requests() <= 1 + require("seedance.download").MISSING_URL_READS)
    assert.is_nil(util.size_of(target))
    c:close()
    local j = assert(require("seedance.journal").open(dir .. "/j"))
    for _, e in pairs(j.entries) do assert.is_nil(next(e.downloads)) end
    j:close()
  end)

  it("with a journal, a re-run re-attaches to the paid task and fetches its video #m-missing-url-reread", function()
    local dir = cleanup(util.tmpdir())
    local jpath = dir .. "/j"
    -- run 1: every poll through the gateway says completed, without a URL
    local gw = gateway.start{ upstream = emu.url, cases = {
      { method = "GET", pattern = "^/v1/tasks/([^/?]+)",
        json = { code = 200, data = { id = "{{1}}", status = "completed", progress = 100, result = {} } } } } }
    local c1 = util.client_for(gw, { max_backoff = 0.02, journal = jpath })
    local r1 = seedance.map(c1, { REQ }, { output = dir .. "/v-%d.mp4" })
    assert.truthy(r1[1].error)
    c1:close()
    gw:stop()
    assert(util.client_for(emu):task(r1[1].task.id):wait()) -- the emulator's own clock catches up
    -- run 2: the gateway is gone; the same pipeline against the emulator itself
    local before = emu:created()
    local c2 = util.client_for(emu, { journal = jpath })
    local r2 = seedance.map(c2, { REQ }, { output = dir .. "/v-%d.mp4" })
    c2:close()
    assert.is_nil(r2[1].error, tostring(r2[1].error))
    assert.is_true(r2[1].task.reattached)
    assert.equals(before, emu:created())
    assert.is_true(util.is_mp4(dir .. "/v-1.mp4"))
  end)
end)
