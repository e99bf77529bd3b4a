-- Specs for seedance-emulator, driven by clients the project did not write:
-- the curl command line and the Python requests example of the service's
-- reference page. Every option has a case.
local cjson = require("cjson")
local emulator = require("helpers.emulator")

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  local ok, _, code = p:close()
  return out, ok, code
end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- curl: returns status, headers (lowercased names), body
local function curl(emu, method, path, opts)
  opts = opts or {}
  local args = { "curl -s -S --max-time 10 -D - -X", method }
  if opts.key ~= false then args[#args + 1] = "-H " .. q("Authorization: Bearer " .. (opts.key or "sk-spec")) end
  for _, h in ipairs(opts.headers or {}) do args[#args + 1] = "-H " .. q(h) end
  if opts.json then
    args[#args + 1] = "-H 'Content-Type: application/json' --data-binary " .. q(opts.json)
  end
  if opts.form then args[#args + 1] = "-H 'Expect:' -F " .. q(opts.form) end
  if opts.out then args[#args + 1] = "-o " .. q(opts.out) end
  args[#args + 1] = q((path:match("^http") and "" or emu.url) .. path)
  local out = sh(table.concat(args, " "))
  local status = tonumber(out:match("^HTTP/[%d.]+ (%d+)"))
  local headers, rest = {}, out
  local head_end = out:find("\r\n\r\n", 1, true)
  if head_end then
    for name, value in out:sub(1, head_end):gmatch("([%w-]+):%s*([^\r\n]*)") do headers[name:lower()] = value end
    rest = out:sub(head_end + 4)
  end
  return status, headers, rest
end

local REQ = '{"model":"doubao-seedance-2.0","prompt":"小猫对着镜头打哈欠","resolution":"720p",'
  .. '"size":"16:9","duration":5,"generate_audio":true}'

local function submit(emu, body, opts)
  opts = opts or {}
  opts.json = body or REQ
  local status, headers, out = curl(emu, "POST", "/v1/videos/generations", opts)
  return status, headers, cjson.decode(out)
end

local function poll_until_done(emu, id, key)
  for _ = 1, 400 do
    local _, _, body = curl(emu, "GET", "/v1/tasks/" .. id, { key = key })
    local data = cjson.decode(body).data
    if data.status == "completed" or data.status == "failed" then return data end
    os.execute("sleep 0.02")
  end
  error("task " .. id .. " did not end")
end

local function tmp(name) return os.tmpname() .. "-" .. name end

local function ffprobe(path)
  local out = sh("ffprobe -v error -show_entries format=duration:stream=width,height -of json " .. q(path))
  return cjson.decode(out)
end

describe("seedance-emulator", function()
  local emu
  setup(function() emu = emulator.start{ speed = 200 } end)
  teardown(function() emu:stop() end)

  it("prints 'listening on http://HOST:PORT' first and binds loopback", function()
    assert.matches("^http://127%.0%.0%.1:%d+$", emu.url)
  end)

  it("answers the reference page's cURL example with a task id, completes it, and serves a playable MP4", function()
    local status, _, body = submit(emu)
    assert.equals(200, status)
    assert.equals(200, body.code)
    assert.equals("submitted", body.data[1].status)
    assert.matches("^task_[0-9A-HJKMNP-TV-Z]+$", body.data[1].task_id)
    assert.equals(31, #body.data[1].task_id)
    local data = poll_until_done(emu, body.data[1].task_id)
    assert.equals("completed", data.status)
    assert.equals(100, data.progress)
    assert.is_number(data.estimated_time)
    assert.is_number(data.actual_time)
    local url = data.result.videos[1].url[1]
    assert.matches("^" .. emu.url:gsub("%p", "%%%0") .. "/media/", url)
    local out = tmp("ref.mp4")
    assert.equals(200, (curl(emu, "GET", url, { key = false, out = out })))
    local probe = ffprobe(out)
    assert.equals(5, math.floor(tonumber(probe.format.duration) + 0.5))
    assert.is_true(probe.streams[1].width > probe.streams[1].height) -- 16:9
    os.remove(out)
  end)

  it("runs the reference page's Python requests example to the end", function()
    local out = tmp("py.mp4")
    local text, ok = sh("/usr/bin/python3 spec/support/reference_example.py " .. q(emu.url) .. " sk-py " .. q(out))
    assert.is_true(ok, text)
    assert.matches("'task_id': 'task_", text)
    assert.matches("completed 100", text)
    assert.is_not_nil(ffprobe(out).format)
    os.remove(out)
  end)

  it("moves a task pending -> processing (progress rising) -> completed on its clock", function()
    local slow = emulator.start{ speed = 1, task_seconds = 2 }
    local _, _, body = submit(slow)
    local id = body.data[1].task_id
    local seen, last = {}, -1
    for _ = 1, 60 do
      local _, _, b = curl(slow, "GET", "/v1/tasks/" .. id .. "?language=en")
      local d = cjson.decode(b).data
      seen[d.status] = true
      assert.is_true(d.progress >= last)
      last = d.progress
      if d.status == "completed" then break end
      os.execute("sleep 0.05")
    end
    slow:stop()
    assert.is_true(seen.pending and seen.processing and seen.completed)
  end)

  it("shapes the estimated time by duration, resolution and model (--task-seconds overrides)", function()
    local _, _, a = submit(emu, '{"model":"doubao-seedance-2.0","prompt":"x","duration":5}')
    local _, _, b = submit(emu, '{"model":"doubao-seedance-2.0-fast","prompt":"x","duration":15,"resolution":"720p"}')
    local function est(id) return cjson.decode(select(3, curl(emu, "GET", "/v1/tasks/" .. id))).data.estimated_time end
    assert.equals(60, est(a.data[1].task_id))
    assert.equals(81, est(b.data[1].task_id))
    local fixed = emulator.start{ task_seconds = 33 }
    local _, _, c = submit(fixed)
    assert.equals(33, cjson.decode(select(3, curl(fixed, "GET", "/v1/tasks/" .. c.data[1].task_id))).data.estimated_time)
    fixed:stop()
  end)

  it("rejects invalid requests with 400 invalid_request_error naming the field (the project's validator)", function()
    local status, _, body = submit(emu, '{"model":"doubao-seedance-2.0","prompt":"x","resoluton":"720p"}')
    assert.equals(400, status)
    assert.equals("invalid_request_error", body.error.type)
    assert.matches("resoluton: unknown key; did you mean resolution%?", body.error.message)
    local s2, _, b2 = submit(emu, "not json")
    assert.equals(400, s2)
    assert.matches("JSON object", b2.error.message)
  end)

  it("answers an unknown task id with an error body", function()
    local status, _, body = curl(emu, "GET", "/v1/tasks/task_nope")
    assert.equals(404, status)
    assert.equals("invalid_request_error", cjson.decode(body).error.type)
  end)

  it("honours Idempotency-Key: same key, same task, Idempotency-Replayed: true", function()
    local before = emu:stats().tasks_created
    local _, h1, a = submit(emu, nil, { headers = { "Idempotency-Key: spec-emu-1" } })
    local _, h2, b = submit(emu, nil, { headers = { "Idempotency-Key: spec-emu-1" } })
    assert.equals(a.data[1].task_id, b.data[1].task_id)
    assert.is_nil(h1["idempotency-replayed"])
    assert.equals("true", h2["idempotency-replayed"])
    assert.equals(before + 1, emu:stats().tasks_created)
  end)

  it("answers Range requests with 206 and a correct Content-Range, and 416 past the end", function()
    local _, _, body = submit(emu)
    local data = poll_until_done(emu, body.data[1].task_id)
    local url = data.result.videos[1].url[1]
    local whole = tmp("whole.mp4")
    curl(emu, "GET", url, { key = false, out = whole })
    local f = assert(io.open(whole, "rb"))
    local bytes = f:read("*a")
    f:close()
    local part = tmp("part.mp4")
    local status, headers = curl(emu, "GET", url, { key = false, headers = { "Range: bytes=100-199" }, out = part })
    assert.equals(206, status)
    assert.equals("bytes 100-199/" .. #bytes, headers["content-range"])
    f = assert(io.open(part, "rb"))
    assert.equals(bytes:sub(101, 200), f:read("*a"))
    f:close()
    local s2, h2 = curl(emu, "GET", url, { key = false, headers = { "Range: bytes=" .. #bytes .. "-" } })
    assert.equals(416, s2)
    assert.equals("bytes */" .. #bytes, h2["content-range"])
    local s3 = curl(emu, "GET", url, { key = false, headers = { "Range: bytes=10-", 'If-Range: "other"' },
                                       out = part })
    assert.equals(200, s3)
    os.remove(whole)
    os.remove(part)
  end)

  it("picks the fixture by size: 9:16 is portrait", function()
    local _, _, body = submit(emu, '{"model":"doubao-seedance-2.0","prompt":"x","size":"9:16"}')
    local data = poll_until_done(emu, body.data[1].task_id)
    local out = tmp("portrait.mp4")
    curl(emu, "GET", data.result.videos[1].url[1], { key = false, out = out })
    local s = ffprobe(out).streams[1]
    assert.is_true(s.height > s.width)
    os.remove(out)
  end)

  it("adds a last-frame PNG with return_last_frame, under each --last-frame-key shape", function()
    for _, shape in ipairs{ "result", "video", "images" } do
      local e = emulator.start{ speed = 200, last_frame_key = shape, result_url_style = "string" }
      local _, _, body = submit(e, '{"model":"doubao-seedance-2.0","prompt":"x","return_last_frame":true}')
      local r = poll_until_done(e, body.data[1].task_id).result
      local url = (shape == "result" and r.last_frame_url) or (shape == "video" and r.videos[1].last_frame_url)
        or r.images[1].url
      assert.is_string(url, shape)        -- string style
      assert.is_string(r.videos[1].url)
      local out = tmp("frame.png")
      assert.equals(200, (curl(e, "GET", url, { key = false, out = out })))
      local f = assert(io.open(out, "rb"))
      assert.equals("\137PNG", f:read(4))
      f:close()
      os.remove(out)
      e:stop()
    end
  end)

  it("answers data as an object with --submit-shape object", function()
    local e = emulator.start{ submit_shape = "object" }
    local _, _, body = submit(e)
    e:stop()
    assert.matches("^task_", body.data.id)
    assert.equals("submitted", body.data.status)
  end)

  it("expires result URLs after --url-ttl with 403", function()
    local e = emulator.start{ speed = 200, url_ttl = 0.5 }
    local _, _, body = submit(e)
    local url = poll_until_done(e, body.data[1].task_id).result.videos[1].url[1]
    assert.equals(200, (curl(e, "GET", url, { key = false, out = "/dev/null" })))
    os.execute("sleep 0.8")
    assert.equals(403, (curl(e, "GET", url, { key = false, out = "/dev/null" })))
    e:stop()
  end)

  it("serves --video-bytes N bytes exactly, with ranges", function()
    local e = emulator.start{ speed = 200, video_bytes = 1000000 }
    local _, _, body = submit(e)
    local url = poll_until_done(e, body.data[1].task_id).result.videos[1].url[1]
    local out = tmp("big.mp4")
    curl(e, "GET", url, { key = false, out = out })
    local status, headers = curl(e, "GET", url, { key = false, headers = { "Range: bytes=999990-" }, out = "/dev/null" })
    e:stop()
    local f = assert(io.open(out, "rb"))
    local s = f:read("*a")
    f:close()
    os.remove(out)
    assert.equals(1000000, #s)
    assert.equals("ftyp", s:sub(5, 8))
    assert.equals(206, status)
    assert.equals("bytes 999990-999999/1000000", headers["content-range"])
  end)

  it("paces downloads with --media-rate", function()
    local e = emulator.start{ speed = 200, video_bytes = 200000, media_rate = 400000 }
    local _, _, body = submit(e)
    local url = poll_until_done(e, body.data[1].task_id).result.videos[1].url[1]
    local t = tonumber((sh("curl -s -o /dev/null -w '%{time_total}' " .. q(url))))
    e:stop()
    assert.is_true(t >= 0.4, "took " .. tostring(t))
  end)

  it("takes uploads: JPEG/PNG/WebP/GIF by magic bytes, 413 over 20 MB, 400 otherwise", function()
    local png = tmp("u.png")
    local f = assert(io.open(png, "wb"))
    f:write("\137PNG\r\n\26\n", string.rep("x", 100))
    f:close()
    local status, _, body = curl(emu, "POST", "/v1/uploads/images", { form = "file=@" .. png })
    assert.equals(200, status)
    local up = cjson.decode(body)
    assert.equals("image/png", up.content_type)
    assert.equals(108, up.bytes)
    assert.is_number(up.created_at)
    local s2, _, served = curl(emu, "GET", up.url, { key = false })
    assert.equals(200, s2)
    assert.equals(108, #served)
    f = assert(io.open(png, "wb"))
    f:write("plain text, not an image")
    f:close()
    assert.equals(400, (curl(emu, "POST", "/v1/uploads/images", { form = "file=@" .. png })))
    local big = tmp("big.jpg")
    f = assert(io.open(big, "wb"))
    f:write("\255\216\255", string.rep("\0", 20 * 1024 * 1024))
    f:close()
    assert.equals(413, (curl(emu, "POST", "/v1/uploads/images", { form = "file=@" .. big })))
    os.remove(png)
    os.remove(big)
  end)

  it("lowers the balance per task and answers 402 at zero", function()
    local e = emulator.start{ balance = 12 }
    local _, _, b0 = curl(e, "GET", "/v1/balance")
    assert.equals(12, cjson.decode(b0).remain_balance)
    assert.equals(200, (submit(e)))            -- costs its duration, 5
    assert.equals(200, (submit(e)))
    local status, _, body = submit(e)
    local _, _, b1 = curl(e, "GET", "/v1/balance")
    e:stop()
    assert.equals(402, status)
    assert.equals("payment_required", body.error.type)
    assert.equals(2, cjson.decode(b1).remain_balance)
    local u = emulator.start{ balance = -1 }
    local _, _, b2 = curl(u, "GET", "/v1/balance")
    u:stop()
    assert.equals(-1, cjson.decode(b2).remain_balance)
    assert.is_true(cjson.decode(b2).unlimited_quota)
  end)

  it("answers 401 without a key or with a wrong one, and for the built-in test keys", function()
    assert.equals(401, (curl(emu, "GET", "/v1/balance", { key = false })))
    assert.equals(401, (curl(emu, "GET", "/v1/balance", { key = "sk-test-401" })))
    local status, _, body = submit(emu, nil, { key = "sk-test-402" })
    assert.equals(402, status)
    assert.equals("payment_required", body.error.type)
    local keys = os.tmpname()
    local f = assert(io.open(keys, "w"))
    f:write("sk-good\n")
    f:close()
    local e = emulator.start{ keys = keys }
    assert.equals(200, (curl(e, "GET", "/v1/balance", { key = "sk-good" })))
    assert.equals(401, (curl(e, "GET", "/v1/balance", { key = "sk-other" })))
    e:stop()
    os.remove(keys)
  end)

  it("limits requests per key with --rpm: 429 rate_limit_error with Retry-After", function()
    local e = emulator.start{ rpm = 2 }
    assert.equals(200, (curl(e, "GET", "/v1/balance")))
    assert.equals(200, (curl(e, "GET", "/v1/balance")))
    local status, headers, body = curl(e, "GET", "/v1/balance")
    assert.equals(200, (curl(e, "GET", "/v1/balance", { key = "sk-another" })))
    e:stop()
    assert.equals(429, status)
    assert.equals("rate_limit_error", cjson.decode(body).error.type)
    assert.is_true(tonumber(headers["retry-after"]) >= 1)
  end)

  it("fails tasks with --fail-rate, with an error object", function()
    local e = emulator.start{ speed = 200, fail_rate = 1 }
    local _, _, body = submit(e)
    local data = poll_until_done(e, body.data[1].task_id)
    e:stop()
    assert.equals("failed", data.status)
    assert.is_number(data.error.code)
    assert.is_string(data.error.message)
    assert.is_string(data.error.type)
    assert.is_nil(data.result)
  end)

  -- Run n balance requests; count the outcomes by kind.
  local function outcomes(e, n)
    local c = { ok = 0, err5xx = 0, dropped = 0, garbage = 0 }
    for _ = 1, n do
      local status, _, body = curl(e, "GET", "/v1/balance")
      if not status then c.dropped = c.dropped + 1
      elseif status >= 500 and body:match('"error"') then c.err5xx = c.err5xx + 1
      elseif not pcall(cjson.decode, body) or (status == 200 and not body:match("remain_balance")) then
        c.garbage = c.garbage + 1
      else c.ok = c.ok + 1 end
    end
    return c
  end

  it("injects 500/502/503 with --error-rate, dropped connections with --drop-rate, garbage with --garbage-rate, "
    .. "the same for the same --fault-seed", function()
    local function run(opts)
      local e = emulator.start(opts)
      local c = outcomes(e, 30)
      e:stop()
      return c
    end
    local a = run{ error_rate = 0.3, drop_rate = 0.2, garbage_rate = 0.2, fault_seed = 42 }
    local b = run{ error_rate = 0.3, drop_rate = 0.2, garbage_rate = 0.2, fault_seed = 42 }
    assert.same(a, b)
    assert.is_true(a.err5xx > 0 and a.dropped > 0 and a.garbage > 0 and a.ok > 0)
    assert.same({ ok = 0, err5xx = 30, dropped = 0, garbage = 0 }, run{ error_rate = 1 })
    assert.same({ ok = 0, err5xx = 0, dropped = 20, garbage = 0 }, (function()
      local e = emulator.start{ drop_rate = 1 }
      local c = outcomes(e, 20)
      e:stop()
      return c
    end)())
  end)

  it("delays answers with --latency-ms", function()
    local e = emulator.start{ latency_ms = 300 }
    local t = tonumber((sh("curl -s -o /dev/null -w '%{time_total}' -H 'Authorization: Bearer k' " .. q(e.url .. "/v1/balance"))))
    e:stop()
    assert.is_true(t >= 0.3, "took " .. tostring(t))
  end)

  it("keeps at most --max-tasks tasks, evicting the oldest", function()
    local e = emulator.start{ max_tasks = 3 }
    local ids = {}
    for i = 1, 5 do ids[i] = select(3, submit(e)).data[1].task_id end
    local stats = e:stats()
    local old = curl(e, "GET", "/v1/tasks/" .. ids[1])
    local new = curl(e, "GET", "/v1/tasks/" .. ids[5])
    e:stop()
    assert.equals(3, stats.tasks_stored)
    assert.equals(2, stats.evicted)
    assert.equals(404, old)
    assert.equals(200, new)
  end)

  it("exits cleanly on SIGTERM", function()
    local e = emulator.start{}
    local pid = e.pid
    assert.truthy(os.execute("kill -0 " .. pid))
    e:stop()
    assert.falsy(os.execute("kill -0 " .. pid .. " 2>/dev/null"))
  end)

  it("refuses bad options with a message", function()
    local out, ok = sh("build/seedance-emulator --fail-rate 2")
    assert.falsy(ok)
    assert.matches("fail%-rate", out)
    local help = sh("build/seedance-emulator --help")
    for _, flag in ipairs{ "--speed", "--url-ttl", "--rpm", "--fault-seed", "--video-bytes", "--keys",
                           "--last-frame-key", "--result-url-style", "--latency-ms", "--garbage-rate" } do
      assert.truthy(help:find(flag, 1, true), flag)
    end
  end)
end)
