-- The key and where requests go, against a hostile gateway (issue "Never lose
-- money, a video or the key", cases 1 to 5). Each case failed on the old main.
local seedance = require("seedance")
local core = require("seedance.core")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local KEY = "sk-trust-secret-0123456789abcdef"
local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat", duration = 5 }

local function client(url, over)
  local o = { api_key = KEY, base_url = url, backoff = 0.01, max_backoff = 0.02, time_scale = 0.01,
              max_retries = 2 }
  for k, v in pairs(over or {}) do o[k] = v end
  return seedance.new(o)
end

-- A task answer, completed, whose video is at `url`.
local function completed(url)
  return { code = 200, data = { id = "task_A", status = "completed", progress = 100,
    result = { videos = { { url = { url }, expires_at = os.time() + 3600 } } } } }
end

describe("secrets and where requests go", function()
  describe("1. base_url is read as libcurl reads it", function()
    it("refuses user info, which would send the key to the host after '@' #m-base-url-userinfo", function()
      for _, url in ipairs{ "http://localhost:80@evil.example", "http://127.0.0.1@evil.example:8080",
                            "https://user:pass@xcompute.us", "http://evil.example\\@127.0.0.1/" } do
        local ok, err = pcall(seedance.new, { api_key = KEY, base_url = url })
        assert.is_false(ok, url)
        assert.matches("user info", err, 1, true)
        assert.is_nil(err:find(KEY, 1, true))
      end
    end)

    it("takes the loopback forms libcurl normalizes, and talks to the address libcurl reads", function()
      local gw = gateway.start{ cases = { { path = "/v1/balance", json = { success = true, remain_balance = 7 } } } }
      finally(function() gw:stop() end)
      for _, host in ipairs{ "127.1", "0x7f.0.0.1", "2130706433", "LOCALHOST" } do
        local c = client("http://" .. host .. ":" .. gw.port)
        local bal = assert(c:balance())
        assert.equals(7, bal.remain_balance)
      end
      assert.equals(4, #gw:requests())
    end)

    it("refuses plain http to names that merely look local, and to other hosts #m-base-url-http-loopback-only", function()
      for _, url in ipairs{ "http://127.0.0.1.nip.io", "http://10.1.2.3", "http://[fd00::1]:8080",
                            "http://169.254.169.254", "127.0.0.1:8080", "ftp://127.0.0.1/" } do
        local ok, err = pcall(seedance.new, { api_key = KEY, base_url = url })
        assert.is_false(ok, url)
        assert.is_string(err)
      end
    end)
  end)

  describe("2. result URLs", function()
    local gw
    before_each(function()
      gw = gateway.start{ listeners = { "api", "media" }, cases = {} }
    end)
    after_each(function() gw:stop() end)

    local function download_from(url, over)
      gw:script{ cases = { { method = "GET", pattern = "^/v1/tasks/", json = completed(url) } } }
      local c = client(gw.urls.api, over)
      local task = c:task("task_A")
      assert(task:wait())
      local target = util.tmpfile("media.mp4")
      local path, err = task:download(target)
      assert.is_nil(util.size_of(target))
      return path, err
    end

    it("never fetches plain http from another host, nor anything link-local #m-media-http-loopback-only", function()
      for _, url in ipairs{ "http://169.254.169.254/latest/meta-data/iam", "http://10.0.0.1/v.mp4",
                            "http://[fd00::1]/v.mp4", "http://[fe80::1%25eth0]/v.mp4", "ftp://127.0.0.1/v.mp4",
                            "https://169.254.169.254/v.mp4" } do
        local path, err = download_from(url)
        assert.is_nil(path, url)
        assert.equals("unsafe_url", err.type, url)
        assert.is_false(err.retryable)
      end
    end)

    it("keeps link-local refused with allow_insecure_media", function()
      local path, err = download_from("http://169.254.169.254/latest/", { allow_insecure_media = true })
      assert.is_nil(path)
      assert.equals("unsafe_url", err.type)
    end)

    it("refuses a redirect to a link-local address at connect time, and sends no key to the media host #m-authorization-api-only", function()
      gw:script{ cases = {
        { method = "GET", pattern = "^/v1/tasks/", json = completed("{{base:media}}/v.mp4") },
        { listener = "media", path = "/v.mp4", status = 302, headers = { { "Location", "http://169.254.169.254/x" } } },
      } }
      local task = client(gw.urls.api):task("task_A")
      assert(task:wait())
      local path, err = task:download(util.tmpfile("redir.mp4"))
      assert.is_nil(path)
      assert.equals("unsafe_url", err.type)
      assert.matches("169.254.169.254", err.message, 1, true)
      for _, r in ipairs(gw:requests{ listener = "media" }) do assert.is_nil(r:header("authorization")) end
    end)

    it("guards the engine on the address it connects to, before any packet #m-guard-link-local-connect", function()
      local eng = core.engine()
      eng:add{ url = "http://169.254.169.254/latest/meta-data/", guard_link_local = true, connect_timeout = 5 }
      local r
      for _ = 1, 200 do
        eng:step(10)
        r = eng:next()
        if r then break end
      end
      eng:close()
      assert.is_false(r.ok)
      assert.equals("denied", r.kind)
    end)
  end)

  describe("3. task ids go into paths safely", function()
    it("refuses a submit answer whose task id would climb out of /v1/tasks/ #m-task-id-safe", function()
      local gw = gateway.start{ cases = {
        { method = "POST", path = "/v1/videos/generations",
          json = { code = 200, data = { { status = "submitted", task_id = "../../v1/balance" } } } },
        { path = "/v1/balance", json = { success = true } },
      } }
      finally(function() gw:stop() end)
      local task, err = client(gw.url):generate(REQ)
      assert.is_nil(task)
      assert.equals("server_error", err.type)
      assert.matches("unusable task id", err.message)
      assert.equals(0, #gw:requests{ path = "/v1/balance" })
    end)

    it("refuses such ids from the caller, naming the rule", function()
      local c = client("http://127.0.0.1:9")
      for _, id in ipairs{ "../../v1/balance", "a/b", "task 1", "", "x?y", string.rep("a", 129) } do
        assert.has_error(function() c:task(id) end)
      end
      assert.equals("task_01ABC-x", c:task("task_01ABC-x").id)
    end)
  end)

  describe("4. the key is masked wherever a server echoes it", function()
    it("in errors, their tostring and the log #m-key-masked", function()
      local gw = gateway.start{ cases = {
        { status = 401, json = { error = { code = 401, type = "authentication_error",
          message = "Incorrect API key provided: Bearer " .. KEY .. " (key " .. KEY .. ")" } } },
      } }
      finally(function() gw:stop() end)
      local lines = {}
      local c = client(gw.url, { logger = function(_, line) lines[#lines + 1] = line end, log_level = "debug" })
      local _, err = c:balance()
      assert.equals("authentication_error", err.type)
      assert.is_nil(tostring(err):find(KEY, 1, true))
      assert.is_nil(err.message:find(KEY, 1, true))
      assert.matches("masked", err.message)
      assert.is_true(#lines > 0)
      for _, l in ipairs(lines) do assert.is_nil(l:find(KEY, 1, true)) end
      assert.is_nil(tostring(c):find(KEY, 1, true))
    end)

    it("in a failed task's error #m-key-masked", function()
      local gw = gateway.start{ cases = {
        { pattern = "^/v1/tasks/", json = { code = 200, data = { id = "task_A", status = "failed",
          error = { code = 1, type = "x", message = "your key " .. KEY .. " is odd" } } } },
      } }
      finally(function() gw:stop() end)
      local task = client(gw.url):task("task_A")
      local _, err = task:wait()
      assert.equals("task_failed", err.type)
      assert.is_nil(tostring(err):find(KEY, 1, true))
      assert.is_nil(task.error.message:find(KEY, 1, true))
    end)
  end)

  describe("5. TLS failures", function()
    local tls = require("helpers.tls")
    local certs
    setup(function() certs = tls.make() end)
    teardown(function() certs:remove() end)

    local function try(listener_tls, over)
      local gw = gateway.start{ tls = listener_tls,
        cases = { { path = "/v1/balance", json = { success = true, remain_balance = 1 } } } }
      local c = client(gw.url:gsub("^http:", "https:"), over)
      local bal, err = c:balance()
      local conns = #gw:connections()
      gw:stop()
      return bal, err, conns
    end

    it("verifies with ca_file", function()
      local bal = try(certs.server, { ca_file = certs.ca })
      assert.equals(1, bal.remain_balance)
    end)

    it("gives tls_error at once, never retried, for an untrusted certificate #m-tls-not-retried #m-tls-verify-on", function()
      local bal, err, conns = try(certs.self_signed, { ca_file = certs.ca, max_retries = 4 })
      assert.is_nil(bal)
      assert.equals("tls_error", err.type)
      assert.is_false(err.retryable)
      assert.matches("TLS", err.message)
      assert.equals(1, conns)
    end)

    it("gives tls_error at once for a certificate of another host name #m-tls-not-retried #m-tls-verify-on", function()
      local bal, err, conns = try(certs.wrong_host, { ca_file = certs.ca, max_retries = 4 })
      assert.is_nil(bal)
      assert.equals("tls_error", err.type)
      assert.matches("host name", err.message)
      assert.equals(1, conns)
    end)
  end)
end)
