-- Where the API requests go: the base URL read as libcurl reads it (no user
-- info, plain http only to this machine), and task ids that stay inside
-- /v1/tasks/, whether a server or the caller gives them.
local seedance = require("seedance")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local KEY = "sk-trust-secret-0123456789abcdef"
local OPTS = { api_key = KEY, time_scale = 1, max_backoff = 0.02, max_retries = 2 }

local cleanup = util.cleanup()

describe("the base URL #c", function()
  it("refuses user info, which would send the key to the host after '@' #found #m-base-url-userinfo", function()
    for _, url in ipairs{ "http://localhost:80@evil.example", "http://127.0.0.1@evil.example:8080",
                          "https://user:pass@xcompute.us", "http://evil.example\\@127.0.0.1/" } do
      local ok, err = pcall(seedance.new, { api_key = KEY, base_url = url })
      assert.is_false(ok, url)
      assert.matches("user info", err, 1, true)
      assert.is_nil(err:find(KEY, 1, true))
    end
  end)

  it("refuses plain http to names that merely look local, and to other hosts #found #m-base-url-http-loopback-only", function()
    for _, url in ipairs{ "http://127.0.0.1.nip.io", "http://10.1.2.3", "http://[fd00::1]:8080",
                          "http://169.254.169.254", "127.0.0.1:8080", "ftp://127.0.0.1/" } do
      local ok, err = pcall(seedance.new, { api_key = KEY, base_url = url })
      assert.is_false(ok, url)
      assert.is_string(err)
    end
  end)

  describe("against a gateway", function()
    local gw = gateway.fixture({}, { each = true })

    it("takes the loopback forms libcurl normalizes, and talks to the address libcurl reads #found", function()
      gw:script{ cases = { { path = "/v1/balance", json = { success = true, remain_balance = 7 } } } }
      for _, host in ipairs{ "127.1", "0x7f.0.0.1", "2130706433", "LOCALHOST" } do
        local bal = assert(util.client_for("http://" .. host .. ":" .. gw.port, OPTS):balance())
        assert.equals(7, bal.remain_balance)
      end
      assert.equals(4, #gw:requests())
    end)

    it("reads base URLs as libcurl does: a percent-encoded loopback name is loopback, a mapped one is refused", function()
      gw:script{ cases = { { path = "/v1/balance", json = { success = true, remain_balance = 2 } } } }
      assert.equals(2, util.client_for("http://%6c%6f%63%61%6c%68%6f%73%74:" .. gw.port, OPTS):balance().remain_balance)
      for _, url in ipairs{ "http://[::ffff:127.0.0.1]:" .. gw.port, "http://127.0.0.1.:" .. gw.port,
                            "http://localhost.:" .. gw.port, "http://0.0.0.0:" .. gw.port } do
        assert.is_false(pcall(util.client_for, url, OPTS), url)
      end
      assert.equals(1, #gw:requests())
    end)
  end)
end)

describe("task ids in request paths #c", function()
  it("refuses a submit answer whose task id would climb out of /v1/tasks/ #found #m-task-id-safe", function()
    local gw = cleanup(gateway.start{ cases = {
      { method = "POST", path = "/v1/videos/generations",
        json = { code = 200, data = { { status = "submitted", task_id = "../../v1/balance" } } } },
      { path = "/v1/balance", json = { success = true } },
    } })
    local task, err = util.client_for(gw, OPTS):generate(util.request("a paper boat", 5))
    assert.is_nil(task)
    assert.equals("server_error", err.type)
    assert.matches("unusable task id", err.message)
    assert.equals(0, #gw:requests{ path = "/v1/balance" })
  end)

  it("refuses such ids from the caller, naming the rule #found", function()
    local c = util.client_for("http://127.0.0.1:9", OPTS)
    for _, id in ipairs{ "../../v1/balance", "a/b", "task 1", "", "x?y", string.rep("a", 129) } do
      assert.has_error(function() c:task(id) end)
    end
    assert.equals("task_01ABC-x", c:task("task_01ABC-x").id)
  end)
end)
