-- Specs for the engine's file worker (src/jobs.c): eng:job hashes a file, reads
-- a locked file or appends to it (synced) on a worker thread, and next() hands
-- the result over like a transfer's. In order; nothing lost when the engine closes.
local core = require("seedance.core")
local process = require("helpers.process")
local util = require("helpers.util")

-- Step until the job's result arrives (bounded).
local function result_of(eng, id)
  local deadline = core.now() + 10
  while core.now() < deadline do
    eng:step(5)
    local r = eng:next()
    while r do
      if r.id == id then return r end
      r = eng:next()
    end
  end
  error("no result for job " .. tostring(id))
end

local cleanup = util.cleanup()

describe("the engine's file worker #c", function()
  local dir
  before_each(function() dir = util.tmpdir() end)
  after_each(function() process.remove_dir(dir) end)

  it("hashes a file as core.hash hashes its bytes, and says when it cannot read one", function()
    local eng = core.engine()
    finally(function() eng:close() end)
    local bytes = string.rep("seedance", 100000) .. "tail"
    process.write(dir .. "/f", bytes)
    local r = result_of(eng, eng:job{ op = "hash", path = dir .. "/f", max = 64 * 1024 * 1024 })
    assert.is_true(r.ok)
    assert.equals("hash", r.job)
    assert.equals(core.hash(bytes), r.hash)
    r = result_of(eng, eng:job{ op = "hash", path = dir .. "/f", max = 10 })
    assert.equals(core.hash(bytes:sub(1, 10)), r.hash)
    r = result_of(eng, eng:job{ op = "hash", path = dir .. "/missing", max = 10 })
    assert.is_false(r.ok)
    assert.is_string(r.error)
  end)

  it("appends through a lock's own open file, in the order asked, and reads it back", function()
    local eng = core.engine()
    cleanup(function() eng:close() end)
    local lock = assert(core.lock(dir .. "/j"))
    finally(function() lock:unlock() end)
    local ids = {}
    for i = 1, 50 do ids[i] = eng:job{ op = "append", file = lock, data = "record " .. i .. "\n" } end
    for i = 1, 50 do assert.is_true(result_of(eng, ids[i]).ok) end
    local want = {}
    for i = 1, 50 do want[i] = "record " .. i .. "\n" end
    assert.equals(table.concat(want), util.read_file(dir .. "/j"))
    local r = result_of(eng, eng:job{ op = "read", file = lock, max = 1e9 })
    assert.is_true(r.ok)
    assert.equals(table.concat(want), r.data)
  end)

  it("removes a file (a link itself) and moves one onto another, and says why it cannot", function()
    local eng = core.engine()
    finally(function() eng:close() end)
    process.write(dir .. "/a", "new")
    process.write(dir .. "/b", string.rep("old", 1000))
    local r = result_of(eng, eng:job{ op = "replace", path = dir .. "/a", to = dir .. "/b" })
    assert.is_true(r.ok, r.error)
    assert.equals("replace", r.job)
    assert.equals("new", util.read_file(dir .. "/b"))
    assert.is_nil(core.stat(dir .. "/a"))
    r = result_of(eng, eng:job{ op = "replace", path = dir .. "/a", to = dir .. "/b" })
    assert.is_false(r.ok)
    assert.is_string(r.error)
    assert.is_true((util.run("ln -s " .. process.quote(dir .. "/b") .. " " .. process.quote(dir .. "/link"))))
    r = result_of(eng, eng:job{ op = "remove", path = dir .. "/link" })
    assert.is_true(r.ok, r.error)
    assert.equals("new", util.read_file(dir .. "/b")) -- the link went, not what it points to
    assert.is_true(result_of(eng, eng:job{ op = "remove", path = dir .. "/b" }).ok)
    assert.is_nil(core.stat(dir .. "/b"))
    assert.is_true(result_of(eng, eng:job{ op = "remove", path = dir .. "/b" }).ok) -- none there: no error
    assert.has_error(function() eng:job{ op = "replace", path = dir .. "/a" } end)
  end)

  it("writes every record asked for before the engine closes #m-jobs-drain-on-close", function()
    local eng = core.engine()
    local lock = assert(core.lock(dir .. "/j"))
    finally(function() lock:unlock() end)
    for i = 1, 200 do eng:job{ op = "append", file = lock, data = ("%04d\n"):format(i) } end
    eng:close() -- at once: the worker finishes the queue first
    local text = util.read_file(dir .. "/j")
    assert.equals(200 * 5, #text)
    assert.equals("0200\n", text:sub(-5))
  end)

  it("cancels a job: its result never comes", function()
    local eng = core.engine()
    finally(function() eng:close() end)
    process.write(dir .. "/f", string.rep("x", 1000))
    local a = eng:job{ op = "hash", path = dir .. "/f", max = 1000 }
    local b = eng:job{ op = "hash", path = dir .. "/f", max = 1000 }
    assert.is_true(eng:cancel(a))
    assert.equals(b, result_of(eng, b).id)
    eng:step(20)
    assert.is_nil(eng:next())
  end)

  it("asks step for a prompt look while a job runs, and raises on a caller's mistake", function()
    local eng = core.engine()
    finally(function() eng:close() end)
    assert.equals(-1, eng:timeout())
    process.write(dir .. "/f", string.rep("x", 1000))
    local id = eng:job{ op = "hash", path = dir .. "/f", max = 1000 }
    assert.is_true(eng:timeout() <= 1)
    result_of(eng, id)
    assert.equals(-1, eng:timeout())
    local lock = assert(core.lock(dir .. "/j"))
    lock:unlock()
    assert.has_error(function() eng:job{ op = "append", file = lock, data = "x" } end)
    assert.has_error(function() eng:job{ op = "shred", path = "x" } end)
  end)
end)
