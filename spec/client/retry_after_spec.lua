-- Retry-After: no request comes sooner than the server asked (delta seconds,
-- fractions, huge values, several headers, HTTP dates in their three forms),
-- a 429 pauses every sender of the client, and a pause that would pass the
-- caller's deadline ends the call at once with the server's error.
local seedance = require("seedance")
local core = require("seedance.core")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local REQ = util.request("a paper boat", 5)
local OPTS = { time_scale = 1, max_backoff = 0.02, max_retries = 2 }
local busy = gateway.busy

describe("Retry-After #c", function()
  local gw = gateway.fixture({ listeners = { "api", "media" } }, { each = true })

  -- A wait on task_A against a gateway whose every poll is `status` with Retry-After `value`:
  -- what wait returned, and the seconds it took.
  local function wait_busy(status, value, timeout)
    gw:script{ cases = { busy(status, value, { method = "GET", pattern = "^/v1/tasks/" }) } }
    local t0 = core.now()
    local ok, err = util.client_for(gw, OPTS):task("task_A"):wait{ timeout = timeout }
    return ok, err, core.now() - t0
  end

  -- A balance call against a gateway that always answers 429 with these Retry-After headers.
  local function balance_busy(values, over)
    gw:script{ cases = { busy(429, values, { path = "/v1/balance" }) } }
    local _, err = util.client_for(gw, OPTS, over):balance()
    return gw:requests(), err
  end

  describe("past the caller's deadline ends the call at once, with the server's error", function()
    it("in wait #found #m-retry-after-deadline #m-wait-retry-after-too-long", function()
      local ok, err, took = wait_busy(503, "20", 2)
      assert.is_nil(ok)
      assert.is_true(took < 2.5)
      assert.equals(503, err.status)
      assert.equals(20, err.retry_after)
      assert.equals(1, #gw:requests())
    end)

    it("in a submit with a timeout #found #m-retry-after-deadline", function()
      gw:script{ cases = { busy(503, "20", { method = "POST" }) } }
      local t0 = core.now()
      local task, err = util.client_for(gw, OPTS):generate(REQ, { timeout = 2 })
      assert.is_nil(task)
      assert.is_true(core.now() - t0 < 2.5)
      assert.equals(20, err.retry_after)
      assert.equals(1, #gw:requests())
    end)

    it("in a download #found", function()
      gw:script{ cases = {
        { listener = "api", pattern = "^/v1/tasks/", json = { code = 200, data = { id = "task_A",
          status = "completed", result = { videos = { { url = "{{base:media}}/v.mp4" } } } } } },
        busy(503, "30", { listener = "media" }) } }
      local t = util.client_for(gw.urls.api, OPTS):task("task_A")
      assert(t:wait())
      local t0 = core.now()
      local path, err = t:download(util.tmpfile("busy.mp4"), { timeout = 2 })
      assert.is_nil(path)
      assert.is_true(core.now() - t0 < 2.5)
      assert.equals(30, err.retry_after)
    end)

    it("and a backoff that would pass the deadline ends it too, never sleeping past it #found", function()
      gw:script{ cases = { { method = "GET", pattern = "^/v1/tasks/", status = 500,
        json = { error = { type = "server_error", message = "oops" } } } } }
      local t0 = core.now()
      local _, err = util.client_for(gw, OPTS, { backoff = 5, max_backoff = 5 }):task("task_A"):wait{ timeout = 1 }
      assert.truthy(err)
      assert.is_true(core.now() - t0 < 1.5)
    end)
  end)

  describe("never sooner than the server asked", function()
    it("ends wait at once when every poll asks for more than max_retry_after #found #m-wait-retry-after-too-long", function()
      local ok, err, took = wait_busy(429, "600", 1800)
      assert.is_nil(ok)
      assert.equals("rate_limit_error", err.type)
      assert.equals(600, err.retry_after)
      assert.equals(1, #gw:requests())
      assert.is_true(took < 5)
    end)

    it("waits the asked seconds between polls when it fits the deadline #found #m-wait-honours-retry-after", function()
      gw:script{ cases = {
        busy(503, "1", { method = "GET", pattern = "^/v1/tasks/", times = 2 }),
        gateway.poll_case("failed", { error = { code = 1, type = "x", message = "done" } }) } }
      local _, err = util.client_for(gw, OPTS, { max_retries = 0, poll_min = 0.01 }):task("task_A"):wait{ timeout = 30 }
      assert.equals("task_failed", err.type)
      local r = gw:requests()
      assert.equals(3, #r)
      assert.is_true(r[2].time - r[1].time >= 0.95, r[2].time - r[1].time)
      assert.is_true(r[3].time - r[2].time >= 0.95, r[3].time - r[2].time)
    end)

    -- found: `Retry-After: 1000000000` was read as no Retry-After at all, and the call retried after
    -- its own 10 ms backoff
    it("never retries sooner than a huge delta-seconds Retry-After asks #found #m-retry-after-fraction-huge", function()
      local r, err = balance_busy{ "1000000000" }
      assert.equals(1, #r, "retried " .. (#r - 1) .. " time(s) although the server asked for 10^9 s")
      assert.equals("rate_limit_error", err.type)
    end)

    -- found: of two Retry-After headers the last won: "30" then "0" retried at once
    it("never retries sooner than the longest of several Retry-After headers #found #m-retry-after-longest", function()
      local r = balance_busy({ "30", "0" }, { max_retry_after = 10 })
      assert.is_true(#r == 1 or r[2].time - r[1].time >= 29, "retried after " .. (r[2] and r[2].time - r[1].time or 0))
    end)

    -- found: a fractional Retry-After ("2.5") was ignored and the call retried after 10 ms
    it("never retries sooner than a fractional Retry-After asks #found #m-retry-after-fraction-huge", function()
      local r = balance_busy({ "2.5" }, { max_retry_after = 1 })
      assert.is_true(#r == 1 or r[2].time - r[1].time >= 2.4, "retried after " .. (r[2] and r[2].time - r[1].time or 0))
    end)
  end)

  it("a 429 pauses every sender of the client together, not only the one that met it #found #m-shared-429-backoff", function()
    gw:script{ cases = {
      busy(429, "1", { path = "/v1/balance", times = 1 }),
      { path = "/v1/balance", json = { success = true, remain_balance = 1 } } } }
    local c = util.client_for(gw, OPTS)
    seedance.run(function()
      local a = seedance.spawn(function() return c:balance() end)
      seedance.spawn(function()
        seedance.sleep(0.3)      -- the 429 has come back by now; another sender starts
        assert(c:balance())
      end)
      assert(a:wait())
    end)
    local r = gw:requests()
    assert.equals(3, #r)
    for i = 2, 3 do assert.is_true(r[i].time - r[1].time >= 0.9, i .. ": " .. (r[i].time - r[1].time)) end
  end)

  describe("as an HTTP date, in each of its three forms", function()
    for _, form in ipairs{ { "RFC 1123", "!%a, %d %b %Y %H:%M:%S GMT" }, { "RFC 850", "!%A, %d-%b-%y %H:%M:%S GMT" },
                           { "asctime", "!%a %b %e %H:%M:%S %Y" } } do
      it("honours " .. form[1] .. " #found #m-retry-after-http-date", function()
        local at = os.date(form[2], os.time() + 2)
        gw:script{ cases = {
          busy(503, at, { path = "/v1/balance", times = 1 }),
          { path = "/v1/balance", json = { success = true, remain_balance = 3 } } } }
        assert(util.client_for(gw, OPTS):balance())
        local r = gw:requests()
        assert.equals(2, #r)
        assert.is_true(r[2].time - r[1].time >= 0.9, at .. ": " .. (r[2].time - r[1].time))
      end)
    end
  end)
end)
