-- Docs checked, not hoped for: the public API at run time, the reference
-- LDoc writes (config.ld) and the editor types (types/seedance.lua) must list
-- the same functions, with the same parameters, and the same client options
-- as lua/seedance/options.lua. Internal functions say `@local` in their
-- comment; internal modules are left out of config.ld. Also: the rock ships
-- every module, the READMEs' links resolve, the examples' headers scale
-- their pauses to the emulator's speed.
local util = require("helpers.util")
local seedance = require("seedance")
local options = require("seedance.options")

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local sorted_keys = util.sorted_keys

-- Compare two sets by their sorted keys, naming what differs.
local function same_set(a, b, what)
  assert.same(sorted_keys(a), sorted_keys(b), what)
end

-- The classes of types/seedance.lua: name -> { field -> type text }.
local function read_types()
  local classes, current = {}, nil
  for line in slurp("types/seedance.lua"):gmatch("[^\n]+") do
    local class = line:match("^%-%-%-@class ([%w_.]+)")
    if class then
      classes[class] = classes[class] or {}
      current = classes[class]
    end
    local name, ty = line:match("^%-%-%-@field ([%w_]+) (.+)$")
    if name and current then
      -- the type is the text up to the first space outside parentheses and quotes
      local depth, quoted, cut = 0, false, #ty
      for i = 1, #ty do
        local c = ty:sub(i, i)
        if c == '"' then quoted = not quoted
        elseif not quoted and c == "(" then depth = depth + 1
        elseif not quoted and c == ")" then depth = depth - 1
        elseif not quoted and depth == 0 and c == " " and ty:sub(i - 1, i - 1) ~= "," then cut = i - 1; break end
      end
      current[name] = ty:sub(1, cut)
    end
  end
  return classes
end

