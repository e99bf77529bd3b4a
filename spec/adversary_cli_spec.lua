-- An adversary's tour of the `seedance` command: each `-- FOUND:` case is a
-- way to make the command pay for work it then throws away, lose a video or a
-- user's file, mislead, or exit with the wrong code. Those specs fail until
-- the lead fixes the fault; the others are attacks that held and are kept.
-- Everything runs against the emulator (or the hostile gateway) on loopback,
-- with bounded waits.
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local cli = require("helpers.cli")
local util = require("helpers.util")
local process = require("helpers.process")
local cjson = require("cjson")

local q = cli.q

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)/spec/adversary_cli_spec%.lua$") or ".")
if ROOT:sub(1, 1) ~= "/" then ROOT = os.getenv("PWD") .. "/" .. ROOT end

local function write_file(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

local function copy(from, to)
  return write_file(to, cli.slurp(from))
end

local PNG = ROOT .. "/emulator/media/last-frame.png"

-- `env` plus `over` (false removes a variable).
local function with(env, over)
  local e = {}
  for k, v in pairs(env) do e[k] = v end
  for k, v in pairs(over or {}) do e[k] = v end
  return e
end

-- Run the command in folder `dir` (bin/seedance by its absolute path), with
-- `redirect` replacing the usual ">OUT 2>ERR" when given (it must send stderr to ERR).
local function run_in(dir, args, env, redirect)
  local out, err = os.tmpname(), os.tmpname()
  local cmd = cli.command(args, env):gsub(" bin/seedance ", " " .. ROOT .. "/bin/seedance ", 1)
  local _, _, code = util.run("cd " .. q(dir) .. " && " .. cmd .. " "
    .. (redirect and redirect:gsub("ERR", q(err)) or (">" .. q(out) .. " 2>" .. q(err))) .. " </dev/null")
  local o, e = cli.slurp(out), cli.slurp(err)
  os.remove(out)
  os.remove(err)
  return code, o, e
end

describe("adversary: the seedance command", function()
  local fast, env          -- tasks of about a second of wall time
  setup(function()
    fast = emulator.start{ speed = 200 }
    env = { SEEDANCE_BASE_URL = fast.url, SEEDANCE_API_KEY = "sk-adversary-secret", SEEDANCE_TIME_SCALE = "0.005" }
  end)
  teardown(function() fast:stop() end)

  -- What a run cost on the fast emulator: tasks created.
  local function cost(fn)
    local before = fast:stats().tasks_created
    local a, b, c = fn()
    return fast:stats().tasks_created - before, a, b, c
  end

  describe("outputs that clash with other files", function()
    it("-o and --save-last-frame naming one file in two spellings: refused before paying", function()
      -- FOUND: check_outputs compares spellings, so the PNG overwrites the paid video (a.mp4 ends up a PNG).
      local dir = util.tmpdir()
      local paid, code, _, err = cost(function()
        return cli.run(("generate --prompt x -q -o %s --save-last-frame %s"):format(q(dir .. "/a.mp4"),
          q(dir .. "/./a.mp4")), env)
      end)
      assert.equals(0, paid, "a task was paid for: " .. err)
      assert.equals(2, code, err)
      os.execute("rm -rf " .. q(dir))
    end)

    it("--image FILE -o FILE: refused before paying, the image left as it was", function()
      -- FOUND: the input image is uploaded, then replaced by the video.
      local dir = util.tmpdir()
      local img = copy(PNG, dir .. "/cat.png")
      local paid, code, _, err = cost(function()
        return cli.run(("generate --prompt x -q --image %s -o %s"):format(q(img), q(img)), env)
      end)
      assert.equals(0, paid, "a task was paid for: " .. err)
      assert.are_not.equal(0, code)
      assert.equals(cli.slurp(PNG), cli.slurp(img), "the user's image was overwritten")
      os.execute("rm -rf " .. q(dir))
    end)

    it("--request FILE -o FILE: refused before paying, the request file left as it was", function()
      -- FOUND: the request file is replaced by the video.
      local dir = util.tmpdir()
      local body = '{"model":"doubao-seedance-2.0","prompt":"x"}'
      local req = write_file(dir .. "/req.json", body)
      local paid, code, _, err = cost(function()
        return cli.run(("generate -q --request %s -o %s"):format(q(req), q(req)), env)
      end)
      assert.equals(0, paid, "a task was paid for: " .. err)
      assert.are_not.equal(0, code)
      assert.equals(body, cli.slurp(req))
      os.execute("rm -rf " .. q(dir))
    end)

    it("--journal FILE -o FILE: refused before paying, the journal kept", function()
      -- FOUND: the video replaces the journal, so a re-run can no longer re-attach.
      local dir = util.tmpdir()
      local j = dir .. "/run.journal"
      local paid, code, _, err = cost(function()
        return cli.run(("generate --prompt x -q --journal %s -o %s"):format(q(j), q(j)), env)
      end)
      assert.equals(0, paid, "a task was paid for: " .. err)
      assert.are_not.equal(0, code)
      assert.is_false(util.is_mp4(j) and true or false, "the journal was replaced by the video")
      os.execute("rm -rf " .. q(dir))
    end)

    it("-o - makes no file named '-' (standard output, or refused before paying)", function()
      -- FOUND: `--request -` reads standard input, but `-o -` writes a file named "-" in the current folder.
      local dir = util.tmpdir()
      local code, out, err = run_in(dir, "generate --prompt x -q -o -", env)
      local made = util.size_of(dir .. "/-")
      os.execute("rm -rf " .. q(dir))
      assert.is_nil(made, "a file named '-' was written")
      assert.is_true(code ~= 0 or out:sub(5, 8) == "ftyp", err)
    end)
  end)

  describe("local problems that a check could find before paying", function()
    it("-o FILE where FILE.part is a folder costs nothing", function()
      -- FOUND: only the target is checked; the download then fails on FILE.part (exit 10) after the task is paid.
      local dir = util.tmpdir()
      assert(os.execute("mkdir " .. q(dir .. "/v.mp4.part")))
      local paid, code, _, err = cost(function()
        return cli.run("generate --prompt x -q -o " .. q(dir .. "/v.mp4"), env)
      end)
      os.execute("rm -rf " .. q(dir))
      assert.equals(0, paid, "a task was paid for: " .. err)
      assert.equals(10, code, err)
    end)

    it("a file name whose FILE.part.meta companion is too long for the file system costs nothing", function()
      -- FOUND: a 254-byte name passes the checks; FILE.part.meta (264 bytes) fails with ENAMETOOLONG after paying.
      local dir = util.tmpdir()
      local name = dir .. "/" .. string.rep("a", 250) .. ".mp4"
      local paid, code, _, err = cost(function()
        return cli.run("generate --prompt x -q -o " .. q(name), env)
      end)
      os.execute("rm -rf " .. q(dir))
      assert.equals(0, paid, "a task was paid for: " .. err)
      assert.equals(10, code, err)
    end)
  end)

  describe("a local failure after paying", function()
    local mid, env_mid    -- a task of 80 service seconds at speed 20: 4 s to act in
    setup(function()
      mid = emulator.start{ speed = 20, task_seconds = 80 }
      env_mid = { SEEDANCE_BASE_URL = mid.url, SEEDANCE_API_KEY = "sk-adversary", SEEDANCE_TIME_SCALE = "0.05" }
    end)
    teardown(function() mid:stop() end)

    -- Start `generate -o FILE`, and once it has submitted, put a folder where FILE.part goes.
    local function broken_download(extra)
      local dir = util.tmpdir()
      local out = dir .. "/v.mp4"
      local before = mid:stats().tasks_created
      local job = cli.start("generate --prompt x -o " .. q(out) .. (extra or ""), env_mid)
      assert.is_true(cli.until_true(function() return mid:stats().tasks_created > before end))
      assert(os.execute("mkdir " .. q(out .. ".part")))
      local code, o, e = job:finish()
      os.execute("rm -rf " .. q(dir))
      return code, o, e, out
    end

    it("names the task and the command that fetches the video it paid for", function()
      -- FOUND: the error is "io_error: cannot create FILE.part: Is a directory", nothing says `seedance wait ID -o FILE`.
      local code, _, err, out = broken_download()
      assert.equals(10, code, err)
      local id = err:match("submitted task (task_%w+)")
      assert.truthy(id, err)
      assert.truthy(err:find("seedance wait " .. id, 1, true), err)
      assert.truthy(err:find(out, 1, true), err)
    end)

    it("with --json, the error object carries the task id", function()
      -- FOUND: {"error":{"type":"io_error",...}} has no task_id, and --json prints no "submitted" line: the paid id is lost.
      local code, out, err = broken_download(" --json")
      assert.equals(10, code, err)
      local obj = cjson.decode(out)
      assert.is_table(obj.error, out)
      assert.matches("^task_%w+$", tostring(obj.error.task_id), out)
    end)
  end)

  it("a file size limit (ulimit -f) during the download: a file error naming the task, not death by SIGXFSZ #m-cli-sigxfsz-ignored", function()
    -- FOUND: the command dies of SIGXFSZ (exit 153) with no line at all; the paid task is named only by "submitted".
    local out = util.tmpfile("xfsz.mp4")
    local errf = os.tmpname()
    local _, _, code = util.run("ulimit -f 2; " .. cli.command("generate --prompt x -q -o " .. q(out), env)
      .. " >/dev/null 2>" .. q(errf) .. " </dev/null")
    local err = cli.slurp(errf)
    os.remove(errf)
    os.remove(out .. ".part")
    os.remove(out .. ".part.meta")
    assert.equals(10, code, err)
    local id = err:match("submitted task (task_%w+)")
    assert.truthy(id and err:find("seedance wait " .. id, 1, true), err)
  end)

  it("a standard output that cannot be written (/dev/full) is not a success, and the paid id reaches stderr", function()
    -- FOUND: `generate --json >/dev/full` pays, loses the only copy of the task id, and exits 0.
    local errf = os.tmpname()
    local before = fast:stats().tasks_created
    local _, _, code = util.run(cli.command("generate --prompt x --json", env) .. " >/dev/full 2>" .. q(errf)
      .. " </dev/null")
    local err = cli.slurp(errf)
    os.remove(errf)
    assert.equals(before + 1, fast:stats().tasks_created)
    assert.are_not.equal(0, code)
    assert.matches("task_%w+", err)
  end)

  it("with standard error closed (2>&-), nothing is written into the journal that took its descriptor #m-cli-std-fds-open", function()
    -- FOUND: the journal opens as fd 2, so "submitted task" and the progress lines overwrite its records; the re-run pays again.
    local dir = util.tmpdir()
    local j = dir .. "/run.journal"
    local cmd = cli.command(("generate --prompt x --journal %s -o %s"):format(q(j), q(dir .. "/v.mp4")), env)
    local paid = cost(function()
      util.run(cmd .. " >/dev/null 2>&- </dev/null")
      return util.run(cmd .. " >/dev/null 2>/dev/null </dev/null")
    end)
    local first = cli.slurp(j):match("^[^\n]*")
    os.execute("rm -rf " .. q(dir))
    assert.matches('"seedance%-journal"', first)
    assert.equals(1, paid, "the re-run paid again")
  end)

  it("Ctrl-C during a long pause between polls stops within seconds", function()
    -- FOUND: the handle is closed but the wait's sleep is not woken: SIGINT acts at the next poll, up to 30 s later.
    local slow = emulator.start{ speed = 1, task_seconds = 600 }
    local job = cli.start("generate --prompt x --wait", { SEEDANCE_BASE_URL = slow.url, SEEDANCE_API_KEY = "sk-adv" })
    local polled = cli.until_true(function() return job:stderr():find("pending", 1, true) ~= nil end, 10)
    os.execute("sleep 0.3")
    job:signal("INT")
    local stopped = cli.until_true(function() return not process.alive(job.pid) end, 8)
    if not stopped then job:signal("INT") end   -- the second Ctrl-C kills at once (SA_RESETHAND)
    local code, _, err = job:finish()
    slow:stop()
    assert.is_true(polled, err)
    assert.is_true(stopped, "still running 8 s after SIGINT: " .. err)
    assert.equals(130, code, err)
  end)

  describe("settings", function()
    it("--seed -1, the documented lowest seed, is taken as a value", function()
      -- FOUND: `--seed -1` is "unknown option '-1' (did you mean one of these: '-h' '-o' '-q' '-v'?)"; only --seed=-1 works.
      local code, _, err = cli.run("generate --prompt x --seed -1 -q -o " .. q("/nonexistent-adv/x.mp4"), env)
      assert.is_nil(err:find("unknown option", 1, true), err)
      assert.equals(10, code, err)   -- the missing folder, found before paying
    end)

    it("an empty (0-byte) --api-key-file is a settings error saying it is empty", function()
      -- FOUND: "io_error: cannot read --api-key-file F (is a folder)", exit 10, for an empty file.
      local key = write_file(util.tmpfile("empty0.key"), "")
      local code, _, err = cli.run("balance --api-key-file " .. q(key), with(env, { SEEDANCE_API_KEY = false }))
      os.remove(key)
      assert.equals(2, code, err)
      assert.matches("is empty", err)
      assert.is_nil(err:find("folder", 1, true), err)
    end)

    it("a key file saved with a UTF-8 byte order mark works", function()
      -- FOUND: the BOM is sent as part of the key: 401, exit 4.
      local key = write_file(util.tmpfile("bom.key"), "\239\187\191sk-bom-key\r\n")
      local code, _, err = cli.run("balance --api-key-file " .. q(key), with(env, { SEEDANCE_API_KEY = false }))
      os.remove(key)
      assert.equals(0, code, err)
    end)

    it("a base URL with a query or a fragment is a settings error, not a 404 per call", function()
      -- FOUND: the base URL is accepted; every path lands after '?' or '#', so each call is 404, exit 3 "invalid request".
      for _, suffix in ipairs{ "?x=1", "#top" } do
        local before = fast:stats().requests
        local code, _, err = cli.run("balance", with(env, { SEEDANCE_BASE_URL = fast.url .. suffix }))
        assert.equals(2, code, suffix .. ": " .. err)
        assert.equals(before, fast:stats().requests)
      end
    end)

    it("--base-url '' (an unset shell variable) is a settings error, not the real service", function()
      -- FOUND: an empty --base-url silently means https://xcompute.us (here via a dead loopback proxy: exit 8).
      local code, _, err = cli.run("balance --base-url '' --proxy http://127.0.0.1:1", env)
      assert.equals(2, code, err)
    end)
  end)

  it("a password in a proxy or base URL written without its scheme is masked in the error too", function()
    -- FOUND: masking only knows URLs with a scheme: `--proxy 'user:hunter2@bad host:1'` prints hunter2.
    for _, args in ipairs{ "balance --proxy 'user:hunter2@bad host:1'", "balance --base-url 'user:hunter2@127.0.0.1:1'" } do
      local code, _, err = cli.run(args, env)
      assert.equals(2, code, err)
      assert.is_nil(err:find("hunter2", 1, true), err)
    end
  end)

  it("--image naming a pipe (bash's <(...), a FIFO) is one line, never an internal error or a hang", function()
    -- FOUND: check_image seeks a pipe: "internal error: files.lua:140: attempt to compare number with nil", exit 1;
    -- a FIFO with no writer blocks the command forever.
    local dir = util.tmpdir()
    local fifo = dir .. "/in.png"
    assert(os.execute("mkfifo " .. q(fifo)))
    os.execute("timeout 10 sh -c " .. q("cat " .. q(PNG) .. " > " .. q(fifo)) .. " >/dev/null 2>&1 &")
    local c1, _, e1 = cli.run("generate --prompt x -q --image " .. q(fifo), env)
    local _, _, c2 = util.run("timeout 10 " .. cli.command("generate --prompt x -q --image " .. q(fifo), env)
      .. " </dev/null")
    os.execute("rm -rf " .. q(dir))
    assert.is_nil(e1:find("internal error", 1, true), e1)
    assert.are_not.equal(1, c1, e1)
    assert.are_not.equal(124, c2, "hung on a FIFO with no writer")
  end)

  describe("request files", function()
    it("a request file saved with a UTF-8 byte order mark is read", function()
      -- FOUND: "is not a JSON object: Expected value but found invalid token at character 1", exit 3.
      local p = write_file(util.tmpfile("bom.json"), '\239\187\191{"model":"doubao-seedance-2.0","prompt":"x"}')
      local code, out, err = cli.run("validate " .. q(p))
      os.remove(p)
      assert.equals(0, code, err)
      assert.matches(": valid\n$", out)
    end)

    it("a local image path inside --request gets advice a command-line user can follow", function()
      -- FOUND: "for a local image use seedance.file(path), which uploads it": Lua advice; the command's way is --image PATH.
      local p = write_file(util.tmpfile("local.json"),
        '{"model":"doubao-seedance-2.0","prompt":"x","image_urls":["./cat.png"]}')
      local code, _, err = cli.run("generate -q --request " .. q(p), env)
      os.remove(p)
      assert.equals(3, code, err)
      assert.is_nil(err:find("seedance.file", 1, true), err)
      assert.truthy(err:find("--image", 1, true), err)
    end)

    it("wrong types, huge numbers, deep nesting, trailing bytes: exit 3, one line, no task, no trace", function()
      local cases = {
        '{"model":"doubao-seedance-2.0","prompt":"x","duration":1e999}',
        '{"model":"doubao-seedance-2.0","prompt":"x","seed":123456789012345678901234567890}',
        '{"model":"doubao-seedance-2.0","prompt":"x","duration":"5"}',
        '{"model":"doubao-seedance-2.0","prompt":"x","image_urls":{"a":1}}',
        '{"model":"doubao-seedance-2.0","prompt":"x","image_with_roles":[{"url":5,"role":"first_frame"}]}',
        '{"model":"doubao-seedance-2.0","prompt":"x"} trailing',
        '{"model":"doubao-seedance-2.0","prompt":"\\ud800"}',
        string.rep("[", 2000),
        "",
      }
      for _, body in ipairs(cases) do
        local p = write_file(util.tmpfile("bad.json"), body)
        local paid, code, out, err = cost(function() return cli.run("generate -q --request " .. q(p), env) end)
        os.remove(p)
        assert.equals(0, paid, body)
        assert.equals(3, code, body .. ": " .. err)
        assert.equals("", out)
        assert.matches("^seedance: [^\n]+\n", err)
        assert.is_nil(err:find("traceback", 1, true), err)
      end
    end)
  end)

  describe("--json", function()
    it("a usage error still prints one JSON object on standard output", function()
      -- FOUND: parser errors (a missing id, a flag without its value) print text on stderr and nothing on stdout.
      for _, args in ipairs{ "status --json", "generate --json --prompt x --duration", "wait --json --ouptut f x" } do
        local code, out, err = cli.run(args, env)
        assert.equals(2, code, err)
        local obj = cjson.decode(out ~= "" and out or "null")
        assert.is_table(obj, args .. ": stdout was " .. ("%q"):format(out))
        assert.equals("usage_error", obj.error and obj.error.type)
      end
    end)

    it("every other failure is one valid JSON object on standard output, and the key is never in it", function()
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
        local code, out, err = cli.run(c[1], with(env, c[3]))
        assert.equals(c[2], code, c[1] .. ": " .. err)
        local ok, obj = pcall(cjson.decode, out)
        assert.is_true(ok and type(obj) == "table" and type(obj.error) == "table", c[1] .. ": " .. out)
        assert.is_nil(out:find("\n.", 1), out)                        -- one line
        assert.is_nil((out .. err):find("sk-adversary-secret", 1, true))
      end
    end)
  end)

  describe("the progress bar", function()
    it("fits a narrow terminal (30 columns): no frame wider than the terminal", function()
      -- FOUND: the bar line is about 60 columns whatever the width, so each redraw wraps and leaves a trail of lines.
      local out = util.tmpfile("narrow.mp4")
      local screen = os.tmpname()
      util.run("script -qec " .. q("stty cols 30 2>/dev/null; " .. cli.command("generate --prompt x -o " .. q(out),
        env)) .. " /dev/null >" .. q(screen) .. " </dev/null")
      local frames = cli.frames(cli.slurp(screen))
      os.remove(screen)
      os.remove(out)
      assert.is_true(#frames > 0)
      for _, f in ipairs(frames) do
        assert.is_true(#f <= 30, ("%d columns: %q"):format(#f, f))
      end
    end)
  end)

  describe("--save-last-frame when the service sends no last frame", function()
    local gw
    setup(function()
      gw = gateway.start{ upstream = fast.url, cases = {
        { name = "poll without last frame", method = "GET", pattern = "^/v1/tasks/", forward = true,
          replace = { { "last_frame_url", "no_frame_here" } } },
      } }
    end)
    teardown(function() gw:stop() end)

    it("the paid video is still saved, and the message does not blame the flags", function()
      -- FOUND: exits 2 "generated without --return-last-frame" (it was asked) and never saves the video it paid for.
      local dir = util.tmpdir()
      local video, frame = dir .. "/v.mp4", dir .. "/f.png"
      local code, _, err = cli.run(("generate --prompt x -q -o %s --save-last-frame %s"):format(q(video), q(frame)),
        with(env, { SEEDANCE_BASE_URL = gw.url }))
      local saved = util.size_of(video) and util.is_mp4(video)
      os.execute("rm -rf " .. q(dir))
      assert.is_true(saved and true or false, "the paid video was not saved: " .. err)
      assert.is_nil(err:find("without --return-last-frame", 1, true), err)
      assert.are_not.equal(0, code)
    end)
  end)

  it("--journal: re-running after the input image changed pays for the new image", function()
    -- FOUND: the journal hashes the image's path, not its bytes, so the re-run re-attaches to the old image's video.
    local dir = util.tmpdir()
    local img, j = copy(PNG, dir .. "/first.png"), dir .. "/run.journal"
    local cmd = ("generate --prompt x -q --wait --journal %s --first-frame %s"):format(q(j), q(img))
    local paid1, c1, _, e1 = cost(function() return cli.run(cmd, env) end)
    assert.equals(0, c1, e1)
    assert.equals(1, paid1)
    write_file(img, cli.slurp(PNG) .. "another picture")
    local paid2, c2, _, e2 = cost(function() return cli.run(cmd, env) end)
    os.execute("rm -rf " .. q(dir))
    assert.equals(0, c2, e2)
    assert.is_nil(e2:find("re-attached", 1, true), e2)
    assert.equals(1, paid2)
  end)

  it("--journal naming a file that is not a journal: refused before paying, the file left as it was", function()
    -- FOUND: `--journal notes.txt` (or a PNG) counts the lines as "torn records", then appends JSON to the user's file.
    local dir = util.tmpdir()
    local notes = write_file(dir .. "/notes.txt", "my notes\nsecond line\n")
    local img = copy(PNG, dir .. "/cat.png")
    for _, path in ipairs{ notes, img } do
      local before = cli.slurp(path)
      local paid, code, _, err = cost(function() return cli.run("generate --prompt x -q --journal " .. q(path), env) end)
      assert.equals(0, paid, path .. ": a task was paid for: " .. err)
      assert.are_not.equal(0, code)
      assert.equals(before, cli.slurp(path), path .. " was changed")
    end
    os.execute("rm -rf " .. q(dir))
  end)

  it("--journal: re-running after the task failed tries again, or says how to", function()
    -- FOUND: the re-run re-attaches to the failed task ("not paid again") and exits 9 again, forever, with no way out named.
    local failing = emulator.start{ speed = 200, fail_rate = 1 }
    local fenv = with(env, { SEEDANCE_BASE_URL = failing.url })
    local dir = util.tmpdir()
    local cmd = ("generate --prompt x -q --journal %s -o %s"):format(q(dir .. "/run.journal"), q(dir .. "/v.mp4"))
    local c1, _, e1 = cli.run(cmd, fenv)
    local before = failing:stats().tasks_created
    local c2, _, e2 = cli.run(cmd, fenv)
    local paid2 = failing:stats().tasks_created - before
    failing:stop()
    os.execute("rm -rf " .. q(dir))
    assert.equals(9, c1, e1)
    assert.is_true(paid2 == 1 or (e2:find("remove", 1, true) or e2:find("delete", 1, true)) ~= nil,
      "c2=" .. tostring(c2) .. ": " .. e2)
  end)

  describe("the time scale", function()
    local mid, env_mid    -- a task of 80 service seconds at speed 20: 4 s of wall time
    setup(function()
      mid = emulator.start{ speed = 20, task_seconds = 80 }
      env_mid = { SEEDANCE_BASE_URL = mid.url, SEEDANCE_API_KEY = "sk-adversary", SEEDANCE_TIME_SCALE = "0.05" }
    end)
    teardown(function() mid:stop() end)

    it("--wait-timeout counts wall seconds, as its help says #m-cli-wait-timeout-wall", function()
      -- FOUND: the deadline is multiplied by SEEDANCE_TIME_SCALE: `--wait-timeout 30` gives up after 1.5 s, saying "after 30 s".
      local code, _, err = cli.run("generate --prompt x -q --wait --wait-timeout 30", env_mid)
      assert.equals(0, code, err)
    end)

    it("SEEDANCE_TIME_SCALE, meant for an emulator, does not speed up polling of a remote service", function()
      -- FOUND: a stale SEEDANCE_TIME_SCALE=0.001 applies to https://xcompute.us too: polls ~1000x too often, 1.8 s wait deadline.
      local settings = require("seedance.cli.settings")
      local vars = { SEEDANCE_TIME_SCALE = "0.001", SEEDANCE_API_KEY = "sk-x" }
      local opts, err = settings.resolve({ base_url = "https://xcompute.us" }, function(k) return vars[k] end)
      assert.is_true(opts == nil or opts.time_scale == 1, "time_scale " .. tostring(opts and opts.time_scale))
      assert.is_true(opts ~= nil or err.type == "usage_error")
    end)
  end)

  describe("text from the server", function()
    local gw, genv
    setup(function()
      local evil = "bad \27]0;PWNED\7\27[2J\27[31mred\r\nsecond line"
      gw = gateway.start{ cases = {
        { name = "submit", method = "POST", pattern = "^/v1/videos", status = 400,
          json = { error = { code = 400, type = "invalid_request_error", message = evil } } },
        { name = "poll", method = "GET", pattern = "^/v1/tasks/",
          json = { code = 200, data = { task_id = "task_evil", status = "failed", progress = 50,
                                        error = { code = 1, type = "x", message = evil } } } },
        { name = "balance", method = "GET", pattern = "^/v1/balance",
          json = { success = true, remain_balance = 10, used_balance = { 1, 2 } } },
      } }
      genv = { SEEDANCE_BASE_URL = gw.url, SEEDANCE_API_KEY = "sk-adv" }
    end)
    teardown(function() gw:stop() end)

    it("reaches the terminal without escape sequences, and an error stays one line", function()
      -- FOUND: a server's message goes out raw: ESC ]0; sets the window title, ESC [2J clears the screen, \r\n splits the line.
      for _, args in ipairs{ "generate --prompt x", "status task_evil", "wait task_evil" } do
        local _, out, err = cli.run(args, genv)
        assert.is_nil((out .. err):find("\27", 1, true), args .. ": " .. ("%q"):format(out .. err))
        assert.is_nil((out .. err):find("\7", 1, true), args)
        local lines = select(2, err:gsub("seedance: ", ""))
        assert.is_true(lines <= 1 and not err:find("\nsecond line", 1, true), args .. ": " .. err)
      end
    end)

    it("a balance that is not a number prints no Lua table address", function()
      -- FOUND: `used: table: 0x55...` when used_balance is an array.
      local _, out = cli.run("balance", genv)
      assert.is_nil(out:find("table: 0x", 1, true), out)
    end)
  end)

  describe("attacks that held", function()
    it("malformed task ids never reach the service: exit 2, one line of valid UTF-8", function()
      local ids = { "../../etc/passwd", "task_x/../balance", "task_x?y=1", "\255task", string.rep("a", 5000), "" }
      for _, id in ipairs(ids) do
        for _, sub in ipairs{ "status", "wait -o /tmp/adv-never.mp4", "download -o /tmp/adv-never.mp4" } do
          local before = fast:stats().requests
          local code, out, err = cli.run(sub .. " -- " .. q(id), env)
          assert.equals(2, code, sub .. " " .. id .. ": " .. err)
          assert.equals("", out)
          assert.equals(before, fast:stats().requests)
          assert.matches("^seedance: [^\n]+\n$", err)
          assert.is_nil(err:find("\255", 1, true))
        end
      end
    end)

    it("misspelled commands and flags are usage errors on every subcommand, nothing sent", function()
      local before = fast:stats().requests
      for _, args in ipairs{ "genrate --prompt x", "generate --promt x", "generate --prompt x extra",
                             "wait --ouptut f.mp4 task_x", "download task_x -0 f.mp4", "status task_x --jsn",
                             "balance --verbose=2", "validate", "-o x", "help nope" } do
        local code, out, err = cli.run(args, env)
        assert.equals(2, code, args .. ": " .. err)
        assert.equals("", out, args)
        assert.is_nil(err:find("traceback", 1, true), err)
      end
      assert.equals(before, fast:stats().requests)
    end)

    it("a FILE.part that is a symbolic link is replaced, never written through", function()
      local dir = util.tmpdir()
      local victim = dir .. "/victim"
      assert(os.execute("ln -s " .. q(victim) .. " " .. q(dir .. "/v.mp4.part")))
      local code, _, err = cli.run("generate --prompt x -q -o " .. q(dir .. "/v.mp4"), env)
      local wrote_victim = util.size_of(victim)
      local ok = util.is_mp4(dir .. "/v.mp4")
      os.execute("rm -rf " .. q(dir))
      assert.equals(0, code, err)
      assert.is_nil(wrote_victim)
      assert.is_true(ok)
    end)

    it("odd output names (spaces, quotes, unicode, a leading dash via --output=) are saved as named", function()
      local dir = util.tmpdir()
      for _, name in ipairs{ "a b.mp4", "it's.mp4", "ünï 🎬.mp4", "-dash.mp4" } do
        local code, out, err = run_in(dir, "generate --prompt x -q --output=" .. q(name), env)
        assert.equals(0, code, name .. ": " .. err)
        assert.truthy(out:find("saved: " .. name, 1, true), out)
        assert.is_true(util.is_mp4(dir .. "/" .. name), name)
      end
      os.execute("rm -rf " .. q(dir))
    end)

    it("the key never shows, even with -vv and a server that refuses it", function()
      local keyfile = write_file(util.tmpfile("adv.key"), "sk-adversary-secret\n")
      for _, args in ipairs{ "generate --prompt x -q -vv --wait", "balance -vv --json" } do
        local _, out, err = cli.run(args .. " --api-key-file " .. q(keyfile), with(env, { SEEDANCE_API_KEY = false }))
        assert.is_nil((out .. err):find("adversary-secret", 1, true), out .. err)
      end
      os.remove(keyfile)
    end)
  end)
end)
