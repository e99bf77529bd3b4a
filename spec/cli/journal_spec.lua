-- The command's --journal: a re-run pays again only for what changed (the
-- bytes of an input image) or failed, and the journal stays the journal
-- whatever the command's standard streams are (a closed stderr never hands
-- its descriptor to the journal); and `seedance journal FILE` lists what a
-- journal holds, as text and as JSON, whatever the journal holds.
local cjson = require("cjson")
local emulator = require("helpers.emulator")
local cli = require("helpers.cli")
local util = require("helpers.util")

local q = cli.q
local PNG = util.ROOT .. "/emulator/media/last-frame.png"

local cleanup = util.cleanup()

describe("the seedance command's --journal #child", function()
  local emu, env = cli.emulator({ speed = 200 }, { SEEDANCE_API_KEY = "sk-adversary-secret" })

  -- found: the journal hashed the image's path, not its bytes, so the re-run re-attached to the old
  -- image's video
  it("re-running after the input image changed pays for the new image #found", function()
    local dir = cleanup(util.tmpdir())
    local img, j = util.write(dir .. "/first.png", cli.slurp(PNG)), dir .. "/run.journal"
    local cmd = ("generate --prompt x -q --wait --journal %s --first-frame %s"):format(q(j), q(img))
    local paid1, c1, _, e1 = emu:cost(function() return cli.run(cmd, env) end)
    assert.equals(0, c1, e1)
    assert.equals(1, paid1)
    util.write(img, cli.slurp(PNG) .. "another picture")
    local paid2, c2, _, e2 = emu:cost(function() return cli.run(cmd, env) end)
    assert.equals(0, c2, e2)
    assert.is_nil(e2:find("re-attached", 1, true), e2)
    assert.equals(1, paid2)
  end)

  -- found: the re-run re-attached to the failed task ("not paid again") and exited 9 again, for
  -- ever, with no way out named
  it("re-running after the task failed tries again, or says how to #found", function()
    local failing = cleanup(emulator.start{ speed = 200, fail_rate = 1 })
    local dir = cleanup(util.tmpdir())
    local fenv = cli.env(failing, { SEEDANCE_API_KEY = "sk-adversary-secret" })
    local cmd = ("generate --prompt x -q --journal %s -o %s"):format(q(dir .. "/run.journal"), q(dir .. "/v.mp4"))
    local c1, _, e1 = cli.run(cmd, fenv)
    local paid2, c2, _, e2 = failing:cost(function() return cli.run(cmd, fenv) end)
    assert.equals(9, c1, e1)
    assert.is_true(paid2 == 1 or (e2:find("remove", 1, true) or e2:find("delete", 1, true)) ~= nil,
      "c2=" .. tostring(c2) .. ": " .. e2)
  end)

  -- found: the journal opened as fd 2, so "submitted task" and the progress lines overwrote its
  -- records; the re-run paid again
  it("with standard error closed (2>&-), nothing is written into the journal that took its descriptor #found #m-cli-std-fds-open", function()
    local dir = cleanup(util.tmpdir())
    local j = dir .. "/run.journal"
    local args = ("generate --prompt x --journal %s -o %s"):format(q(j), q(dir .. "/v.mp4"))
    local paid = emu:cost(function()
      cli.run(args, env, { stdout = ">/dev/null", stderr = "2>&-" })
      return cli.run(args, env, { stdout = ">/dev/null" })
    end)
    assert.matches('"seedance%-journal"', cli.slurp(j):match("^[^\n]*"))
    assert.equals(1, paid, "the re-run paid again")
  end)
end)

describe("seedance journal #child", function()
  it("#found --json lists items as a JSON list, empty too (an empty or a torn journal) #m-cli-journal-items-list", function()
    local dir = cleanup(util.tmpdir())
    for name, text in pairs{ empty = "", torn = '{"v":2,"type":"jour' } do
      local path = dir .. "/" .. name .. ".journal"
      util.write(path, text)
      local code, out = cli.run("journal --json " .. q(path))
      assert.equals(0, code, name)
      assert.matches('"items":%[%]', out)
      assert.same({}, cjson.decode(out).items)
      local _, list = cli.run("journal " .. q(path))
      assert.matches("%(no item recorded%)", list)
    end
  end)

  it("#found a Redis URL that names no journal, or a bad lease, is a usage error (exit 2), as batch says it, for "
    .. "journal and abandon alike #m-cli-journal-url-usage", function()
    -- (no Redis is needed: the URL is refused before any connection)
    for _, args in ipairs{ "journal redis://127.0.0.1:1", "journal --json redis://127.0.0.1:1/",
                           "abandon task_x --journal " .. q("redis://127.0.0.1:1/x?lease=-1") } do
      local code, out, err = cli.run(args)
      assert.equals(2, code, args .. ": " .. err)
      assert.matches("redis:\\?/\\?/", err .. out) -- (with --json, the error is the JSON on standard output)
    end
  end)
end)
