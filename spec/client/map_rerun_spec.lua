-- Specs for seedance.map's re-runs against the emulator: a journaled batch
-- retries only what failed (retry_failed, and retry_moderated for failures for
-- sensitive content), skips what was abandoned, stops paying at a spending cap
-- (max_spend), never overwrites a file it saved that has changed since nor
-- another item's saved video, stops at a refused key or balance, and
-- reports progress on a change (and once at the start of a journaled re-run).
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local util = require("helpers.util")
local process = require("helpers.process")

local client_for, tmpdir = util.client_for, util.tmpdir

local R = util.request

-- Run map on a fresh client with the journal, closing it after (the lock goes back for the re-run).
local function map_journaled(emu, journal, reqs, opts)
  local c = client_for(emu, { journal = journal })
  local results, stats = seedance.map(c, reqs, opts)
  c:close()
  return results, stats
end

local cleanup = util.cleanup()

-- An emulator, a folder and the path of a journal in it, all removed after the spec.
local function fresh_run()
  local dir = cleanup(tmpdir())
  return cleanup(emulator.start{ speed = util.SPEED }), dir, dir .. "/j"
end

describe("seedance.map with retry_failed #c", function()
  local emu, dir
  before_each(function()
    emu = cleanup(emulator.start{ speed = util.SPEED, flag_word = { "broken=RenderTimeout",
                                                                   "nudity=OutputVideoSensitiveContentDetected" } })
    dir = cleanup(tmpdir())
  end)

  it("re-runs pay for nothing, and retry_failed pays only for the failed items, under new keys #m-map-retry-failed #m-client-retry-new-key #m-map-failed-settled", function()
    local j = dir .. "/j"
    local reqs = {}
    for i = 1, 8 do reqs[i] = R(i % 3 == 0 and ("broken clip " .. i) or ("clip " .. i)) end
    local first, s1 = map_journaled(emu, j, reqs, { concurrency = 4, output = dir .. "/%d.mp4" })
    assert.same({ 6, 2 }, { s1.done, s1.failed })
    assert.equals(8, emu:stats().tasks_created)
    assert.equals("task_failed", first[3].error.type)
    assert.is_nil(first[3].error.kind) -- a plain failure, not a moderation one
    -- a re-run: the failed stay failed, with their recorded error, and nothing is paid or fetched
    local before = emu:stats()
    local again, s2 = map_journaled(emu, j, reqs, { concurrency = 4, output = dir .. "/%d.mp4" })
    local after = emu:stats()
    assert.same({ 6, 2 }, { s2.done, s2.failed })
    assert.equals(before.tasks_created, after.tasks_created)
    assert.equals(before.endpoints.submit, after.endpoints.submit)
    assert.equals(before.media_requests, after.media_requests)
    assert.equals(first[3].task.id, again[3].error.task_id)
    assert.is_true(again[3].error.earlier)
    -- retry_failed: the two failed items are paid for again, and only they
    local retried, s3 = map_journaled(emu, j, reqs, { concurrency = 4, output = dir .. "/%d.mp4", retry_failed = true })
    assert.equals(before.tasks_created + 2, emu:stats().tasks_created)
    assert.same({ 6, 2 }, { s3.done, s3.failed }) -- (they fail again: the emulator fails that prompt)
    assert.are_not.equal(first[3].task.id, retried[3].task.id)
    assert.are_not.equal(first[3].task.idempotency_key, retried[3].task.idempotency_key)
    assert.equals(first[1].task.id, retried[1].task.id)
  end)

  it("a failure for sensitive content is typed and retried only with retry_moderated #m-map-retry-moderated", function()
    local j = dir .. "/j"
    local reqs = { R"calm sea", R"nudity on a beach" }
    local first = map_journaled(emu, j, reqs)
    local e = first[2].error
    assert.equals("task_failed", e.type)
    assert.equals("moderation", e.kind)
    assert.equals("output", e.input)
    assert.equals("OutputVideoSensitiveContentDetected", e.code)
    assert.is_false(e.retryable)
    local created = emu:stats().tasks_created
    local again = map_journaled(emu, j, reqs, { retry_failed = true })
    assert.equals(created, emu:stats().tasks_created)
    assert.equals("moderation", again[2].error.kind)
    map_journaled(emu, j, reqs, { retry_failed = true, retry_moderated = true })
    assert.equals(created + 1, emu:stats().tasks_created)
  end)

  it("a refused submit is recorded: a re-run does not send it again, retry_failed does #m-map-failed-settled", function()
    emu:stop()
    emu = emulator.start{ speed = util.SPEED, refuse_word = "forbidden" }
    local j = dir .. "/j"
    local reqs = { R"a forbidden dance", R"a quiet dance" }
    local first = map_journaled(emu, j, reqs)
    assert.equals("moderation", first[1].error.kind)
    assert.equals("prompt", first[1].error.input)
    local refusals = emu:stats().moderation_refusals
    assert.equals(1, refusals)
    local again = map_journaled(emu, j, reqs)
    assert.equals("moderation", again[1].error.kind)
    assert.equals(refusals, emu:stats().moderation_refusals) -- not sent again
    map_journaled(emu, j, reqs, { retry_failed = true, retry_moderated = true })
    assert.equals(refusals + 1, emu:stats().moderation_refusals)
  end)

  it("a retry interrupted after its submit record resumes under the retry's key, never paying a third time #m-journal-new-try", function()
    local j = dir .. "/j"
    local reqs = { R"broken again" }
    map_journaled(emu, j, reqs)
    -- a retry that died between its journal record and its answer: the record is there, the task unknown
    local journal = require("seedance.journal")
    local jr = assert(journal.open(j))
    local key = journal.hash(reqs[1]) .. "#1"
    assert(jr:append{ type = "submit", key = key, hash = journal.hash(reqs[1]), idempotency_key = "retry-key-1",
      attempt = 2 })
    jr:close()
    local created = emu:stats().tasks_created
    local r = map_journaled(emu, j, reqs) -- no retry_failed: the retry already began, and goes on under its key
    assert.equals(created + 1, emu:stats().tasks_created)
    assert.equals("retry-key-1", r[1].task.idempotency_key)
    map_journaled(emu, j, reqs)
    assert.equals(created + 1, emu:stats().tasks_created)
  end)
end)

