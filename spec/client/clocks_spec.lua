-- Specs for the clocks the client reads: a value a server wrote against its own
-- clock (an HTTP date in Retry-After, a task's `created` and `expires_at`) is
-- measured against that server's clock (its answer's `Date`), never against
-- this machine's, whose clock may be minutes off. Against the scriptable gateway.
local seedance = require("seedance")
local scheduler = require("seedance.scheduler")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

-- An HTTP date (RFC 1123) for unix time t.
local function http_date(t)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", t)
end

local SKEW = 600 -- the server's clock is 10 minutes off this machine's

describe("clocks #found #c", function()
  local gw
  before_each(function() gw = gateway.start{ listeners = { "api", "media" } } end)
  after_each(function() assert.is_true(gw:stop(), gw:log()) end)

  local OPTS = { time_scale = 1, max_retries = 2 }

  it("waits out a date-form Retry-After against the answer's own Date, from a server 10 minutes behind "
    .. "#m-retry-after-server-date", function()
    local server_now = os.time() - SKEW
    gw:script{ cases = {
      { name = "busy", path = "/v1/balance", times = 1, status = 429,
        headers = { { "Date", http_date(server_now) }, { "Retry-After", http_date(server_now + 2) } },
        json = { error = { code = 429, type = "rate_limit_error", message = "slow down" } } },
      { name = "ok", path = "/v1/balance", json = { success = true, remain_balance = 5, used_balance = 1 } },
    } }
    local c = util.client_for(gw, OPTS)
    assert(c:balance())
    local reqs = gw:requests()
    assert.equals(2, #reqs)
    -- (a lower bound: no request goes sooner than the server asked, however slow the machine)
    assert.is_true(reqs[2].time - reqs[1].time >= 1.0, "retried after " .. (reqs[2].time - reqs[1].time) .. " s")
  end)

  it("measures a date-form Retry-After from the answer's Date when the server's clock is ahead "
    .. "#m-retry-after-server-date", function()
    local server_now = os.time() + SKEW
    gw:script{ cases = {
      { name = "busy", path = "/v1/balance", status = 429,
        headers = { { "Date", http_date(server_now) }, { "Retry-After", http_date(server_now + 20) } },
        json = { error = { code = 429, type = "rate_limit_error", message = "slow down" } } },
    } }
    local c = util.client_for(gw, OPTS, { max_retry_after = 10 })
    local bal, err = c:balance()
    assert.is_nil(bal)
    -- 20 s asked (more than max_retry_after: the call ends at once, saying how long), not 620 s
    assert.equals("rate_limit_error", err.type)
    assert.equals(20, err.retry_after)
    assert.matches("asked to wait 20 s", err.message)
  end)

  it("reads a re-attached task's age from the answer's Date, not this machine's clock (the engine's "
    .. "schedule) #c #m-task-created-server-clock", function()
    local server_now = os.time() - SKEW
    gw:script{ cases = {
      { path = "/v1/tasks/task_A", headers = { { "Date", http_date(server_now) } },
        json = { code = 200, data = { id = "task_A", status = "processing", progress = 1,
                 created = server_now - 10, estimated_time = 600 } } },
    } }
    local c = util.client_for(gw, OPTS, { poll_min = 0.01, poll_max = 1000 })
    local w = c:task("task_A"):waiter{}
    assert.equals("wait", (w:step())) -- the engine polls it
    scheduler.wait_event(w.wid)        -- its first answer (a status its waiter did not know)
    assert.equals("wait", (w:step()))
    -- 10 s into a task estimated at 600 s: the engine's next poll is far off (not 5% of 610 s)
    local delay = scheduler.engine():watch_info(w.wid).next
    assert.is_true(delay > 100, "next poll in " .. delay .. " s")
    scheduler.unwatch(w.wid)
  end)

  it("downloads a result whose expires_at is in the server's future, though past on this machine's clock, "
    .. "through a passing 403 #m-expiry-server-clock", function()
    local server_now = os.time() - SKEW
    -- the media host refuses once (a CDN's hiccup): the URL, re-read, is still alive on the server's clock
    local script = gateway.completed_video{ { name = "hiccup", status = 403, times = 1, body = "no" },
                                            { bytes = 1000 } }
    script.cases[1].headers = { { "Date", http_date(server_now) } }
    script.cases[1].json.data.result.videos[1].expires_at = server_now + 300
    gw:script(script)
    local c = util.client_for(gw, OPTS)
    local task = c:task("task_V")
    assert(task:wait())
    local path = util.tmpfile("clock.mp4")
    finally(function() os.remove(path) end)
    local got, err = task:download(path)
    assert.equals(path, got, tostring(err))
    assert.equals(1000, util.size_of(path))
  end)
end)

-- The documented "no limit" of every call's timeout, down to the engine's transfer options.
describe("deadlines of no limit (math.huge) #found #c", function()
  local emulator = require("helpers.emulator")
  local emu = emulator.fixture{ speed = util.SPEED }

  it("every call takes math.huge as a deadline with no limit, as documented, the download's too (it raised from the "
    .. "engine) #m-engine-timeout-unbounded", function()
    local c = util.client_for(emu)
    local REQ = { model = "doubao-seedance-2.0", prompt = "no limit" }
    local task = assert(c:generate(REQ, { timeout = math.huge }))
    assert(task:wait{ timeout = math.huge })
    assert(task:refresh{ timeout = math.huge })
    local path = util.tmpfile("unbounded.mp4")
    finally(function() os.remove(path) end)
    assert.equals(path, task:download(path, { timeout = math.huge }))
    assert.equals(path, c:task(task.id):download(path, { timeout = math.huge, wait = { timeout = math.huge } }))
    local results = seedance.map(c, { REQ }, { timeout = math.huge })
    assert.is_truthy(results[1].task, tostring(results[1].error))
  end)
end)
