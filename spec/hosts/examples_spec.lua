-- Every runnable example, run as a user would (lua5.4 examples/NAME.lua)
-- against the emulator: each must exit 0 and leave its videos in place.
local emulator = require("helpers.emulator")
local util = require("helpers.util")

local SPEED = 200

local function run(emu, script, outdir)
  local cmd = string.format("cd %q && SEEDANCE_BASE_URL=%q SEEDANCE_API_KEY=sk-examples SEEDANCE_TIME_SCALE=%s "
    .. "SEEDANCE_OUT_DIR=%q LUA_PATH=%q LUA_CPATH=%q timeout 120 %s %q",
    ".", emu.url, tostring(1 / SPEED), outdir, package.path, package.cpath, util.LUA, script)
  local ok, out = util.run(cmd)
  return ok, out
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

describe("examples", function()
  local emu, outdir
  setup(function()
    emu = emulator.start{ speed = SPEED }
    outdir = os.tmpname() .. "-examples"
    assert(os.execute("mkdir -p '" .. outdir .. "'"))
  end)
  teardown(function()
    emu:stop()
    os.execute("rm -rf '" .. outdir .. "'")
  end)

  local p = assert(io.popen("ls examples/*.lua"))
  local scripts = {}
  for line in p:lines() do scripts[#scripts + 1] = line end
  p:close()

  it("include one script per scenario of the service reference (13)", function()
    local n = 0
    for _, s in ipairs(scripts) do if s:match("scenario%-%d%d") then n = n + 1 end end
    assert.equals(13, n)
  end)

  for _, script in ipairs(scripts) do
    it("runs " .. script, function()
      local ok, out = run(emu, script, outdir)
      assert(ok, script .. " failed:\n" .. out)
      local n = script:match("scenario%-(%d%d)")
      if n then assert.is_true(exists(outdir .. "/scenario-" .. n .. ".mp4"), out) end
    end)
  end
end)
