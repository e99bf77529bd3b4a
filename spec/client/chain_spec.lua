-- seedance.chain: each clip starts from the previous clip's last frame (as an
-- image, or as the first_frame role), keeps the clip's own images, checks
-- every clip before paying for the first, and keeps every clip it paid for:
-- a chain stopped at a paid clip names its task.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local util = require("helpers.util")

local R, cleanup = util.request, util.cleanup()

describe("seedance.chain #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }

  it("starts each clip from the previous clip's last frame, and downloads every clip", function()
    local dir = cleanup(util.tmpdir())
    local reqs = util.requests("clip ", 3)
    local sent = {}
    local clips, err = seedance.chain(util.client_for(emu), reqs, {
      output = dir .. "/clip-%d.mp4",
      on_clip = function(i, task) sent[i] = task.request end,
    })
    assert.is_nil(err)
    assert.equals(3, #clips)
    for i = 1, 3 do
      assert.is_true(sent[i].return_last_frame)
      assert.is_true(util.size_of(clips[i].path) > 0)
    end
    assert.is_nil(sent[1].image_urls)
    assert.equals(clips[1].task.last_frame_url, sent[2].image_urls[1])
    assert.equals(clips[2].task.last_frame_url, sent[3].image_urls[1])
  end)

  it("can pass the last frame as image_with_roles first_frame #m-chain-first-frame-replaced", function()
    local sent = {}
    -- clip 2's own first frame gives way to the previous last frame; its last frame stays
    local own = { { url = "https://example.com/own-first.png", role = "first_frame" },
                  { url = "https://example.com/own-last.png", role = "last_frame" } }
    local clips, err = seedance.chain(util.client_for(emu), { R"a", R{ prompt = "b", image_with_roles = own } },
      { frame_as = "first_frame", on_clip = function(i, task) sent[i] = task.request end })
    assert.is_nil(err)
    assert.same({ { url = clips[1].task.last_frame_url, role = "first_frame" }, own[2] }, sent[2].image_with_roles)
  end)

  it("puts the previous last frame before a clip's own images, keeping them #m-chain-keeps-images", function()
    local own = "https://example.com/style.png"
    local reqs = {}
    for i = 1, 2 do reqs[i] = R{ prompt = "clip " .. i, image_urls = { own } } end
    local sent = {}
    local clips, err = seedance.chain(util.client_for(emu), reqs, {
      on_clip = function(i, task) sent[i] = task.request end,
    })
    assert.is_nil(err)
    assert.equals(2, #clips)
    assert.same({ own }, sent[1].image_urls)
    assert.same({ clips[1].task.last_frame_url, own }, sent[2].image_urls)
  end)

  it("works from a frame loop with seedance.step(0)", function()
    local clips, err, finished
    seedance.spawn(function()
      clips, err = seedance.chain(util.client_for(emu), { R"a", R"b" })
      finished = true
    end)
    local deadline = core.now() + 60
    while not finished and core.now() < deadline do seedance.step(0); core.sleep(0.001) end
    assert.is_true(finished)
    assert.is_nil(err)
    assert.equals(2, #clips)
  end)

  describe("checks every clip before paying for the first", function()
    it("refuses bad steps of a chain before paying (not tables, invalid, invalid only with the frame added)", function()
      local c = util.client_for(emu)
      local before = emu:created()
      assert.has_error(function() seedance.chain(c, { R"a", "b" }) end)
      assert.has_error(function() seedance.chain(c, { R"a", seedance.file }) end)
      local clips, err = seedance.chain(c, { R"a", R{ prompt = "b", duration = 99 } })
      assert.same({}, clips)
      assert.equals("validation_error", err.type)
      -- valid alone, invalid once the previous last frame is added beside a first_frame role
      local second = R{ prompt = "b", image_with_roles = { { url = "https://example.com/f.png", role = "first_frame" } } }
      assert.is_true(seedance.validate(second))
      clips, err = seedance.chain(c, { R"a", second })
      assert.same({}, clips)
      assert.equals("validation_error", err.type)
      clips, err = seedance.chain(c, {})
      assert.same({}, clips)
      assert.is_nil(err)
      assert.equals(before, emu:created())
    end)

    -- found: chain checked only outputs and local images before paying: a later clip the validator
    -- refuses (or one the previous frame makes invalid) was found out after clip 1 was paid for
    it("chain pays for nothing when a later clip would fail validation #found #m-chain-validates-clips", function()
      local c = util.client_for(emu)
      local later = {
        R{ prompt = "too long", duration = 99 },
        -- the previous frame goes into image_urls, which may not stand beside image_with_roles
        R{ prompt = "x", image_with_roles = { { url = "https://example.com/ref.png", role = "reference_image" } } },
      }
      for _, bad in ipairs(later) do
        local before = emu:created()
        local clips, err = seedance.chain(c, { R("a paper boat", 5), bad })
        assert.equals("validation_error", err and err.type)
        assert.equals(before, emu:created(), "clip 1 paid for, " .. #clips .. " clip(s) kept")
      end
    end)

    it("chain pays for nothing when a later clip's folder is missing #found #m-preflight-chain", function()
      local before = emu:created()
      local clips, err = seedance.chain(util.client_for(emu), { R"a", R"a" }, {
        output = function(i) return i == 1 and util.tmpfile("clip1.mp4") or "/nonexistent-seedance-dir/2.mp4" end })
      assert.equals(0, #clips)
      assert.equals("io_error", err.type)
      assert.equals(before, emu:created())
    end)
  end)

  describe("keeps what it paid for", function()
    -- found: chain dropped the task of the clip whose wait or download failed (M.chain returned
    -- `clips, item.error` without the item): clip 2 was paid for and went on rendering on the
    -- service, yet the caller held neither its handle nor its id. Fixed: a chain stopped at a paid
    -- clip names its task in the error (task_id).
    it("returns the paid task of a clip whose on_progress raises #found #m-chain-error-names-task", function()
      local before = emu:created()
      local clips, err = seedance.chain(util.client_for(emu), { R"a", R"b", R"c" },
        { on_progress = function(i) if i == 2 then error("a bug in the caller's progress bar") end end })
      assert.equals(2, emu:created() - before)
      assert.equals("callback_error", err.type)
      assert.equals(1, #clips)
      assert.truthy((clips[2] and clips[2].task) or err.task_id,
        "clip 2 was paid for, and its task is neither in clips nor named by the error")
    end)

    -- found: the same from the download side: clip 1 completed, its download failed (on_download
    -- raised), and chain returned {} and the error: the completed clip's handle was lost
    it("returns the completed, paid clip whose download fails #found #m-chain-error-names-task", function()
      local dir = cleanup(util.tmpdir())
      local before = emu:created()
      local clips, err = seedance.chain(util.client_for(emu), { R"a", R"b" },
        { output = dir .. "/clip-%d.mp4", on_download = function() error("disk quota script raised") end })
      assert.equals(1, emu:created() - before)
      assert.equals("callback_error", err.type)
      local task = (clips[1] and clips[1].task) or nil
      assert.truthy(task or err.task_id, "clip 1 was paid for and completed; its task is lost")
    end)

    it("closing the client from chain's on_progress keeps clip 1 (downloaded) and pays for no clip 2", function()
      local dir = cleanup(util.tmpdir())
      local c = util.client_for(emu)
      local before = emu:created()
      local clips, err = seedance.chain(c, { R"a", R"b", R"c" }, { output = dir .. "/clip-%d.mp4",
        on_progress = function() c:close() end })
      assert.equals(1, emu:created() - before)
      assert.equals("aborted", err.type)
      assert.equals(1, #clips)
      assert.truthy(clips[1].task.id)
      assert.is_true(util.size_of(clips[1].path) > 0)
    end)

    it("closing the client from chain's on_clip keeps the clip and pays for nothing after it", function()
      local c = util.client_for(emu)
      local before = emu:created()
      local clips, err = seedance.chain(c, { R"a", R"b" }, { on_clip = function() c:close() end })
      assert.equals(1, emu:created() - before)
      assert.equals("aborted", err.type)
      assert.equals(1, #clips)
    end)
  end)
end)
