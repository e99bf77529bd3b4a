-- The command's standard streams when their reader goes away (`| true`,
-- `2>&1 | head -c 1`): a broken pipe on standard output or error is a file
-- error (exit 10), never death by SIGPIPE (exit 141) and never a lost video:
-- the video is saved and the task named on whichever stream still works.
local emulator = require("helpers.emulator")
local cli = require("helpers.cli")
local util = require("helpers.util")

local q = cli.q

-- Run `shell` (a bash pipeline with the command first) and the command's own exit code (PIPESTATUS[0]).
local function pipeline(shell)
  local codef = os.tmpname()
  util.run("bash -c " .. q(shell .. "; echo ${PIPESTATUS[0]} > " .. q(codef)))
  local code = tonumber(cli.slurp(codef):match("%d+"))
  os.remove(codef)
  return code
end

describe("the seedance command's standard streams #child", function()
  local emu, env, dir
  setup(function()
    -- a task of 20 service seconds at speed 20: a wait of about a second, with progress lines
    emu = emulator.start{ speed = 20, task_seconds = 20 }
    env = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-streams", SEEDANCE_TIME_SCALE = "0.05" }
  end)
  teardown(function() emu:stop() end)
  before_each(function() dir = util.tmpdir() end)
  after_each(function() util.run("rm -rf " .. q(dir)) end)

  -- `generate -o video` with its streams redirected as `streams` says (a pipeline after them), CAP
  -- standing there for a file of the test's folder: its exit code, and what went into that file.
  -- With `late`, the command starts a second after its reader: a reader that exits at once (`true`) is
  -- gone before the command writes, however loaded the machine (#found: once it was not, under load).
  local function generate_into(video, streams, late)
    local cap = dir .. "/captured"
    local redirects, reader = streams:gsub("CAP", q(cap)):match("^(.-)%s*(|.*)$")
    local command = cli.command("generate --prompt 'a paper boat' -o " .. q(video), env) .. " " .. redirects
    local code = pipeline((late and "{ sleep 1; " .. command .. "; }" or command) .. " " .. reader)
    return code, cli.slurp(cap)
  end

  it("a standard output whose reader is gone (| true) is a file error naming the task; the video is saved "
    .. "#m-cli-sigpipe-ignored", function()
    local video = dir .. "/a.mp4"
    local code, err = generate_into(video, "2>CAP </dev/null | true", true)
    assert.equals(10, code, err)
    assert.matches("cannot write standard output", err)
    local id = err:match("submitted task (task_%w+)")
    assert.truthy(id, err)
    assert.truthy(err:find("task " .. id .. " was paid for", 1, true), err)
    assert.is_true(util.is_mp4(video))
  end)

  it("a standard error whose reader stops early is a file error; the wait goes on and the video is saved, "
    .. "named on standard output #m-cli-sigpipe-ignored #m-cli-stderr-checked", function()
    local video = dir .. "/b.mp4"
    local code, out = generate_into(video, "2>&1 >CAP </dev/null | head -c 1 >/dev/null")
    assert.equals(10, code, out)
    assert.is_true(util.is_mp4(video))
    local id = out:match("task (task_%w+) completed")
    assert.truthy(id, out)
    assert.truthy(out:find("saved: " .. video, 1, true), out)
    assert.matches("cannot write standard error", out)
  end)

  it("opens descriptors 0-2 first when they are closed, so no file or socket the command opens becomes one "
    .. "#found #m-cli-std-fds-open", function()
    -- FOUND (an earlier round): with standard error closed (2>&-), the journal opened as descriptor 2 and the
    -- command's messages overwrote its records. Any descriptor it opens (the journal, the file worker's
    -- wake-up, a socket to the service) must not stand where a standard stream is expected.
    local slow = emulator.start{ speed = 1, task_seconds = 600 }
    local pid
    finally(function() -- one finally per test: busted keeps only the last one given
      if pid then os.execute("kill -9 " .. pid .. " 2>/dev/null") end
      slow:stop()
    end)
    local cmd = cli.command(("generate --prompt x --journal %s -o %s"):format(q(dir .. "/run.journal"),
      q(dir .. "/v.mp4")), { SEEDANCE_BASE_URL = slow.url, SEEDANCE_API_KEY = "sk-streams" })
    local shell = assert(io.popen(cmd .. " 0<&- 1>&- 2>&- & echo $!"))
    pid = shell:read("*l")
    shell:close()
    -- once the task is submitted the journal, the worker and a connection are open
    assert.is_true(cli.until_true(function() return slow:stats().tasks_created >= 1 end, 20))
    for fd = 0, 2 do
      local p = io.popen("readlink /proc/" .. pid .. "/fd/" .. fd)
      local target = p:read("*l")
      p:close()
      assert.equals("/dev/null", target, "descriptor " .. fd)
    end
  end)
end)
