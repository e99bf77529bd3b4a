-- The rockspecs: what they list matches the tree, and LuaRocks installs from
-- them into private trees for the interpreter this run is under (LuaJIT takes
-- the Lua 5.1 rock): `luarocks make` of the scm rockspec, `luarocks install`
-- of the source rock `make rock` packs, and `luarocks make` of the emulator's.
-- Every LuaRocks and Lua child runs without this checkout's LUA_PATH and
-- LUA_CPATH, from /tmp, so what loads comes from the tree it installed.
local util = require("helpers.util")
local emulator = require("helpers.emulator")
local core = require("seedance.core")

local V = util.LUA == "luajit" and "5.1" or util.LUA:match("^lua(5%.%d)$") or "5.4"
local VERSION = "0.2.0"
local ROCKSPECS = { "seedance-scm-1.rockspec", "seedance-" .. VERSION .. "-1.rockspec" }
local EMU_ROCKSPEC = "emulator/seedance-emulator-" .. VERSION .. "-1.rockspec"

-- No trace of this checkout's module paths in the children.
local CLEAN = "env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_1 -u LUA_CPATH_5_1 -u LUA_PATH_5_2 -u LUA_CPATH_5_2 "
  .. "-u LUA_PATH_5_3 -u LUA_CPATH_5_3 -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT "
local function luarocks(tree, args, env)
  return util.run(CLEAN .. (env or "") .. " luarocks --lua-version=" .. V .. " --tree '" .. tree .. "' " .. args)
end

local q = require("helpers.process").quote

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

-- The lists are kept by hand in both seedance rockspecs (a rockspec cannot
-- read another file); these checks make a new file impossible to forget. A
-- forgotten C source breaks the core's link; a forgotten Lua module would
-- still install (LuaRocks' builtin back end copies lua/ whole) but be missing
-- from the rock's module list.
describe("the rockspecs #c", function()
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

  it("carry the version the core reports, and the emulator's carries the same", function()
    local spec = load_rockspec(ROCKSPECS[2])
    assert.equal(VERSION .. "-1", spec.version)
    assert.equal(VERSION, core.version)
    local emu = load_rockspec(EMU_ROCKSPEC)
    assert.equal(spec.version, emu.version)
    assert.equal(spec.source.url, emu.source.url)
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

describe("seedance-scm-1.rockspec #child", function()
  it("installs with a bare luarocks make into an empty tree, and every module loads from it #slow", function()
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
    os.execute("rm -rf " .. q(tree))
  end)
end)

describe("the source rock (make rock) #child", function()
  it("installs into an empty tree with Debian's lua-cjson counted, no missing dependency, and loads #slow", function()
    local ok, out = util.run("make -s --no-print-directory rock LUAROCKS='" .. CLEAN .. " luarocks --lua-version=5.4'")
    assert(ok, out)
    local rock = "build/rock/seedance-" .. VERSION .. "-1.src.rock"
    assert.is_true((util.run("test -s " .. rock)), out)
    assert.is_true((util.run("test -s build/rock/seedance-emulator-" .. VERSION .. "-1.src.rock")), out)
    -- Debian's lua-cjson and lua-argparse are in no LuaRocks manifest: declared as provided, they
    -- satisfy the dependencies without a server (what README tells Debian users to do)
    local conf = os.tmpname()
    local f = assert(io.open(conf, "w"))
    f:write('rocks_provided = { ["lua-cjson"] = "2.1.0-1", argparse = "0.7.1-1" }\n')
    f:close()
    local tree = tmptree("rock")
    local _, cwd = util.run("pwd")
    ok, out = luarocks(tree, "install " .. q(cwd:gsub("%s+$", "") .. "/" .. rock), "LUAROCKS_CONFIG=" .. q(conf))
    os.remove(conf)
    assert(ok, out)
    assert.matches("lua%-cjson %(2%.1%.0%-1 provided by VM%)", out)
    assert.matches("argparse %(0%.7%.1%-1 provided by VM%)", out)
    assert.is_nil(out:find("Missing dependencies", 1, true), out)
    assert.is_nil(out:lower():find("warning", 1, true), out)
    local mods = { "seedance", "seedance.core", "seedance.client", "seedance.files" }
    assert_loads_from(tree, load_from(tree, mods), mods)
    local vok, vout = util.run("cd /tmp && " .. CLEAN .. "sh -c " .. q("eval \"$(luarocks --lua-version=" .. V
      .. " --tree " .. q(tree) .. " path)\" && " .. q(tree .. "/bin/seedance") .. " version"))
    assert(vok, vout)
    assert.matches("seedance " .. VERSION:gsub("%.", "%%."), vout)
    os.execute("rm -rf " .. q(tree))
  end)
end)

describe(EMU_ROCKSPEC .. " #child", function()
  it("installs with luarocks make an emulator that starts, answers and serves its videos from the tree", function()
    local tree = tmptree("emulator")
    local ok, out = luarocks(tree, "make " .. EMU_ROCKSPEC)
    assert(ok, out)
    local bin = tree .. "/bin/seedance-emulator"
    assert.is_true((util.run("test -x " .. q(bin))), out)
    -- its fixtures are the installed ones, not this checkout's
    assert.is_true((util.run("grep -q -F " .. q(tree .. "/lib/luarocks/") .. " " .. q(bin))))
    assert.is_true((util.run("ls " .. q(tree) .. "/lib/luarocks/rocks-*/seedance-emulator/*/media/16x9-5s.mp4")))
    local saved = emulator.bin
    emulator.bin = bin
    local emu = emulator.start{ speed = util.SPEED }
    emulator.bin = saved
    local client = util.client_for(emu)
    local task = assert(client:generate{ model = "doubao-seedance-2.0", prompt = "a kite", duration = 5 })
    assert(task:wait())
    local path = util.tmpfile("emulator-rock.mp4")
    assert.equal(path, assert(task:download(path)))
    assert.is_true(util.is_mp4(path))
    assert.equal(1, emu:stats().tasks_created)
    client:close()
    os.remove(path)
    assert.is_true(emu:stop())
    os.execute("rm -rf " .. q(tree))
  end)
end)
