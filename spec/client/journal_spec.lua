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
