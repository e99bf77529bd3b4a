-- Checks before paying, in the library: generate, map and chain check every
-- file a batch touches (each output with the download's companions .part and
-- .part.meta, every local image, the client's journal) before the first
-- submit, compared by identity (spellings, links, '..', case), so a batch
-- never pays for a video it could not save or that would replace another file.
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local child = require("helpers.child")
local process = require("helpers.process")
local util = require("helpers.util")
local q = process.quote

local R, cleanup = util.request, util.cleanup()
local REQ = R("a paper boat on a river", 5)

describe("checks before paying #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }

  -- A fresh folder (removed after the test) holding an empty folder named `name`.
  local function folder_with_folder(name)
    local dir = cleanup(util.tmpdir())
    assert(os.execute("mkdir '" .. dir .. "/" .. name .. "'"))
    return dir
  end

  -- seedance.map over reqs with these options, which must pay for nothing: its results and stats.
  local function map_unpaid(reqs, opts)
    local paid, results, stats = emu:cost(function() return seedance.map(util.client_for(emu), reqs, opts) end)
    assert.equals(0, paid, "a task was paid for")
    return results, stats
  end

  describe("of map's outputs", function()
    it("map pays for nothing when an output folder is missing #found #m-preflight-map", function()
      local results, stats = map_unpaid({ REQ, REQ, REQ }, { output = "/nonexistent-seedance-dir/%03d.mp4" })
      assert.equals(3, stats.failed)
      assert.equals("io_error", results[1].error.type)
      assert.matches("does not exist", results[1].error.message)
    end)

    it("map pays for nothing when one local image cannot be read, or one output is a folder #found #m-preflight-map", function()
      local dir = folder_with_folder("002.mp4")
      local reqs = { REQ, REQ, R{ prompt = "x", image_urls = { seedance.file(dir .. "/nope.png") } } }
      local results, stats = map_unpaid(reqs, { output = dir .. "/%03d.mp4" })
      assert.equals(2, stats.failed)
      assert.equals(1, stats.skipped)
      assert.equals("skipped", results[1].error.type)
      assert.equals("io_error", results[2].error.type)
      assert.equals("io_error", results[3].error.type)
    end)

    it("map pays for nothing when a download's companion file could not be made #found #m-output-companions #m-preflight-map", function()
      local dir = folder_with_folder("002.mp4.part")
      local long = dir .. "/" .. string.rep("n", 250) .. ".mp4"
      local _, stats = map_unpaid({ REQ, REQ }, { output = dir .. "/%03d.mp4" })
      assert.equals(1, stats.failed)
      local r2 = map_unpaid({ REQ }, { output = function() return long end })
      assert.equals("io_error", r2[1].error.type)
    end)

    it("pays for nothing when one output of a 50-item batch cannot be written (the 50th)", function()
      local dir = cleanup(util.tmpdir())
      local reqs = util.requests("o", 50)
      local results, stats = map_unpaid(reqs, { concurrency = 16,
        output = function(i) return i == 50 and dir .. "/missing/50.mp4" or dir .. "/" .. i .. ".mp4" end })
      assert.equals("io_error", results[50].error.type)
      assert.equals("skipped", results[1].error.type)
      assert.same({ 0, 1, 49 }, { stats.done, stats.failed, stats.skipped })
    end)

    it("refuses a clash at the end of a 20,000-item batch before paying for any", function()
      local dir = cleanup(util.tmpdir())
      local reqs = util.requests("n", 20000)
      local results, stats = map_unpaid(reqs, { concurrency = 300,
        output = function(i) return dir .. "/" .. (i == 20000 and 1 or i) .. ".mp4" end })
      assert.equals("io_error", results[20000].error.type)
      assert.same({ 0, 1, 19999 }, { stats.done, stats.failed, stats.skipped })
    end)
  end)

  describe("that two files of a batch are not one", function()
    -- found: map with an output that named one file for every item ("out/clip.mp4", no %d) paid for
    -- each, downloaded them all to that one file and reported every item done
    it("map refuses, before paying, outputs that name the same file twice #found #m-map-distinct-outputs", function()
      local dir = cleanup(util.tmpdir())
      local before = emu:created()
      local reqs = { R("a paper boat", 5), R("another boat", 10) }
      local results, stats = seedance.map(util.client_for(emu), reqs, { output = dir .. "/clip.mp4" })
      assert.is_true(emu:created() == before or stats.done < 2,
        "paid twice and reported both done, one file kept: " .. tostring(results[1].path))
      assert.equals(before, emu:created())
    end)

    -- found: the same with an output function whose two paths are two spellings of one file
    it("map refuses two spellings of one output path #found #m-map-distinct-outputs", function()
      local dir = cleanup(util.tmpdir())
      local results = map_unpaid({ REQ, REQ }, {
        output = function(i) return i == 1 and dir .. "/v.mp4" or dir .. "/./v.mp4" end })
      assert.truthy(results[1].error)
    end)

    it("refuses one output spelled three ways (./, //, a linked folder) before paying", function()
      local dir = cleanup(util.tmpdir())
      assert(os.execute("mkdir " .. q(dir .. "/out") .. " && ln -s out " .. q(dir .. "/link")))
      local spell = { dir .. "/out/v.mp4", dir .. "/out/./v.mp4", dir .. "//out//v.mp4", dir .. "/link/v.mp4" }
      for k = 2, #spell do
        local results = map_unpaid({ R"a", R"b" }, { output = function(i) return spell[i == 1 and 1 or k] end })
        assert.truthy(results[2].error)
      end
    end)

    -- found: an output that was another item's download companion ("v.mp4.part" beside "v.mp4")
    -- passed the checks: item 2's download streamed to v.mp4.part, over item 1's finished video, and
    -- renamed it away. Fixed (with the next two) by seedance.paths: every output with its companions,
    -- every image a request reads and the client's journal, compared by identity.
    it("never lets one item's download run over another item's output (.part) #found #m-map-output-companions", function()
      local dir = cleanup(util.tmpdir())
      local before = emu:created()
      local outs = { dir .. "/v.mp4.part", dir .. "/v.mp4" }
      local results = seedance.map(util.client_for(emu), { R("a", 4), R("b", 10) },
        { concurrency = 1, output = function(i) return outs[i] end })
      assert.equals(before, emu:created())
      assert.equals("skipped", results[1].error.type)
      assert.equals("io_error", results[2].error.type)
      assert.matches("item 1's output [^\n]*v%.mp4%.part and item 2's output [^\n]*v%.mp4 %(its file [^\n]*v%.mp4%.part%) "
        .. "name the same file", results[2].error.message)
      -- the other way round, and a chain's clips alike
      results = seedance.map(util.client_for(emu), { R"a", R"b" }, { output = function(i) return outs[3 - i] end })
      assert.equals("io_error", results[2].error.type)
      local clips, err = seedance.chain(util.client_for(emu), { R"a", R"b" }, { output = function(i) return outs[i] end })
      assert.same({}, clips)
      assert.matches("name the same file", err.message)
      assert.equals(before, emu:created())
    end)

    -- found: an output naming the client's own journal passed map's checks: the video replaced the
    -- journal, and a re-run could not open it, so it re-attached to nothing
    it("refuses an output that names the client's journal #found #m-map-journal-kept", function()
      local dir = cleanup(util.tmpdir())
      local c = util.client_for(emu, { journal = dir .. "/run.journal" })
      cleanup(function() c:close() end) -- c is a second client later on
      local before = emu:created()
      local outs = { dir .. "/run.journal", dir .. "/b.mp4" }
      seedance.map(c, { R("a", 4), R("b", 10) }, { concurrency = 1, output = function(i) return outs[i] end })
      c:close()
      local reopened, again = pcall(seedance.new, { api_key = "sk-x", base_url = emu.url, journal = dir .. "/run.journal" })
      assert.is_true(reopened, "the journal no longer opens: its records are lost")
      assert.equals(before, emu:created(), "paid with an output over the journal")
      again:close()
      c = util.client_for(emu, { journal = dir .. "/run.journal" })
      local results = seedance.map(c, { R"a" }, { output = dir .. "//./run.journal" })
      assert.matches("the client's journal [^\n]* name the same file", results[1].error.message)
    end)

    -- found: an output naming a local image a request of the batch reads passed map's checks: item
    -- 1's video replaced item 2's input image
    it("refuses an output that names a local image of the batch #found #m-map-images-kept", function()
      local dir = cleanup(util.tmpdir())
      util.write(dir .. "/in.png", util.PNG)
      local reqs = { R("a", 4), R{ prompt = "b", image_urls = { seedance.file(dir .. "/in.png") } } }
      local before = emu:created()
      seedance.map(util.client_for(emu), reqs, { concurrency = 1,
        output = function(i) return i == 1 and dir .. "/./in.png" or dir .. "/b.mp4" end })
      assert.equals(util.PNG, util.read_file(dir .. "/in.png"), "the input image was overwritten by a video")
      assert.equals(before, emu:created())
      -- a hard link to the image, and an image that is another item's partial download, alike
      assert(os.execute("ln " .. q(dir .. "/in.png") .. " " .. q(dir .. "/hard.mp4")))
      for _, out in ipairs{ dir .. "/hard.mp4", dir .. "/in" } do
        reqs[2].image_urls[1] = seedance.file(out == dir .. "/in" and dir .. "/in.part" or dir .. "/in.png")
        if out == dir .. "/in" then util.write(dir .. "/in.part", util.PNG) end
        local results = seedance.map(util.client_for(emu), reqs, { output = function(i) return i == 1 and out or dir .. "/b.mp4" end })
        assert.matches("name the same file", results[2].error.message)
      end
      assert.equals(before, emu:created())
    end)

    it("refuses an output that is another's .part.meta, or the same file through '..', for map and chain #m-paths-case-folded", function()
      local dir = cleanup(util.tmpdir())
      assert(os.execute("mkdir " .. q(dir .. "/sub")))
      local before = emu:created()
      for _, pair in ipairs{
        { dir .. "/v.mp4.part.meta", dir .. "/v.mp4" },
        { dir .. "/v.mp4", dir .. "/v.mp4.part.meta" },
        { dir .. "/sub/../w.mp4", dir .. "/w.mp4" },
        { "v.mp4", "./v.mp4" },
        -- one file where case is ignored (macOS, Windows, a FAT or SMB folder mounted here)
        { dir .. "/Out.mp4", dir .. "/out.MP4" },
        { dir .. "/sub/Clip.mp4", dir .. "/sub/clip.mp4.part" },
      } do
        local results = seedance.map(util.client_for(emu), { R"a", R"b" },
          { output = function(i) return pair[i] end })
        assert.equals("io_error", results[2].error.type, pair[1] .. " / " .. pair[2])
        assert.matches("name the same file", results[2].error.message)
        local clips, err = seedance.chain(util.client_for(emu), { R"a", R"b" },
          { output = function(i) return pair[i] end })
        assert.same({}, clips)
        assert.matches("name the same file", err.message)
      end
      assert.equals(before, emu:created())
    end)

    it("takes a backslash in a POSIX name as a character of the name, not a folder", function()
      if package.config:sub(1, 1) == "\\" then return end -- a separator on Windows
      local dir = cleanup(util.tmpdir())
      local results = seedance.map(util.client_for(emu), { R"a" }, { output = dir .. "/a\\b-%d.mp4" })
      assert.is_nil(results[1].error, tostring(results[1].error))
      assert.is_true(util.is_mp4(dir .. "/a\\b-1.mp4"))
    end)

    it("refuses an image that is another item's .part.meta reached through a linked folder, before paying", function()
      local dir = cleanup(util.tmpdir())
      assert(os.execute("mkdir " .. q(dir .. "/out") .. " && ln -s out " .. q(dir .. "/link")))
      util.write(dir .. "/out/v.mp4.part.meta", util.PNG)
      local reqs = { R"a", R{ prompt = "b", image_urls = { seedance.file(dir .. "/link/v.mp4.part.meta") } } }
      local results = map_unpaid(reqs, { output = function(i) return i == 1 and dir .. "/out/v.mp4" or dir .. "/b.mp4" end })
      assert.equals("io_error", results[2].error.type)
      assert.matches("name the same file", results[2].error.message)
      assert.equals(util.PNG, util.read_file(dir .. "/out/v.mp4.part.meta"))
    end)

    it("refuses an output that is the journal given by a relative path (journal relative, output absolute) #child", function()
      local dir = cleanup(util.tmpdir())
      local before = emu:created()
      local ok, out = child.run(emu.url, ([[
        local results = seedance.map(c, { R"a" }, { output = %q })
        io.write(results[1].error and results[1].error.message or "no error")]]):format(dir .. "/run.journal"),
        { cwd = dir, journal = "run.journal" })
      assert.is_true(ok, out)
      assert.matches("the client's journal run%.journal .* name the same file", out)
      assert.equals(before, emu:created())
    end)

    it("keeps item 1's video when item 2's output is a link to it (the link is replaced, not followed)", function()
      local dir = cleanup(util.tmpdir())
      assert(os.execute("ln -s a.mp4 " .. q(dir .. "/b.mp4")))
      local results, stats = seedance.map(util.client_for(emu), { R("a", 4), R("b", 10) },
        { concurrency = 1, output = function(i) return dir .. (i == 1 and "/a.mp4" or "/b.mp4") end })
      assert.equals(2, stats.done)
      assert.are_not.equal(util.size_of(dir .. "/a.mp4"), util.size_of(dir .. "/b.mp4"))
      assert.is_true(util.ffprobe_ok(dir .. "/a.mp4"))
      assert.equals(results[1].path, dir .. "/a.mp4")
    end)

    it("keeps item 1's video when item 2's partial file is a link to it, and still saves item 2", function()
      local dir = cleanup(util.tmpdir())
      assert(os.execute("ln -s a.mp4 " .. q(dir .. "/b.mp4.part") .. " && ln -s a.mp4 " .. q(dir .. "/b.mp4.part.meta")))
      local before = emu:created()
      local results, stats = seedance.map(util.client_for(emu), { R("a", 4), R("b", 10) },
        { concurrency = 1, output = function(i) return dir .. (i == 1 and "/a.mp4" or "/b.mp4") end })
      assert.is_true(util.ffprobe_ok(dir .. "/a.mp4"), "item 1's video was written through item 2's .part link")
      -- either refused before paying, or item 2 saved: never paid for and then lost
      if emu:created() > before then
        assert.equals(2, stats.done, tostring(results[2].error))
        assert.is_true(util.ffprobe_ok(dir .. "/b.mp4"))
      end
    end)
  end)

  describe("of local images", function()
    it("generate reads a FIFO named as an image without hanging, and pays for nothing #found #m-image-not-fifo", function()
      local fifo = cleanup(util.tmpfile("image.png"))
      assert(os.execute("mkfifo '" .. fifo .. "'"))
      local before = emu:created()
      local t, err = util.client_for(emu):generate(R{ prompt = "x", image_urls = { seedance.file(fifo) } })
      assert.is_nil(t)
      assert.equals("io_error", err.type)
      assert.equals(before, emu:created())
    end)

    -- found: a FIFO named as a local image (seedance.file) blocked generate for ever in io.open,
    -- its timeout notwithstanding (the same in map's checks and upload_image)
    it("a FIFO as a local image fails its check instead of blocking forever #found #child", function()
      local dir = cleanup(util.tmpdir())
      assert(os.execute("mkfifo '" .. dir .. "/in.png'"))
      local ok, out = child.lua(([[
        local s = require("seedance")
        local c = s.new{ api_key = "sk-x", base_url = %q }
        local t, err = c:generate({ model = "doubao-seedance-2.0", prompt = "x",
                                    image_urls = { s.file(%q) } }, { timeout = 1 })
        io.write(tostring(err and err.type))]]):format(emu.url, dir .. "/in.png"), { limit = 5 })
      assert.is_true(ok, "generate still blocked after 5 s")
      assert.equals("io_error", out)
    end)

    it("generate uploads and pays for nothing when a later local image cannot be read #found #m-preflight-generate-inputs", function()
      local png = cleanup(util.write(util.tmpfile("ok.png"), util.PNG))
      local before = emu:stats()
      local t, err = util.client_for(emu):generate(R{ prompt = "x",
        image_urls = { seedance.file(png), seedance.file("/nonexistent/b.png") } })
      assert.is_nil(t)
      assert.equals("io_error", err.type)
      assert.equals(before.tasks_created, emu:created())
      assert.equals(before.uploads, emu:stats().uploads)
    end)
  end)
end)
