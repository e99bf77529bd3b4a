-- Strings holding a NUL byte: no Lua string reaches C cut short at its NUL
-- (the core's file calls, the client's options, paths, outputs, local
-- images); a request field holding one is refused before paying, or sent
-- whole; nothing is paid for and no slot is kept.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local child = require("helpers.child")
local util = require("helpers.util")

local R, cleanup = util.request, util.cleanup()

describe("strings holding a NUL byte #c #compat", function()
  local emu = emulator.fixture{ speed = util.SPEED }

  it("never lets a string holding a NUL byte reach C cut short: core, options, paths #m-core-strings-nul #m-options-nul-refused", function()
    local dir = cleanup(util.tmpdir())
    local p = dir .. "/f\0.x"
    for _, call in ipairs{
      { "stat", p }, { "kind", p }, { "file_id", p }, { "read_file", p, 10 }, { "probe_dir", p }, { "append_sync", p, "x" },
      { "remove", p }, { "replace", p, dir .. "/g" }, { "replace", dir .. "/g", p }, { "lock", p }, { "file", p },
    } do
      local ok, err = pcall(core[call[1]], call[2], call[3])
      assert.is_false(ok, call[1])
      assert.matches("must not contain NUL bytes", err, nil, true)
    end
    for _, opt in ipairs{ "journal", "ca_file", "proxy", "user_agent", "base_url" } do
      local ok, err = pcall(seedance.new, { api_key = "sk-x", base_url = emu.url, [opt] = "http://127.0.0.1/\0x" })
      assert.is_false(ok, opt)
      assert.matches("bad argument #1 to 'new' (option '" .. opt .. "' must not contain NUL bytes)", err, nil, true)
    end
    local c = util.client_for(emu)
    local ok, err = pcall(c.upload_image, c, p)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'upload_image' (path must not contain NUL bytes)", err, nil, true)
    local task = c:task("task_nul")
    ok, err = pcall(task.download, task, p)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'download' (path must not contain NUL bytes)", err, nil, true)
    assert.is_nil(util.size_of(dir .. "/f"))
  end)

  -- found: an output path holding a NUL byte passed every check (the C side read it up to the NUL),
  -- both tasks were paid, then the download raised inside a downloader and map hung for ever
  it("refuses an output path holding a NUL byte before paying, and never hangs #found #child #m-paths-nul-refused", function()
    local dir = cleanup(util.tmpdir())
    local before = emu:created()
    local ok, out = child.run(emu.url, ([[
      local results = seedance.map(c, { R"a", R"b" }, { output = function(i) return %q .. "\0" .. i end })
      io.write(results[1].error.type, " ", results[1].error.message:match("NUL") or results[1].error.message)]])
      :format(dir .. "/v.mp4"))
    assert.is_true(ok, "map hung after paying: " .. out)
    assert.equals("io_error NUL", out)
    assert.equals(before, emu:created())
  end)

  -- found: a local image path holding a NUL byte passed the checks, generate took a max_in_flight
  -- slot, then the upload raised in the engine: generate raised into the host and the slot was never
  -- given back. Fixed as a kind: seedance.file raises; the core's file calls refuse such strings; a
  -- marker whose path was changed afterwards is an io_error of generate, before any slot is taken.
  it("refuses a seedance.file path holding a NUL byte before paying, and keeps no slot #found #m-paths-nul-refused", function()
    local dir = cleanup(util.tmpdir())
    util.write(dir .. "/in.png", util.PNG)
    local c = util.client_for(emu, { max_in_flight = 1 })
    assert.has_error(function() seedance.file(dir .. "/in.png\0trailing") end,
      "bad argument #1 to 'file' (path must not contain NUL bytes)")
    local marker = seedance.file(dir .. "/in.png")
    marker.path = dir .. "/in.png\0trailing"
    local before = emu:created()
    local ok, t, err = pcall(c.generate, c, R{ prompt = "p", image_urls = { marker } })
    assert.is_true(ok, "generate raised into the host: " .. tostring(t))
    assert.is_nil(t)
    assert.equals("io_error", err.type)
    assert.matches("NUL", err.message)
    assert.equals(before, emu:created())
    assert(c:generate(R"after", { timeout = 5 }), "the slot was kept")
  end)

  it("a NUL byte in model or a URL is refused before paying; in a prompt it is sent whole, not cut", function()
    local gw = cleanup(gateway.start{ upstream = emu.url })
    local c = util.client_for(gw)
    local before = emu:created()
    local results = seedance.map(c, {
      { model = "doubao-seedance-2.0\0-fast", prompt = "m" },
      R{ prompt = "u", image_urls = { "https://example.com/a.png\0.evil" } },
    })
    assert.equals("validation_error", results[1].error.type)
    assert.equals("validation_error", results[2].error.type)
    assert.equals(before, emu:created())
    local task = c:generate(R"before\0after")
    if task then
      local posts = gw:requests{ method = "POST" }
      assert.truthy(posts[#posts].body:find("before\\u0000after", 1, true), posts[#posts].body)
    end
  end)
end)
