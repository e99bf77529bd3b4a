-- Specs for the pieces of the HTTP layer that need no network: Retry-After,
-- backoff, answers turned into errors, and client settings.
local seedance = require("seedance")
local http = require("seedance.http")
local util = require("helpers.util")

describe("seedance.http #c", function()
  describe("retry_after", function()
    it("reads delta seconds", function()
      assert.equals(5, http.retry_after("5"))
      assert.equals(0, http.retry_after(" 0 "))
    end)
    it("reads an HTTP date relative to now, in each of its three forms #m-retry-after-http-date", function()
      local wall = 1445412480 -- Wed, 21 Oct 2015 07:28:00 GMT
      assert.equals(30, http.retry_after("Wed, 21 Oct 2015 07:28:30 GMT", wall))   -- RFC 1123
      assert.equals(30, http.retry_after("Wednesday, 21-Oct-15 07:28:30 GMT", wall)) -- RFC 850
      assert.equals(30, http.retry_after("Wed Oct 21 07:28:30 2015", wall))          -- asctime
      assert.equals(0, http.retry_after("Wed, 21 Oct 2015 07:27:00 GMT", wall))
    end)
    it("ignores what it cannot read", function()
      assert.is_nil(http.retry_after(nil))
      assert.is_nil(http.retry_after("soon"))
      assert.is_nil(http.retry_after("-3"))
      assert.is_nil(http.retry_after("Wed, 99 Foo 2015 07:28:00 GMT"))
    end)
  end)

  it("backs off exponentially with jitter, capped", function()
    local policy = require("seedance.retry").new({ backoff = 0.5, max_backoff = 4, time_scale = 1,
      max_retries = 4, max_retry_after = 120 }, {})
    for attempt = 1, 8 do
      local base = math.min(0.5 * 2 ^ (attempt - 1), 4)
      for _ = 1, 20 do
        local d = policy:backoff(attempt)
        assert.is_true(d >= base / 2 and d <= base, attempt .. ": " .. d)
      end
    end
  end)

  describe("answer_error", function()
    it("takes the service's error body", function()
      local e = http.answer_error{ status = 429, headers = {},
        body = '{"error":{"code":429,"message":"slow down","type":"rate_limit_error"}}' }
      assert.equals("rate_limit_error", e.type)
      assert.equals(429, e.status)
      assert.equals(429, e.code)
      assert.equals("slow down", e.message)
      assert.is_true(e.retryable)
    end)
    it("gives an HTML page from a proxy a clear message with the status", function()
      local e = http.answer_error{ status = 502, headers = { ["content-type"] = "text/html" },
        body = "<html><body><h1>502 Bad Gateway</h1></body></html>" }
      assert.equals("bad_gateway", e.type)
      assert.equals(502, e.status)
      assert.is_true(e.retryable)
      assert.matches("HTTP 502", e.message)
      assert.matches("text/html", e.message)
    end)
    it("never retries 4xx #m-no-retry-4xx", function()
      for _, s in ipairs{ 400, 401, 402, 403, 404 } do
        assert.is_false(http.answer_error{ status = s, headers = {}, body = "" }.retryable)
      end
    end)
  end)

  it("turns a truncated 200 body into a retryable error naming the status", function()
    local obj, e = http.decode{ status = 200, headers = { ["content-type"] = "application/json" },
                                body = '{"code":200,"data":{"id":"ta' }
    assert.is_nil(obj)
    assert.equals(200, e.status)
    assert.is_true(e.retryable)
    assert.matches("not the service's JSON", e.message)
  end)
end)

