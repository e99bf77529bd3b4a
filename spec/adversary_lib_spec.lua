-- An adversary against the library's promises (issue "Never lose money, a
-- video or the key", README "Use it"): fresh instances of each kind, beside
-- the cases of spec/trust_*_spec.lua. A spec marked `-- FOUND:` failed on the
-- code it was written against (a real problem, left for the lead to fix);
-- the others document attacks the library survived.
--
-- This file: the key, where requests go, deadlines and Retry-After, callbacks.
-- spec/adversary_lib_files_spec.lua: money, the journal, paid videos.
local seedance = require("seedance")
local core = require("seedance.core")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local KEY = "sk-adversary-0123456789abcdefXYZ"
local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat", duration = 5 }

local function client(url, over)
  local o = { api_key = KEY, base_url = url, backoff = 0.01, max_backoff = 0.02, max_retries = 2 }
  for k, v in pairs(over or {}) do o[k] = v end
  return seedance.new(o)
end

-- A poll answer: task_A completed, its video at `url`.
local function completed(url)
  return { code = 200, data = { id = "task_A", status = "completed", progress = 100,
    result = { videos = { { url = url, expires_at = os.time() + 3600 } } } } }
end

-- Run Lua code in a child (this run's paths, at most `limit` seconds); its output and whether it exited 0.
local function child(code, limit, env)
  return util.run(("%s timeout %d env LUA_PATH=%q LUA_CPATH=%q %s -e %q"):format(env or "", limit or 10,
    package.path, package.cpath, util.LUA, code))
end

-- Every substring of the key this long or longer counts as a leak.
local function leaks_key(s, n)
  n = n or 8
  for i = 1, #KEY - n + 1 do
    if s:find(KEY:sub(i, i + n - 1), 1, true) then return true end
  end
  return false
end

describe("adversary: the key", function()
  -- FOUND: an echoed key cut by the 120-byte body excerpt is not masked: 20 of its characters leak
  it("is masked in an error message even when the body excerpt cuts it in half #m-key-prefix-masked", function()
    local body = "Unauthorized: " .. string.rep("x", 84) .. " key=" .. KEY .. " was rejected"
    local gw = gateway.start{ cases = { { path = "/v1/balance", status = 401,
      headers = { { "Content-Type", "text/plain" } }, body = body } } }
    finally(function() gw:stop() end)
    local lines = {}
    local _, err = client(gw.url, { logger = function(_, l) lines[#lines + 1] = l end }):balance()
    assert.equals("authentication_error", err.type)
    assert.is_false(leaks_key(tostring(err)), tostring(err))
    for _, l in ipairs(lines) do assert.is_false(leaks_key(l), l) end
  end)

  -- FOUND: the key in a nested field of a failed task's error (error.details.hint) is kept as sent
  it("is masked in every string of a failed task's error, nested ones too #m-key-nested-masked", function()
    local gw = gateway.start{ cases = { { pattern = "^/v1/tasks/", json = { code = 200, data = { id = "task_A",
      status = "failed", error = { code = 1, type = "x", message = "no", details = { hint = "key " .. KEY } } } } } } }
    finally(function() gw:stop() end)
    local task = client(gw.url):task("task_A")
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

  -- FOUND: with http_proxy in the environment, a plain-http loopback base_url sends the key to the proxy in clear text
  it("never goes to a proxy in clear text: a plain-http loopback base_url is not proxied #m-http-no-env-proxy", function()
    local gw = gateway.start{ cases = { { pattern = "balance", json = { success = true, remain_balance = 1 } } } }
    finally(function() gw:stop() end)
    child(([[
      local c = require("seedance").new{ api_key = %q, base_url = "http://127.0.0.1:9", max_retries = 0 }
      c:balance()]]):format(KEY), 10, "http_proxy=" .. gw.url .. " HTTP_PROXY=" .. gw.url)
    for _, r in ipairs(gw:requests()) do
      assert.is_nil(r:header("authorization"), "the proxy got " .. r.method .. " " .. r.target .. " with the key")
    end
  end)

  it("two clients with different keys in one run each send only their own key", function()
    local gw = gateway.start{ cases = { { path = "/v1/balance", stall = 0.1,
      json = { success = true, remain_balance = 1 } } } }
    finally(function() gw:stop() end)
    local a = client(gw.url, { api_key = "sk-client-a-000000000000" })
    local b = client(gw.url, { api_key = "sk-client-b-111111111111" })
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

describe("adversary: where requests go", function()
  -- FOUND: behind a proxy the link-local guard sees only the proxy's address: a redirect to 169.254.169.254
  -- (or to plain http on another host) is followed and its body saved as the video
  it("does not follow a media redirect to cloud metadata through a proxy #m-media-redirect-checked", function()
    local gw = gateway.start{ cases = {
      { method = "GET", pattern = "/v1/tasks/", json = completed("http://127.0.0.1:9/v.mp4") },
      { pattern = "127\\.0\\.0\\.1:9/v\\.mp4", status = 302,
        headers = { { "Location", "http://169.254.169.254/latest/meta-data/iam" } } },
      { pattern = "169\\.254\\.169\\.254", body = "AKIA-METADATA-CREDENTIALS" },
    } }
    finally(function() gw:stop() end)
    local task = client("http://127.0.0.1:9", { proxy = gw.url }):task("task_A")
    assert(task:wait())
    local target = util.tmpfile("via-proxy.mp4")
    local path, err = task:download(target)
    os.remove(target)
    assert.is_nil(path, "the metadata answer was saved as the video")
    assert.equals("unsafe_url", err.type)
    assert.equals(0, #gw:requests{ case = 3 })
  end)

  -- FOUND: the same, a redirect from a loopback media URL to plain http on another host (TEST-NET) through a proxy
  it("does not follow a media redirect to plain http on another host (through a proxy) #m-media-redirect-checked", function()
    local gw = gateway.start{ cases = {
      { method = "GET", pattern = "/v1/tasks/", json = completed("http://127.0.0.1:9/v.mp4") },
      { pattern = "127\\.0\\.0\\.1:9/v\\.mp4", status = 302, headers = { { "Location", "http://203.0.113.7/v.mp4" } } },
      { pattern = "203\\.0\\.113\\.7", body = "a video anyone on the path could have swapped" },
    } }
    finally(function() gw:stop() end)
    local task = client("http://127.0.0.1:9", { proxy = gw.url }):task("task_A")
    assert(task:wait())
    local target = util.tmpfile("plain.mp4")
    local path = task:download(target)
    os.remove(target)
    assert.is_nil(path)
    assert.equals(0, #gw:requests{ case = 3 })
  end)

  it("refuses link-local media URLs in every numeric spelling, on the URL or at connect time", function()
    local gw = gateway.start{ listeners = { "api" }, cases = {} }
    finally(function() gw:stop() end)
    for _, url in ipairs{ "https://2852039166/x", "https://0251.0376.0251.0376/x", "https://0xa9.0xfe.0xa9.0xfe/x",
                          "https://169.254.43518/x", "https://[::ffff:a9fe:a9fe]/x", "https://[FE80::1%25lo]/x",
                          "https://[::ffff:169.254.169.254]/x" } do
      gw:script{ cases = { { method = "GET", pattern = "^/v1/tasks/", json = completed(url) } } }
      local task = client(gw.url, { allow_insecure_media = true }):task("task_A")
      assert(task:wait())
      local path, err = task:download(util.tmpfile("ll.mp4"))
      assert.is_nil(path, url)
      assert.equals("unsafe_url", err.type, url)
    end
  end)

  it("refuses a media redirect from https down to plain http", function()
    local tls = require("helpers.tls")
    local certs = tls.make()
    local gw
    finally(function() -- one finally per test: busted keeps only the last one given
      if gw then gw:stop() end
      certs:remove()
    end)
    gw = gateway.start{ listeners = { { name = "api" }, { name = "media", tls = certs.server } }, cases = {} }
    local media = gw.urls.media:gsub("^http:", "https:"):gsub("127%.0%.0%.1", "localhost")
    gw:script{ cases = {
      { listener = "api", method = "GET", pattern = "^/v1/tasks/", json = completed(media .. "/v.mp4") },
      { listener = "media", path = "/v.mp4", status = 302, headers = { { "Location", gw.urls.api .. "/plain.mp4" } } },
      { listener = "api", path = "/plain.mp4", body = "downgraded" },
    } }
    local task = client(gw.urls.api, { ca_file = certs.ca }):task("task_A")
    assert(task:wait())
    local path = task:download(util.tmpfile("down.mp4"))
    assert.is_nil(path)
    assert.equals(0, #gw:requests{ path = "/plain.mp4" })
  end)

  -- FOUND: a poll answer about another task (data.id "task_OTHER", as a cache keyed without the path would
  -- serve) is applied as it is: task_A ends completed with task_OTHER's video
  it("never takes a poll answer about another task as this task's state #m-poll-answer-other-task", function()
    local answer = completed("https://videos.example/other.mp4")
    answer.data.id = "task_OTHER"
    local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/", json = answer } } }
    finally(function() gw:stop() end)
    local task = client(gw.url, { poll_min = 0.05 }):task("task_A")
    local ok = task:wait{ timeout = 1 }
    assert.is_nil(ok, "task_A completed with " .. tostring(task.video_url))
    assert.is_nil(task.video_url)
  end)

  it("reads base URLs as libcurl does: a percent-encoded loopback name is loopback, a mapped one is refused", function()
    local gw = gateway.start{ cases = { { path = "/v1/balance", json = { success = true, remain_balance = 2 } } } }
    finally(function() gw:stop() end)
    assert.equals(2, client("http://%6c%6f%63%61%6c%68%6f%73%74:" .. gw.port):balance().remain_balance)
    for _, url in ipairs{ "http://[::ffff:127.0.0.1]:" .. gw.port, "http://127.0.0.1.:" .. gw.port,
                          "http://localhost.:" .. gw.port, "http://0.0.0.0:" .. gw.port } do
      assert.is_false(pcall(client, url), url)
    end
    assert.equals(1, #gw:requests())
  end)
end)

describe("adversary: deadlines and Retry-After", function()
  local function busy(values, over)
    local hs = {}
    for i, v in ipairs(values) do hs[i] = { "Retry-After", v } end
    local gw = gateway.start{ cases = { { path = "/v1/balance", status = 429, headers = hs,
      json = { error = { type = "rate_limit_error", message = "slow down" } } } } }
    local _, err = client(gw.url, over):balance()
    local r = gw:requests()
    gw:stop()
    return r, err
  end

  -- FOUND: `Retry-After: 1000000000` is read as no Retry-After at all, and the call retries after its own 10 ms backoff
  it("never retries sooner than a huge delta-seconds Retry-After asks #m-retry-after-fraction-huge", function()
    local r, err = busy{ "1000000000" }
    assert.equals(1, #r, "retried " .. (#r - 1) .. " time(s) although the server asked for 10^9 s")
    assert.equals("rate_limit_error", err.type)
  end)

  -- FOUND: of two Retry-After headers the last wins: "30" then "0" retries at once
  it("never retries sooner than the longest of several Retry-After headers #m-retry-after-longest", function()
    local r = busy({ "30", "0" }, { max_retry_after = 10 })
    assert.is_true(#r == 1 or r[2].time - r[1].time >= 29, "retried after " .. (r[2] and r[2].time - r[1].time or 0))
  end)

  -- FOUND: a fractional Retry-After ("2.5") is ignored and the call retries after 10 ms
  it("never retries sooner than a fractional Retry-After asks #m-retry-after-fraction-huge", function()
    local r = busy({ "2.5" }, { max_retry_after = 1 })
    assert.is_true(#r == 1 or r[2].time - r[1].time >= 2.4, "retried after " .. (r[2] and r[2].time - r[1].time or 0))
  end)

  -- FOUND: wait{ timeout = 0/0 } never ends; worse, the NaN deadline goes into the scheduler's timer heap,
  -- where it sits on top and no timer of any coroutine fires again (every sleep of the process hangs)
  it("ends a wait whose timeout is NaN (raises as a caller mistake, or returns an error) #m-timeout-nan-refused", function()
    local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/",
      json = { code = 200, data = { id = "task_A", status = "processing", progress = 10 } } } } }
    finally(function() gw:stop() end)
    -- in a child: the hang it meets poisons this process's scheduler
    local ok, out = child(([[
      local c = require("seedance").new{ api_key = "sk-x", base_url = %q, poll_min = 0.01, backoff = 0.01,
                                         max_backoff = 0.02, max_retries = 2 }
      local ok, a, b = pcall(function() return c:task("task_A"):wait{ timeout = 0 / 0 } end)
      io.write(ok and ("returned " .. tostring(b)) or ("raised " .. tostring(a)))]]):format(gw.url), 5)
    assert.is_true(ok, "wait{timeout = NaN} still running after 5 s " .. out)
  end)

  -- FOUND: an API call whose deadline has passed when its attempt starts takes a slot of the request window
  -- and never gives it back (http.call returns before governor:after_request); with max_requests = 1 (or a
  -- window halved by 429s) one such call blocks every later call of the client
  it("gives the request window's slot back when a call's deadline has already passed #m-window-slot-on-deadline", function()
    local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/",
      json = { code = 200, data = { id = "task_A", status = "processing", progress = 10 } } } } }
    finally(function() gw:stop() end)
    local task = client(gw.url, { max_requests = 1 }):task("task_A")
    local ok, err = task:refresh{ timeout = 0 }
    assert.is_nil(ok)
    assert.equals("timeout_error", err.type)
    ok, err = task:refresh{ timeout = 2 }
    assert.truthy(ok, "a healthy poll after it failed: " .. tostring(err))
    assert.equals(1, #gw:requests())
  end)

  -- FOUND: SEEDANCE_TIME_SCALE=1e999 (infinity) is taken unchecked: wait{ timeout = 1 } never returns
  it("checks options read from the environment as it checks options passed in #m-env-options-checked", function()
    local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/",
      json = { code = 200, data = { id = "task_A", status = "processing", progress = 10 } } } } }
    finally(function() gw:stop() end)
    local ok, out = child(([[
      local ok, c = pcall(require("seedance").new, { api_key = "sk-x", base_url = %q })
      if not ok then io.write("refused: ", tostring(c)) return end
      local t, err = c:task("task_A"):wait{ timeout = 1 }
      io.write("returned: ", tostring(err))]]):format(gw.url), 6, "SEEDANCE_TIME_SCALE=1e999")
    assert.is_true(ok, "the child did not finish in 6 s: " .. out)
  end)

  it("ends at once, with no request, for deadlines of 0 and below", function()
    local gw = gateway.start{ cases = {} }
    finally(function() gw:stop() end)
    local c = client(gw.url)
    for _, t in ipairs{ 0, -1, -1e308 } do
      local ok, err = c:task("task_A"):wait{ timeout = t }
      assert.is_nil(ok)
      assert.equals("timeout_error", err.type)
      local task, gerr = c:generate(REQ, { timeout = t })
      assert.is_nil(task)
      assert.equals("timeout_error", gerr.type)
    end
    assert.equals(0, #gw:requests())
  end)
end)

describe("adversary: callbacks", function()
  it("come back as callback_error whatever they raise: nil, a number, a table", function()
    local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/",
      json = { code = 200, data = { id = "task_A", status = "processing", progress = 10 } } } } }
    finally(function() gw:stop() end)
    local c = client(gw.url)
    for _, v in ipairs{ false, 42, { why = "a table" }, seedance.errors.new{ type = "mine", message = "own" } } do
      local ok, err = c:task("task_A"):wait{ timeout = 5, on_progress = function() error(v) end }
      assert.is_nil(ok)
      assert.equals("callback_error", err.type)
    end
    local ok, err = c:task("task_A"):wait{ timeout = 5, on_progress = function() error() end }
    assert.is_nil(ok)
    assert.equals("callback_error", err.type)
  end)

  -- FOUND: a callback raising an object whose __tostring fails makes wait raise into the host
  it("never raise into the host, even when what they raise cannot be printed #m-callback-unprintable", function()
    local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/",
      json = { code = 200, data = { id = "task_A", status = "processing", progress = 10 } } } } }
    finally(function() gw:stop() end)
    local odd = setmetatable({}, { __tostring = function() error("cannot print me") end })
    local task = client(gw.url):task("task_A")
    local ok, a, b = pcall(task.wait, task, { timeout = 5, on_progress = function() error(odd) end })
    assert.is_true(ok, "wait raised: " .. tostring(a))
    assert.is_nil(a)
    assert.equals("callback_error", b.type)
  end)

  -- FOUND: a callback that yields (coroutine.yield) under the scheduler parks its coroutine forever:
  -- wait{ timeout = 2 } never returns and seedance.run never ends
  it("that yield do not hang the coroutine past its deadline #m-bare-yield-cooperative", function()
    local gw = gateway.start{ cases = { { method = "GET", pattern = "^/v1/tasks/",
      json = { code = 200, data = { id = "task_A", status = "processing", progress = 10 } } } } }
    finally(function() gw:stop() end)
    -- in a child: a coroutine parked forever would hang every later seedance.run of this process
    local ok, out = child(([[
      local seedance = require("seedance")
      local task = seedance.new{ api_key = "sk-x", base_url = %q, poll_min = 0.05 }:task("task_A")
      local done, res, err = false, nil, nil
      seedance.spawn(function()
        res, err = task:wait{ timeout = 2, on_progress = function() coroutine.yield() end }
        done = true
      end)
      local t0 = require("seedance.core").now()
      while not done and require("seedance.core").now() - t0 < 5 do seedance.step(0.05) end
      io.write(done and ("ended: " .. tostring(err)) or "still parked after 5 s")]]):format(gw.url), 10)
    assert.is_true(ok, out)
    assert.matches("^ended", out)
  end)

  -- FOUND: the library's log lines carry a result URL's raw bytes: invalid UTF-8 reaches the logger
  it("log only valid UTF-8 #m-log-utf8", function()
    local gw = gateway.start{ listeners = { "api", "media" }, cases = {} }
    finally(function() gw:stop() end)
    gw:script{ cases = {
      { listener = "api", method = "GET", pattern = "^/v1/tasks/", headers = { { "Content-Type", "application/json" } },
        body = '{"code":200,"data":{"id":"task_A","status":"completed","progress":100,'
          .. '"result":{"videos":[{"url":"{{base:media}}/v\255\254.mp4"}]}}}' },
      { listener = "media", headers = { { "ETag", '"v"' } }, body = "video bytes" } } }
    local lines = {}
    local task = client(gw.urls.api, { logger = function(_, l) lines[#lines + 1] = l end }):task("task_A")
    assert(task:wait())
    task:download(util.tmpfile("utf8.mp4"))
    assert.is_true(#lines > 1)
    for _, l in ipairs(lines) do assert.equals(l, core.utf8_clean(l)) end
  end)
end)
