-- Specs for the identity of what may have been paid: a submit's Idempotency-Key
-- is the one handle on a task the service made when every answer to it was lost
-- (a network outage longer than the retries, a laptop that slept). Against the
-- emulator (which bills and replays by key) behind the scriptable gateway, which
-- forwards the submit and then drops the answer.
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat on a river", duration = 5 }

-- The gateway's script: the first `n` submits reach the emulator (which makes and bills the
-- task) and their answers are lost; everything else is forwarded as it is.
local function lose_submits(emu, n)
  return { upstream = emu.url, cases = {
    { name = "lost", method = "POST", path = "/v1/videos/generations", forward = true, drop = true, times = n },
  } }
end

describe("a paid submit whose every answer is lost #found #c", function()
  local emu, gw
  before_each(function()
    emu = emulator.start{ speed = util.SPEED }
    gw = gateway.start{ upstream = emu.url }
  end)
  after_each(function()
    assert.is_true(gw:stop(), gw:log())
    emu:stop()
  end)

  local OPTS = { max_backoff = 0.02, max_retries = 1 }

  -- The Idempotency-Key of every submit the gateway saw.
  local function keys_sent()
    local keys = {}
    for _, r in ipairs(gw:requests{ method = "POST" }) do keys[#keys + 1] = r:header("idempotency-key") end
    return keys
  end

  it("ends with an error that carries its idempotency_key (maybe_paid), and generate takes the key back: "
    .. "one task paid for one request #m-submit-error-carries-key #m-submit-maybe-paid", function()
    gw:script(lose_submits(emu, 4))
    local c = util.client_for(gw, OPTS)
    local task, err = c:generate(REQ)
    assert.is_nil(task)
    assert.equals("network_error", err.type)
    assert.is_string(err.idempotency_key)
    assert.is_true(err.maybe_paid)
    assert.equals(1, emu:stats().tasks_created) -- made and billed, though no answer came back
    for _, k in ipairs(keys_sent()) do assert.equals(err.idempotency_key, k) end
    gw:script{ upstream = emu.url }
    task = assert(c:generate(REQ, { idempotency_key = err.idempotency_key }))
    assert.is_true(task.replayed)
    assert.equals(err.idempotency_key, task.idempotency_key)
    assert.equals(1, emu:stats().tasks_created)
  end)

  it("carries the key, not maybe_paid, when the service refused the submit (nothing made)", function()
    gw:script{ upstream = emu.url, cases = {
      { method = "POST", path = "/v1/videos/generations", status = 402,
        json = { error = { code = 402, type = "payment_required", message = "top up" } } } } }
    local _, err = util.client_for(gw, OPTS):generate(REQ)
    assert.equals("payment_required", err.type)
    assert.is_string(err.idempotency_key)
    assert.is_nil(err.maybe_paid)
  end)

  it("map submits an item again under its key until the task the service made lands in its item "
    .. "#m-pipeline-submit-rounds #m-submit-maybe-paid", function()
    gw:script(lose_submits(emu, 4)) -- two whole rounds of one submit (two attempts each) lose their answers
    local c = util.client_for(gw, OPTS)
    local results, stats = seedance.map(c, { REQ }, { concurrency = 1 })
    assert.equals(1, stats.done, tostring(results[1].error))
    assert.is_truthy(results[1].task)
    assert.equals(1, emu:stats().tasks_created)
    local keys = keys_sent()
    assert.is_true(#keys >= 5, #keys .. " submits")
    for _, k in ipairs(keys) do assert.equals(results[1].task.idempotency_key, k) end
  end)

  it("chain does the same for a clip #m-pipeline-submit-rounds", function()
    gw:script(lose_submits(emu, 4))
    local c = util.client_for(gw, OPTS)
    local clips, err = seedance.chain(c, { REQ })
    assert.is_nil(err)
    assert.is_truthy(clips[1] and clips[1].task)
    assert.equals(1, emu:stats().tasks_created)
  end)

  it("an item that never gets an answer carries the key in its error", function()
    gw:script(lose_submits(emu, 100))
    local results, stats = seedance.map(util.client_for(gw, OPTS), { REQ })
    assert.equals(1, stats.failed)
    assert.is_string(results[1].error.idempotency_key)
    assert.is_true(results[1].error.maybe_paid)
    assert.equals(1, emu:stats().tasks_created)
  end)

  it("with a journal, submits under the key the journal recorded, whatever key the caller passes "
    .. "#m-journal-key-wins", function()
    gw:script(lose_submits(emu, 2)) -- the first try's answers are lost: its key is in the journal only
    local journal = util.tmpfile("idem.journal")
    finally(function() os.remove(journal) end)
    local c = util.client_for(gw, OPTS, { journal = journal })
    local _, err = c:generate(REQ)
    local recorded = err.idempotency_key
    assert.equals(1, emu:stats().tasks_created)
    c:close()
    gw:script{ upstream = emu.url }
    c = util.client_for(gw, OPTS, { journal = journal })
    local task = assert(c:generate(REQ, { idempotency_key = "another-key-1" }))
    assert.equals(recorded, task.idempotency_key)
    assert.is_true(task.replayed)
    assert.equals(1, emu:stats().tasks_created)
    c:close()
  end)

  it("with a journal, an Idempotency-Key picks up its own occurrence's task, never one another call of the same "
    .. "request holds: two occurrences never share a task #found #m-journal-key-one-occurrence", function()
    gw:script(lose_submits(emu, 1)) -- the first try's answer is lost: the service made task T1 under key K1
    local journal = util.tmpfile("own.journal")
    local c = util.client_for(gw, OPTS, { journal = journal, max_retries = 0 })
    finally(function()
      c:close()
      os.remove(journal)
    end)
    local _, err = c:generate(REQ)
    assert.is_true(err.maybe_paid)
    gw:script{ upstream = emu.url }
    -- another call of the same request (another item of a batch) takes the occurrence and picks up T1
    local other = assert(c:generate(REQ))
    assert.is_true(other.replayed)
    -- the first try's retry, under its key: that occurrence is held, so it is a request of its own
    local retried = assert(c:generate(REQ, { idempotency_key = err.idempotency_key }))
    assert.are_not.equal(other.id, retried.id)
    assert.are_not.equal(err.idempotency_key, retried.idempotency_key)
    assert.equals(2, emu:stats().tasks_created)
    c:close()
    -- a re-run re-attaches each occurrence to its own task
    c = util.client_for(gw, OPTS, { journal = journal })
    local a, b = assert(c:generate(REQ)), assert(c:generate(REQ))
    assert.same({ other.id, retried.id }, { a.id, b.id })
    assert.equals(2, emu:stats().tasks_created)
  end)

  it("map with a journal: an item whose submit went unanswered keeps its task while a sibling with the same "
    .. "request starts during its pause; every item its own task #found #m-journal-key-one-occurrence", function()
    -- item 1's first submit is made and its answer lost; item 2 (another request) ends quickly, so item 3 (the
    -- same request as item 1) starts while item 1 waits out its round's pause (2 s)
    local quick = emulator.start{ speed = 1, task_seconds = 0.2 }
    local g = gateway.start{ upstream = quick.url, cases = {
      { name = "lost", method = "POST", path = "/v1/videos/generations", body_pattern = "boat", forward = true,
        drop = true, times = 1 } } }
    local journal = util.tmpfile("map.journal")
    local c = seedance.new{ api_key = "sk-spec", base_url = g.url, journal = journal, max_retries = 0, backoff = 2,
                            poll_min = 0.05, poll_max = 0.1 }
    finally(function()
      c:close()
      g:stop()
      quick:stop()
      os.remove(journal)
    end)
    local other = { model = "doubao-seedance-2.0", prompt = "a quick one", duration = 5 }
    local results, stats = seedance.map(c, { REQ, other, REQ }, { concurrency = 2 })
    assert.equals(3, stats.done, tostring(results[1].error or results[3].error))
    assert.equals(1, #g:requests{ case = "lost" })
    assert.are_not.equal(results[1].task.id, results[3].task.id)
    assert.equals(3, quick:stats().tasks_created)
  end)

  it("before_submit sees the key before anything is sent, and false sends nothing #m-before-submit-calls-off", function()
    gw:script{ upstream = emu.url }
    local seen
    local task, err = util.client_for(gw, OPTS):generate(REQ, { before_submit = function(key) seen = key; return false end })
    assert.is_nil(task)
    assert.equals("aborted", err.type)
    assert.equals(seen, err.idempotency_key)
    assert.is_nil(err.maybe_paid)
    assert.equals(0, #gw:requests{ method = "POST" })
    task = assert(util.client_for(gw, OPTS):generate(REQ, { before_submit = function(key) seen = key end }))
    assert.equals(seen, task.idempotency_key)
  end)
end)
