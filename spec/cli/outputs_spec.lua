-- The files the command saves: any name the user gives (spaces, quotes,
-- unicode, a leading dash through --output=) is saved as named, and a planted
-- FILE.part link is replaced, never written through.
local cli = require("helpers.cli")
local util = require("helpers.util")

local q = cli.q

local cleanup = util.cleanup()

describe("the files the seedance command saves #child", function()
  local _, env = cli.emulator({ speed = 200 }, { SEEDANCE_API_KEY = "sk-adversary-secret" })

  it("odd output names (spaces, quotes, unicode, a leading dash via --output=) are saved as named", function()
    local dir = cleanup(util.tmpdir())
    for _, name in ipairs{ "a b.mp4", "it's.mp4", "ünï 🎬.mp4", "-dash.mp4" } do
      local code, out, err = cli.run("generate --prompt x -q --output=" .. q(name), env, { cwd = dir })
      assert.equals(0, code, name .. ": " .. err)
      assert.truthy(out:find("saved: " .. name, 1, true), out)
      assert.is_true(util.is_mp4(dir .. "/" .. name), name)
    end
  end)

  it("a FILE.part that is a symbolic link is replaced, never written through", function()
    local dir = cleanup(util.tmpdir())
    local victim = dir .. "/victim"
    assert(os.execute("ln -s " .. q(victim) .. " " .. q(dir .. "/v.mp4.part")))
    local code, _, err = cli.run("generate --prompt x -q -o " .. q(dir .. "/v.mp4"), env)
    assert.equals(0, code, err)
    assert.is_nil(util.size_of(victim))
    assert.is_true(util.is_mp4(dir .. "/v.mp4"))
  end)
end)
