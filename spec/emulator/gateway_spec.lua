-- Specs for the hostile gateway the other specs use (spec/helpers/gateway.lua,
-- spec/support/gateway.py): every answer, fault and record behaves as promised,
-- seen from curl (the command) and from the seedance engine, all on loopback.
local core = require("seedance.core")
local cjson = require("cjson")
local seedance = require("seedance")
local gateway = require("helpers.gateway")
local emulator = require("helpers.emulator")
local tls = require("helpers.tls")
local util = require("helpers.util")
local process = require("helpers.process")
local read_file, write_file = process.read, process.write

-- Add a transfer and step until its result comes (bounded by limit seconds).
local function fetch(eng, spec, limit)
  local id = eng:add(spec)
  local deadline = core.now() + (limit or 10)
  while true do
    assert(core.now() < deadline, "no result in time for " .. spec.url)
    eng:step(20)
    local r = eng:next()
    if r then
      assert.equal(id, r.id)
      return r
    end
  end
end

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- curl's output (stdout and stderr) and exit code.
local function curl(args)
  local _, out, code = util.run("curl -sS --max-time 5 " .. args)
  return out, code
end

-- Wait until the gateway has recorded request n with an outcome other than "answering".
local function outcome_of(gw, n)
  local deadline = os.time() + 6
  repeat
    local r = gw:requests{ n = n }[1]
    if r and r.outcome ~= "answering" then return r.outcome end
    os.execute("sleep 0.02")
  until os.time() > deadline
  error("request " .. n .. " is still being answered")
end

local function all_bytes()
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  return table.concat(t)
end

