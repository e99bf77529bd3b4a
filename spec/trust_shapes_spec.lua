-- Answers, records and callbacks of unexpected shape (issue "Never lose money,
-- a video or the key", cases 18 to 22): nothing a server, a journal or a
-- callback holds makes a call raise, and what goes out has the right shape.
local seedance = require("seedance")
local cjson = require("cjson")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat", duration = 5 }

describe("unexpected shapes", function()
  local emu
  setup(function() emu = emulator.start{ speed = util.SPEED } end)
  teardown(function() emu:stop() end)

  it("18. reads task answers of any shape without raising, and finishes #m-answers-never-raise", function()
    local id = assert(util.client_for(emu):generate(REQ)).id
    local odd = {
      { id = id, status = "processing", created = 1700000000.5, progress = "50", estimated_time = 1e308 },
      { id = id, status = 42, created = -5, progress = 1e300, completed = "soon", result = { 1, 2 }, error = "x" },
      { id = id, status = "processing", created = 1e20, progress = -1e300, estimated_time = -1, result = "none" },
      { id = id, status = string.rep("s", 1000), progress = 101.7, actual_time = {}, error = { message = {} } },
    }
    local cases = {}
    for i, data in ipairs(odd) do
      cases[i] = { method = "GET", pattern = "^/v1/tasks/", times = 1, json = { code = 200, data = data } }
    end
    local gw = gateway.start{ upstream = emu.url, cases = cases }
    finally(function() gw:stop() end)
    local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, time_scale = 1 / util.SPEED, poll_min = 0.01 }
    local task = c:task(id)
    local ok, err = task:wait{ timeout = 600 }
    assert.truthy(ok, tostring(err))
    assert.equals("completed", task.status)
    assert.is_true(#gw:requests() >= 5)
  end)

  describe("19. journals", function()
    it("skips records of the wrong types, and says how many #m-journal-bad-records", function()
      local dir = util.tmpdir()
      local path = dir .. "/j"
      local f = assert(io.open(path, "wb"))
      for _, rec in ipairs{
        { v = 1, type = "journal", format = "seedance-journal" },
        { v = 1, type = "download", key = "k#1" },
        { v = 1, type = "task", key = "x#1", task_id = { 1 } },
        { v = 1, type = "submit", key = "y#1", hash = "h", idempotency_key = { a = 1 } },
        { v = 1, type = "done", key = "z#1", task_id = "t", status = "completed", expires_at = "soon" },
        { v = 1, type = "task", key = "w#1", task_id = "../../v1/balance" },
        { v = 1, type = "download", key = 5, path = "p", bytes = 1 },
      } do f:write(cjson.encode(rec), "\n") end
      f:write("[1,2,3]\n", "\"just a string\"\n")
      f:close()
      local c = util.client_for(emu, { journal = path })
      assert(c:generate(REQ)):wait()
      c:close()
      local j = assert(require("seedance.journal").open(path))
      assert.equals(7, j.skipped) -- the six above and the array
      assert.equals(1, j.torn)    -- the string
      j:close()
      os.execute("rm -rf '" .. dir .. "'")
    end)

    it("never appends to a file that is not a journal #m-journal-not-foreign", function()
      local path = util.tmpfile("notes.txt")
      local f = assert(io.open(path, "wb")); f:write("my notes\nline two\n"); f:close()
      local ok, err = pcall(seedance.new, { api_key = "k", base_url = "http://127.0.0.1:9", journal = path })
      assert.is_false(ok)
      assert.matches("not a seedance journal", err)
      assert.equals("my notes\nline two\n", util.read_file(path))
      os.remove(path)
    end)

    it("tells a request whose local image changed from the one journaled #m-journal-hash-image-bytes", function()
      local img = util.tmpfile("img.png")
      local function write(bytes) local f = assert(io.open(img, "wb")); f:write(bytes); f:close() end
      local journal = require("seedance.journal")
      write("\137PNG\r\n\26\nfirst")
      local req = { model = "doubao-seedance-2.0", image_urls = { seedance.file(img) } }
      local h1 = journal.hash(req)
      write("\137PNG\r\n\26\nsecond")
      assert.are_not.equal(h1, journal.hash(req))
      os.remove(img)
    end)

    it("gives a clear error for a journal path that is a folder", function()
      local dir = util.tmpdir()
      local ok, err = pcall(seedance.new, { api_key = "k", base_url = "http://127.0.0.1:9", journal = dir })
      assert.is_false(ok)
      assert.matches("is a directory, not a journal file", err)
      os.execute("rm -rf '" .. dir .. "'")
    end)
  end)

  describe("20. a user callback that raises comes back as callback_error", function()
    it("on_retry #m-on-retry-protected", function()
      local gw = gateway.start{ upstream = emu.url, cases = { { method = "POST", times = 1, status = 503,
        json = { error = { type = "bad_gateway", message = "busy" } } } } }
      finally(function() gw:stop() end)
      local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, backoff = 0.01,
                              on_retry = function() error("my on_retry broke") end }
      local task, err = c:generate(REQ)
      assert.is_nil(task)
      assert.equals("callback_error", err.type)
      assert.matches("my on_retry broke", err.message)
    end)

    it("wait's and download's on_progress #m-download-callback-protected #m-wait-callback-protected", function()
      local c = util.client_for(emu)
      local t = assert(c:generate(REQ))
      local ok, err = t:wait{ on_progress = function() error("my wait progress broke") end }
      assert.is_nil(ok)
      assert.equals("callback_error", err.type)
      assert.matches("my wait progress broke", err.message)
      -- a download slow enough (0.4 s) for progress ticks during the transfer, not only at its end
      local slow = emulator.start{ speed = util.SPEED, video_bytes = 400000, media_rate = 1000000 }
      finally(function() slow:stop() end)
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

    it("chain's on_clip #m-on-clip-protected", function()
      local clips, err = seedance.chain(util.client_for(emu), { REQ, REQ },
        { on_clip = function() error("my on_clip broke") end })
      assert.equals(1, #clips)
      assert.equals("callback_error", err.type)
      assert.matches("my on_clip broke", err.message)
    end)

    it("map's output function, before anything is paid", function()
      local before = emu:stats().tasks_created
      local results, stats = seedance.map(util.client_for(emu), { REQ, REQ },
        { output = function(i) if i == 2 then error("my output broke") end return util.tmpfile("o.mp4") end })
      assert.equals(before, emu:stats().tasks_created)
      assert.equals("callback_error", results[2].error.type)
      assert.equals(1, stats.skipped)
    end)

    it("map's on_progress stops the batch, keeping what ran", function()
      local results, stats = seedance.map(util.client_for(emu), { REQ, REQ, REQ },
        { concurrency = 1, on_progress = function() error("my on_progress broke") end })
      assert.equals("callback_error", stats.error.type)
      assert.truthy(results[1].task)
      assert.equals("skipped", results[3].error.type)
    end)
  end)

  it("caps an API answer at max_body #m-response-size-cap", function()
    local gw = gateway.start{ cases = { { path = "/v1/balance", json = { success = true, pad = string.rep("x", 5000) } } } }
    finally(function() gw:stop() end)
    local bal, err = seedance.new{ api_key = "sk-spec", base_url = gw.url, max_body = 1000 }:balance()
    assert.is_nil(bal)
    assert.equals("too_large", err.type)
    assert.is_false(err.retryable)
    assert.equals(1, #gw:requests())
  end)

  it("21. sends every list field as a JSON array, even empty, with validate = false #m-empty-lists-arrays", function()
    local gw = gateway.start{ upstream = emu.url, cases = {} }
    finally(function() gw:stop() end)
    local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, validate = false }
    c:generate{ model = "doubao-seedance-2.0", prompt = "x", image_urls = {}, image_with_roles = {},
                video_urls = {}, audio_urls = {}, tools = {} }
    local body = gw:requests{ method = "POST" }[1].body
    for _, k in ipairs{ "image_urls", "image_with_roles", "video_urls", "audio_urls", "tools" } do
      assert.matches('"' .. k .. '":%[%]', body)
    end
  end)

  it("21. sends every list field as a JSON array, even empty, with validation on (the validator writes the body) #m-empty-lists-arrays-validator",
    function()
    local gw = gateway.start{ upstream = emu.url, cases = {} }
    finally(function() gw:stop() end)
    local c = seedance.new{ api_key = "sk-spec", base_url = gw.url }
    assert(c:generate{ model = "doubao-seedance-2.0", prompt = "x", image_urls = { "https://example.com/a.png" },
                       video_urls = {}, audio_urls = {}, tools = {} })
    local body = gw:requests{ method = "POST" }[1].body
    for _, k in ipairs{ "video_urls", "audio_urls", "tools" } do
      assert.matches('"' .. k .. '":%[%]', body)
    end
    assert.matches('"image_urls":%["https://example.com/a.png"%]', body)
  end)

  it("22. prints valid UTF-8 (and valid JSON) whatever the server's strings hold #m-cli-output-utf8", function()
    local gw = gateway.start{ cases = { { path = "/v1/balance", headers = { { "Content-Type", "application/json" } },
      body = '{"success":true,"remain_balance":5,"note":"caf\233 \255\254"}' } } }
    finally(function() gw:stop() end)
    local out = os.tmpname()
    local ok = util.run(("env SEEDANCE_API_KEY=sk-x SEEDANCE_BASE_URL=%s LUA_PATH=%q LUA_CPATH=%q %s bin/seedance "
      .. "balance --json > %s"):format(gw.url, package.path, package.cpath, util.LUA, out))
    assert.is_true(ok)
    local f = assert(io.open(out, "rb"))
    local text = f:read("*a")
    f:close()
    os.remove(out)
    assert.is_true(require("seedance.core").utf8_clean(text) == text, text)
    local obj = cjson.decode(text)
    assert.equals(5, obj.remain_balance)
    assert.equals("caf\239\191\189 \239\191\189\239\191\189", obj.note)
  end)
end)
