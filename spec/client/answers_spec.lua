-- Answers of odd shape from the service: tasks fields of any type, bodies
-- that are not JSON or end in half a surrogate pair, answers over max_body,
-- a poll answer about another task. Nothing a server sends makes a call
-- raise; a call ends with a clear error or reads what it can.
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local OPTS = { time_scale = 1, max_backoff = 0.02, max_retries = 2 }

local cleanup = util.cleanup()

describe("answers of odd shape #c", function()
  local gw = gateway.fixture({}, { each = true })

  it("reads task answers of any shape without raising, and finishes #found #m-answers-never-raise", function()
    local emu = cleanup(emulator.start{ speed = util.SPEED })
    local id = assert(util.client_for(emu):generate(util.request("a paper boat", 5))).id
    local odd = {
      { id = id, status = "processing", created = 1700000000.5, progress = "50", estimated_time = 1e308 },
      { id = id, status = 42, created = -5, progress = 1e300, completed = "soon", result = { 1, 2 }, error = "x" },
      { id = id, status = "processing", created = 1e20, progress = -1e300, estimated_time = -1, result = "none" },
      { id = id, status = string.rep("s", 1000), progress = 101.7, actual_time = {}, error = { message = {} } },
    }
    local cases = {}
    for i, data in ipairs(odd) do
      cases[i] = { method = "GET", pattern = "^/v1/tasks/", times = 1, json = { code = 200, data = data } }
    end
    gw:script{ upstream = emu.url, cases = cases }
    local task = util.client_for(gw, { poll_min = 0.01 }):task(id)
    local ok, err = task:wait{ timeout = 600 }
    assert.truthy(ok, tostring(err))
    assert.equals("completed", task.status)
    assert.is_true(#gw:requests() >= 5)
  end)

  it("reads a failed task whose message ends in half a surrogate pair, at the first poll #found #m-json-lone-surrogate", function()
    gw:script{ cases = { { method = "GET", pattern = "^/v1/tasks/",
      headers = { { "Content-Type", "application/json" } },
      body = '{"code":200,"data":{"id":"task_A","status":"failed",'
        .. '"error":{"code":500,"type":"generation_failed","message":"the model broke \\ud83d"}}}' } } }
    local ok, err = util.client_for(gw, OPTS):task("task_A"):wait{ timeout = 60 }
    assert.is_nil(ok)
    assert.equals("task_failed", err.type)
    assert.matches("the model broke \239\191\189", err.message, 1, true)
    assert.equals(1, #gw:requests())
  end)

  it("gives up after a few answers in a row that are not JSON, naming the status and the first bytes #found #m-undecodable-cap", function()
    gw:script{ cases = { { method = "GET", pattern = "^/v1/tasks/",
      headers = { { "Content-Type", "text/html" } }, body = "<html><body>proxy says hi</body></html>" } } }
    local c = util.client_for(gw, OPTS, { max_retries = 1, poll_min = 0.01 })
    local ok, err = c:task("task_A"):wait{ timeout = 20 }
    assert.is_nil(ok)
    assert.is_false(err.retryable)
    assert.matches("HTTP 200", err.message)
    assert.matches("<html>", err.message, 1, true)
    assert.equals(require("seedance.task").UNDECODABLE_MAX * 2, #gw:requests())
  end)

  it("caps an API answer at max_body #found #m-response-size-cap", function()
    gw:script{ cases = { { path = "/v1/balance", json = { success = true, pad = string.rep("x", 5000) } } } }
    local bal, err = seedance.new{ api_key = "sk-spec", base_url = gw.url, max_body = 1000 }:balance()
    assert.is_nil(bal)
    assert.equals("too_large", err.type)
    assert.is_false(err.retryable)
    assert.equals(1, #gw:requests())
  end)

  -- found: a poll answer about another task (data.id "task_OTHER", as a cache keyed without the path
  -- would serve) was applied as it was: task_A ended completed with task_OTHER's video
  it("never takes a poll answer about another task as this task's state #found #m-poll-answer-other-task", function()
    gw:script{ cases = { gateway.poll_case("completed", { id = "task_OTHER", url = "https://videos.example/other.mp4" }) } }
    local task = util.client_for(gw, OPTS, { poll_min = 0.05 }):task("task_A")
    local ok = task:wait{ timeout = 1 }
    assert.is_nil(ok, "task_A completed with " .. tostring(task.video_url))
    assert.is_nil(task.video_url)
  end)
end)
