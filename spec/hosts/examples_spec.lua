-- Every runnable example, run as a user would (lua5.4 examples/NAME.lua)
-- against the emulator: each must exit 0 and leave its videos in place.
local emulator = require("helpers.emulator")
local child = require("helpers.child")
local process = require("helpers.process")
local util = require("helpers.util")

local q = process.quote

-- Run an example script from the repository's root as a user would: whether it exited 0, its output.
local function run_example(emu, script, outdir)
  return util.run(("cd %s && SEEDANCE_BASE_URL=%s SEEDANCE_API_KEY=sk-examples SEEDANCE_TIME_SCALE=%s "
    .. "SEEDANCE_OUT_DIR=%s %s timeout 120 %s %s"):format(q(util.ROOT), q(emu.url), tostring(1 / emu.speed), q(outdir),
    child.paths(), util.LUA, q(script)))
end

describe("examples #child", function()
  local emu = emulator.fixture{ speed = util.SPEED }
  local outdir
  setup(function() outdir = util.tmpdir() end)
  teardown(function() util.rmrf(outdir) end)

  local p = assert(io.popen("ls " .. q(util.ROOT) .. "/examples/*.lua"))
  local scripts = {}
  for line in p:lines() do scripts[#scripts + 1] = line:sub(#util.ROOT + 2) end
  p:close()

  it("include one script per scenario of the service reference (13)", function()
    local n = 0
    for _, s in ipairs(scripts) do if s:match("scenario%-%d%d") then n = n + 1 end end
    assert.equals(13, n)
  end)

  for _, script in ipairs(scripts) do
    it("runs " .. script, function()
      local ok, out = run_example(emu, script, outdir)
      assert(ok, script .. " failed:\n" .. out)
      local n = script:match("scenario%-(%d%d)")
      if n then assert.is_true(util.size_of(outdir .. "/scenario-" .. n .. ".mp4") ~= nil, out) end
    end)
  end
end)
