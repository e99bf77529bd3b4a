-- The rockspecs: what they list matches the tree, and LuaRocks installs from
-- them into private trees for the interpreter this run is under (LuaJIT takes
-- the Lua 5.1 rock): `luarocks make` of the scm rockspec, `luarocks install`
-- of the source rock `make rock` packs, and `luarocks make` of the emulator's.
-- Every LuaRocks and Lua child runs without this checkout's LUA_PATH and
-- LUA_CPATH, from /tmp, so what loads comes from the tree it installed.
local util = require("helpers.util")
local emulator = require("helpers.emulator")
local process = require("helpers.process")

local V = util.LUA == "luajit" and "5.1" or util.LUA:match("^lua(5%.%d)$") or "5.4"
local VERSION = dofile("lua/seedance/version.lua")
-- the release rockspecs are written by make rock from the scm ones (mk/release-rockspec.lua)
local RELEASE = "build/rock/seedance-" .. VERSION .. "-1.rockspec"
local ROCKSPECS = { "seedance-scm-1.rockspec", RELEASE }
local EMU_ROCKSPEC = "emulator/seedance-emulator-scm-1.rockspec"
local EMU_RELEASE = "build/rock/seedance-emulator-" .. VERSION .. "-1.rockspec"

-- No trace of this checkout's module paths in the children.
local CLEAN = "env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_1 -u LUA_CPATH_5_1 -u LUA_PATH_5_2 -u LUA_CPATH_5_2 "
  .. "-u LUA_PATH_5_3 -u LUA_CPATH_5_3 -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT "
local function luarocks(tree, args, env)
  return util.run(CLEAN .. (env or "") .. " luarocks --lua-version=" .. V .. " --tree '" .. tree .. "' " .. args)
end

local q = process.quote
local ROOT = util.ROOT

-- A rockspec's fields, read as LuaRocks reads it: a Lua file run in an empty environment.
local function load_rockspec(path)
  local f = assert(io.open(path, "rb"))
  local src = f:read("*a")
  f:close()
  local env = {}
  local fn
  if setfenv then -- Lua 5.1, LuaJIT
    fn = assert(loadstring(src, "=" .. path))
    setfenv(fn, env)
  else
    fn = assert(load(src, "=" .. path, "t", env))
  end
  fn()
  return env
end

local lines = util.lines

local sorted_keys = util.sorted_keys

-- Every module under lua/ as LuaRocks names it: lua/seedance/init.lua is
-- "seedance", lua/seedance/a/b.lua is "seedance.a.b".
local function tree_modules()
  local mods = {}
  for _, path in ipairs(lines("find lua -name '*.lua'")) do
    local name = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
    mods[name] = path
  end
  return mods
end

-- A fresh path for a tree (LuaRocks makes the folder).
local function tmptree(name)
  return util.tmpfile("tree-" .. name)
end

-- Where each module loads from, for an interpreter set up by `luarocks path`
-- (package.searchpath is not in Lua 5.1).
local WHERE = [[
  local function where(name, path)
    for t in path:gmatch("[^;]+") do
      local file = t:gsub("%?", (name:gsub("%.", "/")))
      local h = io.open(file)
      if h then h:close() return file end
    end
  end
  for i = 1, #arg do
    local name = arg[i]
    print(name, where(name, package.path) or where(name, package.cpath) or "nowhere")
  end
  local seedance = require("seedance")
  print("version", seedance._VERSION)
  print(seedance.validate{ model = "doubao-seedance-2.0" })
]]

-- Run WHERE for the modules with the tree's paths; its output.
local function load_from(tree, modules)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(WHERE)
  f:close()
  local ok, out = util.run("cd /tmp && " .. CLEAN .. "sh -c " .. q("eval \"$(luarocks --lua-version=" .. V
    .. " --tree " .. q(tree) .. " path)\" && exec " .. util.LUA .. " " .. script .. " " .. table.concat(modules, " ")))
  os.remove(script)
  assert(ok, out)
  return out
end

