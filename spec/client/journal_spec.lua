-- The journal never lets a re-run pay twice: the submit (with its
-- Idempotency-Key) is on disk before it is sent; a re-run re-attaches to what
-- was paid and skips finished downloads, even after SIGKILL; one process holds
-- a journal at a time; records of the wrong shape, torn lines and files that
-- are not journals are read safely, never appended to.
local seedance = require("seedance")
local cjson = require("cjson")
local core = require("seedance.core")
local journal = require("seedance.journal")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local process = require("helpers.process")
local util = require("helpers.util")
local write = util.write

local REQ = util.request("a paper boat", 5)
local HEADER = cjson.encode{ v = 1, type = "journal", format = "seedance-journal" }

local cleanup = util.cleanup()

describe("the journal #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }

  it("re-attaches to journaled tasks and skips finished downloads #m-journal-reattach", function()
    local dir = cleanup(util.tmpdir())
    local before = emu:stats()
    local function journaled_map()
      local c = util.client_for(emu, { journal = dir .. "/j.journal" })
      local results = seedance.map(c, {
        { model = "doubao-seedance-2.0", prompt = "one" },
        { model = "doubao-seedance-2.0", prompt = "one" },   -- the same request twice: two logical requests
      }, { output = dir .. "/v-%d.mp4" })
      c:close() -- gives the journal's lock back, for the re-run
      return results
    end
    local first = journaled_map()
    local media_first = emu:stats().media_requests - before.media_requests
    local second = journaled_map()
    local stats = emu:stats()
    assert.equals(2, stats.tasks_created - before.tasks_created)
    assert.equals(2, media_first)
    assert.equals(media_first, stats.media_requests - before.media_requests) -- finished downloads are not fetched again
    assert.are_not.equal(first[1].task.id, first[2].task.id)
    assert.equals(first[1].task.id, second[1].task.id)
    assert.is_true(second[1].task.reattached)
    assert.is_true(util.ffprobe_ok(dir .. "/v-1.mp4"))
    -- a torn last record is tolerated
    local f = assert(io.open(dir .. "/j.journal", "ab"))
    f:write('{"v":1,"type":"task","key":"tor')
    f:close()
    local j = assert(journal.open(dir .. "/j.journal"))
    assert.equals(1, j.torn)
    j:close()
  end)

  it("fetches a journaled download again when its file is gone, without paying again #m-journal-download-size", function()
    local dir = cleanup(util.tmpdir())
    local path = dir .. "/v.mp4"
    local function once()
      local c = util.client_for(emu, { journal = dir .. "/j.journal" })
      local task = assert(c:generate(REQ))
      local got, err = task:download(path)
      c:close() -- the journal's lock back, for the re-run
      return task, got, err
    end
    local before = emu:created()
    local first, saved, ferr = once()
    assert.equals(path, saved, tostring(ferr)) -- (says why, when the first download fails)
    assert.is_true(util.size_of(path) > 0)
    os.remove(path)
    local second, got, err = once()
    assert.is_nil(err)
    assert.equals(first.id, second.id) -- re-attached: one task paid for
    assert.equals(1, emu:created() - before)
    assert.equals(path, got)
    assert.is_true((util.size_of(path) or 0) > 0, "the journal said done, and no file stands there")
  end)

  it("skips records of the wrong types, and says how many #found #m-journal-bad-records", function()
    local dir = cleanup(util.tmpdir())
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
    local j = assert(journal.open(path))
    assert.equals(7, j.skipped) -- the six above and the array
    assert.equals(1, j.torn)    -- the string
    j:close()
  end)

  it("never appends to a file that is not a journal #found #m-journal-not-foreign", function()
    local path = cleanup(write(util.tmpfile("notes.txt"), "my notes\nline two\n"))
    local ok, err = pcall(seedance.new, { api_key = "k", base_url = "http://127.0.0.1:9", journal = path })
    assert.is_false(ok)
    assert.matches("not a seedance journal", err)
    assert.equals("my notes\nline two\n", util.read_file(path))
  end)

  it("tells a request whose local image changed from the one journaled #found #m-journal-hash-image-bytes", function()
    local img = cleanup(write(util.tmpfile("img.png"), "\137PNG\r\n\26\nfirst"))
    local req = { model = "doubao-seedance-2.0", image_urls = { seedance.file(img) } }
    local h1 = journal.hash(req)
    write(img, "\137PNG\r\n\26\nsecond")
    assert.are_not.equal(h1, journal.hash(req))
  end)

  it("gives a clear error for a journal path that is a folder #found", function()
    local dir = cleanup(util.tmpdir())
    local ok, err = pcall(seedance.new, { api_key = "k", base_url = "http://127.0.0.1:9", journal = dir })
    assert.is_false(ok)
    assert.matches("is a directory, not a journal file", err)
  end)

  it("refuses a second client on the same journal, in this process or another #found #child #m-journal-lock", function()
    local dir = cleanup(util.tmpdir())
    local jpath = dir .. "/j"
    local o = { api_key = "k", base_url = "http://127.0.0.1:9", journal = jpath }
    local c1 = seedance.new(o)
    local ok, err = pcall(seedance.new, o)
    assert.is_false(ok)
    assert.matches("held by another", err)
    c1:close()
    -- another process holds it now
    local holder = assert(io.popen(child.command(([[
      local c = require("seedance").new{ api_key = "k", base_url = "http://127.0.0.1:9", journal = %q }
      io.write("locked\n"); io.flush()
      os.execute("sleep 2")]]):format(jpath))))
    assert.equals("locked", holder:read("*l"))
    ok, err = pcall(seedance.new, o)
    assert.is_false(ok)
    assert.matches("held by another", err)
    holder:close()
    seedance.new(o):close()
  end)

  it("never pays twice: a 20-clip pipeline killed with SIGKILL 20 times finishes having paid for 20 tasks #slow #child", function()
    -- the real 16:9 fixture, served slowly so that kills land mid-download too
    local whole = util.size_of(util.ROOT .. "/emulator/media/16x9.mp4")
    local slow = cleanup(emulator.start{ speed = 100, media_rate = 4096 })
    local dir = cleanup(util.tmpdir())
    local count = 20
    local cmd = ("%s %s %s '%s' '%s' %d %s"):format(child.paths(), util.LUA, util.ROOT .. "/spec/support/crash_pipeline.lua",
      slow.url, dir, count, 1 / 100)
    math.randomseed(20261123)
    local kills, round = 0, 0
    while kills < 20 and round < 60 do
      round = round + 1
      local p = io.popen("sh -c " .. process.quote(cmd .. " >/dev/null 2>&1 & echo $!"))
      local pid = p:read("*l")
      p:close()
      core.sleep(0.05 + math.random() * (0.3 + round * 0.05))   -- submitting, polling or mid-download
      if util.run("kill -9 " .. pid) then kills = kills + 1 end
      for _ = 1, 1000 do -- until it is gone (a zombie counts as gone: PID 1 reaps orphans when it likes)
        if not process.alive(pid) then break end
        core.sleep(0.01)
      end
      -- nothing partial under a final name, after any kill
      for i = 1, count do
        local path = string.format("%s/clip-%02d.mp4", dir, i)
        local n = util.size_of(path)
        assert(n == nil or n == whole, "round " .. round .. ": partial " .. path)
      end
    end
    local ok = util.run(cmd .. " >/dev/null")
    local stats = slow:stats()
    assert.truthy(ok)
    assert.is_true(kills >= 20, "only " .. kills .. " kills landed")
    assert.equals(count, stats.tasks_created)
    assert.is_true(stats.range_requests > 0, "no kill landed mid-download")
    for i = 1, count do
      local path = string.format("%s/clip-%02d.mp4", dir, i)
      assert.equals(whole, util.size_of(path))
      assert.is_true(util.ffprobe_ok(path))
    end
    print(string.format("\n  %d kills; tasks created %d for %d requests; %d range requests (resumed downloads)",
      kills, stats.tasks_created, count, stats.range_requests))
  end)

  describe("read back by a re-run", function()
    local gw = gateway.fixture({ cases = { { method = "POST", path = "/v1/videos/generations",
      json = { code = 200, data = { { status = "submitted", task_id = "task_T{{n}}" } } } } } }, { each = true })
    local function posts() return #gw:requests{ method = "POST" } end

    it("has the submit, with its Idempotency-Key, on disk before the submit is sent #found #m-journal-submit-before-send", function()
      gw:script{ cases = { { method = "POST", drop = true } } }
      local dir = cleanup(util.tmpdir())
      local c = util.client_for(gw, { max_retries = 0, journal = dir .. "/j" })
      assert.is_nil(c:generate(REQ))
      c:close()
      local sent = gw:requests{ method = "POST" }[1]:header("idempotency-key")
      local text = util.read_file(dir .. "/j")
      assert.matches('"type":"submit"', text)
      assert.truthy(text:find('"idempotency_key":"' .. sent .. '"', 1, true))
    end)

    -- found: a failed generate used up its occurrence number (hash#1) without a task; the script's
    -- retry paid under hash#2; a re-run's first generate was hash#1 again, found no task and paid again
    it("a re-run never pays again for a request whose first try failed and whose retry was paid #found #m-journal-failed-try-keeps-occurrence", function()
      gw:script{ cases = {
        { method = "POST", times = 1, status = 503, json = { error = { type = "bad_gateway", message = "busy" } } },
        { method = "POST", json = { code = 200, data = { { status = "submitted", task_id = "task_T{{n}}" } } } } } }
      local dir = cleanup(util.tmpdir())
      local o = { api_key = "sk-x", base_url = gw.url, journal = dir .. "/j", max_retries = 0 }
      local c1 = seedance.new(o)
      assert.is_nil(c1:generate(REQ))           -- 503: nothing paid
      local paid = assert(c1:generate(REQ))     -- the script tries again: paid
      c1:close()
      local before = posts()
      local c2 = seedance.new(o)                -- the re-run
      local t = assert(c2:generate(REQ))
      c2:close()
      assert.equals(before, posts(), "paid again: " .. t.id .. " beside " .. paid.id)
      assert.equals(paid.id, t.id)
    end)

    -- found: client:close() gave the journal's lock back but the client went on reading and writing
    -- the journal: with a second client on it, both paid for the same logical request
    it("a closed client does not pay under a journal it gave back #found #m-closed-client-refuses", function()
      local dir = cleanup(util.tmpdir())
      local o = { api_key = "sk-x", base_url = gw.url, journal = dir .. "/j" }
      local c1 = seedance.new(o)
      c1:close()
      local c2 = seedance.new(o)
      pcall(c1.generate, c1, REQ)
      assert(c2:generate(REQ))
      c2:close()
      assert.equals(1, posts())
      -- and a closed client with no journal makes no call at all: a caller mistake
      local c3 = seedance.new{ api_key = "sk-x", base_url = gw.url }
      c3:close()
      local ok, err = pcall(c3.generate, c3, REQ)
      assert.is_false(ok)
      assert.matches("closed client", err)
      assert.equals(1, posts())
    end)

    -- found: a journal record's idempotency key was checked for its type only: one holding CR LF
    -- made generate raise into the host (the engine refuses the header line)
    it("a submit record whose idempotency key is not a header value never makes generate raise #found #m-journal-key-token", function()
      local dir = cleanup(util.tmpdir())
      local h = journal.hash(REQ)
      write(dir .. "/j", HEADER .. "\n"
        .. cjson.encode{ v = 1, type = "submit", key = h .. "#1", hash = h, idempotency_key = "k\r\nX-Evil: 1" } .. "\n")
      local c = cleanup(seedance.new{ api_key = "sk-x", base_url = gw.url, journal = dir .. "/j" })
      local ok, t, err = pcall(c.generate, c, REQ)
      assert.is_true(ok, "generate raised: " .. tostring(t))
      assert.truthy(t or err)
    end)

    -- found: a journal longer than 64 MiB was read only up to 64 MiB, silently: the records after
    -- that point were ignored and a re-run paid again for the tasks they name
    it("never ignores the records of a long journal #found #m-journal-read-whole", function()
      local dir = cleanup(util.tmpdir())
      local h = journal.hash(REQ)
      local f = assert(io.open(dir .. "/j", "wb"))
      f:write(HEADER, "\n")
      local pad = cjson.encode{ v = 1, type = "note", pad = string.rep("p", 1024 * 1024) } .. "\n"
      for _ = 1, 65 do f:write(pad) end
      f:write(cjson.encode{ v = 1, type = "submit", key = h .. "#1", hash = h, idempotency_key = "abc" }, "\n")
      f:write(cjson.encode{ v = 1, type = "task", key = h .. "#1", task_id = "task_PAID" }, "\n")
      f:close()
      local ok, c = pcall(seedance.new, { api_key = "sk-x", base_url = gw.url, journal = dir .. "/j" })
      if not ok then return end -- a clear refusal is fine too: nothing is paid twice
      local t = c:generate(REQ)
      c:close()
      assert.equals(0, posts())
      assert.equals("task_PAID", t and t.id)
    end)

    it("re-attaches past torn lines and records of other requests in the middle of the journal", function()
      local dir = cleanup(util.tmpdir())
      local h = journal.hash(REQ)
      write(dir .. "/j", table.concat({
        HEADER,
        cjson.encode{ v = 1, type = "submit", key = h .. "#1", hash = h, idempotency_key = "abc" },
        '{"v":1,"type":"task","key":"' .. h .. '#1","task_id":"task_X', -- torn in the middle, not at the end
        cjson.encode{ v = 1, type = "task", key = "0000000000000000#1", task_id = "task_OTHER" },
        cjson.encode{ v = 1, type = "task", key = h .. "#1", task_id = "task_PAID" },
        cjson.encode{ v = 1, type = "task", key = h .. "#2", task_id = "task_SECOND" },
      }, "\n") .. "\n")
      local c = seedance.new{ api_key = "sk-x", base_url = gw.url, journal = dir .. "/j" }
      assert.equals("task_PAID", c:generate(REQ).id)
      assert.equals("task_SECOND", c:generate(REQ).id)
      local third = assert(c:generate(REQ))
      c:close()
      assert.equals(1, posts())
      assert.is_nil(third.reattached)
    end)
  end)
end)


describe("the journal #c", function()
  it("#found never takes a one-line file that is not JSON (a user's notes) for a journal torn mid-header, nor appends to it #m-journal-not-foreign-one-line", function()
    for _, text in ipairs{ "my notes, keep them\n", "my notes, no newline", "\0\1\2" } do
      local path = util.tmpfile("notes.txt")
      local f = assert(io.open(path, "wb")); f:write(text); f:close()
      local ok, err = pcall(seedance.new, { api_key = "k", base_url = "http://127.0.0.1:9", journal = path })
      assert.is_false(ok)
      assert.matches("not a seedance journal", err)
      assert.equals(text, util.read_file(path))
      os.remove(path)
    end
    -- a header torn mid-write is still one: the journal goes on after it
    local path = util.tmpfile("torn.journal")
    local f = assert(io.open(path, "wb")); f:write('{"v":2,"type":"jour'); f:close()
    local c = seedance.new{ api_key = "k", base_url = "http://127.0.0.1:9", journal = path }
    c:close()
    assert.matches('^{"v":2,"type":"jour\n{', util.read_file(path))
    os.remove(path)
  end)
end)

describe("a request's hash in the journal #c", function()
  -- A small PNG at path.
  local function png(path)
    process.write(path, "\137PNG\r\n\26\n" .. string.rep("\0", 32))
  end

  it("#found is the same in every process for a request with a local image (never paid again by a re-run) #child #m-journal-hash-stable", function()
    local dir = cleanup(util.tmpdir())
    png(dir .. "/cat.png")
    local script = dir .. "/hash.lua"
    process.write(script, [[
local seedance = require("seedance")
local journal = require("seedance.journal")
print(journal.hash{ model = "doubao-seedance-2.0", prompt = "a cat", image_urls = { seedance.file(arg[1]) } })
]])
    local mine = journal.hash{ model = "doubao-seedance-2.0", prompt = "a cat",
                               image_urls = { seedance.file(dir .. "/cat.png") } }
    for _ = 1, 8 do -- (each process seeds its string hashes anew: an encoder's walk of a table differs)
      local ok, out = util.run("LUA_PATH=" .. process.quote(package.path) .. " LUA_CPATH=" .. process.quote(package.cpath)
        .. " " .. util.LUA .. " " .. process.quote(script) .. " " .. process.quote(dir .. "/cat.png"))
      assert.is_true(ok, out)
      assert.equals(mine, out:match("^(%x+)"))
    end
    assert.equals([[{"image_urls":[{"$file":"x.png","bytes":"unreadable"}]}]],
      journal.canonical{ image_urls = { seedance.file("x.png") } })
  end)

  it("#found finds the task a journal written before recorded under its images' other key order: a re-run pays nothing #m-journal-legacy-hash", function()
    local emu = cleanup(emulator.start{ speed = util.SPEED })
    local dir = cleanup(util.tmpdir())
    png(dir .. "/cat.png")
    local reqs = { { model = "doubao-seedance-2.0", prompt = "a cat", image_urls = { seedance.file(dir .. "/cat.png") } } }
    local j = dir .. "/j"
    local c = util.client_for(emu, { journal = j })
    assert.equals(1, select(2, seedance.map(c, reqs)).done)
    c:close()
    -- the journal as the version before wrote it in a process whose walk put "bytes" first
    local now, before = journal.hash(reqs[1])
    assert.truthy(before)
    local text = util.read_file(j):gsub(now, before)
    process.write(j, text)
    c = util.client_for(emu, { journal = j })
    local results, stats = seedance.map(c, reqs)
    c:close()
    assert.equals(1, stats.done, tostring(results[1].error))
    assert.equals(1, emu:stats().tasks_created)
  end)
end)
