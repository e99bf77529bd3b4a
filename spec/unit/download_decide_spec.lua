-- seedance.download.decide: one download attempt's outcome and what is on
-- disk in, the next step out. Pure: every branch, no network, no files.
local decide = require("seedance.download").decide

-- An attempt that ended with an answer (status, headers) or a transport failure (kind).
local function answer(status, headers)
  return { ok = true, status = status, headers = headers or {} }
end
local function failure(kind)
  return { ok = false, kind = kind, error = "failed: " .. kind, status = 0, headers = {} }
end
local function d(result, have, size, refreshed, validator)
  return decide{ result = result, have = have or 0, size = size or 0, refreshed = refreshed, task_id = "task_D",
                 validator = validator }
end

describe("seedance.download.decide", function()
  describe("after a transport failure", function()
    it("fails at once when the task was closed (aborted)", function()
      local x = d(failure("aborted"), 10, 10)
      assert.equals("fail", x.action)
      assert.equals("aborted", x.err.type)
      assert.is_nil(x.discard)
    end)
    it("fails at once, dropping the part, on a local file failure (io_error) or the size cap #m-io-error-drops-part", function()
      for kind, t in pairs{ file = "io_error", too_large = "too_large" } do
        local x = d(failure(kind), 10, 20)
        assert.equals("fail", x.action, kind)
        assert.equals(t, x.err.type)
        assert.is_false(x.err.retryable)
        assert.is_true(x.discard)
      end
    end)
    it("fails at once on TLS and refused addresses", function()
      assert.equals("tls_error", d(failure("tls")).err.type)
      assert.equals("fail", d(failure("tls")).action)
      assert.equals("unsafe_url", d(failure("denied")).err.type)
      assert.equals("fail", d(failure("denied")).action)
    end)
    it("starts over when a 206 did not continue the part", function()
      local x = d(failure("range_mismatch"), 100, 100)
      assert.equals("restart", x.action)
      assert.is_true(x.discard)
      assert.is_true(x.err.retryable)
    end)
    it("retries, keeping the part, after a cut, a stall or a refused connection", function()
      for _, kind in ipairs{ "recv", "timeout", "connect", "send", "tls_connect", "dns", "other" } do
        local x = d(failure(kind), 0, 500)
        assert.equals("retry", x.action, kind)
        assert.is_nil(x.discard)
        assert.is_true(x.err.retryable)
      end
    end)
  end)

  describe("after an error answer", function()
    it("re-reads the task once for 403, 404 and 410, then calls the URL expired #m-expired-rereads-task", function()
      for _, status in ipairs{ 403, 404, 410 } do
        assert.equals("refresh", d(answer(status)).action)
        local x = d(answer(status), 0, 0, true)
        assert.equals("fail", x.action)
        assert.equals("expired", x.err.type)
        assert.equals(status, x.err.status)
      end
    end)
    it("takes a 416 as done when the part is the whole file, of the same version, else starts over #m-range-416-validator", function()
      local same = { ["content-range"] = "bytes */500", etag = '"A"' }
      assert.equals("done", d(answer(416, same), 500, 500, nil, '"A"').action)
      assert.equals("restart", d(answer(416, same), 500, 500, nil, '"B"').action)  -- another version
      assert.equals("restart", d(answer(416, { ["content-range"] = "bytes */500" }), 500, 500, nil, '"A"').action)
      assert.equals("restart", d(answer(416, { ["content-range"] = "bytes */500", etag = 'W/"A"' }), 500, 500, nil,
        'W/"A"').action) -- a weak ETag proves nothing
      local x = d(answer(416, { ["content-range"] = "bytes */400" }), 500, 500)
      assert.equals("restart", x.action)
      assert.is_true(x.discard)
      assert.equals("restart", d(answer(416), 500, 500).action)
    end)
    it("retries 429 and 5xx with the server's Retry-After, and fails on other 4xx", function()
      local x = d(answer(503, { ["retry-after"] = "7" }))
      assert.equals("retry", x.action)
      assert.equals(7, x.err.retry_after)
      assert.equals("retry", d(answer(429)).action)
      local y = d(answer(400))
      assert.equals("fail", y.action)
      assert.is_false(y.err.retryable)
    end)
    it("hands a redirect's Location to the caller (which checks it as a result URL)", function()
      for _, status in ipairs{ 301, 302, 303, 307, 308 } do
        local x = d(answer(status, { location = "/other.mp4" }))
        assert.equals("redirect", x.action)
        assert.equals("/other.mp4", x.location)
      end
    end)
    it("fails on a redirect with no usable Location, and on other 3xx", function()
      for _, x in ipairs{ d(answer(302)), d(answer(302, { location = "" })), d(answer(304)),
                          d(answer(302, { location = "a\nb" })) } do
        assert.equals("fail", x.action)
      end
    end)
  end)

  describe("after a 2xx answer", function()
    it("is done when the file has the announced length", function()
      assert.equals("done", d(answer(200, { ["content-length"] = "500" }), 0, 500).action)
      assert.equals("done", d(answer(206, { ["content-range"] = "bytes 200-499/500" }), 200, 500).action)
    end)
    it("is done when no length was announced and the body ended cleanly", function()
      assert.equals("done", d(answer(200), 0, 500).action)
    end)
    it("retries, keeping the part, when the file is shorter than announced #m-length-check", function()
      local x = d(answer(206, { ["content-range"] = "bytes 200-499/1000" }), 200, 500)
      assert.equals("retry", x.action)
      assert.is_nil(x.discard)
    end)
    it("starts over when the file is longer than announced, or empty #m-length-check", function()
      local x = d(answer(200, { ["content-length"] = "400" }), 0, 500)
      assert.equals("restart", x.action)
      assert.is_true(x.discard)
      local y = d(answer(200, { ["content-length"] = "0" }), 0, 0)
      assert.equals("restart", y.action)
    end)
  end)
end)