describe("seedance.map with max_spend #c", function()
  for _, bill_at in ipairs{ "submit", "completion" } do
    it("stops submitting once used_balance has grown by more than the cap (billed at " .. bill_at
      .. ") #m-map-max-spend", function()
      local emu = emulator.start{ speed = util.SPEED, bill_at = bill_at }
      finally(function() emu:stop() end)
      local reqs = {}
      for i = 1, 10 do reqs[i] = R("capped " .. i, 5) end -- each costs 5
      local results, stats = seedance.map(client_for(emu), reqs, { concurrency = 1, max_spend = 12 })
      local s = emu:stats()
      assert.equals(3, s.tasks_created) -- 5, 10, then 15 > 12: no more
      assert.same({ 3, 0, 7 }, { stats.done, stats.failed, stats.skipped })
      assert.equals("max_spend", stats.stopped)
      assert.equals(15, stats.spent)
      assert.equals("skipped", results[4].error.type)
      assert.equals("max_spend", results[4].error.reason)
      assert.matches("spending cap", results[10].error.message)
    end)
  end

  it("reads the balance between submits whatever the concurrency, and pays for nothing when it cannot be read", function()
    local emu = emulator.start{ speed = util.SPEED }
    local dead = emulator.start{ speed = util.SPEED, error_rate = 1, fault_paths = "balance" }
    finally(function() emu:stop(); dead:stop() end) -- (one finally per spec: busted keeps the last one given)
    local reqs = {}
    for i = 1, 10 do reqs[i] = R("wide " .. i, 5) end
    local _, stats = seedance.map(client_for(emu), reqs, { concurrency = 4, max_spend = 12 })
    assert.equals(3, emu:stats().tasks_created)
    assert.equals(7, stats.skipped)
    assert.is_true(emu:stats().endpoints.balance >= 4)
    local results, s2 = seedance.map(client_for(dead, { max_retries = 0 }), reqs, { max_spend = 100 })
    assert.equals(0, dead:stats().tasks_created)
    assert.equals(10, s2.skipped)
    assert.matches("balance could not be read", s2.error.message)
    assert.equals("skipped", results[1].error.type)
  end)

  it("refuses a cap that is not an amount before paying", function()
    local emu = emulator.start{ speed = util.SPEED }
    finally(function() emu:stop() end)
    for _, bad in ipairs{ -1, 0 / 0, "10", math.huge } do
      local ok, err = pcall(seedance.map, client_for(emu), { R"x" }, { max_spend = bad })
      assert.is_false(ok)
      assert.matches("option 'max_spend' must be a number", err, nil, true)
    end
    assert.equals(0, emu:stats().tasks_created)
  end)
end)

