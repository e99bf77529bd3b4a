-- Specs for `seedance batch FILE` run as a user runs it, against the emulator:
-- every line checked before paying, a journal always (FILE.journal by
-- default), kill -9 and re-runs paying exactly once per line, --retry-failed
-- paying only for the failed lines (and --retry-moderated for those refused
-- for sensitive content), --max-spend stopping at the cap, --dry-run paying
-- nothing, JSON events, Ctrl-C printing the command that resumes, abandon,
-- `seedance journal`, and a model described at run time with --model-rules.
local cjson = require("cjson")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
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

  it("#found lines with a local image: every re-run (a new process each) finds their tasks, paying once per line #child #m-journal-hash-stable", function()
    start{ speed = 200 }
    process.write(dir .. "/cat.png", "\137PNG\r\n\26\n" .. string.rep("\0", 32))
    local file = lines_file(dir, { { prompt = "a cat", image_urls = { dir .. "/cat.png" } },
                                   { prompt = "two cats", image_urls = { dir .. "/cat.png" } } })
    local cmd = "batch -q " .. q(file) .. " -o " .. q(dir .. "/%d.mp4")
    for _ = 1, 5 do
      local code, _, err = cli.run(cmd, env)
      assert.equals(0, code, err)
      assert.equals(2, emu:stats().tasks_created)
      os.remove(dir .. "/1.mp4") -- (fetched again from the task the journal holds, never paid again)
    end
  end)

  it("#found a line taken out of the file: the lines after it are refused before paying, and no saved video is overwritten #m-batch-existing-output-this-task", function()
    start{ speed = 200 }
    local reqs = { { prompt = "one", duration = 4 }, { prompt = "two", duration = 6 }, { prompt = "three", duration = 8 } }
    local file = lines_file(dir, reqs)
    local cmd = "batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4")
    local code, _, err = cli.run(cmd, env)
    assert.equals(0, code, err)
    local two = util.read_file(dir .. "/2.mp4")
    lines_file(dir, { reqs[1], reqs[3] }) -- "two" taken out: "three" is line 2 now
    code, _, err = cli.run(cmd, env)
    assert.equals(10, code, err)
    assert.matches("line 2: .*2%.mp4 already exists, and the journal did not save it from this line's task %(it "
      .. "saved it from task task_%w+, of line 2 then; was a line removed or moved since%?%)", err)
    assert.equals(two, util.read_file(dir .. "/2.mp4"))
    assert.equals(3, emu:stats().tasks_created)
    assert.equals(3, emu:stats().endpoints.submit)
  end)

  it("#found a kill between a download's rename and its journal record: the re-run takes the whole file for its line's, paying nothing #m-batch-output-renamed-unrecorded", function()
    start{ speed = 200 }
    local file = lines_file(dir, prompts(2))
    local cmd = "batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4")
    assert.equals(0, (cli.run(cmd, env)))
    -- the journal as such a kill leaves it: the files renamed into place, their download records not written
    local kept = {}
    for line in util.read_file(file .. ".journal"):gmatch("[^\n]+") do
      if not line:find('"type":"download"', 1, true) then kept[#kept + 1] = line end
    end
    process.write(file .. ".journal", table.concat(kept, "\n") .. "\n")
    local code, _, err = cli.run(cmd, env)
    assert.equals(0, code, err)
    assert.equals(2, emu:stats().tasks_created)
  end)

  it("#found a result that expired before it was saved: a re-run pays nothing, --retry-failed pays for it again, and the closing line says so #m-map-retry-expired #m-batch-failed-advice", function()
    start{ speed = 200, url_ttl = 0.001 }
    local file = lines_file(dir, { { prompt = "gone by morning" } })
    local cmd = "batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4")
    local code, out, err = cli.run(cmd, env)
    assert.equals(9, code, err)
    assert.matches("failed: expired 1", out)
    assert.matches("seedance: 1 item failed; run again with %-%-retry%-failed to pay for it again\n", err)
    code = cli.run(cmd, env)
    assert.equals(9, code)
    assert.equals(1, emu:stats().tasks_created)
    local _, list = cli.run("journal " .. q(file .. ".journal"))
    assert.matches("\n1%s+task_%w+%s+expired", list)
    local _, plan = cli.run(cmd .. " --dry-run --retry-failed", env)
    assert.matches("to submit %(paid%): 1 item", plan)
    cli.run(cmd .. " --retry-failed", env)
    assert.equals(2, emu:stats().tasks_created)
  end)

  it("#found a wrong key stops the batch at its first refusal, recorded for no line: with the right key the same command pays each line once #m-map-account-stops #m-journal-refusal-request-only", function()
    start{ speed = 200 }
    local file = lines_file(dir, prompts(5))
    local cmd = "batch " .. q(file) .. " --concurrency 1"
    local bad = {}
    for k, v in pairs(env) do bad[k] = v end
    bad.SEEDANCE_API_KEY = "sk-test-401"
    local code, out, err = cli.run(cmd, bad)
    assert.equals(9, code, err)
    assert.matches("0 done, 1 failed, 4 skipped", out)
    assert.matches("the batch stopped: authentication failed: .*the key came from SEEDANCE_API_KEY.*once that is "
      .. "fixed, the same command again submits the lines not paid for", err)
    assert.equals(1, emu:stats().endpoints.submit)
    code, out, err = cli.run(cmd, env)
    assert.matches("5 done", out)
    assert.equals(0, code, err)
    assert.equals(5, emu:stats().tasks_created)
  end)

  it("#found a saved file changed since fails its line, and the closing line never offers --retry-failed for it #m-batch-failed-advice", function()
    start{ speed = 200 }
    local file = lines_file(dir, prompts(2))
    local cmd = "batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4")
    assert.equals(0, (cli.run(cmd, env)))
    process.write(dir .. "/1.mp4", "my own edit")
    local code, _, err = cli.run(cmd, env)
    assert.equals(9, code, err)
    assert.matches("line 1: failed: .*has changed since", err)
    assert.matches("seedance: 1 item failed: see its line above %(the same command again pays for nothing twice%)\n",
      err)
    assert.is_nil(err:find("--retry-failed", 1, true))
    assert.equals("my own edit", util.read_file(dir .. "/1.mp4"))
  end)

  it("#found --retry-failed --dry-run says that a line refused for sensitive content waits for --retry-moderated #m-batch-dry-run-moderated", function()
    start{ speed = 200, refuse_word = "forbidden" }
    local file = lines_file(dir, { { prompt = "a forbidden dance" }, { prompt = "a quiet dance" } })
    assert.equals(9, (cli.run("batch " .. q(file), env)))
    local code, out = cli.run("batch " .. q(file) .. " --retry-failed --dry-run", env)
    assert.equals(0, code)
    assert.matches("1 failed %(refused for sensitive content: not retried without %-%-retry%-moderated%)", out)
    assert.matches("to submit %(paid%): 0 items", out)
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

describe("seedance batch's closing line about failed lines", function()
  local batch = require("seedance.cli.batch")

  it("#found names the flag that settles each kind of failure, and never --retry-failed for what it does not retry #m-batch-failed-advice", function()
    assert.equals("2 items failed; run again with --retry-failed to pay for them again",
      batch.failed_advice(2, { retry_failed = 2 }))
    assert.equals("1 item failed; it was refused for sensitive content: paid for again only with --retry-moderated",
      batch.failed_advice(1, { retry_moderated = 1 }))
    -- a file changed since, a timeout, an outage: --retry-failed would pay for none of them
    assert.equals("2 items failed: see each line above (the same command again pays for nothing twice)",
      batch.failed_advice(2, { rerun = 2 }))
    assert.equals("4 items failed; run again with --retry-failed to pay for 1 of them again; 2 were refused for "
      .. "sensitive content: paid for again only with --retry-moderated; the other 1: see its line above (the "
      .. "same command again pays for nothing twice)", batch.failed_advice(4, { retry_failed = 1, retry_moderated = 2,
      rerun = 1 }))
  end)
end)

describe("seedance batch's Ctrl-C while its submits wait out a 429 #child", function()
  local cleanup = util.cleanup()

  it("#found ends every submit's pause at once and sends nothing more: exit 130, no line paid, the same command "
    .. "resumes #m-batch-interrupt-submit-pause #m-submit-stops-when-run-stopped", function()
    local emu = cleanup(emulator.start{ speed = 20 })
    local gw = cleanup(gateway.start{ upstream = emu.url, cases = {
      { name = "rate", method = "POST", times = 1000, status = 429, headers = { { "Retry-After", "100" } },
        json = { error = { code = 429, type = "rate_limit_error", message = "slow down" } } } } })
    local dir = cleanup(util.tmpdir())
    local file = lines_file(dir, prompts(3, "patient %d"))
    local env = { SEEDANCE_BASE_URL = gw.url, SEEDANCE_API_KEY = "sk-batch", SEEDANCE_TIME_SCALE = "0.05" }
    local job = cli.start("batch " .. q(file) .. " --json --concurrency 3 -o " .. q(dir .. "/%d.mp4"), env)
    gw:wait_requests(1, { case = "rate" })
    -- each submit pauses (Retry-After is the service's wall clock: 100 s), on its own 429, or (#found: a loaded
    -- machine, where a 429 came back before the other submits were handed over) its request waits in the client's
    -- shared pause, unsent, which Ctrl-C withdraws
    os.execute("sleep 0.3")
    local sent = #gw:requests{ method = "POST" }
    job:signal("INT")
    local code, out, err = job:finish()
    assert.equals(130, code, err)
    assert.equals(sent, #gw:requests{ method = "POST" }) -- nothing sent after Ctrl-C
    local list = events(out)
    local summary = list[#list]
    assert.equals("summary", summary.event)
    assert.same({ 0, 0, 3 }, { summary.done, summary.failed, summary.skipped })
    for i = 1, #list - 1 do
      assert.same({ "skipped", "interrupted" }, { list[i].event, list[i].reason })
    end
    assert.equals(0, emu:stats().tasks_created)
    gw:script{ upstream = emu.url, cases = {} } -- the service takes submits again
    local code2, _, err2 = cli.run("batch " .. q(file) .. " --concurrency 3 -o " .. q(dir .. "/%d.mp4"), env)
    assert.equals(0, code2, err2)
    assert.equals(3, emu:stats().tasks_created)
  end)
end)

describe("seedance batch when a submit's answers are lost #child", function()
  local cleanup = util.cleanup()

  it("#found names the key under which the service may have made the line's task, in its --json event and its "
    .. "line; the same command picks that task up, paying once #m-batch-maybe-paid-key #m-batch-maybe-paid-line #m-batch-reason-by-type", function()
    local emu = cleanup(emulator.start{ speed = 50 })
    -- every submit reaches the service (which makes and bills the task) and its answer is lost
    local gw = cleanup(gateway.start{ upstream = emu.url, cases = {
      { name = "lost", method = "POST", times = 1000, forward = true, drop = true } } })
    local dir = cleanup(util.tmpdir())
    local file = lines_file(dir, prompts(1, "unanswered %d"))
    local env = { SEEDANCE_BASE_URL = gw.url, SEEDANCE_API_KEY = "sk-batch", SEEDANCE_TIME_SCALE = "0.02" }
    local args = "batch " .. q(file) .. " -o " .. q(dir .. "/%d.mp4")
    local code, out, err = cli.run(args .. " --json", env)
    assert.equals(9, code, err)
    local key = gw:requests{ method = "POST" }[1]:header("Idempotency-Key")
    local failed = events(out)[1]
    assert.equals("failed", failed.event)
    assert.same({ true, key }, { failed.error.maybe_paid, failed.error.idempotency_key })
    assert.equals(1, events(out)[2].failed_by_reason.network_error) -- grouped by type, not the transfer's kind
    local _, _, text = cli.run(args, env)
    assert.truthy(text:find("Idempotency-Key " .. key, 1, true), text)
    gw:script{ upstream = emu.url, cases = {} }
    local code2, _, err2 = cli.run(args, env)
    assert.equals(0, code2, err2)
    assert.equals(1, emu:stats().tasks_created)
  end)
end)
