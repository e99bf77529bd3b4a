-- Specs for `seedance batch FILE` run as a user runs it, against the emulator:
-- every line checked before paying, a journal always (FILE.journal by
-- default), kill -9 and re-runs paying exactly once per line, --retry-failed
-- paying only for the failed lines (and --retry-moderated for those refused
-- for sensitive content), --max-spend stopping at the cap, --dry-run paying
-- nothing, JSON events, Ctrl-C printing the command that resumes, abandon,
-- `seedance journal`, and a model described at run time with --model-rules.
local cjson = require("cjson")
local emulator = require("helpers.emulator")
local cli = require("helpers.cli")
local process = require("helpers.process")
local util = require("helpers.util")

local q = cli.q

-- Write the lines (tables are JSON-encoded, strings written as they are) to dir/name.
local function lines_file(dir, lines, name)
  local out = {}
  for i, l in ipairs(lines) do out[i] = type(l) == "table" and cjson.encode(l) or l end
  local path = dir .. "/" .. (name or "reqs.jsonl")
  process.write(path, table.concat(out, "\n") .. "\n")
  return path
end

-- Every JSON line of a --json run's standard output, decoded.
local function events(out)
  local list = {}
  for line in out:gmatch("[^\n]+") do list[#list + 1] = cjson.decode(line) end
  return list
end

local function prompts(n, fmt)
  local list = {}
  for i = 1, n do list[i] = { prompt = string.format(fmt or "clip %d", i) } end
  return list
end

describe("seedance batch #child", function()
  local emu, env, dir
  local function start(opts)
    emu = emulator.start(opts)
    env = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-batch", SEEDANCE_TIME_SCALE = tostring(1 / opts.speed) }
  end
  before_each(function() dir = util.tmpdir() end)
  after_each(function()
    if emu then emu:stop() end
    emu = nil
    process.remove_dir(dir)
  end)

  it("--help shows every flag", function()
    local code, out = cli.run("batch --help")
    assert.equals(0, code)
    for _, flag in ipairs{ "FILE", "-o out/%03d.mp4", "--save-last-frame PATTERN", "--concurrency N", "--journal FILE",
      "--dry-run", "--retry-failed", "--retry-moderated", "--max-spend AMOUNT", "--json", "--model-rules FILE.json",
      "--model NAME", "--prompt TEXT", "--duration SECONDS", "--resolution RES", "--image PATH|URL", "--wait-timeout",
      "--no-validate", "--base-url URL", "submitted", "summary", "Exit codes" } do
      assert.truthy(out:find(flag, 1, true), flag .. " is not in batch --help")
    end
    for _, cmd in ipairs{ "abandon --help", "journal --help" } do
      local c, o = cli.run(cmd)
      assert.equals(0, c)
      assert.truthy(o:find("--journal FILE", 1, true) or o:find("FILE", 1, true), cmd)
    end
    local _, abandon = cli.run("abandon --help")
    assert.matches("no cancel", abandon)
  end)

  it("checks every line before paying: each problem as line N: field: message, exit 3, nothing sent #m-batch-validates-every-line", function()
    start{ speed = 200 }
    local file = lines_file(dir, { { prompt = "fine" }, { prompt = "long", duration = 99 }, "",
      "not json at all", { prompt = "fast and big", model = "doubao-seedance-2.0-fast", resolution = "1080p" } })
    local code, out, err = cli.run("batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4"), env)
    assert.equals(3, code, err)
    assert.equals("", out)
    assert.matches("line 4: not a JSON object", err, nil, true)
    code, out, err = cli.run("batch " .. q(lines_file(dir, { { prompt = "fine" }, { prompt = "long", duration = 99 }, "",
      { prompt = "big", model = "doubao-seedance-2.0-fast", resolution = "1080p" } }, "b.jsonl")), env)
    assert.equals("", out)
    assert.equals(3, code, err)
    assert.matches("line 2: duration: must be between 4 and 15, got 99", err, nil, true)
    assert.matches("line 4: resolution: 1080p is available only on", err, nil, true)
    assert.matches("nothing was sent", err, nil, true)
    local s = emu:stats()
    assert.equals(0, s.endpoints.submit)
    assert.is_nil(util.size_of(dir .. "/b.jsonl.journal"))
    -- with --json: one object, every problem with its line
    local jcode, jout = cli.run("batch --json " .. q(dir .. "/b.jsonl"), env)
    assert.equals(3, jcode)
    local e = cjson.decode(jout).error
    assert.equals("validation_error", e.type)
    assert.equals(2, #e.errors)
    assert.equals("line 2: duration", e.errors[1].field)
  end)

  it("--dry-run prints the plan and the balance and pays nothing, not even a journal #m-batch-dry-run", function()
    start{ speed = 200 }
    local file = lines_file(dir, { { prompt = "a" }, { prompt = "b", duration = 10, resolution = "720p" },
      { prompt = "c" } })
    local code, out, err = cli.run("batch " .. q(file) .. " --dry-run -o " .. q(dir .. "/%02d.mp4"), env)
    assert.equals(0, code, err)
    assert.matches("plan: 3 items in .-, 20 s of video", out)
    assert.matches("2 x doubao%-seedance%-2.0 480p 5 s", out)
    assert.matches("1 x doubao%-seedance%-2.0 720p 10 s", out)
    assert.matches("to submit %(paid%): 3 items, 20 s of video", out)
    assert.matches("balance: remaining 1000000, used 0", out)
    assert.matches("nothing was sent", out)
    assert.equals(0, emu:stats().endpoints.submit)
    assert.is_nil(util.size_of(file .. ".journal"))
    local jcode, jout = cli.run("batch --json --dry-run " .. q(file), env)
    assert.equals(0, jcode)
    local plan = cjson.decode(jout)
    assert.equals("plan", plan.event)
    assert.same({ 3, 20, 3 }, { plan.items, plan.seconds, plan.to_pay })
    assert.equals(0, plan.balance.used_balance)
  end)

  it("runs every line: JSON events with the item's line and task id, a summary, exit 0; a re-run skips them without a request #m-batch-journal-default #m-batch-line-numbers", function()
    start{ speed = 200 }
    local file = lines_file(dir, { { prompt = "one" }, "", { prompt = "three", duration = 4 } })
    local cmd = "batch --json " .. q(file) .. " -o " .. q(dir .. "/%03d.mp4") .. " --save-last-frame "
      .. q(dir .. "/%03d.png")
    local code, out, err = cli.run(cmd, env)
    assert.equals(0, code, err)
    local evs = events(out)
    local by = {}
    for _, ev in ipairs(evs) do
      assert.truthy(ev.event)
      if ev.event ~= "summary" then
        assert.is_true(ev.item == 1 or ev.item == 3, "item " .. tostring(ev.item))
        assert.matches("^task_", ev.task_id)
        by[ev.event] = (by[ev.event] or 0) + 1
      end
    end
    assert.equals(2, by.submitted)
    assert.equals(2, by.done)
    local summary = evs[#evs]
    assert.equals("summary", summary.event)
    assert.same({ 2, 2, 0, 0 }, { summary.total, summary.done, summary.failed, summary.skipped })
    assert.equals(4, #summary.files)
    assert.is_true(util.ffprobe_ok(dir .. "/003.mp4"))
    assert.is_true((util.size_of(dir .. "/001.png") or 0) > 0)
    assert.is_nil(util.size_of(dir .. "/002.mp4"))
    assert.is_true((util.size_of(file .. ".journal") or 0) > 0) -- FILE.journal beside FILE
    -- the same command again: finished lines skipped, no request at all
    local before = emu:stats().requests
    code, out = cli.run(cmd, env)
    assert.equals(0, code)
    assert.equals(before, emu:stats().requests)
    local skipped = 0
    for _, ev in ipairs(events(out)) do
      if ev.event == "skipped" then
        skipped = skipped + 1
        assert.equals("done", ev.reason)
        assert.matches("^task_", ev.task_id)
      end
    end
    assert.equals(2, skipped)
    -- and `seedance journal FILE` lists them
    local jcode, jout = cli.run("journal " .. q(file .. ".journal"))
    assert.equals(0, jcode)
    assert.matches("\n1%s+task_%w+%s+downloaded%s+" .. dir:gsub("%p", "%%%0") .. "/001.mp4%s+\"one\"", jout)
    assert.matches("\n3%s+task_%w+%s+downloaded", jout)
    local _, list = cli.run("journal --json " .. q(file .. ".journal"))
    assert.equals(2, #cjson.decode(list).items)
  end)

  it("kill -9 at any moment, then the same command: paid exactly once per line, every file whole #slow #child", function()
    start{ speed = 100, media_rate = 4096 }
    local file = lines_file(dir, prompts(10, "crash %d"))
    local cmd = "batch -q " .. q(file) .. " --concurrency 4 -o " .. q(dir .. "/%02d.mp4")
    local whole = util.size_of("emulator/media/16x9.mp4")
    math.randomseed(20261207)
    local kills = 0
    for round = 1, 12 do
      local job = cli.start(cmd, env)
      process.sleep(0.1 + math.random() * (0.2 + round * 0.05))
      os.execute("kill -9 " .. job.pid .. " 2>/dev/null")
      job:finish()
      kills = kills + 1
      for i = 1, 10 do
        local n = util.size_of(string.format("%s/%02d.mp4", dir, i))
        assert(n == nil or n == whole, "a partial file under its final name after kill " .. kills)
      end
    end
    local code, _, err = cli.run(cmd, env)
    assert.equals(0, code, err)
    assert.equals(10, emu:stats().tasks_created)
    for i = 1, 10 do assert.equals(whole, util.size_of(string.format("%s/%02d.mp4", dir, i))) end
  end)

  it("--retry-failed pays only for the failed lines; a re-run without it pays for nothing and keeps files as they are #m-batch-exit-9", function()
    start{ speed = 200, flag_word = "broken=RenderTimeout" }
    local reqs = prompts(6)
    reqs[2].prompt, reqs[5].prompt = "broken two", "broken five"
    local file = lines_file(dir, reqs)
    local cmd = "batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4")
    local code, out, err = cli.run(cmd, env)
    assert.equals(9, code, err)
    assert.matches("4 done, 2 failed", out)
    assert.matches("failed: task_failed 2", out)
    assert.matches("run again with %-%-retry%-failed", err)
    assert.equals(6, emu:stats().tasks_created)
    local kept = util.read_file(dir .. "/1.mp4")
    local media = emu:stats().media_requests
    code = cli.run(cmd, env)
    assert.equals(9, code)
    assert.equals(6, emu:stats().tasks_created)
    code, out = cli.run(cmd .. " --retry-failed --json", env)
    assert.equals(9, code) -- (they fail again: the emulator fails that prompt)
    assert.equals(8, emu:stats().tasks_created)
    assert.equals(media, emu:stats().media_requests) -- the finished files are not fetched again
    assert.equals(kept, util.read_file(dir .. "/1.mp4"))
    local resubmitted = {}
    for _, ev in ipairs(events(out)) do
      if ev.event == "submitted" then resubmitted[#resubmitted + 1] = ev.item end
    end
    table.sort(resubmitted)
    assert.same({ 2, 5 }, resubmitted)
  end)

  it("a line failed for sensitive content is typed, grouped, and retried only with --retry-moderated", function()
    start{ speed = 200, flag_word = "nudity=OutputVideoSensitiveContentDetected" }
    local file = lines_file(dir, { { prompt = "a calm lake" }, { prompt = "nudity on a beach" } })
    local cmd = "batch " .. q(file)
    local code, out, err = cli.run(cmd .. " --json", env)
    assert.equals(9, code, err)
    local failed
    for _, ev in ipairs(events(out)) do if ev.event == "failed" then failed = ev end end
    assert.equals(2, failed.item)
    assert.equals("moderation", failed.error.kind)
    assert.equals("output", failed.error.input)
    assert.equals(1, events(out)[#events(out)].failed_by_reason.moderation)
    code = cli.run(cmd .. " --retry-failed", env)
    assert.equals(9, code)
    assert.equals(2, emu:stats().tasks_created)
    local c3, _, e3 = cli.run(cmd .. " --retry-moderated", env) -- (implies --retry-failed)
    assert.equals(9, c3, e3)
    assert.equals(3, emu:stats().tasks_created)
  end)

  it("--max-spend stops submitting once used_balance has grown past the cap; the rest are skipped, exit 9 names the cap #m-batch-max-spend", function()
    start{ speed = 200 }
    local file = lines_file(dir, prompts(10))
    local code, out, err = cli.run("batch --json " .. q(file) .. " --concurrency 1 --max-spend 12", env)
    assert.equals(9, code, err)
    assert.equals(3, emu:stats().tasks_created) -- 5 each: 5, 10, 15 > 12
    assert.matches("stopped at the spending cap %(%-%-max%-spend 12%)", err)
    local evs = events(out)
    local summary = evs[#evs]
    assert.same({ 3, 7 }, { summary.done, summary.skipped })
    assert.equals(7, summary.skipped_by_reason.max_spend)
    assert.equals(15, summary.spent)
    assert.matches('"files":%[%]', out) -- a list, empty (no -o)
  end)

  it("Ctrl-C stops submitting, lets a submit in flight finish, prints the command that resumes; that command finishes paying nothing twice #child #m-batch-interrupt", function()
    start{ speed = 20, task_seconds = 60 } -- 3 s per task
    local file = lines_file(dir, prompts(8, "slow %d"))
    local args = "batch " .. q(file) .. " --concurrency 3 -o " .. q(dir .. "/%d.mp4")
    local job = cli.start(args, env)
    assert.is_true(cli.until_true(function() return select(2, job:stderr():gsub("submitted task", "")) >= 3 end))
    job:signal("INT")
    local code, _, err = job:finish()
    assert.equals(130, code, err)
    local line = err:match("seedance: interrupted %(SIGINT%)[^\n]*")
    assert.truthy(line, err)
    assert.matches("3 tasks keep running on the service", line)
    local resume = line:match("pays for nothing twice%): (seedance batch .*)$")
    assert.equals("seedance " .. args:gsub("'", ""), resume:gsub("'", ""))
    assert.is_nil(err:find("traceback", 1, true))
    assert.equals(3, emu:stats().tasks_created)
    code, _, err = cli.run(resume:gsub("^seedance ", ""), env)
    assert.equals(0, code, err)
    assert.equals(8, emu:stats().tasks_created)
  end)

  it("seedance abandon ID --journal FILE: the re-run neither waits for the task nor downloads it", function()
    start{ speed = 20, task_seconds = 60 }
    local file = lines_file(dir, { { prompt = "keep" }, { prompt = "drop" } })
    local args = "batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4")
    local job = cli.start(args, env)
    assert.is_true(cli.until_true(function() return select(2, job:stderr():gsub("submitted task", "")) >= 2 end))
    job:signal("INT")
    local _, _, err = job:finish()
    local id = err:match("line 2: submitted task (task_%w+)")
    assert.truthy(id, err)
    local code, out = cli.run("abandon " .. id .. " --journal " .. q(file .. ".journal"))
    assert.equals(0, code, out)
    assert.matches("abandoned task " .. id, out)
    assert.matches("no cancel", out)
    local _, list = cli.run("journal " .. q(file .. ".journal"))
    assert.matches(id .. "%s+abandoned", list)
    code, out, err = cli.run(args .. " --json", env)
    assert.equals(0, code, err)
    local skipped
    for _, ev in ipairs(events(out)) do if ev.event == "skipped" then skipped = ev end end
    assert.same({ 2, id, "abandoned" }, { skipped.item, skipped.task_id, skipped.reason })
    assert.is_nil(util.size_of(dir .. "/2.mp4"))
    assert.is_true((util.size_of(dir .. "/1.mp4") or 0) > 0)
    assert.equals(2, emu:stats().tasks_created)
    -- an id the journal does not hold is a usage error
    code = cli.run("abandon task_NOTHERE --journal " .. q(file .. ".journal"))
    assert.equals(2, code)
  end)

  it("never overwrites a file it did not make: an output already there stops the batch before paying #m-batch-existing-output", function()
    start{ speed = 200 }
    process.write(dir .. "/2.mp4", "someone's video")
    local file = lines_file(dir, prompts(3))
    local code, _, err = cli.run("batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4"), env)
    assert.equals(10, code, err)
    assert.matches("line 2: .*2%.mp4 already exists", err)
    assert.equals(0, emu:stats().endpoints.submit)
    assert.equals("someone's video", util.read_file(dir .. "/2.mp4"))
  end)

  it("the request flags are defaults a line overrides; - reads standard input with --journal", function()
    start{ speed = 200 }
    local file = lines_file(dir, { { prompt = "default six" }, { prompt = "own four", duration = 4 } })
    local code, _, err = cli.run("batch " .. q(file) .. " --duration 6", env)
    assert.equals(0, code, err)
    assert.equals(10, emu:stats().used_balance) -- 6 + 4
    code, _, err = cli.run("batch -", env, file)
    assert.equals(2, code)
    assert.matches("%-%-journal FILE", err)
    code, _, err = cli.run("batch - --journal " .. q(dir .. "/stdin.journal"), env, file)
    assert.equals(0, code, err)
  end)

  it("takes a model described at run time with --model-rules; without it, says how to describe one", function()
    local rules = dir .. "/models.json"
    process.write(rules, cjson.encode{ ["doubao-seedance-2.5"] = { like = "doubao-seedance-2.0",
      duration = { max = 30 } } })
    start{ speed = 200, model_rules = rules }
    local file = lines_file(dir, { { model = "doubao-seedance-2.5", prompt = "long take", duration = 30 } })
    local code, _, err = cli.run("batch " .. q(file), env)
    assert.equals(3, code)
    assert.matches("describe it", err)
    assert.matches("%-%-model%-rules FILE.json", err)
    code, _, err = cli.run("batch " .. q(file) .. " --model-rules " .. q(rules), env)
    assert.equals(0, code, err)
    assert.equals(1, emu:stats().tasks_created)
    -- and seedance validate takes the same flag
    process.write(dir .. "/one.json", cjson.encode{ model = "doubao-seedance-2.5", prompt = "x", duration = 30 })
    assert.equals(3, (cli.run("validate " .. q(dir .. "/one.json"))))
    assert.equals(0, (cli.run("validate --model-rules " .. q(rules) .. " " .. q(dir .. "/one.json"))))
  end)
end)
