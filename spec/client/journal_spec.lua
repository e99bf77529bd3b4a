-- Specs for the journal (lua/seedance/journal.lua) as a client opens it: what
-- it takes for a journal and what it never writes into.
local seedance = require("seedance")
local util = require("helpers.util")

describe("the journal", function()
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

describe("a request's hash in the journal", function()
  local journal = require("seedance.journal")
  local emulator = require("helpers.emulator")
  local process = require("helpers.process")

  -- A small PNG at path.
  local function png(path)
    process.write(path, "\137PNG\r\n\26\n" .. string.rep("\0", 32))
  end

  it("#found is the same in every process for a request with a local image (never paid again by a re-run) #child #m-journal-hash-stable", function()
    local dir = util.tmpdir()
    finally(function() process.remove_dir(dir) end)
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
    local emu = emulator.start{ speed = util.SPEED }
    local dir = util.tmpdir()
    finally(function() emu:stop(); process.remove_dir(dir) end)
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