describe("helpers.gateway #child #c", function()
  local gw, eng

  setup(function()
    gw = gateway.start{ listeners = { "api", "media" }, lifetime = 120 }
  end)

  teardown(function()
    assert.is_true(gw:stop(), gw.stderr)
  end)

  -- a fresh engine each time: no connection kept from one spec to the next
  before_each(function()
    gw:reset()
    eng = core.engine()
  end)

  after_each(function()
    eng:close()
  end)

  describe("start", function()
    it("gives each listener its own port and URL on 127.0.0.1, and a control URL", function()
      assert.equal(2, #gw.listeners)
      assert.equal("http://127.0.0.1:" .. gw.ports.api, gw.urls.api)
      assert.equal("http://127.0.0.1:" .. gw.ports.media, gw.urls.media)
      assert.are_not.equal(gw.ports.api, gw.ports.media)
      assert.equal(gw.urls.api, gw.url)
      assert.equal(gw.ports.api, gw.port)
      assert.truthy(gw.control:match("^http://127%.0%.0%.1:%d+$"))
      assert.is_true(gw:running())
    end)

    it("raises with the gateway's reason when the script is refused", function()
      local ok, err = pcall(gateway.start, { cases = { { path = "/x", staus = 200 } } })
      assert.is_false(ok)
      assert.truthy(err:find("case 1: unknown key(s) staus", 1, true), err)
    end)
  end)

  describe("a scripted answer", function()
    it("sends the status, reason, headers in order with their case and repeats, and the body", function()
      gw:script{ cases = { { path = "/x", status = 201, reason = "Made Here",
                             headers = { { "X-Dup", "one" }, "x-DUP: two", { "Content-Type", "text/plain" } },
                             body = "hello" } } }
      local out, code = curl("-i " .. gw.url .. "/x")
      assert.equal(0, code)
      assert.equal("HTTP/1.1 201 Made Here\r\nX-Dup: one\r\nx-DUP: two\r\nContent-Type: text/plain\r\n" ..
        "Content-Length: 5\r\n\r\nhello", out)
    end)

    it("answers cases in order: one without times answers once, the last repeats", function()
      gw:script{ cases = { { name = "first", path = "/x", body = "1" }, { name = "second", path = "/x", body = "2" },
                           { name = "last", path = "/x", body = "3" } } }
      local got = {}
      for _ = 1, 5 do got[#got + 1] = (curl(gw.url .. "/x")) end
      assert.same({ "1", "2", "3", "3", "3" }, got)
      local cases = {}
      for _, r in ipairs(gw:requests()) do cases[#cases + 1] = r.case end
      assert.same({ "first", "second", "last", "last", "last" }, cases)
      assert.same({ 1, 1, 3 }, gw:info().used)
    end)

    it("counts times, then falls through to the next case, then answers 404 gateway_no_case", function()
      gw:script{ cases = { { path = "/x", times = 2, status = 500, body = "a" }, { path = "/x", times = 1, body = "b" },
                           { path = "/never", times = 0, body = "c" } } }
      local got = {}
      for _ = 1, 4 do
        local r = fetch(eng, { url = gw.url .. "/x" })
        got[#got + 1] = r.status .. " " .. r.body:sub(1, 1)
      end
      assert.same({ "500 a", "500 a", "200 b", "404 {" }, got)
      local r = fetch(eng, { url = gw.url .. "/never" })
      assert.equal(404, r.status)
      assert.equal("gateway_no_case", cjson.decode(r.body).error.type)
      local cases = {}
      for _, rec in ipairs(gw:requests()) do cases[#cases + 1] = rec.case end
      assert.same({ 1, 1, 2, "none", "none" }, cases)
    end)

    it("matches on method, exact path, exact target, query values, pattern, listener and body", function()
      gw:script{ cases = {
        { name = "media", listener = "media", path = "/m", body = "media" },
        { name = "post", method = "POST", path = "/m", body = "post" },
        { name = "get-or-head", method = { "GET", "HEAD" }, path = "/m", body = "get" },
        { name = "target", target = "/t?a=1", body = "target" },
        { name = "query", path = "/q", query = { lang = "en" }, body = "query" },
        { name = "pattern", pattern = "^/p/[0-9]+$", body = "pattern" },
        { name = "body", method = "PUT", body_pattern = "\"prompt\":\"cat\"", body = "body" },
      } }
      local function get(spec) return fetch(eng, spec).body end
      assert.equal("post", get{ url = gw.url .. "/m", method = "POST", body = "" })
      assert.equal("get", get{ url = gw.url .. "/m" })
      assert.equal("media", get{ url = gw.urls.media .. "/m" })
      assert.equal("target", get{ url = gw.url .. "/t?a=1" })
      assert.equal(404, fetch(eng, { url = gw.url .. "/t?a=2" }).status)
      assert.equal("query", get{ url = gw.url .. "/q?x=0&lang=en" })
      assert.equal(404, fetch(eng, { url = gw.url .. "/q?lang=zh" }).status)
      assert.equal("pattern", get{ url = gw.url .. "/p/42" })
      assert.equal(404, fetch(eng, { url = gw.url .. "/p/42/x" }).status)
      assert.equal("body", get{ url = gw.url .. "/any", method = "PUT", body = '{"prompt":"cat"}' })
      assert.equal(404, fetch(eng, { url = gw.url .. "/any", method = "PUT", body = '{"prompt":"dog"}' }).status)
    end)

    it("fills templates: listeners' URLs, the pattern's captures, the request and the count", function()
      gw:script{ cases = { {
        method = "GET", pattern = "^/v1/tasks/(?P<id>[^/?]+)(\\?.*)?$",
        headers = { { "Location", "{{base}}/again/{{id}}" } },
        json = { data = { id = "{{id}}", result = { videos = { { url = { "{{base:media}}/video/{{1}}.mp4" } } } },
                          note = "{{method}} {{path}} {{query}} count={{count}} port={{port:media}}" } },
      } } }
      local r = fetch(eng, { url = gw.url .. "/v1/tasks/task_9?language=en" })
      assert.equal(200, r.status)
      assert.equal("application/json", r.headers["content-type"])
      assert.equal(gw.url .. "/again/task_9", r.headers["location"])
      local data = cjson.decode(r.body).data
      assert.equal("task_9", data.id)
      assert.equal(gw.urls.media .. "/video/task_9.mp4", data.result.videos[1].url[1])
      assert.equal("GET /v1/tasks/task_9 language=en count=1 port=" .. gw.ports.media, data.note)
      r = fetch(eng, { url = gw.url .. "/v1/tasks/other" })
      assert.truthy(cjson.decode(r.body).data.note:find("count=2", 1, true))
    end)

    it("leaves placeholders alone with template = false", function()
      gw:script{ cases = { { path = "/x", body = "{{base}}", template = false } } }
      assert.equal("{{base}}", (curl(gw.url .. "/x")))
    end)

    it("refuses a bad script, naming the case and the fault, and keeps the old one", function()
      gw:script{ cases = { { path = "/x", body = "kept" } } }
      local bad = {
        { { { path = "/x", bodyy = "typo" } }, "case 1: unknown key(s) bodyy" },
        { { { path = "/x" }, { name = "re", pattern = "([" } }, "case 2 (re): bad pattern" },
        { { { path = "/x", body = "{{nope}}" } }, "unknown placeholder {{nope}}" },
        { { { pattern = "^/(?P<id>.*)", body = "{{idd}}" } }, "unknown placeholder {{idd}}" },
        { { { path = "/x", body = "a", bytes = 10 } }, "give one body" },
        { { { path = "/x", listener = "elsewhere" } }, "no listener named 'elsewhere'" },
        { { { path = "/x", forward = true } }, "forward needs an upstream" },
        { { { path = "/x", raw = "HTTP/1.1 200 OK\r\n\r\n", status = 500 } }, "raw is the whole answer" },
        { { { path = "/x", file = "/nonexistent/file" } }, "no file" },
        { { { path = "/x", stall_at = 10 } }, "stall_at needs stall" },
        { { { path = "/x", cut_after = -1 } }, "cut_after must be an integer >= 0" },
      }
      for _, b in ipairs(bad) do
        local ok, err = pcall(gw.script, gw, { cases = b[1] })
        assert.is_false(ok)
        assert.truthy(tostring(err):find(b[2], 1, true), tostring(err))
      end
      assert.equal("kept", (curl(gw.url .. "/x")))
    end)

    it("takes a new script while running; use counts start again", function()
      gw:script{ cases = { { path = "/x", body = "old", times = 1 } } }
      assert.equal("old", (curl(gw.url .. "/x")))
      assert.equal(404, fetch(eng, { url = gw.url .. "/x" }).status)
      gw:script{ cases = { { path = "/x", body = "new", times = 1 } } }
      assert.equal("new", (curl(gw.url .. "/x")))
      gw:script{ cases = { { path = "/x", body = "new", times = 1 } } }
      assert.equal("new", (curl(gw.url .. "/x")))
    end)
  end)

  describe("bodies", function()
    it("sends N generated bytes, the same as gateway.pattern(N)", function()
      gw:script{ cases = { { path = "/big", bytes = 300000 } } }
      local r = fetch(eng, { url = gw.url .. "/big", max_body = 0 })
      assert.equal(300000, #r.body)
      assert.is_true(r.body == gateway.pattern(300000))
      assert.is_true(gateway.pattern(1000, 70000) == gateway.pattern(71000):sub(70001))
      assert.are_not.equal(gateway.pattern(100), gateway.pattern(100, 256))
    end)

    it("sends a file, and any bytes given as a Lua string", function()
      local path = util.tmpfile("gw-body")
      write_file(path, all_bytes() .. "end")
      gw:script{ cases = { { path = "/file", file = path }, { path = "/bytes", body = "\0" .. all_bytes() } } }
      assert.is_true(fetch(eng, { url = gw.url .. "/file" }).body == all_bytes() .. "end")
      assert.is_true(fetch(eng, { url = gw.url .. "/bytes" }).body == "\0" .. all_bytes())
      os.remove(path)
    end)

    it("honours Range and If-Range with ranges = true", function()
      gw:script{ cases = { { path = "/v", bytes = 1000, ranges = true, headers = { { "ETag", '"v1"' } } } } }
      local r = fetch(eng, { url = gw.url .. "/v", headers = { "Range: bytes=990-" } })
      assert.equal(206, r.status)
      assert.equal("bytes 990-999/1000", r.headers["content-range"])
      assert.is_true(r.body == gateway.pattern(10, 990))
      r = fetch(eng, { url = gw.url .. "/v", headers = { "Range: bytes=990-", 'If-Range: "v1"' } })
      assert.equal(206, r.status)
      r = fetch(eng, { url = gw.url .. "/v", headers = { "Range: bytes=990-", 'If-Range: "v0"' } })
      assert.equal(200, r.status)
      assert.equal(1000, #r.body)
      r = fetch(eng, { url = gw.url .. "/v", headers = { "Range: bytes=1000-" } })
      assert.equal(416, r.status)
      assert.equal("bytes */1000", r.headers["content-range"])
    end)

    it("sends a chunked body in chunks of chunk_size", function()
      gw:script{ cases = { { path = "/c", body = "abcdefghij", chunked = true, chunk_size = 4 } } }
      local out = curl("-i --raw " .. gw.url .. "/c")
      assert.equal("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n2\r\nij\r\n0\r\n\r\n",
        out)
      assert.equal("abcdefghij", fetch(eng, { url = gw.url .. "/c" }).body)
    end)

    it("ends a no_length body by closing the connection", function()
      gw:script{ cases = { { path = "/n", body = "until close", no_length = true } } }
      local out = curl("-i " .. gw.url .. "/n")
      assert.equal("HTTP/1.1 200 OK\r\n\r\nuntil close", out)
    end)

    it("sends the head but no body to HEAD", function()
      gw:script{ cases = { { path = "/h", body = "12345" } } }
      local r = fetch(eng, { url = gw.url .. "/h", method = "HEAD" })
      assert.equal(200, r.status)
      assert.equal("5", r.headers["content-length"])
      assert.equal("", r.body)
    end)

    it("applies replace to the body", function()
      gw:script{ cases = { { path = "/r", body = "the host is HOST", replace = { { "HOST", "{{base:media}}" } } } } }
      assert.equal("the host is " .. gw.urls.media, (curl(gw.url .. "/r")))
    end)
  end)

  describe("faults", function()
    it("cut_after: N body bytes of a longer Content-Length, then the connection closes", function()
      gw:script{ cases = { { path = "/cut", bytes = 1000, cut_after = 100 } } }
      local r = fetch(eng, { url = gw.url .. "/cut" })
      assert.is_false(r.ok)
      assert.equal("recv", r.kind)
      assert.equal(200, r.status)
      assert.equal(100, r.bytes)
      assert.equal("cut", outcome_of(gw, 1))
      local _, code = curl("-o /dev/null " .. gw.url .. "/cut")
      assert.equal(18, code) -- CURLE_PARTIAL_FILE
    end)

    it("cut_after on a chunked body: no final chunk", function()
      gw:script{ cases = { { path = "/cut", bytes = 1000, chunked = true, cut_after = 500 } } }
      local r = fetch(eng, { url = gw.url .. "/cut" })
      assert.is_false(r.ok)
      assert.equal("recv", r.kind)
      assert.equal(500, r.bytes)
    end)

    it("stall: nothing before the status line until the client gives up; the stall then ends", function()
      gw:script{ cases = { { path = "/s", stall = 30, body = "late" } } }
      local r = fetch(eng, { url = gw.url .. "/s", timeout = 0.3 })
      assert.is_false(r.ok)
      assert.equal("timeout", r.kind)
      assert.equal(0, r.status)
      -- bounded: the gateway notices the hang-up, long before 30 s
      assert.equal("client_closed", outcome_of(gw, 1))
    end)

    it("stall, then the answer follows whole", function()
      gw:script{ cases = { { path = "/s", stall = 0.05, body = "late" } } }
      local r = fetch(eng, { url = gw.url .. "/s", timeout = 5 })
      assert.is_true(r.ok)
      assert.equal("late", r.body)
    end)

    it("stall_at: N body bytes, then nothing", function()
      gw:script{ cases = { { path = "/s", bytes = 1000, stall = 30, stall_at = 100 } } }
      local r = fetch(eng, { url = gw.url .. "/s", timeout = 0.3 })
      assert.equal("timeout", r.kind)
      assert.equal(200, r.status)
      assert.equal(100, r.bytes)
      assert.equal("client_closed", outcome_of(gw, 1))
    end)

    it("trickle: the body comes a few bytes at a time", function()
      gw:script{ cases = { { path = "/t", bytes = 1000, trickle = { bytes = 10, every = 0.05 } } } }
      local r = fetch(eng, { url = gw.url .. "/t", timeout = 0.4 })
      assert.equal("timeout", r.kind)
      assert.is_true(r.bytes > 0 and r.bytes < 1000, "bytes " .. r.bytes)
      assert.equal(0, r.bytes % 10)
      gw:script{ cases = { { path = "/t", body = "abc", trickle = { bytes = 1, every = 0 } } } }
      assert.equal("abc", fetch(eng, { url = gw.url .. "/t" }).body)
    end)

    it("endless: the body never ends until the client hangs up", function()
      gw:script{ cases = { { path = "/e", endless = true } } }
      local r = fetch(eng, { url = gw.url .. "/e", max_body = 3000000 })
      assert.equal("too_large", r.kind)
      assert.is_true(r.body == "" or r.body == gateway.pattern(#r.body))
      assert.equal("client_closed", outcome_of(gw, 1))
    end)

    it("endless with a Content-Length that lies", function()
      gw:script{ cases = { { path = "/e", endless = true, headers = { "Content-Length: 10" } } } }
      local r = fetch(eng, { url = gw.url .. "/e" })
      assert.is_true(r.ok)
      assert.is_true(r.body == gateway.pattern(10))
    end)

    it("drop: the connection closes with no answer", function()
      gw:script{ cases = { { path = "/d", drop = true } } }
      local r = fetch(eng, { url = gw.url .. "/d" })
      assert.is_false(r.ok)
      assert.equal("recv", r.kind)
      assert.equal(52, r.curl_code) -- CURLE_GOT_NOTHING
      assert.equal("dropped", outcome_of(gw, 1))
    end)

    it("reset: the connection is reset", function()
      gw:script{ cases = { { path = "/d", reset = true } } }
      local r = fetch(eng, { url = gw.url .. "/d" })
      assert.is_false(r.ok)
      assert.equal(56, r.curl_code) -- CURLE_RECV_ERROR
    end)

    it("raw: the answer is written byte for byte", function()
      local raw = "HTTP/1.1 200 OK\r\nX-Odd  :  spaced \r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi"
      gw:script{ cases = { { path = "/raw", raw = raw } } }
      assert.equal(raw, (curl("-i " .. gw.url .. "/raw")))
      gw:script{ cases = { { path = "/raw", raw = "HTTP/1.1 2OO OK\r\n\r\n" } } }
      local r = fetch(eng, { url = gw.url .. "/raw" })
      assert.is_false(r.ok)
      assert.equal(0, r.status)
      assert.equal("raw", outcome_of(gw, 1))
      gw:script{ cases = { { path = "/raw", raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" .. ("x"):rep(100),
                             cut_after = 60 } } }
      r = fetch(eng, { url = gw.url .. "/raw" })
      assert.is_false(r.ok)
      assert.equal(60 - #"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", r.bytes)
      gw:script{ cases = { { path = "/raw", raw = "\255\0binary{{port}}" } } }
      assert.equal("\255\0binary" .. gw.port, (curl("--http0.9 " .. gw.url .. "/raw")))
    end)

    it("keeps the connection open between answers unless close = true", function()
      gw:script{ cases = { { path = "/k", body = "k" }, { path = "/c", body = "c", close = true } } }
      curl(gw.url .. "/k " .. gw.url .. "/k " .. gw.url .. "/c " .. gw.url .. "/k")
      local conns = {}
      for _, r in ipairs(gw:requests()) do conns[#conns + 1] = r.conn end
      assert.same({ 1, 1, 1, 2 }, conns)
      assert.equal(2, #gw:connections())
    end)
  end)

  describe("the record", function()
    it("keeps each request: method, target, every header as sent, the body's bytes, the case", function()
      gw:script{ cases = { { name = "submit", method = "POST", path = "/v1/videos/generations", body = "{}" } } }
      local body = all_bytes() .. "\0tail"
      local r = fetch(eng, { url = gw.url .. "/v1/videos/generations?x=1&y=%20", method = "POST", body = body,
                             headers = { "Authorization: Bearer sk-spec", "X-Odd-CASE: one", "x-odd-case:  two  " } })
      assert.is_true(r.ok)
      local recs = gw:requests()
      assert.equal(1, #recs)
      local rec = recs[1]
      assert.equal(1, rec.n)
      assert.equal("api", rec.listener)
      assert.equal(gw.ports.api, rec.port)
      assert.equal("POST", rec.method)
      assert.equal("/v1/videos/generations?x=1&y=%20", rec.target)
      assert.equal("/v1/videos/generations", rec.path)
      assert.equal("x=1&y=%20", rec.query)
      assert.equal("HTTP/1.1", rec.version)
      assert.equal("submit", rec.case)
      assert.equal("sent", rec.outcome)
      assert.is_true(rec.body == body)
      assert.equal(#body, rec.body_len)
      assert.equal("Bearer sk-spec", rec:header("AUTHORIZATION"))
      assert.same({ "one", "two" }, rec:header_all("x-odd-case"))
      local names = {}
      for _, h in ipairs(rec.headers) do names[#names + 1] = h[1] end
      local joined = table.concat(names, ",")
      assert.truthy(joined:find("Authorization,X-Odd-CASE,x-odd-case", 1, true), joined)
      assert.is_nil(rec:header("cookie"))
    end)

    it("keeps requests in arrival order across listeners and connections; reset forgets them", function()
      gw:script{ cases = { { path = "/a", body = "a" } } }
      fetch(eng, { url = gw.urls.api .. "/a" })
      fetch(eng, { url = gw.urls.media .. "/a?from=media" })
      curl(gw.urls.api .. "/b")
      local recs = gw:requests()
      assert.equal(3, #recs)
      assert.same({ "api", "media", "api" }, { recs[1].listener, recs[2].listener, recs[3].listener })
      assert.same({ 1, 2, 3 }, { recs[1].n, recs[2].n, recs[3].n })
      assert.same({ 1, "none" }, { recs[2].case, recs[3].case })
      assert.equal(1, #gw:requests{ listener = "media" })
      assert.equal(2, #gw:wait_requests(2, { listener = "api" }))
      gw:reset()
      assert.same({}, gw:requests())
      assert.same({}, gw:connections())
      local ok, err = pcall(gw.wait_requests, gw, 1, nil, 0)
      assert.is_false(ok)
      assert.truthy(err:find("1 request(s) awaited, 0 came", 1, true))
    end)

    it("decodes a JSON body", function()
      gw:script{ cases = { { method = "POST", path = "/j", body = "{}" } } }
      fetch(eng, { url = gw.url .. "/j", method = "POST", body = '{"prompt":"猫","n":[1,2]}' })
      assert.same({ prompt = "猫", n = { 1, 2 } }, gw:requests()[1]:json())
    end)
  end)

  describe("forwarding to an upstream", function()
    local up

    setup(function()
      up = gateway.start{ lifetime = 120 }
    end)

    teardown(function()
      assert.is_true(up:stop(), up.stderr)
    end)

    before_each(function()
      up:reset()
    end)

    it("passes method, path, query, headers and body on, and the upstream's status, headers and body back",
      function()
        up:script{ cases = { { path = "/echo", status = 207, reason = "Odd Reason",
                               headers = { { "X-Up", "1" }, { "x-UP", "2" }, { "Content-Type", "text/plain" } },
                               body = "from upstream {{method}}" } } }
        gw:script{ upstream = up.url }
        local body = all_bytes()
        local r = fetch(eng, { url = gw.url .. "/echo?q=1&r=a%2Fb", method = "PUT", body = body,
                               headers = { "Authorization: Bearer sk-spec", "X-Twice: a", "x-twice: b" } })
        assert.equal(207, r.status)
        assert.equal("from upstream PUT", r.body)
        local rec = gw:requests()[1]
        assert.equal("upstream", rec.case)
        assert.is_true(rec.forwarded)
        assert.equal(207, rec.upstream_status)
        local seen = up:requests()[1]
        assert.equal("PUT", seen.method)
        assert.equal("/echo?q=1&r=a%2Fb", seen.target)
        assert.is_true(seen.body == body)
        assert.equal("Bearer sk-spec", seen:header("authorization"))
        assert.same({ "a", "b" }, seen:header_all("X-TWICE"))
        assert.same(rec.headers, seen.headers) -- names, case, order and values, Host included
        -- the head comes back as the upstream wrote it (only framing is redone)
        local out = curl("-i " .. gw.url .. "/echo")
        assert.equal("HTTP/1.1 207 Odd Reason\r\nX-Up: 1\r\nx-UP: 2\r\nContent-Type: text/plain\r\n" ..
          "Content-Length: 17\r\n\r\nfrom upstream GET", out)
      end)

    it("forwards only what no case answers", function()
      up:script{ cases = { { path = "/x", body = "upstream" } } }
      gw:script{ upstream = up.url, cases = { { path = "/x", times = 1, body = "scripted" } } }
      assert.equal("scripted", (curl(gw.url .. "/x")))
      assert.equal("upstream", (curl(gw.url .. "/x")))
      assert.equal(1, #up:requests())
    end)

    it("forward = true: the upstream answers, then the case's faults apply", function()
      up:script{ cases = { { path = "/x", bytes = 1000 } } }
      gw:script{ upstream = up.url, cases = { { name = "cut", path = "/x", forward = true, cut_after = 10 } } }
      local r = fetch(eng, { url = gw.url .. "/x" })
      assert.is_false(r.ok)
      assert.equal(10, r.bytes)
      assert.is_true(r.body == "" or r.body == gateway.pattern(10))
      assert.equal(1, #up:requests())
      assert.equal("cut", gw:requests()[1].case)
    end)

    it("answers 502 gateway_upstream_error when the upstream is down", function()
      local dead = gateway.start{}
      local url = dead.url
      assert.is_true(dead:stop())
      gw:script{ upstream = url }
      local r = fetch(eng, { url = gw.url .. "/x" })
      assert.equal(502, r.status)
      assert.equal("gateway_upstream_error", cjson.decode(r.body).error.type)
      local rec = gw:requests()[1]
      assert.equal("upstream_error", rec.outcome)
      assert.truthy(rec.upstream_error)
    end)

    describe("with the emulator", function()
      local emu

      setup(function()
        emu = emulator.start{ speed = util.SPEED }
      end)

      teardown(function()
        assert.is_true(emu:stop())
      end)

      it("serves a submit and its poll through the gateway", function()
        gw:script{ upstream = emu.url }
        local auth = { "Authorization: Bearer sk-spec", "Content-Type: application/json" }
        local r = fetch(eng, { url = gw.url .. "/v1/videos/generations", method = "POST", headers = auth,
                               body = cjson.encode{ model = "doubao-seedance-2.0", prompt = "a cat" } })
        assert.equal(200, r.status)
        local id = cjson.decode(r.body).data[1].task_id
        r = fetch(eng, { url = gw.url .. "/v1/tasks/" .. id, headers = auth })
        assert.equal(200, r.status)
        assert.equal(id, cjson.decode(r.body).data.id)
        assert.equal("application/json", r.headers["content-type"]:match("^[^;]+"))
        assert.same({ "upstream", "upstream" }, { gw:requests()[1].case, gw:requests()[2].case })
        assert.equal(1, emu:stats().tasks_created)
      end)

      it("lets the client meet one scripted 503 on its first poll; the emulator serves the rest", function()
        gw:script{ upstream = emu.url, cases = {
          { name = "odd poll", method = "GET", pattern = "^/v1/tasks/", times = 1, status = 503,
            headers = { { "Retry-After", "0" } }, json = { error = { code = 503, type = "bad_gateway", message = "x" } } },
        } }
        local client = seedance.new{ api_key = "sk-spec", base_url = gw.url, time_scale = 1 / util.SPEED,
                                     backoff = 0.01, max_backoff = 0.05, wait_timeout = 600 }
        local task = assert(client:generate{ model = "doubao-seedance-2.0", prompt = "a cat yawns" })
        assert(task:wait())
        assert.equal("completed", task.status)
        assert.equal(1, #gw:requests{ case = "odd poll" })
        local polls = gw:requests{ method = "GET" }
        assert.is_true(#polls >= 2)
        for _, rec in ipairs(gw:requests()) do
          assert.equal("Bearer sk-spec", rec:header("authorization"))
        end
      end)

      it("forward = true with drop: the emulator makes the task, the client gets no answer", function()
        local before = emu:stats().tasks_created
        gw:script{ upstream = emu.url, cases = { { method = "POST", path = "/v1/videos/generations", forward = true,
                                                   drop = true } } }
        local r = fetch(eng, { url = gw.url .. "/v1/videos/generations", method = "POST",
                               headers = { "Authorization: Bearer sk-spec" },
                               body = cjson.encode{ model = "doubao-seedance-2.0", prompt = "a cat" } })
        assert.is_false(r.ok)
        assert.equal(52, r.curl_code)
        assert.equal(before + 1, emu:stats().tasks_created)
      end)
    end)
  end)

  describe("TLS", function()
    local certs, tgw

    setup(function()
      certs = tls.make()
      tgw = gateway.start{ lifetime = 120, cases = { { path = "/x", body = "secure {{base}}" } }, listeners = {
        { name = "good", tls = certs.server },
        { name = "wrong", tls = certs.wrong_host },
        { name = "self", tls = certs.self_signed },
      } }
    end)

    teardown(function()
      assert.is_true(tgw:stop(), tgw.stderr)
      certs:remove()
    end)

    it("serves https that verifies with the test CA, to 127.0.0.1 and localhost", function()
      assert.equal("https://127.0.0.1:" .. tgw.ports.good, tgw.urls.good)
      local r = fetch(eng, { url = tgw.urls.good .. "/x", ca_file = certs.ca })
      assert.is_true(r.ok, r.error)
      assert.equal("secure " .. tgw.urls.good, r.body)
      r = fetch(eng, { url = "https://localhost:" .. tgw.ports.good .. "/x", ca_file = certs.ca })
      assert.is_true(r.ok, r.error)
      assert.equal("localhost:" .. tgw.ports.good, tgw:requests()[2]:header("host"))
    end)

    it("fails verification without the CA, for a wrong host name, and for a self-signed certificate", function()
      tgw:reset()
      local r = fetch(eng, { url = tgw.urls.good .. "/x" })
      assert.is_false(r.ok)
      assert.equal("tls", r.kind)
      r = fetch(eng, { url = tgw.urls.wrong .. "/x", ca_file = certs.ca })
      assert.equal("tls", r.kind)
      r = fetch(eng, { url = tgw.urls.self .. "/x", ca_file = certs.ca })
      assert.equal("tls", r.kind)
      assert.same({}, tgw:requests())
      local conns = tgw:connections()
      assert.equal(3, #conns)
      for _, c in ipairs(conns) do
        assert.is_true(c.tls)
        assert.equal(0, c.requests)
        -- an unknown issuer fails the handshake; libcurl checks the name after it
        if c.listener ~= "wrong" then assert.truthy(c.tls_error, c.listener) end
      end
      -- each certificate is what it says: the wrong-host one is fine for its own name, the self-signed one
      -- for itself as the CA
      local _, code = curl("-o /dev/null --cacert " .. sh_quote(certs.ca) .. " --resolve wrong-host.invalid:" ..
        tgw.ports.wrong .. ":127.0.0.1 https://wrong-host.invalid:" .. tgw.ports.wrong .. "/x")
      assert.equal(0, code)
      _, code = curl("-o /dev/null --cacert " .. sh_quote(certs.self_signed.cert) .. " " .. tgw.urls.self .. "/x")
      assert.equal(0, code)
    end)
  end)

  describe("IPv6", function()
    it("listens on ::1 when asked", function()
      local ok, g6 = pcall(gateway.start, { listeners = { { name = "v6", host = "::1" } },
                                            cases = { { path = "/x", body = "six" } } })
      if not ok then
        pending("no ::1 here: " .. tostring(g6))
        return
      end
      assert.equal("http://[::1]:" .. g6.port, g6.url)
      assert.equal("six", (curl("-g " .. g6.url .. "/x")))
      assert.truthy(g6:connections()[1].peer:find("::1", 1, true))
      assert.is_true(g6:stop(), g6.stderr)
    end)
  end)

  describe("lifetime", function()
    it("exits by itself when its lifetime is over", function()
      local short = gateway.start{ lifetime = 0.2 }
      local deadline = os.time() + 6
      while short:running() and os.time() <= deadline do os.execute("sleep 0.02") end
      assert.is_false(short:running())
      assert.same({ true, 0 }, { short:stop() })
      assert.same({ true, 0 }, { short:stop() })
    end)

    it("tells its own failures: stop() gives false, status 3, and the traceback in stderr", function()
      local path = util.tmpfile("gw-gone")
      write_file(path, "x")
      local g = gateway.start{ cases = { { path = "/f", file = path } } }
      os.remove(path) -- the gateway cannot answer now: its fault, not the client's
      local r = fetch(eng, { url = g.url .. "/f" })
      assert.is_false(r.ok)
      assert.equal(1, #g:info().errors)
      assert.same({ false, 3 }, { g:stop() })
      assert.truthy(g.stderr:find("FileNotFoundError", 1, true), g.stderr)
    end)

    it("stop kills a gateway in the middle of an endless answer", function()
      local g = gateway.start{ cases = { { path = "/e", endless = true, trickle = { bytes = 1, every = 0.05 } } } }
      local e2 = core.engine()
      local id = e2:add{ url = g.url .. "/e" }
      local deadline = core.now() + 5
      repeat e2:step(20) until #g:requests() == 1 or core.now() > deadline
      assert.is_true(g:stop(), g.stderr)
      local r
      deadline = core.now() + 5
      repeat
        e2:step(20)
        r = e2:next()
      until r or core.now() > deadline
      e2:close()
      assert.equal(id, r.id)
      -- the body had no length: its end is the connection's, and what came is the pattern
      assert.is_true(r.body == gateway.pattern(#r.body))
    end)
  end)

  it("reads the record as read_file would have it (a request's body may be large)", function()
    gw:script{ cases = { { method = "POST", path = "/up", body = "ok" } } }
    local big = gateway.pattern(1000000)
    local path = util.tmpfile("gw-up")
    write_file(path, big)
    local _, code = curl("-o /dev/null --data-binary @" .. sh_quote(path) .. " " .. gw.url .. "/up")
    assert.equal(0, code)
    local rec = gw:requests()[1]
    assert.equal(1000000, rec.body_len)
    assert.is_true(rec.body == read_file(path))
    os.remove(path)
  end)
end)
