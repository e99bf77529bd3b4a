-- The platform layer as the Lua layer sees it (src/platform.h through
-- core.replace, core.remove, core.probe_dir, core.lock, core.now) and path
-- handling that must hold on Windows too (files.dirname). The same checks run
-- under Wine by windows/smoke.lua (make windows-smoke).
local core = require("seedance.core")
local files = require("seedance.files")
local util = require("helpers.util")
local process = require("helpers.process")
local write, read = process.write, util.read_file
local cleanup = util.cleanup()

describe("core.replace #c", function()
  local dir
  before_each(function() dir = cleanup(util.tmpdir()) end)

  it("moves a file over an existing one in one step", function()
    write(dir .. "/a", "new")
    write(dir .. "/b", "old")
    assert.is_true(core.replace(dir .. "/a", dir .. "/b"))
    assert.equal("new", read(dir .. "/b"))
    assert.is_nil(core.stat(dir .. "/a"))
  end)

  it("replaces a symbolic link at the target, never what it points to", function()
    write(dir .. "/victim", "keep")
    assert(os.execute("ln -s '" .. dir .. "/victim' '" .. dir .. "/b'"))
    write(dir .. "/a", "new")
    assert.is_true(core.replace(dir .. "/a", dir .. "/b"))
    assert.equal("file", core.stat(dir .. "/b").type)
    assert.equal("new", read(dir .. "/b"))
    assert.equal("keep", read(dir .. "/victim"))
  end)

  it("reports a missing source as nil, message, ENOENT", function()
    local ok, msg, code = core.replace(dir .. "/none", dir .. "/b")
    assert.is_nil(ok)
    assert.matches("none", msg)
    assert.equal("ENOENT", code)
  end)
end)

describe("core.kind #c", function()
  local dir
  before_each(function() dir = cleanup(util.tmpdir()) end)

  it("gives what stands at a path and its size as two values, a link as a link unless asked to follow #m-kind-nofollow", function()
    write(dir .. "/f", "12345")
    assert(os.execute("ln -s '" .. dir .. "/f' '" .. dir .. "/l'"))
    local kind, size = core.kind(dir .. "/f")
    assert.equal("file", kind)
    assert.equal(5, size)
    assert.equal("directory", (core.kind(dir)))
    assert.equal("link", (core.kind(dir .. "/l")))
    kind, size = core.kind(dir .. "/l", true)
    assert.equal("file", kind)
    assert.equal(5, size)
    -- (files.size reads through it: a planted link is no file of ours)
    assert.is_nil(files.size(dir .. "/l"))
    assert.equal(5, files.size(dir .. "/f"))
  end)

  it("answers nil and the code, no message, where nothing stands", function()
    local kind, code, extra = core.kind(dir .. "/none")
    assert.is_nil(kind)
    assert.equal("ENOENT", code)
    assert.is_nil(extra)
    write(dir .. "/f", "x")
    assert.equal("ENOTDIR", select(2, core.kind(dir .. "/f/x")))
  end)
end)

describe("core.remove #c", function()
  it("removes a link itself, never its target, and is quiet when nothing is there", function()
    local dir = cleanup(util.tmpdir())
    write(dir .. "/target", "keep")
    assert(os.execute("ln -s '" .. dir .. "/target' '" .. dir .. "/link'"))
    assert.is_true(core.remove(dir .. "/link"))
    assert.is_nil(core.stat(dir .. "/link"))
    assert.equal("keep", read(dir .. "/target"))
    assert.is_true(core.remove(dir .. "/link"))
    local ok, _, code = core.remove(dir)
    assert.is_nil(ok)
    assert.is_truthy(code)
  end)
end)

describe("core.probe_dir #c", function()
  it("takes a folder with or without a trailing separator and leaves nothing behind", function()
    local dir = cleanup(util.tmpdir())
    assert.is_true(core.probe_dir(dir))
    assert.is_true(core.probe_dir(dir .. "/"))
    local p = io.popen("ls -A '" .. dir .. "'")
    local left = p:read("*a")
    p:close()
    assert.equal("", left)
  end)
end)

-- The clock every deadline, backoff and poll schedule is measured on.
describe("core.now #c", function()
  it("is monotonic and counts a sleep", function()
    local t0 = core.now()
    core.sleep(0.02)
    local t1 = core.now()
    assert.is_true(t1 - t0 >= 0.019, tostring(t1 - t0))
  end)
end)

describe("files.dirname #c", function()
  -- Each { path, folder } pair: dirname(path, windows) is folder.
  local function reads(windows, cases)
    for _, p in ipairs(cases) do assert.equal(p[2], files.dirname(p[1], windows), p[1]) end
  end

  it("reads POSIX paths #m-dirname-posix-backslash", function()
    reads(false, { { "a/b", "a" }, { "/x", "/" }, { "x", "." }, { "a/b/c.mp4", "a/b" },
      -- a drive letter means nothing off Windows, nor does a backslash (a character of a name)
      { "C:x", "." }, { "a\\b.mp4", "." }, { "d/a\\b.mp4", "d" } })
  end)

  it("reads Windows paths: both separators, drive roots, drive-relative names, UNC shares", function()
    reads(true, { { "C:\\x.mp4", "C:\\" }, { "C:/x.mp4", "C:/" }, { "C:\\a\\b.mp4", "C:\\a" }, { "C:x.mp4", "C:." },
      { "a\\b\\c.mp4", "a\\b" }, { "\\\\srv\\share\\f.mp4", "\\\\srv\\share" }, { "x.mp4", "." } })
  end)

  it("follows the platform it runs on by default", function()
    assert.equal(package.config:sub(1, 1) == "\\", files.WINDOWS)
    assert.equal(files.dirname("C:\\x", files.WINDOWS), files.dirname("C:\\x"))
  end)
end)
