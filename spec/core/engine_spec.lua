-- Specs for the C engine (seedance.core.engine) against the scriptable gateway
-- (helpers.engine scripts it with the endpoints these specs fetch), all on 127.0.0.1.
local core = require("seedance.core")
local cjson = require("cjson")
local engine = require("helpers.engine")
local gateway = require("helpers.gateway")
local process = require("helpers.process")
local read_file, write_file = process.read, process.write
local fetch, wait_for, collect = engine.fetch, engine.wait_for, engine.collect

describe("seedance.core.engine #c", function()
  local srv = engine.server(true)
  local eng, tmp

  setup(function() tmp = os.tmpname() end)
  teardown(function() os.remove(tmp) end)

  before_each(function()
    srv:reset()
    eng = core.engine()
  end)

  after_each(function()
    eng:close()
  end)

  describe("add and next", function()
    it("does a GET and parses the headers (lowercase names, trimmed values, repeats joined by LF)", function()
      local r = fetch(eng, { url = srv.url .. "/echo?x=1", headers = { "X-Test: yes" } })
      assert.is_true(r.ok)
      assert.equal(200, r.status)
      assert.equal(0, r.curl_code)
      assert.is_nil(r.error)
      assert.is_nil(r.kind)
      assert.equal("application/json", r.headers["content-type"])
      assert.equal("first\nlast", r.headers["x-multi"]) -- every value seen, in order
      assert.equal("padded value", r.headers["x-spaced"])
      assert.equal(#r.body, r.bytes)
      assert.equal(srv.url .. "/echo?x=1", r.url)
      assert.is_true(r.time >= 0 and r.time < 5)
      assert.equal("GET", cjson.decode(r.body).method)
      assert.equal("yes", srv:requests()[1]:header("x-test"))
    end)

    it("does a POST with its body, without an Expect: 100-continue round trip", function()
      local body = string.rep("é{}\0", 5000)
      local r = fetch(eng, { method = "POST", url = srv.url .. "/echo", body = body,
                             headers = { "Content-Type: application/json" } })
      assert.is_true(r.ok)
      local sent = srv:requests()[1]
      assert.equal("POST", sent.method)
      assert.equal(body, sent.body)
      assert.equal("application/json", sent:header("content-type"))
      assert.is_nil(sent:header("expect"))
    end)

    it("sends PUT and DELETE, and an empty POST", function()
      for _, m in ipairs({ "PUT", "DELETE", "POST" }) do
        local r = fetch(eng, { method = m, url = srv.url .. "/echo" })
        assert.equal(m, cjson.decode(r.body).method)
      end
    end)

    it("goes through a proxy", function()
      local r = fetch(eng, { url = "http://media.invalid/echo", proxy = srv.url })
      assert.is_true(r.ok, r.error)
      assert.equal("http://media.invalid/echo", cjson.decode(r.body).path)
    end)

    it("sends the engine's user_agent", function()
      local e = core.engine{ user_agent = "seedance-spec/1" }
      fetch(e, { url = srv.url .. "/echo" })
      e:close()
      assert.equal("seedance-spec/1", srv:requests()[1]:header("user-agent"))
    end)

    it("hands back an HTTP error status as ok = true with its body and Retry-After", function()
      local r = fetch(eng, { url = srv.url .. "/status?code=429&retry_after=5" })
      assert.is_true(r.ok)
      assert.equal(429, r.status)
      assert.equal("5", r.headers["retry-after"])
      assert.equal("status_429", cjson.decode(r.body).error.type)
    end)

    it("gives ids that are never reused and results in completion order", function()
      local slow = eng:add{ url = srv.url .. "/slow?ms=400" }
      local fast = eng:add{ url = srv.url .. "/echo" }
      assert.is_true(fast > slow)
      local rs = collect(eng, 2)
      assert.equal(fast, rs[1].id)
      assert.equal(slow, rs[2].id)
      local again = eng:add{ url = srv.url .. "/echo" }
      assert.is_true(again > fast)
      wait_for(eng, again)
    end)

    it("completes 200 concurrent transfers", function()
      local ids = {}
      for i = 1, 200 do ids[eng:add{ url = srv.url .. "/echo?i=" .. i }] = i end
      assert.equal(200, eng:pending())
      local rs = collect(eng, 200, 60)
      local seen = 0
      for _, r in ipairs(rs) do
        assert.is_true(r.ok, r.error)
        assert.equal(200, r.status)
        assert.equal("/echo?i=" .. ids[r.id], cjson.decode(r.body).path)
        ids[r.id] = nil
        seen = seen + 1
      end
      assert.equal(200, seen)
      assert.is_nil(next(ids))
      assert.equal(0, eng:pending())
      assert.is_nil(eng:next())
    end)

    it("reuses connections (sequential and under max_host_connections)", function()
      local function conns() return #srv:connections() end
      local before = conns()
      for i = 1, 30 do assert.is_true(fetch(eng, { url = srv.url .. "/echo?seq=" .. i }).ok) end
      local sequential = conns() - before
      local e = core.engine{ max_host_connections = 4, max_total_connections = 8 }
      before = conns()
      for i = 1, 100 do e:add{ url = srv.url .. "/echo?c=" .. i } end
      for _, r in ipairs(collect(e, 100, 60)) do assert.is_true(r.ok) end
      e:close()
      local concurrent = conns() - before
      print(("\n  connections: %d for 30 sequential requests, %d for 100 concurrent (limit 4)"):format(
        sequential, concurrent))
      assert.is_true(sequential <= 2)
      assert.is_true(concurrent <= 4)
    end)
  end)

  describe("transport failures are results", function()
    it("connect refused: kind 'connect'", function()
      local r = fetch(eng, { url = ("http://127.0.0.1:%d/x"):format(process.free_port()) })
      assert.is_false(r.ok)
      assert.equal("connect", r.kind, r.error)
      assert.equal(7, r.curl_code)
      assert.equal(0, r.status)
      assert.matches("^Couldn't connect to server", r.error)
    end)

    it("timeout: kind 'timeout'", function()
      local t0 = core.now()
      local r = fetch(eng, { url = srv.url .. "/slow?ms=3000", timeout = 0.3 })
      assert.is_false(r.ok)
      assert.equal("timeout", r.kind)
      assert.equal(28, r.curl_code)
      assert.is_true(core.now() - t0 < 2)
    end)

    it("a stalled body trips low_speed_limit/low_speed_time as a timeout", function()
      local r = fetch(eng, { url = srv.url .. "/stall?s=4", low_speed_limit = 100, low_speed_time = 1 })
      assert.is_false(r.ok)
      assert.equal("timeout", r.kind)
    end)

    it("a dropped connection (truncated body): ok = false, kind 'recv'", function()
      local r = fetch(eng, { url = srv.url .. "/drop" })
      assert.is_false(r.ok)
      assert.equal("recv", r.kind)
      assert.equal(18, r.curl_code) -- CURLE_PARTIAL_FILE
      assert.equal(200, r.status)
      assert.equal(100, r.bytes)
    end)

    it("a TLS handshake that breaks (a server that does not speak TLS): kind 'tls_connect'", function()
      local r = fetch(eng, { url = "https://127.0.0.1:" .. srv.port .. "/echo", connect_timeout = 5 })
      assert.is_false(r.ok)
      assert.equal("tls_connect", r.kind, r.error)
    end)

    it("a body over max_body: kind 'too_large'", function()
      local r = fetch(eng, { url = srv.url .. "/big?n=100000", max_body = 1000 })
      assert.is_false(r.ok)
      assert.equal("too_large", r.kind)
      assert.equal("response body exceeds 1000 bytes", r.error)
      local ok = fetch(eng, { url = srv.url .. "/big?n=1000", max_body = 1000 })
      assert.is_true(ok.ok)
      assert.equal(1000, #ok.body)
    end)
  end)

  describe("downloads", function()
    local blob = gateway.pattern(engine.BLOB_SIZE)

    it("a body read into memory is the whole file", function()
      assert.equal(blob, fetch(eng, { url = srv.url .. "/file", max_body = 1e6 }).body)
    end)

    it("writes a 2xx body to the file and reports progress", function()
      os.remove(tmp)
      local id = eng:add{ url = srv.url .. "/file", output = tmp }
      local r = wait_for(eng, id)
      assert.is_true(r.ok)
      assert.equal(200, r.status)
      assert.equal("", r.body)
      assert.equal(300000, r.bytes)
      assert.is_false(r.resumed)
      assert.equal(blob, read_file(tmp))
    end)

    -- Creating a file can take milliseconds on a busy disk (ext4 looking for a
    -- free inode among many just deleted): too long for a host's frame. The
    -- transfer pauses at its first body byte while the worker makes its file.
    it("makes the file on the engine's worker thread, the transfer paused meanwhile #m-download-file-on-worker", function()
      local before = eng:stats()
      write_file(tmp, "stale")
      local r = fetch(eng, { url = srv.url .. "/file", output = tmp, validator_file = tmp .. ".meta" })
      assert.is_true(r.ok)
      assert.equal(blob, read_file(tmp))
      local s = eng:stats()
      assert.equal(before.files_here, s.files_here)
      assert.equal(before.files_worker + 1, s.files_worker)
      -- a 206 is appended on the worker's open too, after its checks
      write_file(tmp, blob:sub(1, 100))
      r = fetch(eng, { url = srv.url .. "/file", output = tmp, resume_from = 100 })
      assert.is_true(r.ok and r.resumed)
      assert.equal(blob, read_file(tmp))
      assert.equal(before.files_worker + 2, eng:stats().files_worker)
      os.remove(tmp .. ".meta")
    end)

    it("fails a transfer whose file the worker could not make (an unwritable path: kind 'file'), and one whose part "
      .. "changed #m-download-file-on-worker", function()
      local r = fetch(eng, { url = srv.url .. "/file", output = "/nonexistent-dir/y.part" })
      assert.is_false(r.ok)
      assert.equal("file", r.kind)
      assert.matches("cannot create /nonexistent%-dir/y%.part", r.error)
      write_file(tmp, blob:sub(1, 50)) -- 50 bytes on disk, 100 said
      r = fetch(eng, { url = srv.url .. "/file", output = tmp, resume_from = 100 })
      assert.is_false(r.ok)
      assert.equal("range_mismatch", r.kind)
      assert.equal(blob:sub(1, 50), read_file(tmp))
    end)

    it("resumes with resume_from, appending the 206 answer", function()
      write_file(tmp, blob:sub(1, 12345))
      local r = fetch(eng, { url = srv.url .. "/file", output = tmp, resume_from = 12345 })
      assert.is_true(r.ok)
      assert.equal(206, r.status)
      assert.is_true(r.resumed)
      assert.equal(300000 - 12345, r.bytes)
      assert.equal("bytes 12345-299999/300000", r.headers["content-range"])
      assert.equal(blob, read_file(tmp))
    end)

    it("rewrites the file when a resume gets a whole 200 answer (If-Range mismatch)", function()
      write_file(tmp, string.rep("z", 5000))
      local r = fetch(eng, { url = srv.url .. "/file", output = tmp, resume_from = 5000,
                             headers = { 'If-Range: "other"' } })
      assert.is_true(r.ok)
      assert.equal(200, r.status)
      assert.is_false(r.resumed)
      assert.equal(blob, read_file(tmp))
    end)

    it("leaves the file untouched on a non-2xx answer and gives its body", function()
      write_file(tmp, "keep me")
      local r = fetch(eng, { url = srv.url .. "/status?code=404", output = tmp, resume_from = 7 })
      assert.is_true(r.ok)
      assert.equal(404, r.status)
      assert.equal("status_404", cjson.decode(r.body).error.type)
      assert.equal("keep me", read_file(tmp))
      r = fetch(eng, { url = srv.url .. "/file", output = tmp, resume_from = 300000 })
      assert.equal(416, r.status)
      assert.equal("keep me", read_file(tmp))
      os.remove(tmp)
      fetch(eng, { url = srv.url .. "/status?code=503", output = tmp })
      assert.is_nil(io.open(tmp, "rb"))
    end)

    it("reports progress of a running transfer", function()
      local id = eng:add{ url = srv.url .. "/stall?s=2", output = tmp }
      local deadline = core.now() + 5
      local done, total
      repeat
        eng:step(20)
        done, total = eng:progress(id)
      until (done and done > 0) or core.now() > deadline
      assert.equal(10, done)
      assert.equal(1000, total)
      assert.is_nil(eng:progress(id + 1000))
      assert.is_true(eng:cancel(id))
      assert.is_nil(eng:progress(id))
    end)
  end)

  describe("uploads", function()
    it("sends a multipart form_file with the field name, filename, type and bytes", function()
      local data = {}
      for i = 1, 70000 do data[i] = string.char((i * 31) % 256) end
      write_file(tmp, table.concat(data))
      local r = fetch(eng, { method = "POST", url = srv.url .. "/upload",
                             form_file = { name = "file", path = tmp, filename = "cat.png",
                                           content_type = "image/png" } })
      assert.is_true(r.ok, r.error)
      local sent = srv:requests{ path = "/upload" }[1]
      local parts = engine.parts(sent.body, sent:header("content-type"))
      assert.equal(1, #parts)
      local p = parts[1]
      assert.equal("file", p.name)
      assert.equal("cat.png", p.filename)
      assert.equal("image/png", p.content_type)
      assert.equal(table.concat(data), p.data)
      assert.is_nil(sent:header("expect"))
    end)

    -- found by UBSan (make check): sd_push_headers computed NULL + 0 for a transfer that failed
    -- before any header arrived, so its header buffer had never been allocated
    it("gives an empty headers table for a transfer that failed before any response #found", function()
      local r = fetch(eng, { method = "POST", url = "http://127.0.0.1:9/",
                             form_file = { name = "f", path = "/nonexistent/seedance-regression" } })
      assert.is_false(r.ok)
      assert.equal("file", r.kind)
      assert.same({}, r.headers)
    end)

    it("a missing file is a result (kind 'file'), not a raise", function()
      local id = eng:add{ method = "POST", url = srv.url .. "/upload",
                          form_file = { name = "file", path = "/nonexistent/cat.png" } }
      assert.equal(1, eng:step(0))
      local r = eng:next()
      assert.equal(id, r.id)
      assert.is_false(r.ok)
      assert.equal("file", r.kind)
      assert.matches("/nonexistent/cat.png", r.error, 1, true)
    end)
  end)

  describe("redirects", function()
    it("are not followed unless asked", function()
      local r = fetch(eng, { url = srv.url .. "/redirect?to=/echo" })
      assert.equal(302, r.status)
      assert.equal("/echo", r.headers["location"])
    end)

    it("keep Authorization on the same host, drop it for another host or port", function()
      local auth = "Authorization: Bearer sk-secret-123"
      local function via(to)
        srv:reset()
        local r = fetch(eng, { url = srv.url .. "/redirect?to=" .. to, follow_redirects = true,
                               headers = { auth, "X-Other: kept" } })
        assert.is_true(r.ok, r.error)
        assert.equal(200, r.status)
        local sent = srv:requests()
        return sent[#sent], r
      end
      local same = via(srv.url .. "/echo")
      assert.equal("Bearer sk-secret-123", same:header("authorization"))
      local host, r = via("http://localhost:" .. srv.port .. "/echo")
      assert.is_nil(host:header("authorization"))
      assert.equal("kept", host:header("x-other"))
      assert.equal("http://localhost:" .. srv.port .. "/echo", r.url)
      local port = via(srv.urls.other .. "/echo")
      assert.equal("other", port.listener)
      assert.is_nil(port:header("authorization"))
    end)

    it("stop after 5 hops", function()
      local url = srv.url .. "/echo"
      for _ = 1, 6 do url = srv.url .. "/redirect?to=" .. url end -- each hop takes one level off
      local r = fetch(eng, { url = url, follow_redirects = true })
      assert.is_false(r.ok)
      assert.equal(47, r.curl_code) -- CURLE_TOO_MANY_REDIRECTS
    end)
  end)

  describe("cancel", function()
    it("aborts a running transfer, which yields no result", function()
      local id = eng:add{ url = srv.url .. "/slow?ms=1000" }
      eng:step(10)
      assert.equal(1, eng:pending())
      assert.is_true(eng:cancel(id))
      assert.equal(0, eng:pending())
      assert.is_false(eng:cancel(id))
      local other = eng:add{ url = srv.url .. "/echo" }
      local r = wait_for(eng, other)
      assert.equal(other, r.id)
      assert.is_nil(eng:next())
    end)

    it("drops a finished result not read yet, and a download in flight", function()
      local id = eng:add{ url = srv.url .. "/echo" }
      while eng:pending() > 0 do eng:step(20) end
      assert.is_true(eng:cancel(id))
      assert.is_nil(eng:next())
      local dl = eng:add{ url = srv.url .. "/stall?s=2", output = tmp }
      for _ = 1, 5 do eng:step(10) end
      assert.is_true(eng:cancel(dl))
    end)
  end)

  describe("stepping", function()
    -- step(0) over and over until done(results so far) or the deadline: each step's time (sorted),
    -- and how many results came
    local function spin(done, deadline)
      local times, got = {}, 0
      while not done(got) and core.now() < deadline do
        local t0 = core.now()
        eng:step(0)
        times[#times + 1] = core.now() - t0
        while eng:next() do got = got + 1 end
      end
      table.sort(times)
      return times, got
    end

    it("step(0) never blocks with slow transfers in flight #m-engine-step-zero-never-waits", function()
      for _ = 1, 20 do eng:add{ url = srv.url .. "/slow?ms=500" } end
      local times, got = spin(function(n) return n >= 20 end, core.now() + 10)
      local median = times[math.floor(#times / 2) + 1]
      print(("\n  step(0): median %.3f ms, max %.3f ms over %d steps with 20 slow transfers")
        :format(median * 1000, times[#times] * 1000, #times))
      assert.equal(20, got)
      -- the server holds each answer 500 ms: steps that never wait on IO make
      -- hundreds of thousands of turns in that time, steps that wait make a few.
      -- A count, not a clock: one descheduled step on a loaded machine is no
      -- fault (the step's cost is a bench/ figure)
      assert.is_true(#times > 1000, #times .. " steps")
    end)

    it("step(0) stays cheap with 1,000 transfers in flight (queued under max_host_connections) #m-engine-step-zero-never-waits", function()
      for _ = 1, 1000 do eng:add{ url = srv.url .. "/slow?ms=300" } end
      -- the first step is libcurl starting all 1000 handles (most go to its pending queue)
      local t_first = core.now()
      eng:step(0)
      t_first = core.now() - t_first
      local times, got = spin(function() return false end, core.now() + 1.5)
      local median, p99 = times[math.floor(#times / 2)], times[math.floor(#times * 0.99)]
      print(("\n  step(0) with 1000 in flight: first %.1f ms, then median %.1f us, p99 %.1f us, max %.2f ms"
        .. " over %d steps (%d done)"):format(t_first * 1e3, median * 1e6, p99 * 1e6, times[#times] * 1e3, #times, got))
      assert.is_true(got > 0)
      -- each answer is held 300 ms: steps that never wait on IO turn over
      -- hundreds of thousands of times in 1.5 s, steps that wait a few hundred
      -- (their cost is a bench/ figure, B3, not a clock here)
      assert.is_true(#times > 1000, #times .. " steps")
      assert.equal(1000 - got, eng:pending())
    end)

    it("timeout() and sockets() have their shapes", function()
      assert.equal(-1, eng:timeout())
      assert.same({}, eng:sockets())
      eng:add{ url = srv.url .. "/slow?ms=300" }
      local t = eng:timeout()
      assert.equal("number", type(t))
      assert.equal(math.floor(t), t)
      assert.is_true(t >= 0)
      for _ = 1, 10 do eng:step(10) end
      local socks = eng:sockets()
      assert.is_true(#socks >= 1)
      for _, s in ipairs(socks) do
        assert.equal("number", type(s[1]))
        assert.is_true(s[2] == "r" or s[2] == "w" or s[2] == "rw")
      end
      collect(eng, 1)
      assert.equal(-1, eng:timeout())
    end)

    it("a loop driven only by timeout() and sockets() completes transfers", function()
      local ids = {}
      for i = 1, 5 do ids[eng:add{ url = srv.url .. "/slow?ms=" .. (i * 50) }] = true end
      local got, deadline, max_socks = 0, core.now() + 10, 0
      while got < 5 do
        assert.is_true(core.now() < deadline)
        max_socks = math.max(max_socks, #eng:sockets())
        local t = eng:timeout()
        -- a host would wait on the sockets for at most t ms; here: sleep a little
        core.sleep(math.min(t < 0 and 5 or t, 5) / 1000)
        eng:step(0)
        for r in function() return eng:next() end do
          assert.is_true(ids[r.id])
          got = got + 1
        end
      end
      assert.is_true(max_socks >= 1)
    end)
  end)

  describe("closing", function()
    it("close() with transfers in flight, twice; use after close raises", function()
      local e = core.engine()
      for _ = 1, 20 do e:add{ url = srv.url .. "/slow?ms=2000" } end
      e:add{ url = srv.url .. "/stall?s=2", output = tmp }
      e:add{ method = "POST", url = srv.url .. "/upload", form_file = { name = "f", path = gateway.script_path } }
      for _ = 1, 5 do e:step(10) end
      assert.is_true(e:close())
      assert.is_true(e:close())
      assert.equal("seedance.engine (closed)", tostring(e))
      for _, m in ipairs({ "add", "step", "next", "progress", "cancel", "pending", "timeout", "sockets" }) do
        assert.has_error(function() e[m](e, {}) end, "attempt to use a closed engine")
      end
      collectgarbage()
      collectgarbage()
    end)

    it("is collected with transfers in flight", function()
      local weak = setmetatable({}, { __mode = "v" })
      do
        local e = core.engine()
        for _ = 1, 10 do e:add{ url = srv.url .. "/slow?ms=2000" } end
        e:step(10)
        weak[1] = e
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(weak[1])
    end)

    it("closes at the end of a <close> scope", function()
      if _VERSION < "Lua 5.4" then return end -- <close> is 5.4 syntax
      local chunk = assert(load([[
        local core, url = ...
        local kept
        do
          local e <close> = core.engine()
          e:add{ url = url }
          kept = e
        end
        return kept
      ]]))
      local e = chunk(core, srv.url .. "/slow?ms=1000")
      assert.equal("seedance.engine (closed)", tostring(e))
    end)
  end)

  describe("caller mistakes raise #compat", function()
    it("names the bad field", function()
      assert.has_error(function() eng:add{} end,
        "bad argument #1 to 'add' (field 'url' must be a string, got nil)")
      assert.has_error(function() eng:add("x") end,
        "bad argument #1 to 'add' (table expected, got string)")
      assert.has_error(function() eng:add{ url = "http://x/", method = "PATCH" } end,
        "bad argument #1 to 'add' (field 'method' must be GET, POST, PUT, DELETE or HEAD, got 'PATCH')")
      assert.has_error(function() eng:add{ url = "http://x/", headers = { "X: a\r\nY: b" } } end,
        "bad argument #1 to 'add' (headers[1] must be one \"Name: value\" line)")
      assert.has_error(function() eng:add{ url = "http://x/", headers = { 5 } } end,
        "bad argument #1 to 'add' (headers[1] must be a string, got number)")
      assert.has_error(function() eng:add{ url = "http://x/", timeout = -1 } end,
        "bad argument #1 to 'add' (field 'timeout' must be a number >= 0, got number)")
      assert.has_error(function() eng:add{ url = "http://x/", resume_from = 1.5 } end,
        "bad argument #1 to 'add' (field 'resume_from' must be an integer >= 0, got number)")
      assert.has_error(function() eng:add{ url = "http://x/", body = "a" } end,
        "bad argument #1 to 'add' (a GET request cannot carry a body or form_file)")
      assert.has_error(function() eng:add{ method = "POST", url = "http://x/", body = "a",
                                           form_file = { name = "f", path = "p" } } end,
        "bad argument #1 to 'add' (fields 'body' and 'form_file' cannot be used together)")
      assert.has_error(function() eng:add{ method = "POST", url = "http://x/", form_file = { path = "p" } } end,
        "bad argument #1 to 'add' (field 'name' must be a string, got nil)")
      assert.has_error(function() eng:add{ url = "http://x/", insecure = 1 } end,
        "bad argument #1 to 'add' (field 'insecure' must be a boolean, got number)")
      assert.has_error(function() eng:step(-1) end,
        "bad argument #1 to 'step' (timeout must be >= 0 milliseconds)")
      assert.has_error(function() core.engine{ max_host_connections = -1 } end,
        "bad argument #1 to 'engine' (field 'max_host_connections' must be an integer >= 0, got number)")
      assert.equal(0, eng:pending())
    end)

    -- found by fuzz_form: a content_type holding CR or LF went into the multipart part's header as it
    -- was (curl_mime_type does not escape), so a caller could smuggle header lines into the upload
    it("refuses a form_file content_type with CR or LF, naming the field #found #compat", function()
      for _, ct in ipairs({ "image/png\r\nX-Injected: 1", "\n", "a\rb" }) do
        assert.has_error(function()
          eng:add{ method = "POST", url = "http://127.0.0.1:9/",
                   form_file = { name = "file", path = gateway.script_path, content_type = ct } }
        end, "bad argument #1 to 'add' (field 'content_type' must be one line (no CR or LF))")
      end
    end)

    it("never puts the Authorization value into an error", function()
      local r = fetch(eng, { url = ("http://127.0.0.1:%d/"):format(process.free_port()),
                             headers = { "Authorization: Bearer sk-secret-123" } })
      assert.is_false(r.ok)
      assert.is_nil(r.error:find("sk-secret", 1, true))
    end)
  end)
end)