describe("abandoned tasks #c", function()
  local emu, dir
  before_each(function()
    emu = cleanup(emulator.start{ speed = util.SPEED })
    dir = cleanup(tmpdir())
  end)

  it("task:abandon() records it: a re-run neither waits for it nor downloads it #m-task-abandon-records #m-map-abandoned-skipped", function()
    local j = dir .. "/j"
    local reqs = { R"keep me", R"give me up" }
    local c = client_for(emu, { journal = j })
    local t = assert(c:generate(reqs[2]))
    assert.is_true(t:abandon())
    assert.is_true(t.closed and t.abandoned)
    c:close()
    local polls = emu:stats().polls
    local results, stats = map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4" })
    assert.equals(2, emu:stats().tasks_created) -- the abandoned task is not paid again either
    assert.same({ 1, 0, 1 }, { stats.done, stats.failed, stats.skipped })
    assert.equals("abandoned", results[2].error.reason)
    assert.equals(t.id, results[2].error.task_id)
    assert.is_nil(util.size_of(dir .. "/2.mp4"))
    assert.is_true((util.size_of(dir .. "/1.mp4") or 0) > 0)
    -- the abandoned task was never polled: every poll of this run was item 1's
    assert.is_true(emu:stats().polls - polls >= 1)
  end)

  it("generate of an abandoned request gives a handle that neither waits nor downloads #m-task-abandoned-no-wait", function()
    local j = dir .. "/j"
    local c = client_for(emu, { journal = j })
    local t = assert(c:generate(R"unwanted"))
    t:abandon()
    c:close()
    c = client_for(emu, { journal = j })
    local again = assert(c:generate(R"unwanted"))
    local polls = emu:stats().polls
    assert.is_true(again.abandoned)
    local ok, err = again:wait()
    assert.is_nil(ok)
    assert.equals("abandoned", err.type)
    assert.matches("no cancel", err.message)
    local saved, derr = again:download(dir .. "/x.mp4")
    assert.is_nil(saved)
    assert.equals("abandoned", derr.type)
    assert.equals(polls, emu:stats().polls)
    c:close()
  end)
end)

