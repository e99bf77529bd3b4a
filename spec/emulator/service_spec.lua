-- Specs for seedance-emulator (emulator/), driven only by clients the project
-- did not write: the curl command line (the reference page's own cURL example
-- in emulator/tests/reference-curl.sh), ffprobe, and the page's Python
-- `requests` example (spec/support/reference_example.py). Every command-line option has a
-- spec here. Each emulator runs on a free loopback port with a fast clock.
local cjson = require("cjson")
local curl = require("helpers.curl")
local assert_error = curl.assert_error
local emulator = require("helpers.emulator")
local util = require("helpers.util")

local ROOT = util.ROOT
local BIN = emulator.bin -- SEEDANCE_EMULATOR_BIN (make check-emulator-asan) or build/seedance-emulator
local ID_PATTERN = "^task_[0-9A-HJKMNP-TV-Z]+$"
local q, read_file, write_file, run, now, http = curl.q, curl.read_file, curl.write_file, curl.run, curl.now,
  curl.http

local BASIC, with, submit, poll, wait_done, video_url = curl.BASIC, curl.with, curl.submit, curl.poll,
  curl.wait_done, curl.video_url

describe("seedance-emulator #emulator #child", function()
  local emu
  after_each(function()
    if emu then emu:stop() end
    emu = nil
  end)

  describe("command line", function()
    it("is built by make as build/seedance-emulator", function()
      local _, ok = run("test -x " .. q(BIN))
      assert.is_true(ok)
    end)

    it("documents every option in --help", function()
      local out, ok = run(q(BIN) .. " --help")
      assert.is_true(ok)
      for _, opt in ipairs{ "--host", "--port", "--speed", "--task-seconds", "--url-ttl", "--result-url-style",
        "--last-frame-key", "--submit-shape", "--balance", "--keys", "--rpm", "--rpm-window", "--fault-seed",
        "--fail-rate", "--error-rate", "--drop-rate", "--garbage-rate", "--fault-paths", "--latency-ms",
        "--video-bytes", "--media-rate", "--max-tasks", "--threads", "--media-dir", "--estimate-factor",
        "--progress-step", "--test-clock", "--bill-at", "--model-rules", "--refuse-word", "--flag-word", "--help",
        "sk-test-401", "sk-test-402", "/_emulator/stats" } do
        assert.truthy(out:find(opt, 1, true), opt .. " is not in --help")
      end
    end)

    it("refuses unknown options and bad values with status 2", function()
      for _, args in ipairs{ "--nope", "--speed fast", "--fail-rate 2", "--result-url-style list",
        "--last-frame-key frame", "--submit-shape map", "--fault-paths submit,nothing", "--estimate-factor 0",
        "--progress-step 2.5", "--progress-step 0", "extra" } do
        local _, ok, code = run(q(BIN) .. " " .. args .. " 2>/dev/null")
        assert.is_falsy(ok, args)
        assert.equals(2, code, args)
      end
    end)

    it("prints 'listening on http://HOST:PORT' first and exits 0 on SIGTERM and SIGINT", function()
      for _, sig in ipairs{ "TERM", "INT" } do
        local log = os.tmpname()
        local out = run(string.format(
          "%s --port 0 >%s 2>&1 & p=$!; i=0; until grep -q listening %s || [ $i -ge 500 ]; do sleep 0.01; "
            .. "i=$((i+1)); done; kill -%s $p; wait $p; echo \"rc=$?\"", q(BIN), q(log), q(log), sig))
        local first = (read_file(log) or ""):match("^[^\n]*")
        os.remove(log)
        assert.matches("^listening on http://127%.0%.0%.1:%d+$", first)
        assert.matches("rc=0", out)
      end
    end)

    it("--port binds the port it is given", function()
      local probe = emulator.start()
      local port = tonumber(probe.url:match(":(%d+)$"))
      probe:stop() -- the port is free again: reuse it
      emu = emulator.start{ port = port }
      assert.equals("http://127.0.0.1:" .. port, emu.url)
    end)

    it("--host binds another address, IPv6 included", function()
      local _, has_v6 = run("test -f /proc/net/if_inet6 && grep -q '^0\\{31\\}1 ' /proc/net/if_inet6")
      if not has_v6 then return pending("no IPv6 loopback here") end
      local log = os.tmpname()
      local pid = run(string.format("%s --host ::1 >%s 2>&1 & echo $!", q(BIN), q(log))):match("%d+")
      run("i=0; until grep -q listening " .. q(log) .. " || [ $i -ge 500 ]; do sleep 0.01; i=$((i+1)); done")
      local url = (read_file(log) or ""):match("listening on (%S+)")
      local r = url and http("GET", url .. "/v1/balance")
      run("kill " .. pid .. "; sleep 0.05")
      os.remove(log)
      assert.matches("^http://%[::1%]:%d+$", url)
      assert.equals(200, r.status)
    end)

    it("--media-dir is where the fixtures are read from (a wrong one fails at start)", function()
      local _, ok, code = run(q(BIN) .. " --media-dir /nonexistent 2>/dev/null")
      assert.is_falsy(ok)
      assert.equals(1, code)
      emu = emulator.start{ media_dir = ROOT .. "/emulator/media", speed = 1e5 }
      local data = wait_done(emu, (submit(emu)))
      assert.equals(200, http("GET", video_url(data)).status)
    end)

    it("finds its fixtures when started from build/ or the repository root", function()
      -- the binary by a path relative to each folder (BIN may be another build)
      local rel = BIN:sub(1, #ROOT + 1) == ROOT .. "/" and BIN:sub(#ROOT + 2) or nil
      for _, dir in ipairs{ ROOT, ROOT .. "/build" } do
        local log = os.tmpname()
        local exe = rel and (dir == ROOT and "./" .. rel or "../" .. rel) or BIN
        local pid = run(string.format("cd %s && %s >%s 2>&1 & echo $!", q(dir), q(exe), q(log))):match("%d+")
        run("i=0; until grep -q listening " .. q(log) .. " || [ $i -ge 500 ]; do sleep 0.01; i=$((i+1)); done")
        local first = (read_file(log) or ""):match("^[^\n]*")
        run("kill " .. pid)
        os.remove(log)
        assert.matches("^listening on ", first)
      end
    end)

    it("--threads sets the worker pool and still answers", function()
      emu = emulator.start{ threads = 1 }
      assert.equals(200, http("GET", emu.url .. "/v1/balance").status)
    end)
  end)

  describe("the reference page's own examples", function()
    it("the cURL example gets a task id; polling reaches completed; the video passes ffprobe", function()
      emu = emulator.start{ speed = 1e4 }
      local out, ok = run("sh " .. q(ROOT .. "/emulator/tests/reference-curl.sh") .. " " .. q(emu.url)
        .. " 2>/dev/null")
      assert.is_true(ok)
      local answer = cjson.decode(out)
      assert.equals(200, answer.code)
      assert.equals("submitted", answer.data[1].status)
      local id = answer.data[1].task_id
      assert.matches(ID_PATTERN, id)
      assert.equals(31, #id)
      local data = wait_done(emu, id)
      assert.equals("completed", data.status)
      assert.equals(100, data.progress)
      local file = os.tmpname() .. ".mp4"
      local _, got = run("curl -sS -f -o " .. q(file) .. " " .. q(video_url(data)))
      assert.is_true(got)
      local probe, accepted = run("ffprobe -v error -show_entries stream=codec_type,width,height "
        .. "-show_entries format=duration -of json " .. q(file))
      os.remove(file)
      assert.is_true(accepted)
      local info = cjson.decode(probe)
      local video
      for _, s in ipairs(info.streams) do if s.codec_type == "video" then video = s end end
      assert.is_truthy(video)
      assert.is_true(video.width > video.height) -- 16:9
      assert.equals(5, math.floor(tonumber(info.format.duration) + 0.5))
    end)

    it("the Python requests example gets a task id, then polls and downloads with requests", function()
      emu = emulator.start{ speed = 1e4 }
      local file = os.tmpname() .. ".mp4"
      local out, ok = run("/usr/bin/python3 " .. q(ROOT .. "/spec/support/reference_example.py") .. " "
        .. q(emu.url) .. " sk-py " .. q(file) .. " 2>&1")
      assert.is_true(ok, out)
      assert.matches("'code': 200", out)
      assert.matches("'status': 'submitted'", out)
      assert.matches("'task_id': 'task_[0-9A-Z]+'", out)
      assert.matches("completed 100", out)
      local _, accepted = run("ffprobe -v error " .. q(file) .. " 2>&1")
      os.remove(file)
      assert.is_true(accepted)
      assert.equals(1, emu:stats().tasks_created)
    end)
  end)

  describe("POST /v1/videos/generations", function()
    it("answers {code=200, data=[{status=submitted, task_id}]} with distinct ULID-like ids", function()
      emu = emulator.start()
      local seen = {}
      for _ = 1, 20 do
        local id, r = submit(emu)
        assert.equals(200, r.json.code)
        assert.equals("submitted", r.json.data[1].status)
        assert.matches(ID_PATTERN, id)
        assert.equals(26, #id - 5)
        assert.is_nil(seen[id])
        seen[id] = true
      end
    end)

    it("--submit-shape object answers data as {id, object, status}", function()
      emu = emulator.start{ submit_shape = "object" }
      local r = http("POST", emu.url .. "/v1/videos/generations", { json = BASIC })
      assert.equals(200, r.status)
      assert.matches(ID_PATTERN, r.json.data.id)
      assert.equals("submitted", r.json.data.status)
      assert.is_string(r.json.data.object)
      assert.equals(200, poll(emu, r.json.data.id).status)
    end)

    it("rejects a bad request with 400 invalid_request_error naming each field (the project's validator)", function()
      emu = emulator.start()
      local r = http("POST", emu.url .. "/v1/videos/generations",
        { json = { model = "doubao-seedance-2.0-fast", resolution = "1080p", duration = 20 } })
      assert.equals(400, r.status)
      assert.equals("invalid_request_error", r.json.error.type)
      assert.equals(400, r.json.error.code)
      assert.matches("prompt: required for text%-to%-video", r.json.error.message)
      assert.matches("resolution:", r.json.error.message)
      assert.matches("duration:", r.json.error.message)
      r = http("POST", emu.url .. "/v1/videos/generations", { json = with{ image_urls = { "ftp://x/a.jpg" } } })
      assert_error(r, 400, "image_urls%[1%]")
      r = http("POST", emu.url .. "/v1/videos/generations", { json = with{ resoluton = "720p" } })
      assert_error(r, 400, "resoluton: unknown key; did you mean resolution%?")
      r = http("POST", emu.url .. "/v1/videos/generations", { json = with{ aspect_ratio = "16:9" } })
      assert_error(r, 400, "aspect_ratio")
      r = http("POST", emu.url .. "/v1/videos/generations", { json = with{ seed = cjson.null } })
      assert_error(r, 400, "seed")
      assert.equals(0, emu:stats().tasks_created)
    end)

    it("accepts all 13 scenarios of the reference page", function()
      emu = emulator.start()
      for i = 1, 13 do
        local body = read_file(string.format("%s/spec/fixtures/scenario-%02d.json", ROOT, i))
        if body then
          local r = http("POST", emu.url .. "/v1/videos/generations", { json = body })
          assert.equals(200, r.status, "scenario " .. i .. ": " .. r.body)
        end
      end
    end)

    it("answers 400 to a body that is not JSON or not an object", function()
      emu = emulator.start()
      for _, body in ipairs{ "not json", "[1,2]", "42", "", "{\"model\": " } do
        local r = http("POST", emu.url .. "/v1/videos/generations", { json = body })
        assert.equals(400, r.status, body)
        assert.equals("invalid_request_error", r.json.error.type)
      end
    end)

    it("honours Idempotency-Key: same task, Idempotency-Replayed: true, one task created", function()
      emu = emulator.start()
      local h = { ["Idempotency-Key"] = "idem-1" }
      local id1, r1 = submit(emu, BASIC, { headers = h })
      assert.is_nil(r1.headers["idempotency-replayed"])
      local id2, r2 = submit(emu, BASIC, { headers = h })
      assert.equals(id1, id2)
      assert.equals("true", r2.headers["idempotency-replayed"])
      -- a different body under the same key answers the original task
      local id3 = submit(emu, with{ prompt = "something else" }, { headers = h })
      assert.equals(id1, id3)
      local long = http("POST", emu.url .. "/v1/videos/generations",
        { json = BASIC, headers = { ["Idempotency-Key"] = string.rep("k", 128) } })
      assert.equals(400, long.status) -- never truncated into another key
      assert.matches("Idempotency%-Key", long.json.error.message)
      local id4 = submit(emu, BASIC, { headers = { ["Idempotency-Key"] = "idem-2" } })
      assert.are_not.equal(id1, id4)
      local s = emu:stats()
      assert.equals(2, s.tasks_created)
      assert.equals(2, s.replays)
      assert.equals(10, s.used_balance)
    end)
  end)

  describe("GET /v1/tasks/{id}", function()
    it("moves pending -> processing (rising progress) -> completed on the --speed clock", function()
      emu = emulator.start{ speed = 10, task_seconds = 10 } -- a 10 s task ends after 1 s
      local id = submit(emu)
      local t0 = now()
      local statuses, last, order = {}, -1, {}
      repeat
        local d = poll(emu, id).json.data
        if not statuses[d.status] then order[#order + 1] = d.status end
        statuses[d.status] = true
        assert.is_true(d.progress >= last)
        last = d.progress
        assert.equals(10, d.estimated_time)
        if d.status == "completed" then
          assert.equals(100, d.progress)
          assert.is_number(d.created)
          assert.is_number(d.completed)
          assert.is_number(d.actual_time)
          assert.is_true(d.completed >= d.created)
          assert.is_string(video_url(d))
          assert.is_number(d.result.videos[1].expires_at)
          break
        end
        assert.is_nil(d.result)
        run("sleep 0.05")
      until now() - t0 > 5
      assert.same({ "pending", "processing", "completed" }, order)
      local took = now() - t0
      assert.is_true(took > 0.8 and took < 3, "took " .. took)
    end)

    it("derives estimated_time from duration, resolution and model (--task-seconds overrides)", function()
      emu = emulator.start()
      local function est(over) return poll(emu, (submit(emu, with(over)))).json.data.estimated_time end
      assert.equals(30 + 6 * 5, est{})
      assert.equals(30 + 6 * 10 + 15, est{ duration = 10, resolution = "720p" })
      assert.equals(30 + 6 * 5 + 40, est{ resolution = "1080p" })
      assert.equals(math.floor((30 + 6 * 5) * 0.6), est{ model = "doubao-seedance-2.0-fast" })
    end)

    it("--estimate-factor F reports estimated_time as F times what the task really takes", function()
      emu = emulator.start{ speed = 10, task_seconds = 10, estimate_factor = 4 } -- really 10 s (1 s here)
      local id = submit(emu)
      assert.equals(40, poll(emu, id).json.data.estimated_time)
      local d = wait_done(emu, id)
      assert.equals("completed", d.status)
      assert.equals(40, d.estimated_time)
      assert.equals(10, d.actual_time)
      -- done long before the estimate: at most 2 s of wall clock (10 s x 1/10, rounded) x speed 10 < 40
      assert.is_true((d.completed - d.created) * 10 < d.estimated_time, d.completed - d.created)
      emu:stop()
      emu = emulator.start{ speed = 1e5 } -- the default factor is 1
      d = wait_done(emu, (submit(emu)))
      assert.equals(d.actual_time, d.estimated_time)
    end)

    it("--progress-step N reports progress in multiples of N (100 when completed)", function()
      emu = emulator.start{ speed = 10, task_seconds = 20, progress_step = 25 } -- 2 s here, 1.8 s of it processing
      local id = submit(emu)
      local processing, deadline = 0, now() + 10
      repeat
        local d = poll(emu, id).json.data
        if d.status == "completed" then
          assert.equals(100, d.progress)
          break
        end
        assert.equals(0, d.progress % 25, "progress " .. d.progress)
        if d.status == "processing" then processing = processing + 1 end
        run("sleep 0.03")
      until now() > deadline
      assert.is_true(processing >= 3, "processing seen " .. processing .. " times")
      emu:stop()
      emu = emulator.start{ speed = 1e5, fail_rate = 1, progress_step = 30 } -- failed half-way: 50 -> 30
      assert.equals(30, wait_done(emu, (submit(emu))).progress)
    end)

    it("answers unknown ids with a 404 invalid_request_error body", function()
      emu = emulator.start()
      local r = poll(emu, "task_01KMCGF6BQGN3X28H3KSR50X5T")
      assert.equals(404, r.status)
      assert.equals("invalid_request_error", r.json.error.type)
      assert.matches("not found", r.json.error.message)
    end)

    it("accepts language=zh|en|ko|ja and answers messages in it", function()
      emu = emulator.start()
      local expect = { en = "task not found", zh = "任务不存在", ko = "작업을", ja = "タスク" }
      for lang, text in pairs(expect) do
        local r = poll(emu, "task_nope?language=" .. lang)
        assert.equals(404, r.status)
        assert.truthy(r.json.error.message:find(text, 1, true), lang)
      end
      local id = submit(emu)
      assert.equals(200, poll(emu, id .. "?language=zh").status)
    end)

    it("--result-url-style string makes result.videos[1].url a string (array by default)", function()
      emu = emulator.start{ speed = 1e5 }
      assert.is_table(wait_done(emu, (submit(emu))).result.videos[1].url)
      emu:stop()
      emu = emulator.start{ speed = 1e5, result_url_style = "string" }
      local d = wait_done(emu, (submit(emu)))
      assert.is_string(d.result.videos[1].url)
      assert.matches("^" .. emu.url:gsub("%p", "%%%0") .. "/media/", d.result.videos[1].url)
    end)

    it("return_last_frame adds a PNG under each --last-frame-key shape", function()
      local function png_at(url)
        if type(url) == "table" then url = url[1] end
        local r = http("GET", url)
        assert.equals(200, r.status)
        assert.equals("image/png", r.headers["content-type"])
        assert.equals("\137PNG", r.body:sub(1, 4))
      end
      for _, shape in ipairs{ "result", "video", "images" } do
        emu = emulator.start{ speed = 1e5, last_frame_key = shape }
        local plain = wait_done(emu, (submit(emu)))
        assert.is_nil(plain.result.last_frame_url)
        assert.is_nil(plain.result.images)
        assert.is_nil(plain.result.videos[1].last_frame_url)
        local r = wait_done(emu, (submit(emu, with{ return_last_frame = true }))).result
        if shape == "result" then png_at(r.last_frame_url)
        elseif shape == "video" then png_at(r.videos[1].last_frame_url)
        else png_at(r.images[1].url) end
        emu:stop()
        emu = nil
      end
    end)

    it("--fail-rate ends tasks failed with an error object {code, message, type}", function()
      emu = emulator.start{ speed = 1e5, fail_rate = 1 }
      local d = wait_done(emu, (submit(emu)))
      assert.equals("failed", d.status)
      assert.is_nil(d.result)
      assert.is_number(d.error.code)
      assert.is_string(d.error.message)
      assert.is_string(d.error.type)
    end)
  end)

  describe("media", function()
    local function completed(opts, body)
      emu = emulator.start(opts)
      return wait_done(emu, (submit(emu, body)))
    end

    it("picks the fixture by size (adaptive -> 16:9) and duration, each a playable MP4", function()
      emu = emulator.start{ speed = 1e5 }
      local cases = { { "16:9", 1, 4 }, { "9:16", -1, 15 }, { "1:1", 0, 7 }, { "4:3", 1, 10 }, { "3:4", -1, 12 },
                      { "21:9", 1, 5 }, { "adaptive", 1, 9 }, { nil, 1, nil } } -- no size, no duration: 16:9, 5 s
      for _, case in ipairs(cases) do
        local size, wide, seconds = case[1], case[2], case[3]
        local body = with{ size = size, duration = seconds }
        if not seconds then body.duration = nil end
        if size == "adaptive" then body.image_urls = { "https://example.com/cat.jpg" } end
        local d = wait_done(emu, (submit(emu, body)))
        local file = os.tmpname()
        run("curl -sS -o " .. q(file) .. " " .. q(video_url(d)))
        local out, ok = run("ffprobe -v error -select_streams v:0 -show_entries stream=width,height "
          .. "-show_entries format=duration -of csv=p=0 " .. q(file))
        os.remove(file)
        assert.is_true(ok, size)
        local w, h = out:match("(%d+),(%d+)")
        w, h = tonumber(w), tonumber(h)
        local got = w > h and 1 or (w < h and -1 or 0)
        local label = tostring(size) .. " " .. tostring(seconds)
        assert.equals(wide, got, label)
        if size == "21:9" then assert.is_true(w / h > 2.2) end
        local length = tonumber(out:match("\n([%d.]+)") or out:match("^([%d.]+)\n"))
        assert.equals(seconds or 5, math.floor(length + 0.5), label)
      end
    end)

    it("serves media without a bearer key, with Accept-Ranges and Content-Length", function()
      local d = completed{ speed = 1e5 }
      local r = http("GET", video_url(d), { key = false })
      assert.equals(200, r.status)
      assert.equals("video/mp4", r.headers["content-type"])
      assert.equals("bytes", r.headers["accept-ranges"])
      assert.equals(#r.body, tonumber(r.headers["content-length"]))
      assert.equals("ftyp", r.body:sub(5, 8))
    end)

    it("answers Range with 206 and a correct Content-Range, 416 when unsatisfiable", function()
      local d = completed{ speed = 1e5 }
      local url = video_url(d)
      local whole = http("GET", url).body
      local size = #whole
      local r = http("GET", url, { range = "bytes=0-99" })
      assert.equals(206, r.status)
      assert.equals("bytes 0-99/" .. size, r.headers["content-range"])
      assert.equals(whole:sub(1, 100), r.body)
      r = http("GET", url, { range = "bytes=100-" })
      assert.equals(206, r.status)
      assert.equals(string.format("bytes 100-%d/%d", size - 1, size), r.headers["content-range"])
      assert.equals(whole:sub(101), r.body)
      r = http("GET", url, { range = "bytes=-10" })
      assert.equals(206, r.status)
      assert.equals(whole:sub(-10), r.body)
      r = http("GET", url, { range = "bytes=" .. size .. "-" })
      assert.equals(416, r.status)
      assert.equals("bytes */" .. size, r.headers["content-range"])
      -- If-Range with another validator: the whole file again
      r = http("GET", url, { range = "bytes=0-9", headers = { ["If-Range"] = "\"other\"" } })
      assert.equals(200, r.status)
      assert.equals(size, #r.body)
      r = http("GET", url, { range = "bytes=0-9", headers = { ["If-Range"] = r.headers.etag } })
      assert.equals(206, r.status)
      assert.is_true(emu:stats().range_requests >= 4)
    end)

    it("--url-ttl: after it the media URL answers 403 and expires_at says when", function()
      local d = completed{ speed = 1e5, url_ttl = 1 }
      local url = video_url(d)
      assert.is_true(d.result.videos[1].expires_at - d.completed <= 1)
      assert.equals(200, http("GET", url).status)
      run("sleep 1.2")
      local r = http("GET", url)
      assert.equals(403, r.status)
      assert.equals("permission_error", r.json.error.type)
    end)

    it("--video-bytes N serves a synthetic video of exactly N bytes, ranges included", function()
      local n = 3 * 1024 * 1024 + 7
      local d = completed({ speed = 1e5, video_bytes = n })
      local url = video_url(d)
      local file = os.tmpname()
      local out = run("curl -sS -o " .. q(file) .. " -w '%{size_download}' " .. q(url))
      local head = read_file(file):sub(1, 8)
      os.remove(file)
      assert.equals(n, tonumber(out))
      assert.equals("ftyp", head:sub(5, 8))
      local r = http("GET", url, { range = "bytes=" .. (n - 5) .. "-" })
      assert.equals(206, r.status)
      assert.equals(5, #r.body)
      assert.equals(string.format("bytes %d-%d/%d", n - 5, n - 1, n), r.headers["content-range"])
    end)

    it("--media-rate paces downloads to N bytes per second", function()
      local d = completed{ speed = 1e5, video_bytes = 40000, media_rate = 100000 }
      local t0 = now()
      local r = http("GET", video_url(d))
      local took = now() - t0
      assert.equals(40000, #r.body)
      assert.is_true(took >= 0.35, "took " .. took)
    end)

    it("answers 404 for media of unknown or unfinished tasks", function()
      emu = emulator.start{ speed = 0.001 }
      local id = submit(emu)
      assert.equals(404, http("GET", emu.url .. "/media/" .. id .. ".mp4").status)
      assert.equals(404, http("GET", emu.url .. "/media/task_nope.mp4").status)
    end)
  end)

  describe("POST /v1/uploads/images", function()
    local PNG = "\137PNG\r\n\26\n" .. string.rep("p", 100)
    local MAGIC = { ["image/jpeg"] = "\255\216\255\224" .. string.rep("j", 50),
                    ["image/png"] = PNG,
                    ["image/gif"] = "GIF89a" .. string.rep("g", 50),
                    ["image/webp"] = "RIFF\0\0\0\0WEBPVP8 " .. string.rep("w", 50) }

    -- POST a file holding `bytes` (or made by the shell command `make`, given the file's name) to
    -- the upload endpoint of a fresh emulator, as form field `field` (default "file").
    local function form_upload(bytes, o)
      o = o or {}
      emu = emu or emulator.start()
      local file = os.tmpname()
      if o.make then run(o.make(q(file))) else write_file(file, bytes) end
      local r = http("POST", emu.url .. "/v1/uploads/images", { form = (o.field or "file") .. "=@" .. file
        .. (o.filename and (";filename=" .. o.filename) or ""), key = o.key, timeout = o.timeout })
      os.remove(file)
      return r
    end

    it("stores JPEG/PNG/WebP/GIF (by magic bytes) and serves the bytes back", function()
      for ctype, bytes in pairs(MAGIC) do
        local r = form_upload(bytes, { filename = "pic.bin" })
        assert.equals(200, r.status, r.body)
        assert.equals(ctype, r.json.content_type)
        assert.equals(#bytes, r.json.bytes)
        assert.equals("pic.bin", r.json.filename)
        assert.is_number(r.json.created_at)
        local back = http("GET", r.json.url, { key = false })
        assert.equals(200, back.status)
        assert.equals(bytes, back.body)
      end
      assert.equals(4, emu:stats().uploads)
    end)

    it("rejects other bytes with 400 and a missing file field with 400", function()
      local r = form_upload("just some text, not an image")
      assert.equals(400, r.status)
      assert.equals("invalid_request_error", r.json.error.type)
      assert.equals(400, form_upload(PNG, { field = "other" }).status)
    end)

    it("answers 413 over 20 MB", function()
      local r = form_upload(nil, { timeout = 30,
        make = function(file) return "{ printf '\\211PNG\\r\\n\\032\\n'; head -c 21000000 /dev/zero; } > " .. file end })
      assert.equals(413, r.status)
    end)

    it("needs the bearer key", function()
      assert.equals(401, form_upload(PNG, { key = false }).status)
    end)
  end)

  describe("GET /v1/balance and --balance", function()
    it("drops by a task's duration per task and answers 402 payment_required at zero", function()
      emu = emulator.start{ balance = 12 }
      local b = http("GET", emu.url .. "/v1/balance").json
      assert.same({ success = true, remain_balance = 12, used_balance = 0, unlimited_quota = false }, b)
      submit(emu, with{ duration = 5 })
      assert.equals(7, http("GET", emu.url .. "/v1/balance").json.remain_balance)
      submit(emu, with{ duration = 4 })
      b = http("GET", emu.url .. "/v1/balance").json
      assert.equals(3, b.remain_balance)
      assert.equals(9, b.used_balance)
      local r = http("POST", emu.url .. "/v1/videos/generations", { json = with{ duration = 4 } })
      assert.equals(402, r.status)
      assert.equals("payment_required", r.json.error.type)
      assert.equals(2, emu:stats().tasks_created)
    end)

    it("--balance -1 is unlimited (remain_balance -1, unlimited_quota true)", function()
      emu = emulator.start{ balance = -1 }
      submit(emu)
      local b = http("GET", emu.url .. "/v1/balance").json
      assert.equals(-1, b.remain_balance)
      assert.is_true(b.unlimited_quota)
    end)
  end)

  describe("authentication", function()
    it("answers 401 authentication_error without a key, and to sk-test-401 everywhere", function()
      emu = emulator.start()
      for _, o in ipairs{ { key = false }, { key = "sk-test-401" }, { key = "" } } do
        local r = http("GET", emu.url .. "/v1/balance", o)
        assert.equals(401, r.status)
        assert.equals("authentication_error", r.json.error.type)
        r = http("POST", emu.url .. "/v1/videos/generations", { key = o.key, json = BASIC })
        assert.equals(401, r.status)
      end
      assert.equals(401, http("GET", emu.url .. "/v1/balance",
        { key = false, headers = { Authorization = "Basic abc" } }).status)
    end)

    it("answers 402 to sk-test-402 on submit (other endpoints work)", function()
      emu = emulator.start()
      local r = http("POST", emu.url .. "/v1/videos/generations", { key = "sk-test-402", json = BASIC })
      assert.equals(402, r.status)
      assert.equals("payment_required", r.json.error.type)
      assert.equals(200, http("GET", emu.url .. "/v1/balance", { key = "sk-test-402" }).status)
    end)

    it("--keys FILE accepts only the listed keys", function()
      local file = os.tmpname()
      write_file(file, "# spec keys\nsk-one\n\nsk-two\n")
      emu = emulator.start{ keys = file }
      assert.equals(200, http("GET", emu.url .. "/v1/balance", { key = "sk-one" }).status)
      assert.equals(200, http("GET", emu.url .. "/v1/balance", { key = "sk-two" }).status)
      local r = http("GET", emu.url .. "/v1/balance", { key = "sk-three" })
      os.remove(file)
      assert.equals(401, r.status)
      assert.equals("authentication_error", r.json.error.type)
    end)
  end)

  describe("rate limit", function()
    it("--rpm N answers the N+1st request of a key with 429 rate_limit_error and Retry-After", function()
      emu = emulator.start{ rpm = 3 }
      for _ = 1, 3 do assert.equals(200, http("GET", emu.url .. "/v1/balance").status) end
      local r = http("GET", emu.url .. "/v1/balance")
      assert.equals(429, r.status)
      assert.equals("rate_limit_error", r.json.error.type)
      local after = tonumber(r.headers["retry-after"])
      assert.is_true(after >= 1 and after <= 60)
      -- per key: another key still passes
      assert.equals(200, http("GET", emu.url .. "/v1/balance", { key = "sk-other" }).status)
      assert.equals(1, emu:stats().rate_limited)
    end)

    it("--rpm-window sets the window; the key passes again after it", function()
      emu = emulator.start{ rpm = 1, rpm_window = 0.5 }
      assert.equals(200, http("GET", emu.url .. "/v1/balance").status)
      assert.equals(429, http("GET", emu.url .. "/v1/balance").status)
      run("sleep 0.6")
      assert.equals(200, http("GET", emu.url .. "/v1/balance").status)
    end)
  end)

  describe("clocks (--test-clock steps the wall clock, as an NTP correction does)", function()
    local function step_wall(seconds)
      local r = http("POST", emu.url .. "/_emulator/clock?step=" .. seconds, { key = false })
      assert.equals(200, r.status, r.body)
      return r.json.wall_offset
    end

    it("answers /_emulator/clock only with --test-clock, and moves the times answers report", function()
      emu = emulator.start{ speed = 1e5 }
      assert.equals(404, http("POST", emu.url .. "/_emulator/clock?step=60").status) -- an unknown endpoint
      emu:stop()
      emu = emulator.start{ test_clock = true }
      local before = poll(emu, (submit(emu))).json.data.created
      assert.equals(-600, step_wall(-600))
      assert.equals(400, http("POST", emu.url .. "/_emulator/clock?step=soon", { key = false }).status)
      local after = poll(emu, (submit(emu))).json.data.created
      assert.is_true(after < before - 500, "created " .. after .. " after the step, " .. before .. " before")
    end)

    it("runs a task on the monotonic clock: a wall clock stepped back or ahead neither sends it back to pending nor "
      .. "ends it early #m-emulator-durations-monotonic", function()
      emu = emulator.start{ speed = 10, task_seconds = 40, test_clock = true } -- 4 s of wall time; pending the first 0.4 s
      local id = submit(emu)
      local first
      for _ = 1, 200 do
        first = poll(emu, id).json.data
        if first.status ~= "pending" then break end
        run("sleep 0.05")
      end
      assert.equals("processing", first.status)
      local created = first.created
      step_wall(-600)
      local d = poll(emu, id).json.data
      assert.equals("processing", d.status)
      assert.is_true(d.progress >= first.progress, d.progress .. " after " .. first.progress)
      assert.equals(created, d.created) -- what the task reported stays what it was
      step_wall(3600 + 600)
      d = poll(emu, id).json.data
      assert.equals("processing", d.status)
      assert.is_true(d.progress < 100)
      d = wait_done(emu, id)
      assert.equals("completed", d.status)
      assert.is_true(d.completed - d.created < 10, "completed " .. (d.completed - d.created) .. " s after created")
    end)

    it("keeps a fresh result URL alive when the wall clock jumps a day ahead #m-emulator-durations-monotonic",
      function()
      emu = emulator.start{ speed = 1e5, url_ttl = 30, test_clock = true }
      local d = wait_done(emu, (submit(emu)))
      local url = video_url(d)
      assert.equals(200, http("GET", url).status)
      step_wall(86400)
      assert.equals(200, http("GET", url).status)
    end)

    it("dates its answers (API and media) on the wall clock it reports times on, so a step moves both as an NTP "
      .. "step moves a server's #found #m-emulator-date-follows-clock", function()
      emu = emulator.start{ speed = 1e5, test_clock = true }
      -- seconds of an answer's Date header (read by date(1)), and how many Date headers it has
      local function date_of(r)
        local d = r.headers.date
        assert.is_string(d, "no Date header")
        assert.is_nil(d:find("\n"), "two Date headers: " .. d)
        return tonumber((run("date -u -d " .. curl.q(d) .. " +%s")))
      end
      step_wall(-2 * 86400)
      local r = poll(emu, (submit(emu)))
      local created = r.json.data.created
      -- a task made now is about 0 s old on the clock the answer is dated with (not two days)
      assert.is_true(math.abs(date_of(r) - created) <= 2, date_of(r) .. " against created " .. created)
      assert.is_true(math.abs(date_of(http("GET", emu.url .. "/v1/balance")) - created) <= 2)
      local d = wait_done(emu, r.json.data.id)
      local media = http("GET", video_url(d))
      assert.equals(200, media.status)
      assert.is_true(math.abs(date_of(media) - created) <= 2)
      -- and the result's lifetime, counted against that Date, is whole
      assert.is_true(d.result.videos[1].expires_at - date_of(media) > 86400 - 10)
    end)

    it("counts a rate window on the monotonic clock: a wall clock step does not end it #m-emulator-durations-monotonic",
      function()
      emu = emulator.start{ rpm = 1, rpm_window = 30, test_clock = true }
      assert.equals(200, http("GET", emu.url .. "/v1/balance").status)
      assert.equals(429, http("GET", emu.url .. "/v1/balance").status)
      step_wall(3600)
      assert.equals(429, http("GET", emu.url .. "/v1/balance").status)
    end)
  end)

  describe("faults", function()
    it("--error-rate answers 500/502/503 with the service's error bodies", function()
      emu = emulator.start{ error_rate = 1, fault_seed = 7 }
      local seen = {}
      for _ = 1, 12 do
        local r = http("GET", emu.url .. "/v1/balance")
        assert.is_truthy(r.status == 500 or r.status == 502 or r.status == 503, r.status)
        assert.equals(r.status, r.json.error.code)
        assert.is_string(r.json.error.type)
        seen[r.status] = true
      end
      assert.is_true(seen[500] and seen[502] and seen[503])
    end)

    it("--drop-rate closes the connection with no answer", function()
      emu = emulator.start{ drop_rate = 1 }
      local r = http("GET", emu.url .. "/v1/balance")
      assert.equals(52, r.exit) -- curl: empty reply from server
      assert.equals(1, emu:stats().drops)
    end)

    it("--drop-rate on submit sometimes loses only the answer (the task exists)", function()
      emu = emulator.start{ drop_rate = 1, fault_seed = 1, fault_paths = "submit" }
      for _ = 1, 10 do
        assert.equals(52, http("POST", emu.url .. "/v1/videos/generations", { json = BASIC }).exit)
      end
      local s = emu:stats()
      assert.is_true(s.tasks_created > 0 and s.tasks_created < 10, s.tasks_created)
    end)

    it("--garbage-rate answers an HTML page or a truncated JSON body", function()
      emu = emulator.start{ garbage_rate = 1, fault_seed = 3 }
      local html, cut = false, false
      for _ = 1, 10 do
        local r = http("GET", emu.url .. "/v1/balance")
        assert.is_nil(r.json)
        if r.body:match("^<html>") then html = true; assert.equals(502, r.status) end
        if r.body:match("^{") then cut = true; assert.equals(200, r.status) end
      end
      assert.is_true(html and cut)
    end)

    it("--fault-seed makes faults reproducible", function()
      local function sequence(seed)
        local e = emulator.start{ error_rate = 0.5, fault_seed = seed }
        local s = {}
        for i = 1, 16 do s[i] = http("GET", e.url .. "/v1/balance").status end
        e:stop()
        return table.concat(s, ",")
      end
      local a, b, c = sequence(11), sequence(11), sequence(12)
      assert.equals(a, b)
      assert.are_not.equal(a, c)
    end)

    it("--fault-paths limits faults to the endpoints named", function()
      emu = emulator.start{ error_rate = 1, fault_paths = "poll", speed = 1e5 }
      local id = submit(emu)
      assert.equals(200, http("GET", emu.url .. "/v1/balance").status)
      local r = poll(emu, id)
      assert.is_true(r.status >= 500)
    end)

    it("--latency-ms delays answers without holding up other connections", function()
      emu = emulator.start{ latency_ms = 400 }
      local t0 = now()
      assert.equals(200, http("GET", emu.url .. "/v1/balance").status)
      assert.is_true(now() - t0 >= 0.4)
      local cmd = {}
      for i = 1, 8 do
        cmd[i] = "curl -s -o /dev/null -H 'Authorization: Bearer k' " .. q(emu.url .. "/v1/balance") .. " &"
      end
      t0 = now()
      run(table.concat(cmd, " ") .. " wait")
      local took = now() - t0
      assert.is_true(took >= 0.4 and took < 1.6, "8 parallel requests took " .. took)
      -- media are never delayed
      emu:stop()
      emu = emulator.start{ latency_ms = 1500, speed = 1e5, fault_paths = "submit" }
      local d = wait_done(emu, (submit(emu)))
      t0 = now()
      http("GET", video_url(d))
      assert.is_true(now() - t0 < 1, "the media request took " .. (now() - t0))
    end)
  end)

  -- --max-tasks: an emulator left running for days holds a bounded number of tasks.
  describe("bounded task store", function()
    it("--max-tasks keeps at most N tasks; the oldest ended one is evicted and answers 404", function()
      emu = emulator.start{ max_tasks = 3, speed = 1e5 }
      local ids = {}
      for i = 1, 5 do ids[i] = submit(emu) end
      assert.equals(404, poll(emu, ids[1]).status)
      assert.equals(404, poll(emu, ids[2]).status)
      for i = 3, 5 do assert.equals(200, poll(emu, ids[i]).status) end
      local s = emu:stats()
      assert.equals(3, s.tasks_stored)
      assert.equals(2, s.evicted)
    end)

    it("evicts an ended task before a running one", function()
      emu = emulator.start{ max_tasks = 2, speed = 100 }
      -- estimated 160 s (1.6 s here), then 32 s (0.32 s here): the second ends first
      local long = submit(emu, with{ duration = 15, resolution = "1080p" })
      local short = submit(emu, with{ model = "doubao-seedance-2.0-fast", duration = 4 })
      run("sleep 0.5")
      assert.equals("completed", poll(emu, short).json.data.status)
      local third = submit(emu)
      assert.equals("processing", poll(emu, long).json.data.status)
      assert.equals(404, poll(emu, short).status)
      assert.equals(200, poll(emu, third).status)
    end)
  end)

  describe("GET /_emulator/stats", function()
    it("counts requests per endpoint, tasks, replays and 429s without a key", function()
      emu = emulator.start{ rpm = 4 }
      submit(emu, BASIC, { headers = { ["Idempotency-Key"] = "a" } })
      submit(emu, BASIC, { headers = { ["Idempotency-Key"] = "a" } })
      http("GET", emu.url .. "/v1/balance")
      http("GET", emu.url .. "/v1/tasks/task_x")
      http("GET", emu.url .. "/v1/balance")
      local r = http("GET", emu.url .. "/_emulator/stats", { key = false })
      assert.equals(200, r.status)
      local s = r.json
      assert.equals(1, s.tasks_created)
      assert.equals(2, s.submits)
      assert.equals(1, s.replays)
      assert.equals(1, s.rate_limited)
      assert.equals(5, s.requests)
      assert.same({ submit = 2, poll = 1, upload = 0, balance = 2, other = 0 }, s.endpoints)
    end)

    it("answers unknown endpoints with 404", function()
      emu = emulator.start()
      local r = http("GET", emu.url .. "/v2/nothing")
      assert.equals(404, r.status)
      assert.equals("invalid_request_error", r.json.error.type)
    end)
  end)
end)
