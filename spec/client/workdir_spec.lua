-- Specs for the host's working directory: a path the library keeps (the
-- journal, an output and its .part, a local image) is resolved when it is
-- given, and the journal stays open by its descriptor, so a host that changes
-- folder later (an editor's `:cd`, `uv.chdir`) changes nothing. A real chdir in
-- this process, made by luv (lua-luv) as a host would make it.
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local nghttpx = require("helpers.nghttpx")
local process = require("helpers.process")
local tls = require("helpers.tls")
local util = require("helpers.util")

local ok_luv, uv = pcall(require, "luv")

local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat on a river", duration = 5 }
local PNG = "\137PNG\r\n\26\n" .. string.rep("\0", 64)

local cleanup = util.cleanup()

describe("the host's working directory #found #compat #c", function()
  if not ok_luv then
    it("needs lua-luv", function() pending("lua-luv is not installed for " .. _VERSION) end)
    return
  end
  local emu, home, a, b
  setup(function()
    emu = emulator.start{ speed = util.SPEED, media_rate = 200000, video_bytes = 400000 }
    home = uv.cwd()
  end)
  teardown(function() emu:stop() end)
  before_each(function()
    a, b = util.tmpdir(), util.tmpdir()
    assert(uv.chdir(a))
  end)
  after_each(function()
    assert(uv.chdir(home)) -- the specs after these read files relative to the repository
    process.remove_dir(a)
    process.remove_dir(b)
  end)

  local function read(path) return util.read_file(path) or "" end
  local function count(text, what)
    local n = 0
    for _ in text:gmatch(what) do n = n + 1 end
    return n
  end

  it("keeps writing the journal it opened, by its descriptor, after the host changes folder; a re-run there "
    .. "pays nothing #m-journal-by-descriptor", function()
    local c = util.client_for(emu, { journal = "run.journal" })
    assert(c:generate(REQ))
    assert(uv.chdir(b))
    assert(c:generate{ model = "doubao-seedance-2.0", prompt = "a second boat", duration = 5 })
    c:close()
    assert.is_nil(util.size_of(b .. "/run.journal"), "a second journal was made in the new folder")
    local text = read(a .. "/run.journal")
    assert.equals(2, count(text, '"type":"task"'))
    -- a re-run (from the first folder again) re-attaches to both: nothing is paid again
    assert(uv.chdir(a))
    local before = emu:stats().tasks_created
    c = util.client_for(emu, { journal = "run.journal" })
    assert.is_true(assert(c:generate(REQ)).reattached)
    assert.is_true(assert(c:generate{ model = "doubao-seedance-2.0", prompt = "a second boat", duration = 5 })
      .reattached)
    c:close()
    assert.equals(before, emu:stats().tasks_created)
  end)

  it("map refuses an output that is its client's journal, however the host's folder changed since "
    .. "#m-journal-path-resolved", function()
    local c = util.client_for(emu, { journal = "run.journal" })
    finally(function() c:close() end)
    assert(uv.chdir(b))
    local before = emu:stats().tasks_created
    local results = seedance.map(c, { REQ }, { output = a .. "/run.journal" })
    assert.equals("io_error", results[1].error.type)
    assert.matches("name the same file", results[1].error.message)
    assert.equals(before, emu:stats().tasks_created)
  end)

  it("uploads the image seedance.file named when it was called, not a file of the new folder "
    .. "#m-file-marker-resolved", function()
    process.write(a .. "/cat.png", PNG)
    local marker = seedance.file("cat.png")
    assert(uv.chdir(b))
    process.write(b .. "/cat.png", "not an image at all")
    local c = util.client_for(emu)
    local task, err = c:generate{ model = "doubao-seedance-2.0", prompt = "a cat", image_urls = { marker } }
    assert.is_truthy(task, tostring(err))
  end)

  it("saves a download where its path named when download was called, though the host changed folder "
    .. "while it ran #m-download-path-resolved", function()
    local c = util.client_for(emu)
    local task = assert(c:generate(REQ))
    assert(task:wait())
    local saved, err
    seedance.spawn(function() saved, err = task:download("video.mp4") end)
    seedance.step(0) -- the download starts: its path is resolved now
    assert(uv.chdir(b))
    local deadline = seedance.now() + 30
    while seedance.step(0.01) > 0 and seedance.now() < deadline do end
    assert.equals("video.mp4", saved, tostring(err))
    assert.equals(400000, util.size_of(a .. "/video.mp4"))
    assert.is_nil(util.size_of(b .. "/video.mp4"))
    assert.is_nil(util.size_of(b .. "/video.mp4.part"))
  end)

  it("map saves each item where its output named when map was called #m-map-outputs-resolved", function()
    local c = util.client_for(emu)
    local results
    seedance.spawn(function() results = seedance.map(c, { REQ, REQ }, { output = "item-%d.mp4" }) end)
    seedance.step(0) -- map's checks run: every output is resolved now
    assert(uv.chdir(b))
    local deadline = seedance.now() + 60
    while seedance.step(0.01) > 0 and seedance.now() < deadline do end
    for i = 1, 2 do
      assert.equals("item-" .. i .. ".mp4", results[i].path, tostring(results[i].error))
      assert.equals(400000, util.size_of(a .. "/item-" .. i .. ".mp4"))
    end
    assert.is_nil(util.size_of(b .. "/item-1.mp4"))
  end)

  it("map resolves every output before its checks yield to the host's frame: a folder changed between two frames "
    .. "of a batch's checks saves no item elsewhere #found #m-map-outputs-resolved-first", function()
    local scheduler = require("seedance.scheduler")
    local budget = scheduler.budget
    scheduler.budget = -1 -- each frame's budget is spent at once: the checks go one item a frame
    finally(function() scheduler.budget = budget end)
    local c = util.client_for(emu)
    local results
    seedance.spawn(function() results = seedance.map(c, { REQ, REQ, REQ }, { output = "slice-%d.mp4" }) end)
    seedance.step(0) -- the checks have begun: only the first item's are done
    assert(uv.chdir(b))
    scheduler.budget = budget
    local deadline = seedance.now() + 60
    while seedance.step(0.01) > 0 and seedance.now() < deadline do end
    for i = 1, 3 do
      assert.equals("slice-" .. i .. ".mp4", results[i].path, tostring(results[i].error))
      assert.equals(400000, util.size_of(a .. "/slice-" .. i .. ".mp4"))
      assert.is_nil(util.size_of(b .. "/slice-" .. i .. ".mp4"))
    end
  end)

  it("verifies TLS with the ca_file it was given, named relative to the folder the client was made in "
    .. "#m-ca-file-resolved", function()
    assert(uv.chdir(home)) -- the helpers start their servers from the repository's folder
    local certs = tls.make()
    cleanup(certs)
    local stack = nghttpx.in_front_of(emu, { tls = certs.server, http2 = false })
    finally(function() stack.stop() end)
    assert(uv.chdir(certs.ca:match("^(.*)/[^/]+$")))
    local c = util.client_for(emu, { base_url = stack.url, ca_file = certs.ca:match("([^/]+)$") })
    assert(uv.chdir(b))
    local bal, err = c:balance()
    assert.is_truthy(bal, tostring(err))
  end)
end)