describe("a journaled re-run and its files #c", function()
  it("never overwrites a saved file that changed since; says so, and fetches a missing one again #m-download-not-clobbered", function()
    local emu, dir, j = fresh_run()
    local reqs = { R"one", R"two" }
    map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4" })
    process.write(dir .. "/1.mp4", "my own edit")
    os.remove(dir .. "/2.mp4")
    local media = emu:stats().media_requests
    local results = map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4" })
    assert.equals("io_error", results[1].error.type)
    assert.matches("has changed since", results[1].error.message)
    assert.equals("my own edit", util.read_file(dir .. "/1.mp4"))
    assert.is_nil(results[2].error)
    assert.equals(media + 1, emu:stats().media_requests) -- only the missing one
    assert.equals(2, emu:stats().tasks_created)
  end)

  it("#found an item taken out of the list: the items after it never overwrite their neighbours' saved videos #m-map-not-its-output", function()
    local emu, dir, j = fresh_run()
    local reqs = { R("one", 4), R("two", 6), R("three", 8) }
    map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4" })
    local two, three = util.read_file(dir .. "/2.mp4"), util.read_file(dir .. "/3.mp4")
    assert.are_not.equal(two, three)
    -- "two" is taken out: "three" is item 2 now, and 2.mp4 is still two's video
    local results, stats = map_journaled(emu, j, { reqs[1], reqs[3] }, { output = dir .. "/%d.mp4" })
    assert.same({ 1, 1 }, { stats.done, stats.failed })
    assert.equals("io_error", results[2].error.type)
    assert.matches("holds the video of task", results[2].error.message)
    assert.equals(two, util.read_file(dir .. "/2.mp4"))
    assert.equals(three, util.read_file(dir .. "/3.mp4"))
    assert.equals(3, emu:stats().tasks_created)
    -- moved away, it is saved there, paying nothing
    os.rename(dir .. "/2.mp4", dir .. "/two.mp4")
    results = map_journaled(emu, j, { reqs[1], reqs[3] }, { output = dir .. "/%d.mp4" })
    assert.is_nil(results[2].error)
    assert.equals(three, util.read_file(dir .. "/2.mp4"))
    assert.equals(3, emu:stats().tasks_created)
  end)

  it("#found retry_failed pays again for an item whose result expired before it was saved; a re-run without it pays nothing #m-map-retry-expired", function()
    local emu = cleanup(emulator.start{ speed = util.SPEED, url_ttl = 0.001 })
    local dir = cleanup(tmpdir())
    local j = dir .. "/j"
    local reqs = { R"gone by morning" }
    local first = map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4" })
    assert.equals("expired", first[1].error.type)
    assert.equals(1, emu:stats().tasks_created)
    local again = map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4" })
    assert.equals("expired", again[1].error.type)
    assert.equals(1, emu:stats().tasks_created)
    local retried = map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4", retry_failed = true })
    assert.equals(2, emu:stats().tasks_created)
    assert.are_not.equal(first[1].task.id, retried[1].task.id)
  end)
end)

describe("a key or a balance refused #c", function()
  it("#found stops the submits, is not recorded as the items' tries, and the run with a good key pays each once #m-map-account-stops #m-journal-refusal-request-only", function()
    local emu, _, j = fresh_run()
    local reqs = util.requests("refused", 6)
    local c = client_for(emu, { journal = j, api_key = "sk-test-401" })
    local results, stats = seedance.map(c, reqs, { concurrency = 1 })
    c:close()
    assert.equals("authentication_error", results[1].error.type)
    assert.equals(1, stats.failed)
    assert.equals(5, stats.skipped)
    assert.equals("authentication_error", stats.error.type)
    assert.equals(1, emu:stats().endpoints.submit) -- the first refusal stopped the others
    local _, s2 = map_journaled(emu, j, reqs, { concurrency = 3 }) -- the key fixed: every item paid once
    assert.same({ 6, 0 }, { s2.done, s2.failed })
    assert.equals(6, emu:stats().tasks_created)
  end)
end)

describe("map's on_progress #c", function()
  it("fires on a change only, never twice for the same counts and percent #m-map-progress-on-change", function()
    local emu = emulator.start{ speed = util.SPEED, progress_step = 25 }
    finally(function() emu:stop() end)
    local reqs = {}
    for i = 1, 6 do reqs[i] = R("p" .. i) end
    local seen, last = 0, nil
    seedance.map(client_for(emu, { poll_min = 0.001, poll_max = 0.01 }), reqs, { concurrency = 3,
      on_progress = function(s)
        local sig = table.concat({ s.done, s.failed, s.skipped, s.running, s.percent }, " ")
        assert.are_not.equal(last, sig)
        last, seen = sig, seen + 1
      end })
    assert.is_true(seen >= 6)
  end)

  it("fires once at the start of a journaled re-run, before any request #m-map-progress-rerun-start", function()
    local emu = emulator.start{ speed = util.SPEED }
    local dir = tmpdir()
    finally(function() emu:stop(); process.remove_dir(dir) end)
    local j = dir .. "/j"
    local reqs = { R"r1", R"r2", R"r3" }
    map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4" })
    os.remove(dir .. "/3.mp4") -- one file to fetch again: the re-run has work
    local first
    local requests = emu:stats().requests
    map_journaled(emu, j, reqs, { output = dir .. "/%d.mp4", on_progress = function(s)
      if not first then first = { done = s.done, running = s.running, requests = emu:stats().requests } end
    end })
    assert.same({ done = 2, running = 0, requests = requests }, first)
  end)
end)