local function assert_loads_from(tree, out, modules)
  for _, name in ipairs(modules) do
    local file = out:match("\n?" .. name:gsub("%.", "%%.") .. "\t([^\n]+)")
    assert.truthy(file and file:sub(1, #tree + 1) == tree .. "/", name .. " loads from " .. tostring(file) .. "\n" .. out)
  end
  assert.matches("version\t" .. VERSION:gsub("%.", "%%."), out)
  assert.matches("validation_error", out)
  assert.matches("prompt", out)
end

-- The folder a rock is installed in, in the tree.
local function rock_dir(tree, name)
  local ok, out = util.run("ls -d " .. q(tree) .. "/lib/luarocks/rocks-*/" .. name .. "/*-1")
  assert(ok, out)
  return (out:gsub("%s+$", ""))
end

-- The lists are kept by hand in both seedance rockspecs (a rockspec cannot
-- read another file); these checks make a new file impossible to forget. A
-- forgotten C source breaks the core's link; a forgotten Lua module would
-- still install (LuaRocks' builtin back end copies lua/ whole) but be missing
-- from the rock's module list.
describe("the rockspecs", function()
  setup(function()
    local ok, out = util.run("make -s --no-print-directory release-rockspecs")
    assert(ok, out)
  end)

  it("list every Lua module and every C source of the tree, and nothing more", function()
    local mods = tree_modules()
    local csrc = lines("ls src/*.c")
    local ok, make_src = util.run("make -s --no-print-directory --eval='print-core-src: ; @echo $(CORE_SRC)' "
      .. "print-core-src")
    assert(ok, make_src)
    local make_list = {}
    for s in make_src:gmatch("%S+") do make_list[#make_list + 1] = s end
    table.sort(make_list)
    assert.same(csrc, make_list) -- the Makefile builds the same core
    local builds = {}
    for _, path in ipairs(ROCKSPECS) do
      local spec = load_rockspec(path)
      local listed = {}
      for name, v in pairs(spec.build.modules) do
        if name ~= "seedance.core" then listed[name] = v end
      end
      assert.same(mods, listed, path .. ": Lua modules")
      local sources = {}
      for _, s in ipairs(spec.build.modules["seedance.core"].sources) do sources[#sources + 1] = s end
      table.sort(sources)
      assert.same(csrc, sources, path .. ": seedance.core sources")
      builds[#builds + 1] = { build = spec.build, dependencies = spec.dependencies,
                              external_dependencies = spec.external_dependencies, description = spec.description }
    end
    -- one build for both: only source and version differ
    assert.same(builds[1], builds[2])
  end)

  it("declare their dependencies, each known to make rock-install's probe, and install what users read #m-rockspec-declares-deps #m-rock-carries-docs-examples-types", function()
    local spec = load_rockspec("seedance-scm-1.rockspec")
    assert.same({ "lua >= 5.1", "lua-cjson", "argparse" }, spec.dependencies)
    -- mk/rock-deps.lua answers for every dependency but Lua itself
    local ok, out = util.run("lua5.4 mk/rock-deps.lua seedance-scm-1.rockspec")
    assert(ok, out)
    assert.matches("^lua%-cjson loads 2%.1%.0%-1\nargparse loads 0%.7%.1%-1\n$", out)
    assert.same({ "docs", "examples", "types" }, spec.build.copy_directories)
    assert.same({ "emulator/media" }, load_rockspec(EMU_ROCKSPEC).build.copy_directories)
    -- docs/ stands in a checkout (its note), so luarocks make finds it before make docs ran
    assert.is_true((util.run("git ls-files --error-unmatch docs/README.md")))
  end)

  it("carry the version of lua/seedance/version.lua, the one place it is written", function()
    local spec = load_rockspec(RELEASE)
    assert.equal(VERSION .. "-1", spec.version)
    assert.equal(VERSION, require("seedance")._VERSION)
    assert.matches("^%d+%.%d+%.%d+$", VERSION)
    local emu = load_rockspec(EMU_RELEASE)
    assert.equal(spec.version, emu.version)
    assert.equal(spec.source.url, emu.source.url)
    assert.equal("scm-1", load_rockspec(EMU_ROCKSPEC).version)
    -- written nowhere else: no other tracked file names it (the docs say VERSION)
    local ok, out = util.run("git grep -n -F " .. q(VERSION) .. " -- . ':!lua/seedance/version.lua' || true")
    assert(ok, out)
    assert.equal("", out)
    assert.same(sorted_keys(emu.external_dependencies), { "CJSON", "MICROHTTPD" })
  end)

  it("name libcurl for Windows and macOS builds", function()
    local spec = load_rockspec(ROCKSPECS[2])
    local ext = spec.external_dependencies.platforms
    assert.equal("libcurl", ext.windows.CURL.library)
    assert.equal("curl", ext.mingw32.CURL.library)
    assert.equal("curl/curl.h", ext.macosx.CURL.header)
    local win = spec.build.platforms.windows.modules["seedance.core"].libraries
    assert.same({ "libcurl", "ws2_32", "bcrypt" }, win)
  end)
end)

describe("seedance-scm-1.rockspec", function()
  it("installs with a bare luarocks make into an empty tree, and every module loads from it #child #m-rock-carries-docs-examples-types", function()
    local tree = tmptree("scm")
    -- no rockspec named: the one the README's install line picks in the top folder
    local ok, out = luarocks(tree, "make --deps-mode=none")
    assert(ok, out)
    assert.matches("seedance scm%-1 is now installed", out)
    local mods = sorted_keys(tree_modules())
    mods[#mods + 1] = "seedance.core"
    out = load_from(tree, mods)
    assert_loads_from(tree, out, mods)
    assert.is_true((util.run("test -x " .. q(tree .. "/bin/seedance"))))
    local dir = rock_dir(tree, "seedance")
    assert.truthy(util.read_file(dir .. "/docs/README.md"))
    assert.truthy(util.read_file(dir .. "/types/seedance.lua"))
    assert.truthy(util.read_file(dir .. "/examples/frame-loop.lua"))
    os.execute("rm -rf " .. q(tree))
  end)
end)

-- The emulator at `bin` (an installed one) serves a whole generation: a submit, a wait, a
-- download of a playable video (named for `name`).
local function serves_a_generation(bin, name)
  local saved = emulator.bin
  emulator.bin = bin
  local emu = emulator.start{ speed = util.SPEED }
  emulator.bin = saved
  local client = util.client_for(emu)
  local task = assert(client:generate{ model = "doubao-seedance-2.0", prompt = "a kite", duration = 5 })
  assert(task:wait())
  local path = util.tmpfile(name)
  assert.equal(path, assert(task:download(path)))
  assert.is_true(util.is_mp4(path))
  assert.equal(1, emu:stats().tasks_created)
  client:close()
  os.remove(path)
  assert.is_true(emu:stop())
end

-- The block of README.md after the marker line `<!-- rock-install: ... -->`, as it stands.
local function readme_block(marker)
  local text = util.read_file("README.md")
  local at = assert(text:find("<!-- " .. marker .. ":", 1, true), "README.md has no " .. marker .. " block")
  local body = text:match("\n```sh\n(.-)\n```", at)
  return assert(body, "no ```sh block after the " .. marker .. " marker")
end

-- A fresh, empty folder to stand for a new user's home.
local function empty_home(name)
  return process.tmpdir("home-" .. name)
end

describe("README's install from the source rock", function()
  local primary = util.LUA == "lua5.4"

  it("works as written on the first try, HOME an empty folder, with Debian's lua-cjson and lua-argparse #child #slow #m-rock-install-declares-provided #m-rock-carries-docs-examples-types #m-rock-packs-reference #m-emulator-rock-own-doc #m-man-in-rock", function()
    if not primary then return pending("README's block is for Lua 5.4; checked in the lua5.4 run") end
    local block = readme_block("rock-install")
    assert.matches("make rock%-install", block)
    local home = empty_home("readme")
    local ok, out = util.run("cd " .. q(ROOT) .. " && " .. CLEAN .. "HOME=" .. q(home) .. " sh -ec " .. q(block))
    assert(ok, out)
    -- no hand configuration: the dependencies that load were declared provided, no server was asked
    assert.matches("lua%-cjson %(2%.1%.0%-1 provided by VM%)", out)
    assert.matches("argparse %(0%.7%.1%-1 provided by VM%)", out)
    assert.matches("declared provided", out)
    assert.is_nil(out:find("Missing dependencies", 1, true), out)
    assert.is_nil(out:lower():find("warning", 1, true), out)
    assert.matches("seedance " .. VERSION:gsub("%.", "%%."), out)     -- seedance version, from the tree
    assert.matches("usage: seedance%-emulator", out)
    local tree = home .. "/.luarocks"
    local mods = { "seedance", "seedance.core", "seedance.client", "seedance.estimate" }
    assert_loads_from(tree, load_from(tree, mods), mods)
    -- what its users read: the HTML reference, the examples and the LuaLS types
    local dir = rock_dir(tree, "seedance")
    assert.matches("<html", util.read_file(dir .. "/docs/index.html") or "", 1, true)
    assert.truthy(util.read_file(dir .. "/docs/modules/seedance.task.html"):find("progress_at", 1, true))
    assert.equals(util.read_file("types/seedance.lua"), util.read_file(dir .. "/types/seedance.lua"))
    assert.equals(util.read_file("examples/love/main.lua"), util.read_file(dir .. "/examples/love/main.lua"))
    -- and the manual page, beside the reference
    assert.equals(util.read_file("build/man/seedance.1"), util.read_file(dir .. "/docs/seedance.1"))
    -- the emulator rock's doc is its own README, not seedance's
    local edir = rock_dir(tree, "seedance-emulator")
    assert.equals(util.read_file("emulator/README.md"), util.read_file(edir .. "/doc/README.md"))
    assert.is_nil(util.read_file(edir .. "/doc/index.html"))
    assert.truthy(util.read_file(edir .. "/emulator/media/16x9-5s.mp4"))
    -- and that emulator, from the tree, serves a whole generation
    serves_a_generation(tree .. "/bin/seedance-emulator", "readme-rock.mp4")
    process.remove_dir(home)
  end)

  it("leaves to a rocks server what the Lua cannot load: the dependencies are declared #child #slow #m-rock-fetches-what-does-not-load #m-rockspec-declares-deps", function()
    if not primary then return pending("checked in the lua5.4 run") end
    local home = empty_home("server")
    -- a rocks server of its own on disk, holding nothing: LuaRocks asks it, and only it
    local server = home .. "/server"
    assert(util.run("mkdir -p " .. q(server) .. " " .. q(home .. "/.luarocks")))
    assert(util.run("luarocks-admin --lua-version=5.4 make-manifest " .. q(server)))
    local f = assert(io.open(home .. "/.luarocks/config-5.4.lua", "w"))
    f:write("rocks_servers = { " .. string.format("%q", server) .. " }\n")
    f:close()
    local tree = home .. "/tree"
    local nowhere = "env LUA_PATH=/nowhere/?.lua LUA_CPATH=/nowhere/?.so lua5.4"
    local ok, out = util.run("cd " .. q(ROOT) .. " && " .. CLEAN .. "HOME=" .. q(home) .. " make -s --no-print-directory "
      .. "rock-install TREE=" .. q(tree) .. " ROCK_LUA=" .. q(nowhere))
    assert.is_false(ok, out)
    assert.matches("lua%-cjson argparse not loadable", out)
    assert.matches("Could not satisfy dependency lua%-cjson", out)
    assert.is_nil(out:find("declared provided", 1, true), out)
    assert.is_nil(util.read_file(tree .. "/bin/seedance"))               -- nothing half-installed
    assert.is_nil(util.read_file(home .. "/.luarocks/config-5.4.lua"):find("rocks_provided", 1, true))
    process.remove_dir(home)
  end)
end)

describe(EMU_ROCKSPEC, function()
  it("installs with luarocks make an emulator that starts, answers and serves its videos from the tree #child", function()
    local tree = tmptree("emulator")
    local ok, out = luarocks(tree, "make " .. EMU_ROCKSPEC)
    assert(ok, out)
    local bin = tree .. "/bin/seedance-emulator"
    assert.is_true((util.run("test -x " .. q(bin))), out)
    -- its fixtures are the installed ones, not this checkout's
    assert.is_true((util.run("grep -q -F " .. q(tree .. "/lib/luarocks/") .. " " .. q(bin))))
    assert.is_true((util.run("ls " .. q(tree) .. "/lib/luarocks/rocks-*/seedance-emulator/*/emulator/media/16x9-5s.mp4")))
    serves_a_generation(bin, "emulator-rock.mp4")
    os.execute("rm -rf " .. q(tree))
  end)
end)
