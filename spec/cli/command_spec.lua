-- Specs for the seedance command, run as a user runs it (lua5.4 bin/seedance ...).
-- The parser, the checks before paying, interrupts, progress, logging, the
-- journal, the files it writes and the server's text have their own files
-- in spec/cli/.
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local cli = require("helpers.cli")
local util = require("helpers.util")
local cjson = require("cjson")

local q = cli.q
local seedance = cli.run

local function write_json(text) return util.tmpfile("cli.json", text) end

local cleanup = util.cleanup()

describe("the seedance command #child", function()
  local emu, env = cli.emulator({ speed = 200 })

  it("validates a good request file", function()
    local code, out = seedance("validate spec/fixtures/scenario-09.json")
    assert.equals(0, code)
    assert.matches("valid", out)
  end)

  it("rejects a bad request file with exit code 3, naming the field", function()
    local p = write_json('{"model":"doubao-seedance-2.0","prompt":"x","image_with_roles":[{"url":"https://e.x/a.png","role":"middle"}]}')
    local code, _, err = seedance("validate " .. q(p))
    os.remove(p)
    assert.equals(3, code)
    assert.matches("image_with_roles%[1%]%.role", err)
  end)

  it("generates, waits and downloads with -o, printing plain progress lines off a terminal", function()
    local out = util.tmpfile("cli.mp4")
    local code, stdout, stderr = seedance("generate --prompt 'a paper boat' --resolution 720p --duration 5 -o " .. q(out), env)
    assert.equals(0, code, stderr)
    assert.matches("saved: " .. out:gsub("%p", "%%%0"), stdout)
    assert.matches("submitted task task_", stderr)
    assert.matches("processing", stderr)
    assert.matches("completed%s+100%%", stderr)
    assert.is_nil(stderr:find("\r", 1, true))
    assert.is_true(util.is_mp4(out))
    os.remove(out)
    assert.is_nil((stdout .. stderr):find("sk-cli-secret", 1, true))
  end)

  it("prints machine-readable JSON with --json, and takes --request with flag overrides", function()
    local p = write_json('{"model":"doubao-seedance-2.0-fast","prompt":"from a file","duration":4}')
    local code, stdout = seedance("generate --request " .. q(p) .. " --duration 6 --return-last-frame --wait --json", env)
    os.remove(p)
    assert.equals(0, code)
    local j = cjson.decode(stdout)
    assert.equals("completed", j.status)
    assert.matches("^task_", j.id)
    assert.matches("^http", j.last_frame_url)
  end)

  it("prints every other failure as one valid JSON object on standard output with --json, and the key is never in it", function()
    local cases = {
      { "generate --json", 3 },
      { "generate --json --prompt x --duration abc", 2 },
      { "generate --json --prompt x --image /nonexistent-adv.png", 10 },
      { "generate --json --prompt x -o /nonexistent-adv/x.mp4", 10 },
      { "generate --json --prompt x --base-url http://10.0.0.1", 2 },
      { "status --json task_00000000000000000000000000", 3 },
      { "status --json ../../etc/passwd", 2 },
      { "generate --json --prompt x", 5, { SEEDANCE_API_KEY = "sk-test-402" } },
      { "balance --json", 4, { SEEDANCE_API_KEY = "sk-test-401" } },
    }
    for _, c in ipairs(cases) do
      local code, out, err = seedance(c[1], cli.with(env, c[3]))
      assert.equals(c[2], code, c[1] .. ": " .. err)
      local ok, obj = pcall(cjson.decode, out)
      assert.is_true(ok and type(obj) == "table" and type(obj.error) == "table", c[1] .. ": " .. out)
      assert.is_nil(out:find("\n.", 1), out)                        -- one line
      assert.is_nil((out .. err):find(env.SEEDANCE_API_KEY, 1, true))
    end
  end)

  it("uploads a local --image and shows status, waits and downloads by id", function()
    local png = util.tmpfile("cli.png", util.PNG)
    local code, id = seedance("generate --image " .. q(png) .. " --prompt 'from an image'", env)
    os.remove(png)
    assert.equals(0, code)
    id = id:match("(task_%w+)")
    assert.truthy(id)
    local c2, status = seedance("status " .. id, env)
    assert.equals(0, c2)
    assert.matches(id, status)
    local out = util.tmpfile("cli-wait.mp4")
    local c3 = seedance("wait " .. id .. " -o " .. q(out), env)
    assert.equals(0, c3)
    local c4 = seedance("download " .. id .. " -o " .. q(out .. "2"), env)
    assert.equals(0, c4)
    assert.is_true(util.is_mp4(out))
    assert.is_true(util.is_mp4(out .. "2"))
    os.remove(out)
    os.remove(out .. "2")
  end)

  it("shows the balance with whole numbers as whole numbers #compat #m-cli-whole-numbers", function()
    local code, out = seedance("balance", env)
    assert.equals(0, code)
    -- lua-cjson decodes every JSON number as a float under Lua 5.4: never "999873.0"
    assert.matches("^remaining: %d+\nused: %d+\n$", out)
  end)

  it("exits with a distinct code per failure, never printing the key #slow", function()
    local e401 = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-test-401" }
    local e402 = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-test-402" }
    assert.equals(4, (seedance("generate --prompt x", e401)))
    assert.equals(5, (seedance("generate --prompt x", e402)))
    assert.equals(3, (seedance("generate --duration 99 --prompt x", env)))
    local code, _, err = seedance("balance", { SEEDANCE_BASE_URL = "http://127.0.0.1:9", SEEDANCE_API_KEY = "k" })
    assert.equals(8, code)
    assert.matches("network_error", err)
    assert.equals(2, (seedance("generate --bogus", env)))
    assert.equals(2, (seedance("frobnicate", env)))
    local nokey_code, _, nokey = seedance("generate --prompt x", { SEEDANCE_BASE_URL = emu.url })
    assert.equals(2, nokey_code)
    assert.matches("SEEDANCE_API_KEY", nokey)
  end)

  it("exits 9 when the task fails", function()
    local failing = cleanup(emulator.start{ speed = 200, fail_rate = 1 })
    local code, _, err = seedance("generate --prompt x --wait",
      { SEEDANCE_BASE_URL = failing.url, SEEDANCE_API_KEY = "k", SEEDANCE_TIME_SCALE = "0.005" })
    failing:stop()
    assert.equals(9, code)
    assert.matches("task_failed", err)
  end)

  it("has --help on every subcommand, listing the exit codes", function()
    for _, cmd in ipairs{ "generate", "status", "wait", "download", "validate", "balance" } do
      local code, out = seedance(cmd .. " --help")
      assert.equals(0, code)
      assert.matches("Usage: seedance " .. cmd, out)
      assert.matches("Exit codes", out)
      local c2, out2 = seedance("help " .. cmd)
      assert.equals(0, c2)
      assert.equals(out, out2)
    end
    local code, out = seedance("--help")
    assert.equals(0, code)
    assert.matches("task failed", out)
  end)

  describe("keeps 'use this image as the last frame' apart from 'save the last frame'", function()
    it("--first-frame a.png --last-frame a.png -o out.mp4 saves the video in out.mp4, not the frame", function()
      local png = util.tmpfile("cli.png", util.PNG)
      local out, frame = util.tmpfile("cli-fl.mp4"), util.tmpfile("cli-fl.png")
      local code, stdout, stderr = seedance(("generate --first-frame %s --last-frame %s --return-last-frame "
        .. "--prompt x -o %s --save-last-frame %s"):format(q(png), q(png), q(out), q(frame)), env)
      os.remove(png)
      assert.equals(0, code, stderr)
      assert.is_true(util.is_mp4(out), "the video file holds " .. tostring(util.head(out, 8)))
      assert.equals("\137PNG", util.head(frame, 4))
      assert.matches("saved last frame: ", stdout)
      os.remove(out)
      os.remove(frame)
    end)

    it("--save-last-frame alone asks the service for the last frame (return_last_frame)", function()
      local frame = util.tmpfile("cli-only.png")
      local code, _, stderr = seedance("generate --prompt x --save-last-frame " .. q(frame), env)
      assert.equals(0, code, stderr)
      assert.equals("\137PNG", util.head(frame, 4))
      os.remove(frame)
    end)

    it("download --save-last-frame of a task made without return_last_frame says so, exit 2, at once #m-cli-last-frame-missing", function()
      local code, id = seedance("generate --prompt x --wait", env)
      assert.equals(0, code)
      id = id:match("(task_%w+)")
      local frame = util.tmpfile("cli-none.png")
      local before = emu:stats().polls
      local c2, out, err = seedance("download " .. id .. " --save-last-frame " .. q(frame), env)
      assert.equals(2, c2, err)
      assert.equals("", out)
      assert.matches("task " .. id .. " has no last frame: it was generated without %-%-return%-last%-frame", err)
      assert.is_nil(util.size_of(frame))
      assert.equals(1, emu:stats().polls - before)   -- one read of the task, no re-reads for a URL
    end)

    it("wait -o --save-last-frame of a task without a last frame saves the video first, then says so #m-cli-video-before-frame", function()
      local code, id = seedance("generate --prompt x --wait", env)
      assert.equals(0, code)
      id = id:match("(task_%w+)")
      local video, frame = util.tmpfile("cli-first.mp4"), util.tmpfile("cli-first.png")
      local c2, _, err = seedance(("wait %s -o %s --save-last-frame %s"):format(id, q(video), q(frame)), env)
      assert.equals(2, c2, err)
      assert.is_true(util.is_mp4(video), err)
      assert.matches("has no last frame", err)
      assert.truthy(err:find("its video was saved to " .. video, 1, true), err)
      assert.is_nil(util.size_of(frame))
      os.remove(video)
    end)

    describe("when the service sends no last frame", function()
      local gw = gateway.fixture(function() return { upstream = emu.url, cases = {
        { name = "poll without last frame", method = "GET", pattern = "^/v1/tasks/", forward = true,
          replace = { { "last_frame_url", "no_frame_here" } } } } } end)

      -- found: exited 2 "generated without --return-last-frame" (it was asked) and never saved the
      -- video it paid for
      it("the paid video is still saved, and the message does not blame the flags #found", function()
        local dir = cleanup(util.tmpdir())
        local video, frame = dir .. "/v.mp4", dir .. "/f.png"
        local code, _, err = seedance(("generate --prompt x -q -o %s --save-last-frame %s"):format(q(video), q(frame)),
          cli.with(env, { SEEDANCE_BASE_URL = gw.url }))
        assert.is_true(util.is_mp4(video), "the paid video was not saved: " .. err)
        assert.is_nil(err:find("without --return-last-frame", 1, true), err)
        assert.are_not.equal(0, code)
      end)
    end)
  end)

  describe("after a task was paid for", function()
    -- 80 service seconds at speed 20: 4 s of wall time to act in
    local slow, senv = cli.emulator({ speed = 20, task_seconds = 80 })

    it("a --wait-timeout that runs out says its own seconds and how to pick the task up (--json too) #m-cli-paid-task-named", function()
      local out = util.tmpfile("cli-timeout.mp4")
      local code, _, err = seedance("generate --prompt x -q --wait-timeout 0.3 -o " .. q(out), senv)
      assert.equals(12, code, err)
      local id = err:match("submitted task (task_%w+)")
      assert.truthy(id, err)
      assert.matches("still %a+ after 0%.3 s %(%-%-wait%-timeout%)", err)
      assert.truthy(err:find("pick it up with: seedance wait " .. id .. " -o " .. out, 1, true), err)
      local c2, jout, jerr = seedance("generate --prompt x --json --wait-timeout 0.3 -o " .. q(out), senv)
      assert.equals(12, c2, jerr)
      local obj = cjson.decode(jout).error
      assert.equals("timeout_error", obj.type)
      assert.equals(jerr:match("submitted task (task_%w+)"), obj.task_id)
      assert.equals("seedance wait " .. obj.task_id .. " -o " .. out, obj.resume)
    end)

    it("a standard output that is closed is a file error naming the task, and no file takes its place #m-cli-stdout-checked", function()
      local dir = util.tmpdir()
      local cmd = cli.command(("generate --prompt x -q --journal %s -o %s"):format(q(dir .. "/j"), q(dir .. "/v.mp4")),
        env)
      local errf = dir .. "/err"
      local _, _, code = util.run(cmd .. " >&- 2>" .. q(errf) .. " </dev/null")
      local err = cli.slurp(errf)
      assert.equals(10, code, err)
      assert.matches("cannot write standard output", err)
      local id = err:match("submitted task (task_%w+)")
      assert.truthy(err:find("task " .. id .. " was paid for; pick it up with: seedance wait " .. id, 1, true), err)
      assert.matches('^{[^\n]*"seedance%-journal"', cli.slurp(dir .. "/j"))   -- the journal is the journal
      local before = emu:stats().tasks_created
      local c2, _, e2 = seedance(("generate --prompt x -q --journal %s -o %s"):format(q(dir .. "/j"),
        q(dir .. "/v.mp4")), env)
      assert.equals(0, c2, e2)
      assert.equals(before, emu:stats().tasks_created)                   -- re-attached, not paid again
      local _, _, c3 = util.run(cli.command("balance", env) .. " >/dev/full 2>" .. q(errf) .. " </dev/null")
      assert.equals(10, c3, cli.slurp(errf))
      os.execute("rm -rf " .. q(dir))
    end)

    -- found: the deadline was multiplied by SEEDANCE_TIME_SCALE: `--wait-timeout 30` gave up after 1.5 s,
    -- saying "after 30 s"
    it("--wait-timeout counts wall seconds, as its help says #found #m-cli-wait-timeout-wall", function()
      local code, _, err = seedance("generate --prompt x -q --wait --wait-timeout 30", senv)
      assert.equals(0, code, err)
    end)

    -- Start `generate -o FILE`, and once it has submitted, put a folder where FILE.part goes.
    local function broken_download(extra)
      local dir = util.tmpdir()
      local out = dir .. "/v.mp4"
      local before = slow:created()
      local job = cli.start("generate --prompt x -o " .. q(out) .. (extra or ""), senv)
      assert.is_true(cli.until_true(function() return slow:created() > before end))
      assert(os.execute("mkdir " .. q(out .. ".part")))
      local code, o, e = job:finish()
      util.rmrf(dir)
      return code, o, e, out
    end

    -- found: the error was "io_error: cannot create FILE.part: Is a directory"; nothing said
    -- `seedance wait ID -o FILE`
    it("a local failure names the task and the command that fetches the video it paid for #found", function()
      local code, _, err, out = broken_download()
      assert.equals(10, code, err)
      local id = err:match("submitted task (task_%w+)")
      assert.truthy(id, err)
      assert.truthy(err:find("seedance wait " .. id, 1, true), err)
      assert.truthy(err:find(out, 1, true), err)
    end)

    -- found: {"error":{"type":"io_error",...}} had no task_id, and --json prints no "submitted" line:
    -- the paid id was lost
    it("with --json, the error object of a local failure carries the task id #found", function()
      local code, out, err = broken_download(" --json")
      assert.equals(10, code, err)
      local obj = cjson.decode(out)
      assert.is_table(obj.error, out)
      assert.matches("^task_%w+$", tostring(obj.error.task_id), out)
    end)

    -- found: the command died of SIGXFSZ (exit 153) with no line at all; the paid task was named only
    -- by "submitted"
    it("a file size limit (ulimit -f) during the download: a file error naming the task, not death by SIGXFSZ #found #m-cli-sigxfsz-ignored", function()
      local out = cleanup(util.tmpfile("xfsz.mp4"))
      local code, _, err = seedance("generate --prompt x -q -o " .. q(out), env, { prefix = "ulimit -f 2; ",
        stdout = ">/dev/null" })
      assert.equals(10, code, err)
      local id = err:match("submitted task (task_%w+)")
      assert.truthy(id and err:find("seedance wait " .. id, 1, true), err)
    end)

    -- found: `generate --json >/dev/full` paid, lost the only copy of the task id, and exited 0
    it("a standard output that cannot be written (/dev/full) is not a success, and the paid id reaches stderr #found", function()
      local paid, code, _, err = emu:cost(function()
        return seedance("generate --prompt x --json", env, { stdout = ">/dev/full" })
      end)
      assert.equals(1, paid)
      assert.are_not.equal(0, code)
      assert.matches("task_%w+", err)
    end)
  end)
end)
