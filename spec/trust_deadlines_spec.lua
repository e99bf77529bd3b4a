-- Deadlines and Retry-After (issue "Never lose money, a video or the key",
-- cases 15 to 17): every sleep is bounded by the caller's deadline, and no
-- request comes sooner than the server asked.
local seedance = require("seedance")
local core = require("seedance.core")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat", duration = 5 }

local function client(gw, over)
  local o = { api_key = "sk-spec", base_url = gw.url, backoff = 0.01, max_backoff = 0.02, time_scale = 1 }
  for k, v in pairs(over or {}) do o[k] = v end
  return seedance.new(o)
end

local function busy(status, retry_after, extra)
  local c = { status = status, headers = { { "Retry-After", retry_after } },
    json = { error = { code = status, type = status == 429 and "rate_limit_error" or "bad_gateway", message = "busy" } } }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

describe("deadlines and Retry-After", function()
  describe("15. a Retry-After past the caller's deadline ends the call at once, with the server's error", function()
    it("in wait #m-retry-after-deadline #m-wait-retry-after-too-long", function()
      local gw = gateway.start{ cases = { busy(503, "20", { method = "GET", pattern = "^/v1/tasks/" }) } }
      finally(function() gw:stop() end)
      local t0 = core.now()
      local ok, err = client(gw):task("task_A"):wait{ timeout = 2 }
      assert.is_nil(ok)
      assert.is_true(core.now() - t0 < 2.5)
      assert.equals(503, err.status)
      assert.equals(20, err.retry_after)
      assert.equals(1, #gw:requests())
    end)

    it("in a submit with a timeout #m-retry-after-deadline", function()
      local gw = gateway.start{ cases = { busy(503, "20", { method = "POST" }) } }
      finally(function() gw:stop() end)
      local t0 = core.now()
      local task, err = client(gw):generate(REQ, { timeout = 2 })
      assert.is_nil(task)
      assert.is_true(core.now() - t0 < 2.5)
      assert.equals(20, err.retry_after)
      assert.equals(1, #gw:requests())
    end)

    it("in a download", function()
      local gw = gateway.start{ listeners = { "api", "media" }, cases = {
        { listener = "api", pattern = "^/v1/tasks/", json = { code = 200, data = { id = "task_A",
          status = "completed", result = { videos = { { url = "{{base:media}}/v.mp4" } } } } } },
        busy(503, "30", { listener = "media" }) } }
      finally(function() gw:stop() end)
      local c = seedance.new{ api_key = "sk-spec", base_url = gw.urls.api }
      local t = c:task("task_A")
      assert(t:wait())
      local t0 = core.now()
      local path, err = t:download(util.tmpfile("busy.mp4"), { timeout = 2 })
      assert.is_nil(path)
      assert.is_true(core.now() - t0 < 2.5)
      assert.equals(30, err.retry_after)
    end)

    it("and a backoff that would pass the deadline ends it too, never sleeping past it", function()
      local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/", status = 500,
        json = { error = { type = "server_error", message = "oops" } } } } }
      finally(function() gw:stop() end)
      local t0 = core.now()
      local _, err = client(gw, { backoff = 5, max_backoff = 5 }):task("task_A"):wait{ timeout = 1 }
      assert.truthy(err)
      assert.is_true(core.now() - t0 < 1.5)
    end)
  end)

  describe("16. never sooner than the server asked", function()
    it("ends wait at once when every poll asks for more than max_retry_after #m-wait-retry-after-too-long", function()
      local gw = gateway.start{ cases = { busy(429, "600", { method = "GET", pattern = "^/v1/tasks/" }) } }
      finally(function() gw:stop() end)
      local t0 = core.now()
      local ok, err = client(gw):task("task_A"):wait{ timeout = 1800 }
      assert.is_nil(ok)
      assert.equals("rate_limit_error", err.type)
      assert.equals(600, err.retry_after)
      assert.equals(1, #gw:requests())
      assert.is_true(core.now() - t0 < 5)
    end)

    it("waits the asked seconds between polls when it fits the deadline #m-wait-honours-retry-after", function()
      local gw = gateway.start{ cases = {
        busy(503, "1", { method = "GET", pattern = "^/v1/tasks/", times = 2 }),
        { method = "GET", pattern = "^/v1/tasks/", json = { code = 200, data = { id = "task_A", status = "failed",
          error = { code = 1, type = "x", message = "done" } } } } } }
      finally(function() gw:stop() end)
      local _, err = client(gw, { max_retries = 0, poll_min = 0.01 }):task("task_A"):wait{ timeout = 30 }
      assert.equals("task_failed", err.type)
      local r = gw:requests()
      assert.equals(3, #r)
      assert.is_true(r[2].time - r[1].time >= 0.95, r[2].time - r[1].time)
      assert.is_true(r[3].time - r[2].time >= 0.95, r[3].time - r[2].time)
    end)
  end)

  it("a 429 pauses every sender of the client together, not only the one that met it #m-shared-429-backoff", function()
    local gw = gateway.start{ cases = {
      busy(429, "1", { path = "/v1/balance", times = 1 }),
      { path = "/v1/balance", json = { success = true, remain_balance = 1 } } } }
    finally(function() gw:stop() end)
    local c = client(gw)
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

  describe("17. Retry-After as an HTTP date, in each of its three forms", function()
    for _, form in ipairs{ { "RFC 1123", "!%a, %d %b %Y %H:%M:%S GMT" }, { "RFC 850", "!%A, %d-%b-%y %H:%M:%S GMT" },
                           { "asctime", "!%a %b %e %H:%M:%S %Y" } } do
      it("honours " .. form[1] .. " #m-retry-after-http-date", function()
        local at = os.date(form[2], os.time() + 2)
        local gw = gateway.start{ cases = {
          busy(503, at, { path = "/v1/balance", times = 1 }),
          { path = "/v1/balance", json = { success = true, remain_balance = 3 } } } }
        finally(function() gw:stop() end)
        assert(client(gw):balance())
        local r = gw:requests()
        assert.equals(2, #r)
        assert.is_true(r[2].time - r[1].time >= 0.9, at .. ": " .. (r[2].time - r[1].time))
      end)
    end
  end)
end)
