-- Deadlines: a call ends by its deadline (given, or the client's
-- wait_timeout), at once when it has passed, and a deadline that is no
-- number of seconds (NaN, an infinite time scale) never hangs a wait. Against
-- the scriptable gateway; what could hang this process runs in a child.
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local util = require("helpers.util")

local OPTS = { time_scale = 1, max_backoff = 0.02, max_retries = 2 }

describe("deadlines #c", function()
  local gw = gateway.fixture({}, { each = true })
  before_each(function() gw:script{ cases = { gateway.poll_case("processing") } } end)

  it("ends at once, with no request, for deadlines of 0 and below", function()
    gw:script{ cases = {} }
    local c = util.client_for(gw, OPTS)
    for _, t in ipairs{ 0, -1, -1e308 } do
      local ok, err = c:task("task_A"):wait{ timeout = t }
      assert.is_nil(ok)
      assert.equals("timeout_error", err.type)
      local task, gerr = c:generate(util.request("a paper boat", 5), { timeout = t })
      assert.is_nil(task)
      assert.equals("timeout_error", gerr.type)
    end
    assert.equals(0, #gw:requests())
  end)

  it("takes its deadline from the client's wait_timeout when given none #m-wait-timeout-option", function()
    gw:script{ cases = { gateway.poll_case("completed") } }
    local task, err = util.client_for(gw, { wait_timeout = 0 }):task("task_A"):wait()
    assert.is_nil(task)
    assert.equals("timeout_error", err.type)
  end)

  -- found: wait{ timeout = 0/0 } never ended; worse, the NaN deadline went into the scheduler's
  -- timer heap, where it sat on top and no timer of any coroutine fired again
  it("ends a wait whose timeout is NaN (raises as a caller mistake, or returns an error) #found #child #m-timeout-nan-refused", function()
    -- in a child: the hang it meets poisons this process's scheduler
    local ok, out = child.lua(([[
      local c = require("seedance").new{ api_key = "sk-x", base_url = %q, poll_min = 0.01, backoff = 0.01,
                                         max_backoff = 0.02, max_retries = 2 }
      local ok, a, b = pcall(function() return c:task("task_A"):wait{ timeout = 0 / 0 } end)
      io.write(ok and ("returned " .. tostring(b)) or ("raised " .. tostring(a)))]]):format(gw.url), { limit = 5 })
    assert.is_true(ok, "wait{timeout = NaN} still running after 5 s " .. out)
    -- a caller mistake, raised (an engine that ends such a wait by itself is no reason to take NaN)
    assert.matches("^raised .*field 'timeout' must be a number of seconds, got NaN", out)
  end)

  -- found: an API call whose deadline had passed when its attempt started took a slot of the
  -- request window and never gave it back (http.call returned before governor:after_request); with
  -- max_requests = 1 (or a window halved by 429s) one such call blocked every later call of the client
  it("gives the request window's slot back when a call's deadline has already passed #found #m-window-slot-on-deadline", function()
    local task = util.client_for(gw, OPTS, { max_requests = 1 }):task("task_A")
    local ok, err = task:refresh{ timeout = 0 }
    assert.is_nil(ok)
    assert.equals("timeout_error", err.type)
    ok, err = task:refresh{ timeout = 2 }
    assert.truthy(ok, "a healthy poll after it failed: " .. tostring(err))
    assert.equals(1, #gw:requests())
  end)

  -- found: SEEDANCE_TIME_SCALE=1e999 (infinity) was taken unchecked: wait{ timeout = 1 } never returned
  it("checks options read from the environment as it checks options passed in #found #child #m-env-options-checked", function()
    local ok, out = child.lua(([[
      local ok, c = pcall(require("seedance").new, { api_key = "sk-x", base_url = %q })
      if not ok then io.write("refused: ", tostring(c)) return end
      local t, err = c:task("task_A"):wait{ timeout = 1 }
      io.write("returned: ", tostring(err))]]):format(gw.url), { limit = 6, env = { SEEDANCE_TIME_SCALE = "1e999" } })
    assert.is_true(ok, "the child did not finish in 6 s: " .. out)
    -- refused when the client is made, naming the variable (not only a wait that happens to end)
    assert.matches("^refused: .*SEEDANCE_TIME_SCALE", out)
  end)
end)
