-- seedance-emulator against hostile requests: every parser of untrusted input
-- (Range, the multipart boundary, part headers and body split,
-- Authorization and the keys file, Idempotency-Key, task ids in paths, the
-- bytes it echoes into JSON) fed what the world sends, not what we designed.
-- Each spec here failed on the emulator before the parsers moved into
-- emulator/parse.c, multipart.c and escape.c (fuzzed by fuzz/fuzz_emu_*.c);
-- `make check-emulator-asan` runs them against an ASan+UBSan build.
local curl = require("helpers.curl")
local assert_error = curl.assert_error
local emulator = require("helpers.emulator")

local http, submit, wait_done, video_url, run, q = curl.http, curl.submit, curl.wait_done, curl.video_url, curl.run,
  curl.q

local PNG = "\137PNG\r\n\26\n" .. string.rep("p", 100)

-- Whether s is valid UTF-8 (iconv refuses anything else).
local function utf8_ok(s)
  local f = os.tmpname()
  curl.write_file(f, s)
  local _, ok = run("iconv -f UTF-8 -t UTF-8 " .. q(f) .. " >/dev/null 2>&1")
  os.remove(f)
  return ok
end

-- A multipart body of parts { name, filename, data } (a string is a whole raw part).
local function multipart(boundary, parts)
  local out = {}
  for _, p in ipairs(parts) do
    if type(p) == "string" then
      out[#out + 1] = "--" .. boundary .. "\r\n" .. p .. "\r\n"
    else
      out[#out + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. p.name .. "\""
        .. (p.filename and "; filename=\"" .. p.filename .. "\"" or "")
        .. "\r\nContent-Type: application/octet-stream\r\n\r\n" .. p.data .. "\r\n"
    end
  end
  return table.concat(out) .. "--" .. boundary .. "--\r\n"
end

local function raw_upload(emu, content_type, body)
  return http("POST", emu.url .. "/v1/uploads/images", { headers = { ["Content-Type"] = content_type }, body = body })
end

describe("seedance-emulator, hostile input #emulator #child", function()
  local emu
  before_each(function() emu = emulator.start() end)
  after_each(function()
    if emu then
      -- still up after whatever was sent, and exits cleanly
      assert.equals(200, http("GET", emu.url .. "/_emulator/stats", { key = false }).status)
      local ok, code = emu:stop()
      assert.is_true(ok, "exit status " .. tostring(code))
    end
    emu = nil
  end)

  -- Stop the test's emulator and start one with these flags instead.
  local function restart(opts)
    emu:stop()
    emu = emulator.start(opts)
  end

  describe("Range", function()
    local url, size, whole
    local function setup_media(opts)
      restart(opts)
      url = video_url(wait_done(emu, (submit(emu))))
      whole = http("GET", url).body
      size = #whole
    end

    it("answers 416 to 'bytes= -100000-' and sends nothing from before the file", function()
      setup_media{ speed = 1e5 }
      local r = http("GET", url, { range = "bytes= -100000-" })
      assert.equals(416, r.status)
      assert.equals("bytes */" .. size, r.headers["content-range"])
      assert.is_true(#r.body < 100, #r.body)
    end)

    it("answers 416 to every malformed bytes= range (no signs, spaces, junk or missing numbers)", function()
      setup_media{ speed = 1e5 }
      for _, h in ipairs{ "bytes=-100000-", "bytes=+5-", "bytes=5-9x", "bytes= 5-9", "bytes=5 -9", "bytes=5-+9",
        "bytes=-5-", "bytes=--5", "bytes=-", "bytes=", "bytes=-0", "bytes=9-5", "bytes=a-b", "bytes=0x10-",
        "bytes=99999999999999999999999-", "bytes=" .. size .. "-" } do
        local r = http("GET", url, { range = h })
        assert.equals(416, r.status, h)
        assert.equals("bytes */" .. size, r.headers["content-range"], h)
      end
    end)

    it("serves well-formed edges: huge numbers saturate, the unit is case-blind, other units and lists get 200", function()
      setup_media{ speed = 1e5 }
      local r = http("GET", url, { range = "bytes=0-99999999999999999999999" })
      assert.equals(206, r.status)
      assert.equals(string.format("bytes 0-%d/%d", size - 1, size), r.headers["content-range"])
      assert.equals(whole, r.body)
      r = http("GET", url, { range = "bytes=-99999999999999999999999" })
      assert.equals(206, r.status)
      assert.equals(whole, r.body)
      r = http("GET", url, { range = "BYTES=1-2" })
      assert.equals(206, r.status)
      assert.equals(whole:sub(2, 3), r.body)
      for _, h in ipairs{ "items=0-9", "bytes=0-1,3-4", "bytes= -1, 2-" } do
        r = http("GET", url, { range = h })
        assert.equals(200, r.status, h)
        assert.equals(whole, r.body, h)
      end
    end)

    it("answers 416 to a malformed range of the synthetic and the paced video too", function()
      for _, opts in ipairs{ { speed = 1e5, video_bytes = 200000 }, { speed = 1e5, media_rate = 1e7 } } do
        setup_media(opts)
        local r = http("GET", url, { range = "bytes= -100000-" })
        assert.equals(416, r.status)
        r = http("GET", url, { range = "bytes=" .. (size - 3) .. "-" })
        assert.equals(206, r.status)
        assert.equals(whole:sub(-3), r.body)
      end
    end)
  end)

  describe("multipart uploads", function()
    it("answers 400 to a 300-character boundary, naming the boundary", function()
      local b = string.rep("x", 300)
      local r = raw_upload(emu, "multipart/form-data; boundary=" .. b,
        multipart(b, { { name = "file", filename = "a.png", data = PNG .. string.rep("\0", 1000) } }))
      assert_error(r, 400, "boundary")
    end)

    it("takes a boundary of 70 characters and refuses 71", function()
      local b70, b71 = string.rep("b", 70), string.rep("b", 71)
      local r = raw_upload(emu, "multipart/form-data; boundary=" .. b70, multipart(b70, { { name = "file", data = PNG } }))
      assert.equals(200, r.status, r.body)
      assert.equals(#PNG, r.json.bytes)
      r = raw_upload(emu, "multipart/form-data; boundary=" .. b71, multipart(b71, { { name = "file", data = PNG } }))
      assert_error(r, 400, "boundary")
    end)

    it("reads the boundary parameter itself, not a 'boundary=' inside another one", function()
      local body = multipart("real", { { name = "file", data = PNG } })
      local r = raw_upload(emu, "multipart/form-data; xboundary=decoy; boundary=real", body)
      assert.equals(200, r.status, r.body)
      r = raw_upload(emu, "multipart/form-data; BOUNDARY=\"real\"", body)
      assert.equals(200, r.status, r.body)
      for _, ct in ipairs{ "text/plain; boundary=real", "multipart/form-dataX; boundary=real",
        "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"real",
        "multipart/form-data; boundary=a; boundary=real", "multipart/form-data; boundary=re{al}" } do
        r = raw_upload(emu, ct, body)
        assert.equals(400, r.status, ct)
        assert.equals("invalid_request_error", r.json.error.type, ct)
      end
    end)

    it("matches the part named file, not name=\"file\" inside filename=\"file\"", function()
      local r = raw_upload(emu, "multipart/form-data; boundary=B",
        multipart("B", { { name = "other", filename = "file", data = PNG } }))
      assert_error(r, 400, "'file' is required")
      assert.equals(0, emu:stats().uploads)
    end)

    it("ends a part only at CRLF--boundary: the boundary inside a line is content", function()
      local data = PNG .. "--B and more" .. "\r\n-B" .. "\n--B"
      local r = raw_upload(emu, "multipart/form-data; boundary=B", multipart("B", { { name = "file", data = data } }))
      assert.equals(200, r.status, r.body)
      assert.equals(#data, r.json.bytes)
      assert.equals(data, http("GET", r.json.url, { key = false }).body)
    end)

    it("answers 400 to cut or malformed bodies and part headers", function()
      local cd = "Content-Disposition: form-data; name=\"file\""
      for _, body in ipairs{
        "", "--B", "--B\r\n", "--B\r\n" .. cd .. "\r\n\r\n" .. PNG, -- no closing delimiter
        "--B\r\n" .. cd .. "\r\n" .. PNG .. "\r\n--B--",             -- no empty line after the headers
        "--Bxyz\r\n" .. cd .. "\r\n\r\n" .. PNG .. "\r\n--B--",       -- a longer boundary
        "--B\r\n" .. cd .. "; name=\"file\"\r\n\r\n" .. PNG .. "\r\n--B--", -- name twice
        "--B\r\nContent-Disposition: form-data; name=\"fi\1le\"\r\n\r\n" .. PNG .. "\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"file\r\n\r\n" .. PNG .. "\r\n--B--",
        "--B\r\n Content-Disposition: form-data; name=\"file\"\r\n\r\n" .. PNG .. "\r\n--B--",
        "--B\r\nContent-Disposition: ; name=\"file\"\r\n\r\n" .. PNG .. "\r\n--B--" } do
        local r = raw_upload(emu, "multipart/form-data; boundary=B", body)
        assert.equals(400, r.status, body)
      end
      assert.equals(0, emu:stats().uploads)
    end)

    it("echoes a hostile filename as valid JSON in UTF-8, quoted-pairs read; refuses one over 255 bytes", function()
      local r = raw_upload(emu, "multipart/form-data; boundary=B",
        multipart("B", { { name = "file", filename = "a\\\"b\255\254\t.png", data = PNG } }))
      assert.equals(200, r.status, r.body)
      assert.is_true(utf8_ok(r.body), r.body)
      assert.equals("a\"b\239\191\189\239\191\189\t.png", r.json.filename) -- U+FFFD for each stray byte
      r = raw_upload(emu, "multipart/form-data; boundary=B",
        multipart("B", { { name = "file", filename = string.rep("n", 255), data = PNG } }))
      assert.equals(200, r.status)
      assert.equals(string.rep("n", 255), r.json.filename)
      r = raw_upload(emu, "multipart/form-data; boundary=B",
        multipart("B", { { name = "file", filename = string.rep("n", 256), data = PNG } }))
      assert_error(r, 400, "filename")
    end)
  end)

  describe("Authorization and keys", function()
    it("never truncates a key: a listed key plus one more byte is refused", function()
      local k = "sk-" .. string.rep("a", 124) -- 127 bytes
      local file = os.tmpname()
      curl.write_file(file, k .. "\n")
      restart{ keys = file }
      assert.equals(200, http("GET", emu.url .. "/v1/balance", { key = k }).status)
      local r = http("GET", emu.url .. "/v1/balance", { key = k .. "b" })
      os.remove(file)
      assert_error(r, 401, "invalid API key")
    end)

    it("takes keys up to 255 bytes of visible ASCII in any case of 'Bearer'; refuses the rest as invalid", function()
      local function status(value) return http("GET", emu.url .. "/v1/balance",
        { key = false, headers = { "Authorization: " .. value } }) end
      assert.equals(200, status("Bearer " .. string.rep("k", 255)).status)
      assert.equals(200, status("bearer sk-lower").status)
      assert.equals(200, status("Bearer <token>").status) -- the reference page's placeholder
      for _, v in ipairs{ "Bearer " .. string.rep("k", 256), "Bearer " .. string.rep("k", 5000), "Bearer a b",
        "Bearer sk-\195\169", "Bearer sk-\1x" } do
        local r = status(v)
        assert.equals(401, r.status, v)
        assert.matches("invalid API key", r.json.error.message, 1, true)
      end
      for _, v in ipairs{ "Bearer", "Basic abc", "Bearersk-x" } do
        local r = status(v)
        assert.equals(401, r.status, v)
        assert.matches("missing API key", r.json.error.message, 1, true)
      end
    end)

    it("keeps a rate window per whole key (two long keys sharing 100 bytes are two keys)", function()
      restart{ rpm = 1 }
      local a, b = string.rep("k", 110) .. "A", string.rep("k", 110) .. "B"
      assert.equals(200, http("GET", emu.url .. "/v1/balance", { key = a }).status)
      assert.equals(200, http("GET", emu.url .. "/v1/balance", { key = b }).status)
      assert.equals(429, http("GET", emu.url .. "/v1/balance", { key = a }).status)
    end)

    it("refuses to start on a --keys file with a key longer than 255 bytes (never splits it)", function()
      local file = os.tmpname()
      curl.write_file(file, string.rep("a", 255) .. string.rep("b", 45) .. "\nsk-ok\n")
      local ok, err = pcall(emulator.start, { keys = file })
      os.remove(file)
      if ok then err:stop() end
      assert.is_false(ok)
      assert.matches("longer than 255", tostring(err))
    end)
  end)

  describe("request bodies", function()
    it("reads a submit body of 1 MiB and answers 413 to one byte more (src/buf.c's cap)", function()
      local mib = 1024 * 1024
      local r = http("POST", emu.url .. "/v1/videos/generations", { json = string.rep(" ", mib) })
      assert.equals(400, r.status) -- read whole: not a JSON object
      r = http("POST", emu.url .. "/v1/videos/generations", { json = string.rep(" ", mib + 1) })
      assert.equals(413, r.status)
      assert.equals(0, emu:stats().tasks_created)
    end)
  end)

  describe("Idempotency-Key", function()
    it("takes exactly 127 bytes of any kind and replays them; refuses 128", function()
      local key = string.rep("\255", 100) .. string.rep("i", 27)
      local id1 = submit(emu, nil, { headers = { ["Idempotency-Key"] = key } })
      local id2, r2 = submit(emu, nil, { headers = { ["Idempotency-Key"] = key } })
      assert.equals(id1, id2)
      assert.equals("true", r2.headers["idempotency-replayed"])
      local r = http("POST", emu.url .. "/v1/videos/generations",
        { json = curl.BASIC, headers = { ["Idempotency-Key"] = key .. "x" } })
      assert.equals(400, r.status)
      assert.equals(1, emu:stats().tasks_created)
    end)
  end)

  describe("task ids in paths and bytes echoed into JSON", function()
    it("answers 404 in valid UTF-8 JSON to ids of stray bytes, cut characters and any length", function()
      local ids = { "task_%FF%FE", "task_" .. string.rep("%C3%A9", 50), string.rep("x", 4000), "a/b",
        "%2e%2e/%2e%2e/balance", "task_%22%5C%0A" }
      for _, id in ipairs(ids) do
        local r = http("GET", emu.url .. "/v1/tasks/" .. id)
        assert.equals(404, r.status, id)
        assert.is_true(utf8_ok(r.body), id)
        assert.equals("invalid_request_error", r.json.error.type, id)
      end
      local id = submit(emu)
      assert.equals(404, http("GET", emu.url .. "/v1/tasks/" .. id .. "/x").status)
      assert.equals(404, http("GET", emu.url .. "/v1/tasks/" .. id:lower()).status)
      assert.equals(200, http("GET", emu.url .. "/v1/tasks/" .. id .. "?language=%FF").status)
    end)

    it("answers 404 to media names that are not <task id>.mp4 or .png", function()
      restart{ speed = 1e5 }
      local id = submit(emu)
      wait_done(emu, id)
      for _, name in ipairs{ ".mp4", id, id .. ".mp4.png", id .. ".MP4", id .. "x.mp4", "%FF.mp4",
        string.rep("t", 5000) .. ".mp4" } do
        assert.equals(404, http("GET", emu.url .. "/media/" .. name).status, name)
      end
      assert.equals(200, http("GET", emu.url .. "/media/" .. id .. ".mp4").status)
    end)

    it("names unknown body keys of stray bytes in valid UTF-8 JSON", function()
      local r = http("POST", emu.url .. "/v1/videos/generations",
        { json = '{"model":"doubao-seedance-2.0","prompt":"x","\255\254":1,"a\\"b\\u0001":2}' })
      assert.equals(400, r.status)
      assert.is_true(utf8_ok(r.body), r.body)
      assert.matches("unknown key", r.json.error.message)
    end)
  end)
end)
