-- The API key never leaves the client but in the Authorization header of the
-- API's own requests: masked wherever a server echoes it (errors, their
-- tostring, the log, a failed task's error), never sent in clear text to a
-- proxy, never mixed between clients. Against the scriptable gateway.
local seedance = require("seedance")
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local util = require("helpers.util")

local KEY = "sk-adversary-0123456789abcdefXYZ"
local OPTS = { api_key = KEY, time_scale = 1, max_backoff = 0.02, max_retries = 2 }

-- Whether s holds any piece of the key n (8) characters long or longer.
local function leaks_key(s, n)
  n = n or 8
  for i = 1, #KEY - n + 1 do
    if s:find(KEY:sub(i, i + n - 1), 1, true) then return true end
  end
  return false
end

describe("the API key #c", function()
  local gw = gateway.fixture({}, { each = true })

  it("is masked in errors, their tostring and the log #found #m-key-masked", function()
    gw:script{ cases = { { status = 401, json = { error = { code = 401, type = "authentication_error",
      message = "Incorrect API key provided: Bearer " .. KEY .. " (key " .. KEY .. ")" } } } } }
    local lines = {}
    local c = util.client_for(gw, OPTS, { logger = function(_, line) lines[#lines + 1] = line end,
                                         log_level = "debug" })
    local _, err = c:balance()
    assert.equals("authentication_error", err.type)
    assert.is_nil(tostring(err):find(KEY, 1, true))
    assert.is_nil(err.message:find(KEY, 1, true))
    assert.matches("masked", err.message)
    assert.is_true(#lines > 0)
    for _, l in ipairs(lines) do assert.is_nil(l:find(KEY, 1, true)) end
    assert.is_nil(tostring(c):find(KEY, 1, true))
  end)

  it("is masked in a failed task's error #found #m-key-masked", function()
    gw:script{ cases = { gateway.poll_case("failed", { error = { code = 1, type = "x",
      message = "your key " .. KEY .. " is odd" } }) } }
    local task = util.client_for(gw, OPTS):task("task_A")
    local _, err = task:wait()
    assert.equals("task_failed", err.type)
    assert.is_nil(tostring(err):find(KEY, 1, true))
    assert.is_nil(task.error.message:find(KEY, 1, true))
  end)

  -- found: an echoed key cut by the 120-byte body excerpt was not masked: 20 of its characters leaked
  it("is masked in an error message even when the body excerpt cuts it in half #found #m-key-prefix-masked", function()
    local body = "Unauthorized: " .. string.rep("x", 84) .. " key=" .. KEY .. " was rejected"
    gw:script{ cases = { { path = "/v1/balance", status = 401, headers = { { "Content-Type", "text/plain" } },
      body = body } } }
    local lines = {}
    local _, err = util.client_for(gw, OPTS, { logger = function(_, l) lines[#lines + 1] = l end }):balance()
    assert.equals("authentication_error", err.type)
    assert.is_false(leaks_key(tostring(err)), tostring(err))
    for _, l in ipairs(lines) do assert.is_false(leaks_key(l), l) end
  end)

  -- found: the key in a nested field of a failed task's error (error.details.hint) was kept as sent
  it("is masked in every string of a failed task's error, nested ones too #found #m-key-nested-masked", function()
    gw:script{ cases = { gateway.poll_case("failed", { error = { code = 1, type = "x", message = "no",
      details = { hint = "key " .. KEY } } }) } }
    local task = util.client_for(gw, OPTS):task("task_A")
    local _, err = task:wait()
    assert.equals("task_failed", err.type)
    local seen = {}
    local function walk(v)
      if type(v) == "string" then assert.is_false(leaks_key(v), v)
      elseif type(v) == "table" and not seen[v] then
        seen[v] = true
        for _, x in pairs(v) do walk(x) end
      end
    end
    walk(err)
    walk(task.error)
  end)

  -- found: with http_proxy in the environment, a plain-http loopback base_url sent the key to the
  -- proxy in clear text
  it("never goes to a proxy in clear text: a plain-http loopback base_url is not proxied #found #child #m-http-no-env-proxy", function()
    gw:script{ cases = { { pattern = "balance", json = { success = true, remain_balance = 1 } } } }
    child.lua(([[
      local c = require("seedance").new{ api_key = %q, base_url = "http://127.0.0.1:9", max_retries = 0 }
      c:balance()]]):format(KEY), { limit = 10, env = { http_proxy = gw.url, HTTP_PROXY = gw.url } })
    for _, r in ipairs(gw:requests()) do
      assert.is_nil(r:header("authorization"), "the proxy got " .. r.method .. " " .. r.target .. " with the key")
    end
  end)

  it("two clients with different keys in one run each send only their own key", function()
    gw:script{ cases = { { path = "/v1/balance", stall = 0.1, json = { success = true, remain_balance = 1 } } } }
    local a = util.client_for(gw, OPTS, { api_key = "sk-client-a-000000000000" })
    local b = util.client_for(gw, OPTS, { api_key = "sk-client-b-111111111111" })
    seedance.run(function()
      local hs = {}
      for i = 1, 6 do hs[i] = seedance.spawn(function() return (i % 2 == 0 and a or b):balance() end) end
      for i = 1, 6 do assert(hs[i]:wait()) end
    end)
    local r = gw:requests()
    assert.equals(6, #r)
    local count = {}
    for _, x in ipairs(r) do count[x:header("authorization")] = (count[x:header("authorization")] or 0) + 1 end
    assert.equals(3, count["Bearer sk-client-a-000000000000"])
    assert.equals(3, count["Bearer sk-client-b-111111111111"])
  end)
end)
