-- Specs for pipelines against the emulator: chaining, bounded fan-out, the
-- governor under a rate limit, and the journal surviving SIGKILL.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")

local util = require("helpers.util")
local process = require("helpers.process")
local SPEED, client_for, tmpdir, size_of, ffprobe_ok =
  util.SPEED, util.client_for, util.tmpdir, util.size_of, util.ffprobe_ok

describe("seedance.chain", function()
  it("starts each clip from the previous clip's last frame, and downloads every clip", function()
    local emu = emulator.start{ speed = SPEED }
    finally(function() emu:stop() end)
    local c = client_for(emu)
    local dir = tmpdir()
    local reqs = {}
    for i = 1, 3 do reqs[i] = { model = "doubao-seedance-2.0", prompt = "clip " .. i } end
    local sent = {}
    local clips, err = seedance.chain(c, reqs, {
      output = dir .. "/clip-%d.mp4",
      on_clip = function(i, task) sent[i] = task.request end,
    })
    emu:stop()
    assert.is_nil(err)
    assert.equals(3, #clips)
    for i = 1, 3 do
      assert.is_true(sent[i].return_last_frame)
      assert.is_true(size_of(clips[i].path) > 0)
    end
    assert.is_nil(sent[1].image_urls)
    assert.equals(clips[1].task.last_frame_url, sent[2].image_urls[1])
    assert.equals(clips[2].task.last_frame_url, sent[3].image_urls[1])
    process.remove_dir(dir)
  end)

  it("can pass the last frame as image_with_roles first_frame #m-chain-first-frame-replaced", function()
    local emu = emulator.start{ speed = SPEED }
    finally(function() emu:stop() end)
    local c = client_for(emu)
    local sent = {}
    -- clip 2's own first frame gives way to the previous last frame; its last frame stays
    local own = { { url = "https://example.com/own-first.png", role = "first_frame" },
                  { url = "https://example.com/own-last.png", role = "last_frame" } }
    local clips, err = seedance.chain(c, { { model = "doubao-seedance-2.0", prompt = "a" },
                                          { model = "doubao-seedance-2.0", prompt = "b", image_with_roles = own } },
      { frame_as = "first_frame", on_clip = function(i, task) sent[i] = task.request end })
    emu:stop()
    assert.is_nil(err)
    assert.same({ { url = clips[1].task.last_frame_url, role = "first_frame" }, own[2] }, sent[2].image_with_roles)
  end)

  it("works from a frame loop with seedance.step(0)", function()
    local emu = emulator.start{ speed = SPEED }
    finally(function() emu:stop() end)
    local c = client_for(emu)
    local clips, err, finished
    seedance.spawn(function()
      clips, err = seedance.chain(c, { { model = "doubao-seedance-2.0", prompt = "a" },
                                       { model = "doubao-seedance-2.0", prompt = "b" } })
      finished = true
    end)
    local deadline = core.now() + 60
    while not finished and core.now() < deadline do seedance.step(0); core.sleep(0.001) end
    emu:stop()
    assert.is_true(finished)
    assert.is_nil(err)
    assert.equals(2, #clips)
  end)
end)

describe("seedance.map", function()
  it("keeps input order, collects per-item errors, and reports batch progress", function()
    local emu = emulator.start{ speed = SPEED }
    finally(function() emu:stop() end)
    local c = client_for(emu)
    local reqs = {}
    for i = 1, 12 do reqs[i] = { model = "doubao-seedance-2.0", prompt = "item " .. i } end
    reqs[5] = { model = "doubao-seedance-2.0", prompt = "bad", duration = 99 }   -- fails validation
    local peak, last = 0, nil
    local results, stats = seedance.map(c, reqs, { concurrency = 3, on_progress = function(s)
      peak = math.max(peak, s.running); last = s.percent end })
    emu:stop()
    assert.equals(12, #results)
    assert.equals("validation_error", results[5].error.type)
    for i, r in ipairs(results) do
      if i ~= 5 then
        assert.is_nil(r.error)
        assert.equals("item " .. i, r.task.request.prompt)
      end
    end
    assert.same({ 11, 1 }, { stats.done, stats.failed })
    assert.is_true(peak <= 3)
    assert.equals(100, last)
  end)

  it("stops starting new items after the first error with fail_fast", function()
    local emu = emulator.start{ speed = SPEED }
    finally(function() emu:stop() end)
    local c = client_for(emu)
    local reqs = { { model = "doubao-seedance-2.0", prompt = "bad", duration = 99 } }
    for i = 2, 6 do reqs[i] = { model = "doubao-seedance-2.0", prompt = "x" .. i } end
    local results, stats = seedance.map(c, reqs, { concurrency = 1, fail_fast = true })
    emu:stop()
    assert.equals(5, stats.skipped)
    assert.equals("skipped", results[6].error.type)
  end)
end)

describe("the governor", function()
  it("finishes a 200-item batch under --rpm with no request lost and fewer 429s than ungoverned", function()
    local function run(governed)
      local emu = emulator.start{ speed = SPEED, rpm = 100, rpm_window = 1 }
      finally(function() emu:stop() end)
      local c = client_for(emu, { governor = governed, max_retries = 50, backoff = 0.05, max_backoff = 1,
                                  time_scale = 1, poll_min = 0.2, poll_max = 0.5 })
      local reqs = {}
      for i = 1, 200 do reqs[i] = { model = "doubao-seedance-2.0-fast", prompt = "g" .. i } end
      local results, stats = seedance.map(c, reqs, { concurrency = 50 })
      local s = emu:stats()
      emu:stop()
      return stats, s, results
    end
    local gstats, gemu = run(true)
    local ustats, uemu = run(false)
    print(string.format("\n  429s: governed %d, ungoverned %d", gemu.rate_limited, uemu.rate_limited))
    assert.equals(200, gstats.done)
    assert.equals(200, gemu.tasks_created)
    assert.equals(200, ustats.done)
    assert.is_true(gemu.rate_limited < uemu.rate_limited)
  end)
end)

describe("the journal", function()
  it("never pays twice: a 20-clip pipeline killed with SIGKILL 20 times finishes having paid for 20 tasks", function()
    -- the real 16:9 fixture, served slowly so that kills land mid-download too
    local whole = size_of("emulator/media/16x9.mp4")
    local emu = emulator.start{ speed = 100, media_rate = 4096 }
    finally(function() emu:stop() end)
    local dir = tmpdir()
    local count = 20
    local cmd = string.format("LUA_PATH='%s' LUA_CPATH='%s' %s spec/support/crash_pipeline.lua '%s' '%s' %d %s",
      package.path, package.cpath, util.LUA, emu.url, dir, count, 1 / 100)
    math.randomseed(20261123)
    local kills, round = 0, 0
    while kills < 20 and round < 60 do
      round = round + 1
      local p = io.popen("sh -c '" .. cmd:gsub("'", "'\\''") .. " >/dev/null 2>&1 & echo $!'")
      local pid = p:read("*l")
      p:close()
      core.sleep(0.05 + math.random() * (0.3 + round * 0.05))   -- submitting, polling or mid-download
      if util.run("kill -9 " .. pid) then kills = kills + 1 end
      for _ = 1, 1000 do -- until it is gone (a zombie counts as gone: PID 1 reaps orphans when it likes)
        if not process.alive(pid) then break end
        core.sleep(0.01)
      end
      -- nothing partial under a final name, after any kill
      for i = 1, count do
        local path = string.format("%s/clip-%02d.mp4", dir, i)
        local n = size_of(path)
        assert(n == nil or n == whole, "round " .. round .. ": partial " .. path)
      end
    end
    local ok = util.run(cmd .. " >/dev/null")
    local stats = emu:stats()
    emu:stop()
    assert.truthy(ok)
    assert.is_true(kills >= 20, "only " .. kills .. " kills landed")
    assert.equals(count, stats.tasks_created)
    assert.is_true(stats.range_requests > 0, "no kill landed mid-download")
    for i = 1, count do
      local path = string.format("%s/clip-%02d.mp4", dir, i)
      assert.equals(whole, size_of(path))
      assert.is_true(ffprobe_ok(path))
    end
    print(string.format("\n  %d kills; tasks created %d for %d requests; %d range requests (resumed downloads)",
      kills, stats.tasks_created, count, stats.range_requests))
    process.remove_dir(dir)
  end)

  it("re-attaches to journaled tasks and skips finished downloads #m-journal-reattach", function()
    local emu = emulator.start{ speed = SPEED }
    finally(function() emu:stop() end)
    local dir = tmpdir()
    local function pipeline()
      local c = client_for(emu, { journal = dir .. "/j.journal" })
      local results = seedance.map(c, {
        { model = "doubao-seedance-2.0", prompt = "one" },
        { model = "doubao-seedance-2.0", prompt = "one" },   -- the same request twice: two logical requests
      }, { output = dir .. "/v-%d.mp4" })
      c:close() -- gives the journal's lock back, for the re-run
      return results
    end
    local first = pipeline()
    local media_first = emu:stats().media_requests
    local second = pipeline()
    local stats = emu:stats()
    emu:stop()
    assert.equals(2, stats.tasks_created)
    assert.equals(2, media_first)
    assert.equals(media_first, stats.media_requests) -- finished downloads are not fetched again
    assert.are_not.equal(first[1].task.id, first[2].task.id)
    assert.equals(first[1].task.id, second[1].task.id)
    assert.is_true(second[1].task.reattached)
    local ok = ffprobe_ok(dir .. "/v-1.mp4")
    assert.is_true(ok)
    -- a torn last record is tolerated
    local f = assert(io.open(dir .. "/j.journal", "ab"))
    f:write('{"v":1,"type":"task","key":"tor')
    f:close()
    local j = assert(require("seedance.journal").open(dir .. "/j.journal"))
    assert.equals(1, j.torn)
    process.remove_dir(dir)
  end)
end)