describe("seedance.new #c", function()
  -- The message seedance.new raises for these options over a valid base.
  local function new_error(over)
    local ok, err = pcall(seedance.new, util.merge({ api_key = "sk-options", base_url = "http://127.0.0.1:9" }, over))
    assert.is_false(ok, "accepted")
    return err
  end

  it("never prints the key #m-key-not-in-tostring", function()
    local c = seedance.new{ api_key = "sk-very-secret", base_url = "http://127.0.0.1:9" }
    assert.is_nil(tostring(c):find("secret", 1, true))
    assert.matches("key set", tostring(c))
  end)
  it("refuses plain http to other hosts unless allowed", function()
    assert.has_error(function() seedance.new{ api_key = "k", base_url = "http://example.com" } end)
    assert.has_no.errors(function()
      seedance.new{ api_key = "k", base_url = "http://example.com", allow_insecure_http = true }
    end)
    assert.has_no.errors(function() seedance.new{ api_key = "k", base_url = "http://localhost:8080/" } end)
    assert.has_no.errors(function() seedance.new{ api_key = "k", base_url = "http://[::1]:8080" } end)
  end)
  it("trims a key read from a file, and refuses one with inner spaces or control characters", function()
    local c = seedance.new{ api_key = "sk-from-file\n", base_url = "http://127.0.0.1:9" }
    assert.matches("key set", tostring(c))
    assert.has_error(function() seedance.new{ api_key = "sk a", base_url = "http://127.0.0.1:9" } end,
      "bad argument #1 to 'new' (api_key contains spaces or control characters)")
  end)
  it("takes SEEDANCE_TIME_SCALE (meant for an emulator) only for a loopback base URL #m-time-scale-loopback-only", function()
    local function scale(url, opts)
      return seedance.new(util.merge({ api_key = "k", base_url = url, allow_insecure_http = true }, opts)).settings.time_scale
    end
    local saved = os.getenv
    finally(function() os.getenv = saved end) -- luacheck: ignore 122
    os.getenv = function(k) if k == "SEEDANCE_TIME_SCALE" then return "0.01" end return saved(k) end -- luacheck: ignore 122
    assert.equals(0.01, scale("http://127.0.0.1:9"))
    assert.equals(1, scale("https://xcompute.us"))
    assert.equals(0.5, scale("https://xcompute.us", { time_scale = 0.5 })) -- given on purpose
  end)

  it("raises on unknown options and wrong types", function()
    assert.has_error(function() seedance.new{ timeot = 5 } end,
      "bad argument #1 to 'new' (unknown option 'timeot')")
    assert.has_error(function() seedance.new{ timeout = "5" } end,
      "bad argument #1 to 'new' (option 'timeout' must be a number, got string)")
  end)
  it("refuses a fraction where an option is a whole number #compat #m-options-whole-numbers", function()
    assert.matches("option 'max_retries' must be a whole number, got 1.5", new_error{ max_retries = 1.5 })
    assert.matches("option 'max_in_flight' must be a whole number", new_error{ max_in_flight = 2.5 })
  end)

  it("refuses a value below an option's minimum #m-options-minimum", function()
    assert.matches("option 'max_retries' must be at least 0, got %-1", new_error{ max_retries = -1 })
    assert.matches("option 'max_in_flight' must be at least 1, got 0", new_error{ max_in_flight = 0 })
    assert.matches("option 'timeout' must be at least 0", new_error{ timeout = -5 })
  end)

  it("answers calls without a key with an authentication error, using no network", function()
    local c = seedance.new{ api_key = "", base_url = "http://127.0.0.1:9" }
    local t, err = c:generate{ model = "doubao-seedance-2.0", prompt = "x" }
    assert.is_nil(t)
    assert.equals("authentication_error", err.type)
    assert.matches("SEEDANCE_API_KEY", err.message)
  end)
  it("validates before sending, unless told not to", function()
    local c = seedance.new{ api_key = "k", base_url = "http://127.0.0.1:9" }
    local t, err = c:generate{ model = "doubao-seedance-2.0" }
    assert.is_nil(t)
    assert.equals("validation_error", err.type)
    assert.has_error(function() c:generate("x") end, "bad argument #1 to 'generate' (table expected, got string)")
  end)
  it("checks a local image before uploading it", function()
    local c = seedance.new{ api_key = "k", base_url = "http://127.0.0.1:9" }
    local path = os.tmpname()
    local f = assert(io.open(path, "wb")); f:write("not an image"); f:close()
    local url, err = c:upload_image(path)
    os.remove(path)
    assert.is_nil(url)
    assert.equals("validation_error", err.type)
    assert.matches("not a JPEG, PNG, WebP or GIF", err.message)
    local _, err2 = c:upload_image("/nonexistent/cat.png")
    assert.equals("io_error", err2.type)
    assert.matches("cannot read", err2.message)
  end)
end)
