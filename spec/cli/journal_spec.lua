-- Specs for `seedance journal FILE` (lua/seedance/cli/journal.lua): what it
-- lists of a journal, as text and as JSON, whatever the journal holds.
local cjson = require("cjson")
local cli = require("helpers.cli")
local process = require("helpers.process")
local util = require("helpers.util")

local q = cli.q

describe("seedance journal", function()
  it("#found --json lists items as a JSON list, empty too (an empty or a torn journal) #m-cli-journal-items-list", function()
    local dir = util.tmpdir()
    finally(function() process.remove_dir(dir) end)
    for name, text in pairs{ empty = "", torn = '{"v":2,"type":"jour' } do
      local path = dir .. "/" .. name .. ".journal"
      process.write(path, text)
      local code, out = cli.run("journal --json " .. q(path))
      assert.equals(0, code, name)
      assert.matches('"items":%[%]', out)
      assert.same({}, cjson.decode(out).items)
      local _, list = cli.run("journal " .. q(path))
      assert.matches("%(no item recorded%)", list)
    end
  end)
end)
