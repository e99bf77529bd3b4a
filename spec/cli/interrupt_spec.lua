-- SIGINT and SIGTERM sent to a real `seedance` process: during a wait or a
-- download it stops with ONE line (the task id, that it keeps running on the
-- service, the exact command that picks it up), exits 130 (SIGINT) or 143
-- (SIGTERM), and keeps the .part; the printed command then finishes the job
-- without paying again, and so does re-running with --journal.
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local process = require("helpers.process")
local cli = require("helpers.cli")
local util = require("helpers.util")

local q = cli.q

-- The interrupt line of a run's standard error, and the command it names.
local function interrupt_line(err)
  local lines = {}
  for line in err:gmatch("[^\n]+") do
    if line:find("interrupted", 1, true) then lines[#lines + 1] = line end
  end
  assert.equals(1, #lines, err)
  local resume = lines[1]:match("pick it up with: (seedance wait [^;]+)")
  assert.truthy(resume, lines[1])
  return lines[1], resume
end

local run_printed = cli.run_printed

-- Run `args` (default `generate --prompt x`) through gw, and SIGINT it once the gateway holds
-- its request of case `case`: it exits 130 (printing nothing on standard output); its standard error.
local function interrupted_at(gw, case, args)
  local job = cli.start(args or "generate --prompt x", { SEEDANCE_BASE_URL = gw.url,
    SEEDANCE_API_KEY = "sk-interrupt", SEEDANCE_TIME_SCALE = "0.05" })
  gw:wait_requests(1, { case = case })
  job:signal("INT")
  local code, stdout, err = job:finish()
  assert.equals(130, code, err)
  assert.equals("", stdout)
  return err
end

local cleanup = util.cleanup()

describe("the seedance command on SIGINT and SIGTERM #child", function()
  -- a task of 80 service seconds at speed 20: 4 s of wall time to interrupt its wait in
  local slow_task, env_task = cli.emulator({ speed = 20, task_seconds = 80 }, { SEEDANCE_API_KEY = "sk-interrupt" })
  -- quick tasks, slow media: 120,000 bytes at 20,000 bytes per second
  local slow_media, env_media = cli.emulator({ speed = 20, task_seconds = 4, media_rate = 20000, video_bytes = 120000 },
    { SEEDANCE_API_KEY = "sk-interrupt" })

  it("SIGINT during the wait: one line with the task id and `seedance wait ID -o FILE`, exit 130 #m-cli-interrupt-trap", function()
    local out = util.tmpfile("int.mp4")
    local before = slow_task:created()
    local job = cli.start("generate --prompt 'a heron' -o " .. q(out), env_task)
    assert.is_true(cli.until_true(function() return job:stderr():find("submitted task task_") ~= nil end))
    job:signal("INT")
    local code, stdout, err = job:finish()
    assert.equals(130, code, err)
    assert.equals("", stdout)
    local id = err:match("submitted task (task_%w+)")
    local line, resume = interrupt_line(err)
    assert.matches("^seedance: interrupted %(SIGINT%): task " .. id .. " keeps running on the service", line)
    assert.equals("seedance wait " .. id .. " -o " .. out, resume)
    assert.is_nil(err:find("traceback", 1, true))
    assert.is_nil(util.size_of(out))
    -- the printed command picks it up: no second task
    local c2, o2, e2 = run_printed(resume, env_task)
    assert.equals(0, c2, e2)
    assert.matches("saved: ", o2)
    assert.is_true(util.is_mp4(out))
    assert.equals(before + 1, slow_task:created())
    os.remove(out)
  end)

  it("SIGTERM during the download: exit 143, the .part kept, and the printed command resumes it #slow #m-cli-interrupt-closes-task", function()
    local out = util.tmpfile("term.mp4")
    local code, _, err = cli.terminated_mid_download("a heron", out, 30000, env_media)
    assert.equals(143, code, err)
    local line, resume = interrupt_line(err)
    local id = err:match("submitted task (task_%w+)")
    assert.matches("^seedance: interrupted %(SIGTERM%): task " .. id .. " has completed on the service", line)
    assert.truthy(line:find("the partial download " .. out .. ".part is kept", 1, true), line)
    assert.equals("seedance wait " .. id .. " -o " .. out, resume)
    local kept = util.size_of(out .. ".part")
    assert.is_true(kept >= 30000 and kept < 120000, tostring(kept))
    assert.is_nil(util.size_of(out))
    local stats = slow_media:stats()
    local c2, _, e2 = run_printed(resume, env_media)
    assert.equals(0, c2, e2)
    assert.equals(120000, util.size_of(out))
    local after = slow_media:stats()
    assert.equals(stats.range_requests + 1, after.range_requests)   -- resumed, not fetched again
    assert.equals(stats.tasks_created, after.tasks_created)
    os.remove(out)
  end)

  it("with --journal, running the same command again re-attaches instead of paying again #m-cli-journal-flag", function()
    local out = util.tmpfile("journal.mp4")
    local journal = util.tmpfile("cli.journal")
    local cmd = ("generate --prompt 'a journaled heron' -o %s --journal %s"):format(q(out), q(journal))
    local before = slow_task:created()
    local job = cli.start(cmd, env_task)
    assert.is_true(cli.until_true(function() return job:stderr():find("submitted task task_") ~= nil end))
    job:signal("INT")
    local code, _, err = job:finish()
    assert.equals(130, code, err)
    local line = interrupt_line(err)
    assert.truthy(line:find("or run this command again (--journal " .. journal .. " re-attaches)", 1, true), line)
    local id = err:match("submitted task (task_%w+)")
    local c2, o2, e2 = cli.run(cmd, env_task)
    assert.equals(0, c2, e2)
    assert.matches("re%-attached to task " .. id .. " %(from %-%-journal", e2)
    assert.matches("saved: ", o2)
    assert.is_true(util.is_mp4(out))
    assert.equals(before + 1, slow_task:created())
    os.remove(out)
    os.remove(journal)
  end)

  it("carries the settings flags (never the key) into the printed command", function()
    local out = util.tmpfile("flags.mp4")
    local keyfile = util.write(util.tmpfile("flags.key"), "sk-in-a-file\n")
    local job = cli.start(("generate --prompt x -o %s --base-url %s --api-key-file %s"):format(q(out),
      slow_task.url, q(keyfile)), { SEEDANCE_TIME_SCALE = "0.05" })
    assert.is_true(cli.until_true(function() return job:stderr():find("submitted task task_") ~= nil end))
    job:signal("INT")
    local code, _, err = job:finish()
    assert.equals(130, code, err)
    local _, resume = interrupt_line(err)
    assert.truthy(resume:find("--base-url " .. slow_task.url, 1, true), resume)
    assert.truthy(resume:find("--api-key-file " .. keyfile, 1, true), resume)
    assert.is_nil(err:find("sk-in-a-file", 1, true))
    local c2, _, e2 = run_printed(resume, { SEEDANCE_TIME_SCALE = "0.05" })
    assert.equals(0, c2, e2)
    os.remove(out)
    os.remove(keyfile)
  end)

  it("SIGINT during the submit: the submit is let finish, so the task paid for is named #m-cli-interrupt-submit-finishes", function()
    -- the answer to the submit is held 2 s after the emulator made the task
    local gw = cleanup(gateway.start{ upstream = slow_task.url, cases = {
      { name = "slow submit", method = "POST", path = "/v1/videos/generations", forward = true, stall = 2 } } })
    local before = slow_task:created()
    local err = interrupted_at(gw, "slow submit")
    local id = err:match("submitted task (task_%w+)")
    assert.truthy(id, err)
    local line, resume = interrupt_line(err)
    assert.matches("task " .. id .. " keeps running on the service", line)
    assert.equals("seedance wait " .. id, resume)
    assert.equals(before + 1, slow_task:created())
  end)

  it("SIGINT while the submit waits out a 429's Retry-After stops at once: nothing was paid #found "
    .. "#m-cli-interrupt-between-attempts", function()
    local gw = cleanup(gateway.start{ upstream = slow_task.url, cases = {
      { name = "busy", method = "POST", path = "/v1/videos/generations", times = 1, status = 429,
        headers = { { "Retry-After", "5" } },
        json = { error = { code = 429, type = "rate_limit_error", message = "slow down" } } } } })
    local before = slow_task:created()
    local err = interrupted_at(gw, "busy")
    assert.matches("^seedance: interrupted %(SIGINT%) while the submit waited to try again %(the service had refused "
      .. "it: nothing was paid%)\n$", err)
    assert.equals(1, #gw:requests{ method = "POST" }) -- no second submit went out
    assert.equals(before, slow_task:created())
  end)

  it("SIGINT before the submit is sent (an upload on its way) stops at once: nothing was paid #found", function()
    local gw = cleanup(gateway.start{ upstream = slow_task.url, cases = {
      { name = "slow upload", method = "POST", path = "/v1/uploads/images", forward = true, stall = 5 } } })
    local png = cleanup(util.tmpfile("int.png", util.PNG))
    local before = slow_task:created()
    local err = interrupted_at(gw, "slow upload", "generate --prompt x --image " .. q(png))
    assert.matches("interrupted %(SIGINT%) before the submit was sent: nothing was paid", err)
    assert.equals(0, #gw:requests{ path = "/v1/videos/generations" })
    assert.equals(before, slow_task:created())
  end)

  it("a second SIGINT while a submit is on its way stops at once, the task it may have made named by its key and "
    .. "the command that picks it up #found #m-cli-second-signal-named #m-cli-submit-key-first", function()
    local gw = cleanup(gateway.start{ upstream = slow_task.url, cases = {
      { name = "slow submit", method = "POST", path = "/v1/videos/generations", forward = true, stall = 20,
        times = 1 } } })
    local genv = { SEEDANCE_BASE_URL = gw.url, SEEDANCE_API_KEY = "sk-interrupt", SEEDANCE_TIME_SCALE = "0.05" }
    local before = slow_task:created()
    local job = cli.start("generate --prompt 'a second heron'", genv)
    gw:wait_requests(1, { case = "slow submit" })
    job:signal("INT")
    -- the first signal names the key at once: a second one (or a kill) can never leave the task unnamed
    assert.is_true(cli.until_true(function() return job:stderr():find("--idempotency-key", 1, true) ~= nil end, 10),
      job:stderr())
    job:signal("INT")
    local code, stdout, err = job:finish()
    assert.equals(130, code, err)
    assert.equals("", stdout)
    local key = gw:requests{ case = "slow submit" }[1]:header("idempotency-key")
    local line = err:match("[^\n]*interrupted %(SIGINT%) during the submit[^\n]*")
    assert.truthy(line, err)
    local resume = line:match("pick the task up without paying again with: (seedance generate .*)$")
    assert.equals("seedance generate --prompt 'a second heron' --idempotency-key " .. key, resume)
    assert.equals(before + 1, slow_task:created()) -- made (and billed) behind the held answer
    -- the printed command picks that task up: no second one
    local c2, o2, e2 = run_printed(resume, genv)
    assert.equals(0, c2, e2)
    assert.matches("^task_%w+\n$", o2)
    assert.equals(before + 1, slow_task:created())
  end)

  it("SIGTERM while `seedance wait` waits out a poll's 429 Retry-After stops at once: one line, exit 143, no poll "
    .. "sent after it #found #m-poll-stops-when-closed", function()
    local id = assert(util.client_for(slow_task):generate{ model = "doubao-seedance-2.0", prompt = "a heron" }).id
    local gw = gateway.start{ upstream = slow_task.url, cases = {
      { name = "rate", method = "GET", pattern = "^/v1/tasks/", times = 2, status = 429,
        headers = { { "Retry-After", "5" } }, json = { error = { code = 429, type = "rate_limit_error", message = "slow" } } } } }
    finally(function() gw:stop() end)
    local out = util.tmpfile("rate.mp4")
    local job = cli.start("wait " .. id .. " -o " .. q(out), { SEEDANCE_BASE_URL = gw.url, SEEDANCE_API_KEY = "sk-interrupt",
                                                             SEEDANCE_TIME_SCALE = "0.05" })
    gw:wait_requests(1, { case = "rate" })
    job:signal("TERM")
    local code, _, err = job:finish()
    assert.equals(143, code, err)
    local line, resume = interrupt_line(err)
    assert.matches("^seedance: interrupted %(SIGTERM%): task " .. id, line)
    assert.equals("seedance wait " .. id .. " -o " .. out, resume)
    assert.equals(1, #gw:requests{ method = "GET" })
  end)

  it("SIGHUP (the terminal closed) during the wait is handled as SIGTERM: one line, exit 129 #m-cli-sighup", function()
    local out = util.tmpfile("hup.mp4")
    local job = cli.start("generate --prompt 'a heron' -o " .. q(out), env_task)
    assert.is_true(cli.until_true(function() return job:stderr():find("submitted task task_") ~= nil end))
    job:signal("HUP")
    local code, _, err = job:finish()
    assert.equals(129, code, err)
    local id = err:match("submitted task (task_%w+)")
    local line, resume = interrupt_line(err)
    assert.matches("^seedance: interrupted %(SIGHUP%): task " .. id .. " keeps running on the service", line)
    assert.equals("seedance wait " .. id .. " -o " .. out, resume)
  end)

  it("SIGINT while nothing is at stake (a balance) stops with one line, exit 130", function()
    local gw = cleanup(gateway.start{ upstream = slow_task.url, cases = {
      { name = "slow balance", method = "GET", path = "/v1/balance", forward = true, stall = 5 } } })
    local job = cli.start("balance", { SEEDANCE_BASE_URL = gw.url, SEEDANCE_API_KEY = "sk-interrupt" })
    gw:wait_requests(1, { case = "slow balance" })
    job:signal("INT")
    local code, stdout, err = job:finish()
    assert.equals(130, code, err)
    assert.equals("", stdout)
    assert.equals("seedance: interrupted (SIGINT)\n", err)
  end)

  -- found: the handle was closed but the wait's sleep was not woken: SIGINT acted at the next poll,
  -- up to 30 s later
  it("Ctrl-C during a long pause between polls stops within seconds #found", function()
    local slow = cleanup(emulator.start{ speed = 1, task_seconds = 600 })
    local job = cli.start("generate --prompt x --wait", { SEEDANCE_BASE_URL = slow.url, SEEDANCE_API_KEY = "sk-adv" })
    local polled = cli.until_true(function() return job:stderr():find("pending", 1, true) ~= nil end, 10)
    os.execute("sleep 0.3")
    job:signal("INT")
    local stopped = cli.until_true(function() return not process.alive(job.pid) end, 8)
    if not stopped then job:signal("INT") end   -- the second Ctrl-C kills at once (SA_RESETHAND)
    local code, _, err = job:finish()
    assert.is_true(polled, err)
    assert.is_true(stopped, "still running 8 s after SIGINT: " .. err)
    assert.equals(130, code, err)
  end)

  it("core.sleep ends early once a trapped signal came, and caught_signal names it #m-signal-sleep-returns", function()
    local out, err = os.tmpname(), os.tmpname()
    local shell = assert(io.popen(("env --default-signal=INT,TERM %s >%s 2>%s & echo $!; wait $!; echo \"exit=$?\""):format(
      child.command("local core = require('seedance.core')\ncore.trap_signals()\nio.stderr:write('trapped\\n')\n"
        .. "core.sleep(60)\nio.stderr:write('caught ', tostring(core.caught_signal()), '\\n')\n"), out, err)))
    local pid = shell:read("*l")
    assert.is_true(cli.until_true(function() return cli.slurp(err):find("trapped", 1, true) ~= nil end))
    os.execute("kill -TERM " .. pid)
    -- a sleep that ignored the signal would still be asleep when this bounded wait gives up
    local ended = cli.until_true(function() return not util.run("kill -0 " .. pid .. " 2>/dev/null") end, 20)
    if not ended then os.execute("kill -9 " .. pid) end
    local code = tonumber(shell:read("*a"):match("exit=(%d+)"))
    shell:close()
    local text = cli.slurp(err)
    os.remove(out)
    os.remove(err)
    assert.is_true(ended, "core.sleep(60) went on after SIGTERM")
    assert.equals(0, code, text)
    assert.matches("caught TERM", text)
  end)
end)

describe("the seedance command on SIGINT before anything is at stake", function()
  it("#found SIGINT while a batch reads and checks its lines: one line, exit 130, no internal error #child #m-cli-interrupt-before-guard", function()
    local dir = util.tmpdir()
    finally(function() os.execute("rm -rf " .. q(dir)) end)
    local lines = {}
    for i = 1, 400000 do lines[i] = '{"prompt":"clip ' .. i .. '"}' end
    local file = dir .. "/reqs.jsonl"
    local f = assert(io.open(file, "wb"))
    f:write(table.concat(lines, "\n"), "\n")
    f:close()
    for _, json in ipairs{ "", " --json" } do
      local job = cli.start("batch " .. q(file) .. json .. " --dry-run -o " .. q(dir .. "/%06d.mp4"), {})
      os.execute("sleep 1")
      job:signal("INT")
      local code, out, err = job:finish()
      assert.equals(130, code, err)
      assert.is_nil(err:find("internal error", 1, true))
      if json == "" then
        assert.equals("seedance: interrupted (SIGINT)\n", err)
      else
        assert.equals("interrupted", require("cjson").decode(out).error.type)
      end
    end
  end)
end)

describe("what a signal does to generate's submit (the command's submit state, in this process)", function()
  -- the state of a submit under key "k-1", its lines, and os.exit stubbed to raise the code it was given
  local function state()
    local lines = {}
    local stream = { write = function(self, ...)
      for _, s in ipairs{ ... } do lines[#lines + 1] = s end
      return self
    end, flush = function() return true end }
    local ctx = { out = stream, err = stream, argv = { "generate", "--prompt", "x" } }
    local real_exit = os.exit
    os.exit = function(code) error({ exit = code }, 0) end -- luacheck: ignore 122
    finally(function() os.exit = real_exit end) -- luacheck: ignore 122
    return require("seedance.cli.commands").submit_state(ctx, "k-1"), lines
  end

  it("a signal once the submit's answer has come, before it reached the command (no transfer in flight, no "
    .. "pause before another attempt), names the key and lets the task be named, never says nothing was paid "
    .. "#found #m-cli-submit-answer-pending", function()
    local sub, lines = state()
    sub.sent = true -- before_submit let it go; its transfer has ended and its answer waits for the command
    local ok, stopped = pcall(sub.on_signal, "INT", 1)
    assert.is_true(ok, "stopped with exit " .. tostring(type(stopped) == "table" and stopped.exit) .. ": "
      .. table.concat(lines))
    local text = table.concat(lines)
    assert.truthy(text:find("the submit is on its way", 1, true), text)
    assert.truthy(text:find("Idempotency-Key is k-1", 1, true), text)
    assert.is_nil(text:find("nothing was paid", 1, true), text)
  end)

  it("a signal while the submit pauses before its next attempt (a 429's Retry-After) stops at once "
    .. "#m-cli-submit-answer-pending", function()
    local sub, lines = state()
    sub.sent = true
    sub.on_retry({ status = 429, type = "rate_limit_error" }, 1, 30)
    local ok, stopped = pcall(sub.on_signal, "INT", 1)
    assert.is_false(ok)
    assert.equals(130, stopped.exit)
    assert.truthy(table.concat(lines):find("while the submit waited to try again", 1, true), table.concat(lines))
  end)
end)
