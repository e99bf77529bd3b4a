-- Specs for file work and the host's frame: with a journal, reading and hashing
-- a request's local images, reading the journal and syncing each record are
-- handed to the engine's worker thread (src/jobs.c), and long pieces of Lua work
-- (a journal of thousands of records, a batch's checks) are cut into slices a
-- frame each, so step(0) stays within a frame whatever the sizes. Proven on what
-- a step asks for and does, not on a clock (the figures are bench/frame_files.lua's).
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local journal = require("seedance.journal")
local nowait = require("helpers.nowait")
local preflight = require("seedance.preflight")
local process = require("helpers.process")
local util = require("helpers.util")

-- A PNG of n bytes (a real header, then zeros).
local function png(path, n)
  local head = "\137PNG\r\n\26\n"
  process.write(path, head .. string.rep("\0", n - #head))
end

-- Step seedance from a frame loop until done() (at most `limit` seconds); the number of steps.
local function frames(done, limit)
  local n, deadline = 0, seedance.now() + (limit or 60)
  while not done() and seedance.now() < deadline do
    seedance.step(0)
    n = n + 1
  end
  return n
end

-- Spawns: generate `prompt` on c, wait, download to out (and again through a handle made from its id when
-- `again`). Returns a function that gives { saved path } or { nil, err } once done, nil before.
local function spawn_saved(c, prompt, out, again)
  local result
  seedance.spawn(function()
    local task, err = c:generate{ model = "doubao-seedance-2.0", prompt = prompt }
    if task then task, err = task:wait() end
    local saved
    if task then saved, err = task:download(out) end
    if saved and again then saved, err = c:task(task.id):download(out) end
    result = { saved, err }
  end)
  return function() return result end
end

local cleanup = util.cleanup()

describe("file work and the host's frame #found #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }
  local dir
  before_each(function() dir = util.tmpdir() end)
  after_each(function() process.remove_dir(dir) end)

  it("with a journal and a 5 MB local image, step(0) hands every file read, hash and fsync to the worker "
    .. "#m-image-hash-off-frame #m-journal-by-descriptor #m-download-rename-on-worker", function()
    png(dir .. "/big.png", 5 * 1024 * 1024)
    local c = util.client_for(emu, { journal = dir .. "/run.journal" })
    cleanup(function() c:close() end)
    local work, jobs, stop = nowait.record_file_work()
    cleanup(stop)
    local waits, wstop = nowait.record()
    finally(wstop)
    local result
    seedance.spawn(function()
      local task, err = c:generate{ model = "doubao-seedance-2.0", prompt = "a big cat",
                                    image_urls = { seedance.file(dir .. "/big.png") } }
      if task then task, err = task:wait() end
      if task then task, err = task:download(dir .. "/out.mp4") end
      result = { task, err }
    end)
    frames(function() return result ~= nil end)
    stop()
    wstop()
    assert.is_truthy(result and result[1], tostring(result and result[2]))
    assert.same({}, work) -- nothing read whole, hashed or synced on the frame
    local ops = {}
    for _, op in ipairs(jobs) do ops[op] = (ops[op] or 0) + 1 end
    assert.equals(1, ops.hash)        -- the image, for the request's identity
    assert.equals(1, ops.replace)     -- the download's part onto its file
    assert.is_true((ops.append or 0) >= 4) -- submit, task, done, download records
    assert.is_nil(nowait.first_wait(waits))
  end)

  it("saves a download over a file already there, and drops a part it cannot resume, on the worker: no step(0) "
    .. "removes a large file or renames over one (freeing its blocks takes as long as its size) #found "
    .. "#m-download-files-off-frame", function()
    local big = emulator.start{ speed = util.SPEED, video_bytes = 1024 * 1024 }
    local c = util.client_for(big)
    local work, jobs, stop = nowait.record_file_work()
    finally(function() -- (busted keeps one finally per test)
      stop()
      c:close()
      big:stop()
    end)
    local out = dir .. "/again.mp4"
    process.write(out, string.rep("x", 512 * 1024))               -- the target stands there already
    process.write(out .. ".part", string.rep("y", 512 * 1024))    -- a part with no validator: started over
    local done = spawn_saved(c, "saved twice", out, true) -- and once more, over the first
    frames(function() return done() ~= nil end)
    local result = done()
    stop()
    assert.is_truthy(result and result[1], tostring(result and result[2]))
    assert.equals(1024 * 1024, util.size_of(out))
    assert.same({}, work)
    local ops = {}
    for _, op in ipairs(jobs) do ops[op] = (ops[op] or 0) + 1 end
    assert.equals(2, ops.replace)
    assert.is_true((ops.remove or 0) >= 1)
  end)

  it("writes at most the file budget of a fast download in one step(0), and still saves it whole #found #c "
    .. "#m-download-file-budget", function()
    local scheduler = require("seedance.scheduler")
    local size = 12 * 1024 * 1024
    local fast = emulator.start{ speed = util.SPEED, video_bytes = size }
    local c = util.client_for(fast)
    finally(function()
      c:close()
      fast:stop()
    end)
    local out = dir .. "/fast.mp4"
    local done = spawn_saved(c, "a fast one", out)
    -- a slow host's frames (20 Hz): step(0), then the rest of the frame, in which loopback fills the socket's
    -- buffers with more than a budget even on a loaded machine (at 60 Hz a loaded CI's emulator sent less than
    -- a budget a frame, and a step without the budget still wrote under it)
    local most, last, steps, deadline = 0, 0, 0, seedance.now() + 60
    while not done() and seedance.now() < deadline do
      seedance.step(0)
      steps = steps + 1
      local now = util.size_of(out .. ".part") -- (none once it is renamed onto fast.mp4)
      if now and now > last then most = math.max(most, now - last) end
      last = now or last
      core.sleep(0.05)
    end
    local result = done()
    assert.is_truthy(result and result[1], tostring(result and result[2]))
    assert.equals(size, util.size_of(out))
    -- the budget, and one more chunk of libcurl's (its 256 KiB buffer) that a paused download keeps
    assert.is_true(most <= scheduler.file_budget + 256 * 1024, most .. " bytes written in one step")
    assert.is_true(steps >= size / (scheduler.file_budget + 256 * 1024), steps .. " steps")
  end)

  it("reads a journal of thousands of records a slice per frame #m-journal-read-sliced", function()
    local path = dir .. "/long.journal"
    local lines = { '{"v":1,"type":"journal","format":"seedance-journal","created":1764000000}' }
    for i = 1, 3000 do
      lines[#lines + 1] = ('{"v":1,"type":"submit","key":"h%d#1","hash":"h%d","idempotency_key":"k%d"}'):format(i, i, i)
    end
    process.write(path, table.concat(lines, "\n") .. "\n")
    -- records read in each step: each is decoded once
    local json = require("seedance.json")
    local real, decoded, most = json.decode, 0, 0
    json.decode = function(text) decoded = decoded + 1; return real(text) end
    finally(function() json.decode = real end)
    local c
    seedance.spawn(function() c = util.client_for(emu, { journal = path }) end)
    local deadline = seedance.now() + 60
    while not c and seedance.now() < deadline do
      decoded = 0
      seedance.step(0)
      most = math.max(most, decoded)
    end
    json.decode = real
    c:close()
    assert.is_true(most <= journal.SLICE + 1, most .. " records read in one step")
  end)

  it("checks a batch of hundreds of items a slice per frame #m-preflight-sliced", function()
    local c = util.client_for(emu)
    local reqs = {}
    for i = 1, 320 do reqs[i] = { model = "doubao-seedance-2.0", prompt = "item " .. i } end
    local results
    -- every output's folder is missing: every item fails its checks, nothing is paid
    seedance.spawn(function() results = seedance.map(c, reqs, { output = dir .. "/none/%d.mp4" }) end)
    local steps = frames(function() return results ~= nil end)
    assert.equals("io_error", results[1].error.type)
    assert.is_true(steps >= 320 / preflight.SLICE, steps .. " steps for 320 items")
  end)

  it("makes one probe file per folder in a batch's checks, not one per item, and cuts them at the frame budget "
    .. "(64 items' file system calls took 40 ms of one step on a slow disk) #found #m-preflight-probe-once "
    .. "#m-preflight-slice-budget", function()
    local scheduler = require("seedance.scheduler")
    local reqs = {}
    for i = 1, 320 do reqs[i] = { model = "doubao-seedance-2.0", prompt = "item " .. i } end
    local outputs = function(i) return dir .. (i % 2 == 0 and "/even/" or "/odd/") .. i .. ".mp4" end
    util.run("mkdir " .. process.quote(dir .. "/even") .. " " .. process.quote(dir .. "/odd"))
    local real_probe, probes, budget = core.probe_dir, 0, scheduler.budget
    core.probe_dir = function(d) probes = probes + 1; return real_probe(d) end
    scheduler.budget = -1 -- every slice's budget is spent at once: one item a frame
    finally(function()
      core.probe_dir = real_probe
      scheduler.budget = budget
    end)
    local c = util.client_for(emu)
    local result
    seedance.spawn(function() result = { preflight.items(c, reqs, outputs, true, function(_, r) return r end) } end)
    local steps = frames(function() return result ~= nil end)
    core.probe_dir, scheduler.budget = real_probe, budget
    c:close()
    assert.equals(320, #result[1])
    assert.equals(2, probes)       -- one for each folder
    assert.is_true(steps >= 320, steps .. " steps for 320 items")
  end)
end)