-- Functions a source file marks @local: the name after `function X.` / `function X:` under a comment saying @local.
local function local_marked(path)
  local marked, comment = {}, {}
  for line in (slurp(path) .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("^%s*%-%-") then
      comment[#comment + 1] = line
    else
      local name = line:match("^function [%w_]+[.:]([%w_]+)%(")
      if name and table.concat(comment, "\n"):find("@local", 1, true) then marked[name] = true end
      comment = {}
    end
  end
  return marked
end

-- The reference as LDoc builds it from config.ld: module name -> item name -> item.
local function read_reference()
  local ok, out = util.run("ldoc --filter pl.pretty.dump . 2>&1")
  assert(ok, "ldoc failed (sh .ci/install-deps test installs lua-ldoc): " .. out)
  local text = out:sub((out:find("\n{") or 0) + 1):gsub("<cycle>", "false")
  local chunk = assert((loadstring or load)("return " .. text))   -- luacheck: ignore 113
  local modules = {}
  for _, m in ipairs(chunk()) do
    if m.type == "module" then
      modules[m.name] = {}
      for _, it in ipairs(m.items) do
        if it then modules[m.name][it.name] = it end
      end
    end
  end
  return modules
end

-- A function's formal parameters at run time (nil where debug.getlocal cannot tell: Lua 5.1, LuaJIT).
local function formal_params(fn)
  local info = debug.getinfo(fn, "u")
  if info.nparams == nil or info.what == "C" then return nil end
  local names = {}
  for i = 1, info.nparams do names[i] = debug.getlocal(fn, i) end
  if info.isvararg then names[#names + 1] = "..." end
  return names
end

-- The public API at run time, one entry per object.
local function runtime_objects()
  local client = seedance.new{ api_key = "sk-docs", base_url = "http://127.0.0.1:9" }
  local task = client:task("task_docs")
  local spawned = seedance.spawn(function() end)
  while seedance.step(0) > 0 do end
  return {
    { name = "seedance", value = seedance, class = "seedance", source = "lua/seedance/init.lua",
      doc = { module = "seedance", prefix = "" } },
    { name = "Client", value = getmetatable(client).__index, class = "seedance.Client",
      source = "lua/seedance/client.lua", doc = { module = "seedance.client", prefix = "Client:" }, method = true },
    { name = "Task", value = getmetatable(task).__index, class = "seedance.Task", source = "lua/seedance/task.lua",
      doc = { module = "seedance.task", prefix = "Task:" }, method = true },
    { name = "Spawned", value = getmetatable(spawned).__index, class = "seedance.Spawned",
      source = "lua/seedance/scheduler.lua", doc = { module = "seedance", prefix = "Spawned:" }, method = true },
    { name = "seedance.errors", value = seedance.errors, class = "seedance.errors",
      source = "lua/seedance/errors.lua", doc = { module = "seedance.errors", prefix = "" } },
  }
end

describe("the public API, its reference and its types #child", function()
  local types, reference, objects
  setup(function()
    types = read_types()
    reference = read_reference()
    objects = runtime_objects()
  end)

  it("list the same functions: typed == documented, each exists, and the rest is marked @local", function()
    for _, o in ipairs(objects) do
      local at_runtime, typed, documented = {}, {}, {}
      for k, v in pairs(o.value) do
        if type(v) == "function" and not k:match("^_") then at_runtime[k] = true end
      end
      for k, ty in pairs(types[o.class] or {}) do
        if ty:match("^fun%(") then typed[k] = true end
      end
      for name, it in pairs(reference[o.doc.module] or {}) do
        local short = name:sub(1, #o.doc.prefix) == o.doc.prefix and name:sub(#o.doc.prefix + 1)
        if it.type == "function" and short and not short:find("[.:]") and not short:match("^__") then
          documented[short] = true
        end
      end
      same_set(typed, documented, o.name .. ": types/seedance.lua and the reference differ")
      for k in pairs(typed) do
        assert.is_true(at_runtime[k], o.name .. "." .. k .. " is typed and documented but does not exist")
      end
      local marked = local_marked(o.source)
      for k in pairs(at_runtime) do
        assert.is_true(typed[k] or marked[k], o.name .. "." .. k .. " is public at run time but neither in "
          .. "types/seedance.lua nor marked @local in " .. o.source)
        assert.is_false(typed[k] and marked[k] or false, o.name .. "." .. k .. " is typed but marked @local")
      end
    end
  end)

  it("document each function with its real parameters", function()
    if not debug.getinfo(print, "u").nparams then
      pending("debug.getinfo gives no nparams on " .. _VERSION)
      return
    end
    local checked = 0
    for _, o in ipairs(objects) do
      for name, it in pairs(reference[o.doc.module] or {}) do
        local short = name:sub(1, #o.doc.prefix) == o.doc.prefix and name:sub(#o.doc.prefix + 1)
        local fn = short and rawget(o.value, short)
        if it.type == "function" and type(fn) == "function" then
          local params = formal_params(fn)
          if params then
            if o.method then table.remove(params, 1) end   -- self
            local doc = {}
            for _, p in ipairs(it.params or {}) do doc[#doc + 1] = p end
            assert.same(params, doc, name .. ": the reference's parameters differ from the function's")
            checked = checked + 1
          end
        end
      end
    end
    assert.is_true(checked >= 20, checked .. " functions checked")
  end)

  it("the reference has Task:download, run/spawn/step with parameters, and nothing private or internal", function()
    local task = reference["seedance.task"]
    assert.truthy(task["Task:download"], "Task:download is not in the reference")
    assert.same({ "path", "opts" }, { task["Task:download"].params[1], task["Task:download"].params[2] })
    assert.same({ "fn", "..." }, { reference.seedance.run.params[1], reference.seedance.run.params[2] })
    assert.same({ "fn", "..." }, { reference.seedance.spawn.params[1], reference.seedance.spawn.params[2] })
    assert.equals("timeout", reference.seedance.step.params[1])
    assert.truthy(reference.seedance["Spawned:wait"])
    same_set({ seedance = true, ["seedance.client"] = true, ["seedance.task"] = true, ["seedance.errors"] = true,
               ["seedance.pipeline"] = true, ["seedance.models"] = true, ["seedance.adapters.luv"] = true,
               ["seedance.adapters.copas"] = true,
               ["seedance.adapters.cqueues"] = true }, reference, "the modules of the reference")
    for mod, items in pairs(reference) do
      for name in pairs(items) do
        local last = name:match("([%w_]+)$")
        assert.is_true(not last:match("^_") or last:match("^__") ~= nil or last == "_VERSION",
          mod .. ": " .. name .. " is private")
      end
    end
    -- every function the reference lists is one of the objects' (checked against types above), or one of these
    local accounted = { ["seedance.client"] = { new = true }, ["seedance.pipeline"] = { map = true, chain = true },
                        ["seedance.models"] = { add = true } }
    for _, loop in ipairs{ "luv", "copas", "cqueues" } do
      local mod = "seedance.adapters." .. loop
      accounted[mod] = {}
      -- (each needs its loop's library, which a Lua version may lack: then it exports attach, as all do)
      local ok, m = pcall(require, mod)
      for k, v in pairs(ok and m or { attach = print }) do
        if type(v) == "function" then accounted[mod][k] = true end
      end
    end
    for _, o in ipairs(objects) do
      accounted[o.doc.module] = accounted[o.doc.module] or {}
      for k, v in pairs(o.value) do
        if type(v) == "function" then accounted[o.doc.module][o.doc.prefix .. k] = true end
      end
    end
    for mod, items in pairs(reference) do
      for name, it in pairs(items) do
        if it.type == "function" and not name:match("[.:]__%a+$") then
          assert.is_true((accounted[mod] or {})[name] or false, mod .. ": " .. name .. " is in the reference but "
            .. "is no public function (mark it @local)")
        end
      end
    end
    -- and LDoc has nothing to warn about (a parameter named unlike the function's, say)
    local dir = util.tmpdir()
    local ok, out = util.run("ldoc --fatalwarnings -d " .. dir .. " . 2>&1")
    assert.is_true(ok, out)
    assert.truthy(slurp(dir .. "/modules/seedance.task.html"):find("Task:download", 1, true))
    util.run("rm -rf '" .. dir .. "'")
  end)

  it("the seedance table's other fields: _VERSION and errors, typed and documented", function()
    for _, k in ipairs{ "_VERSION", "errors" } do
      assert.is_not_nil(seedance[k])
      assert.truthy(types.seedance[k], k .. " not in types")
      assert.truthy(reference.seedance[k], k .. " not in the reference")
    end
    assert.equals("string", types.seedance._VERSION)
    assert.equals("seedance.errors", types.seedance.errors)
    assert.equals("number|nil", types["seedance.Task"].expires_at)
  end)

  it("list every error type of seedance.error_types, and no other, in seedance.Error's type", function()
    local want, typed = {}, {}
    for _, row in ipairs(require("seedance.error_types").list) do want[row.name] = true end
    for part in types["seedance.Error"].type:gmatch("[^|]+") do
      if part ~= "string" then typed[part:match('^"(.*)"$') or part] = true end
    end
    same_set(want, typed, "seedance.error_types and seedance.Error's type in types/seedance.lua")
  end)

  it("list the options seedance.new takes, with their types (and defaults in the reference)", function()
    local want, typed, documented = {}, {}, {}
    for _, o in ipairs(options.list) do want[o.name] = o end
    for k in pairs(types["seedance.ClientOptions"]) do typed[k] = true end
    local new = reference.seedance.new
    for p in pairs(new.params.map) do
      local k = p:match("^opts%.(.+)$")
      if k then documented[k] = new.modifiers.param[p] end
    end
    same_set(want, typed, "options.lua and seedance.ClientOptions in types/seedance.lua")
    same_set(want, documented, "options.lua and the reference's seedance.new")
    local LDOC_TYPE = { string = "string", boolean = "boolean", ["function"] = "func" }
    for name, o in pairs(want) do
      local ty = types["seedance.ClientOptions"][name]:gsub("|nil$", "")
      local expect = o.type == "number" and (o.integer and "integer" or "number") or o.type
      if o.type == "function" then
        assert.matches("^fun%(", ty, name)
      elseif o.type == "string" and ty:match('^"') then
        for part in ty:gmatch("[^|]+") do assert.matches('^"[^"]*"$', part, name) end   -- string literals
      else
        assert.equals(expect, ty, "types: option " .. name)
      end
      local d = documented[name]
      assert.equals(o.type == "number" and (o.integer and "int" or "number") or LDOC_TYPE[o.type], d.type,
        "reference: option " .. name)
      if o.default ~= nil then
        assert.equals(tostring(o.default), tostring(d.opt), "reference: default of " .. name)
      end
    end
  end)
end)

describe("the rock and the docs around it #child", function()
  it("the rockspec ships every Lua module and every C source of the core", function()
    local env = {}
    local chunk
    if setfenv then   -- luacheck: ignore 113
      chunk = assert(loadfile("seedance-scm-1.rockspec"))
      setfenv(chunk, env)   -- luacheck: ignore 113
    else
      chunk = assert(loadfile("seedance-scm-1.rockspec", "t", env))
    end
    chunk()
    local mods = env.build.modules
    local p = io.popen("find lua -name '*.lua' | sort")
    for file in p:lines() do
      local name = file:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      assert.equals(file, mods[name], name .. " is not in the rockspec")
    end
    p:close()
    local sources = {}
    for _, s in ipairs(mods["seedance.core"].sources) do sources[s] = true end
    local make = slurp("Makefile"):gsub("\\\n", " ")
    local list = make:match("\nVALIDATE_SRC = ([^\n]+)") .. " " .. make:match("\nCORE_SRC%s*= ([^\n]+)")
    for src in list:gmatch("src/[%w_]+%.c") do assert.is_true(sources[src], src .. " is not in the rockspec") end
    local has_argparse = false
    for _, d in ipairs(env.dependencies) do has_argparse = has_argparse or d:match("^argparse") ~= nil end
    assert.is_true(has_argparse, "the rockspec does not depend on argparse")
    assert.matches("lua%-argparse", slurp(".ci/install-deps"))
  end)

  it("the READMEs' relative links lead to files of this repository", function()
    local checked = 0
    for _, file in ipairs(util.lines("find . -name '*.md' -not -path './build/*' -not -path './docs/*' -not -path './out/*'")) do
      local dir = file:match("^(.*)/[^/]*$")
      local text = slurp(file)
      local targets = {}
      for t in text:gmatch("%]%(([^)%s]+)%)") do targets[#targets + 1] = t end
      for t in text:gmatch("`(%.%./[^`%s]+)`") do targets[#targets + 1] = t end
      for _, t in ipairs(targets) do
        -- URLs, anchors and site paths (the service's page, kept as it is) are not files here
        if not t:match("^%a[%w+.-]*:") and not t:match("^[#/]") then
          local path = dir .. "/" .. t:gsub("#.*$", "")
          local f = io.open(path, "rb")
          assert.truthy(f, file .. " links to " .. t .. ", which is not in the repository")
          if f then f:close() end
          checked = checked + 1
        end
      end
    end
    assert.is_true(checked > 0)
    assert.matches("%(%.%./contract/API%.md%)", slurp("emulator/README.md"))
  end)

  it("the examples' headers start the emulator and scale the pauses to its speed", function()
    local n = 0
    for _, file in ipairs(util.lines("grep -rl 'SEEDANCE_BASE_URL=http://127.0.0.1:PORT' examples README.md emulator/README.md")) do
      local text = slurp(file)
      local speed = tonumber(text:match("seedance%-emulator %-%-speed (%d+)"))
      local scale = tonumber(text:match("SEEDANCE_TIME_SCALE=([%d.]+)"))
      assert.truthy(speed, file .. " does not say how to start the emulator (--speed N)")
      assert.truthy(scale, file .. " does not set SEEDANCE_TIME_SCALE")
      assert.is_true(math.abs(scale * speed - 1) < 0.02, ("%s: SEEDANCE_TIME_SCALE=%s for --speed %d"):format(
        file, tostring(scale), speed))
      n = n + 1
    end
    assert.is_true(n >= 18, n .. " files")
  end)
end)
