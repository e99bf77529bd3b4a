-- Video integrity (issue "Never lose money, a video or the key", cases 11 to
-- 14): downloads against a media host that changes files, cuts, stalls and
-- never ends, and local files that are not what they seem.
local seedance = require("seedance")
local core = require("seedance.core")
local gateway = require("helpers.gateway")
local util = require("helpers.util")
local read = util.read_file

local N = 200000
local A, B = string.rep("A", N), string.rep("B", N)

local function client(gw, over)
  local o = { api_key = "sk-spec", base_url = gw.urls.api, backoff = 0.01, max_backoff = 0.02, max_retries = 3 }
  for k, v in pairs(over or {}) do o[k] = v end
  return seedance.new(o)
end

local script = gateway.completed_video

local function completed_task(c)
  local t = c:task("task_V")
  assert(t:wait())
  return t
end

describe("video integrity", function()
  local gw
  before_each(function() gw = gateway.start{ listeners = { "api", "media" }, cases = {} } end)
  after_each(function() assert.is_true(gw:stop(), gw:log()) end)

  describe("11. a file that changes between a cut and its resume", function()
    it("keeps the first answer's validator at once and resumes with If-Range: the new file, whole #m-if-range-sent #m-range-resume #m-validator-kept-at-once", function()
      gw:script(script{
        { times = 1, headers = { { "ETag", '"A"' } }, body = A, cut_after = N / 2 },
        { headers = { { "ETag", '"B"' }, { "Accept-Ranges", "bytes" } }, body = B, ranges = true },
      })
      local target = util.tmpfile("changed.mp4")
      assert(completed_task(client(gw)):download(target))
      assert.equals(B, read(target))
      local media = gw:requests{ listener = "media" }
      assert.equals(2, #media)
      assert.equals('"A"', media[2]:header("if-range"))
      assert.truthy(media[2]:header("range"))
      os.remove(target)
    end)

    it("refuses a 206 of another version (a server that ignores If-Range), and starts over #m-range-206-validator", function()
      gw:script(script{
        { times = 1, headers = { { "ETag", '"A"' } }, body = A, cut_after = N / 2 },
        { times = 1, status = 206, body = B:sub(N / 2 + 1),
          headers = { { "ETag", '"B"' }, { "Content-Range", ("bytes %d-%d/%d"):format(N / 2, N - 1, N) } } },
        { headers = { { "ETag", '"B"' } }, body = B },
      })
      local target = util.tmpfile("ignored-if-range.mp4")
      assert(completed_task(client(gw)):download(target))
      assert.equals(B, read(target))
      assert.equals(3, #gw:requests{ listener = "media" })
      os.remove(target)
    end)

    it("refuses a 206 that does not start where the part ends #m-range-206-offset", function()
      local P = gateway.pattern(N)
      gw:script(script{
        { times = 1, headers = { { "ETag", '"P"' } }, body = P, cut_after = N / 2 },
        -- the first half again, labelled as the first half: appended, it would make a whole-looking file
        { times = 1, status = 206, body = P:sub(1, N / 2),
          headers = { { "ETag", '"P"' }, { "Content-Range", ("bytes 0-%d/%d"):format(N / 2 - 1, N) } } },
        { headers = { { "ETag", '"P"' } }, body = P, ranges = true },
      })
      local target = util.tmpfile("wrong-offset.mp4")
      assert(completed_task(client(gw)):download(target))
      assert.equals(P, read(target))
      os.remove(target)
    end)

    it("starts over, rather than resume blind, when the server sent no validator #m-resume-needs-validator", function()
      gw:script(script{
        { times = 1, body = A, cut_after = N / 2 },
        { body = B, ranges = true },
      })
      local target = util.tmpfile("no-validator.mp4")
      assert(completed_task(client(gw)):download(target))
      assert.equals(B, read(target))
      assert.is_nil(gw:requests{ listener = "media" }[2]:header("range"))
      os.remove(target)
    end)
  end)

  it("leaves nothing under the target name when a download fails for good, and keeps the part to resume #m-atomic-rename", function()
    gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A, cut_after = 1000 } })
    local target = util.tmpfile("cut.mp4")
    local path, err = completed_task(client(gw, { max_retries = 1 })):download(target)
    assert.is_nil(path)
    assert.equals("network_error", err.type)
    assert.is_nil(util.size_of(target))
    assert.equals(1000, util.size_of(target .. ".part"))
    os.remove(target .. ".part")
    os.remove(target .. ".part.meta")
  end)

  describe("12. bodies that never end", function()
    it("stops an endless body at max_download, leaving nothing behind #m-download-size-cap", function()
      gw:script(script{ { headers = { { "ETag", '"E"' } }, endless = true } })
      local target = util.tmpfile("endless.mp4")
      local path, err = completed_task(client(gw, { max_download = 1000000 })):download(target, { timeout = 10 })
      assert.is_nil(path)
      assert.equals("too_large", err.type)
      assert.is_nil(util.size_of(target))
      assert.is_nil(util.size_of(target .. ".part"))
      assert.equals(1, #gw:requests{ listener = "media" })
    end)

    it("ends a trickling body at the download's deadline #m-download-deadline", function()
      gw:script(script{ { headers = { { "ETag", '"T"' } }, bytes = 100000, trickle = { bytes = 2, every = 1 } } })
      local target = util.tmpfile("trickle.mp4")
      local t0 = core.now()
      local path, err = completed_task(client(gw)):download(target, { timeout = 1.5 })
      assert.is_nil(path)
      assert.equals("timeout_error", err.type)
      assert.is_true(core.now() - t0 < 10)
      assert.is_nil(util.size_of(target))
      os.remove(target .. ".part")
      os.remove(target .. ".part.meta")
    end)
  end)

  describe("13. targets that are not regular files", function()
    -- (a FIFO, not a device: a mutant that lost this check must not replace /dev/null as root)
    it("refuses a FIFO as the target, and leaves it as it was #m-target-regular-file", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A } })
      local fifo = util.tmpfile("fifo.mp4")
      assert(os.execute("mkfifo '" .. fifo .. "'"))
      local path, err = completed_task(client(gw)):download(fifo)
      assert.is_nil(path)
      assert.equals("io_error", err.type)
      assert.equals("fifo", core.stat(fifo).type)
      assert.equals(0, #gw:requests{ listener = "media" })
      os.remove(fifo)
    end)

    it("never writes through a planted .part symlink #m-part-nofollow", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A, ranges = true } })
      local dir = util.tmpdir()
      local target, victim = dir .. "/v.mp4", dir .. "/victim.txt"
      local f = assert(io.open(victim, "wb")); f:write("precious"); f:close()
      assert(os.execute(("ln -s '%s' '%s.part'"):format(victim, target)))
      assert(completed_task(client(gw)):download(target))
      assert.equals(A, read(target))
      assert.equals("precious", read(victim))
      os.execute("rm -rf '" .. dir .. "'")
    end)

    it("never reads a planted .part.meta symlink (its target's first line would go out as If-Range) #m-meta-nofollow", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A, ranges = true } })
      local dir = util.tmpdir()
      local target, secret = dir .. "/v.mp4", dir .. "/secret.txt"
      local f = assert(io.open(secret, "wb")); f:write('"SECRET-TOKEN"\n'); f:close()
      f = assert(io.open(target .. ".part", "wb")); f:write(A:sub(1, 1000)); f:close()
      assert(os.execute(("ln -s '%s' '%s.part.meta'"):format(secret, target)))
      assert(completed_task(client(gw)):download(target))
      assert.equals(A, read(target))
      for _, r in ipairs(gw:requests{ listener = "media" }) do
        assert.is_nil(r:header("if-range"))
      end
      os.execute("rm -rf '" .. dir .. "'")
    end)
  end)

  describe("14. local file failures are io_error, not retried, and leave no partial file", function()
    it("a missing folder fails before any request", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A } })
      local path, err = completed_task(client(gw)):download("/nonexistent-seedance-dir/v.mp4")
      assert.is_nil(path)
      assert.equals("io_error", err.type)
      assert.is_false(err.retryable)
      assert.equals(0, #gw:requests{ listener = "media" })
    end)

    it("a full disk (a file size limit) fails once, as io_error, and removes the part #m-io-error-drops-part #m-io-error-not-retried", function()
      gw:script(script{ { headers = { { "ETag", '"A"' } }, body = A } })
      local target = util.tmpfile("full.mp4")
      -- a child whose files may not pass 64 KiB: writes fail with EFBIG, as on a full disk
      local code = ([[
        local s = require("seedance")
        local c = s.new{ api_key = "sk-spec", base_url = %q, backoff = 0.01, max_backoff = 0.02 }
        local t = c:task("task_V")
        assert(t:wait())
        local path, err = t:download(%q)
        io.write(path and "ok" or (err.type .. " " .. tostring(err.retryable)))]]):format(gw.urls.api, target)
      local ok, out = util.run(("trap '' XFSZ; ulimit -f 64; LUA_PATH=%q LUA_CPATH=%q %s -e %q"):format(
        package.path, package.cpath, util.LUA, code))
      assert.is_true(ok, out)
      assert.equals("io_error false", out)
      assert.equals(1, #gw:requests{ listener = "media" })
      assert.is_nil(util.size_of(target .. ".part"))
      assert.is_nil(util.size_of(target))
    end)
  end)
end)
