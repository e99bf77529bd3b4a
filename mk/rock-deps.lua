-- mk/rock-deps.lua: the dependencies of a rockspec, and whether this Lua loads them already.
--
--   lua5.4 mk/rock-deps.lua ROCKSPEC
--
-- One line per dependency other than "lua" (the interpreter itself):
--   ROCK loads VERSION-1       the module loads (VERSION from its _VERSION or version field, else 0)
--   ROCK missing               it does not
-- make rock-install (mk/rock-install.sh) runs it with the interpreter the rock
-- is for, to tell LuaRocks about modules a system package installed (Debian's
-- lua-cjson and lua-argparse register in no LuaRocks manifest). A rock whose
-- module has another name is in MODULE below; any other is loaded by its own name.
local MODULE = { ["lua-cjson"] = "cjson" }

local path = assert(arg[1], "usage: rock-deps.lua ROCKSPEC")
local f = assert(io.open(path, "rb"))
local src = f:read("*a")
f:close()
local spec = {}
local chunk
if setfenv then -- Lua 5.1, LuaJIT
  chunk = assert(loadstring(src, "=" .. path))
  setfenv(chunk, spec)
else
  chunk = assert(load(src, "=" .. path, "t", spec))
end
chunk()
for _, dep in ipairs(spec.dependencies or {}) do
  local rock = dep:match("^%s*([%w_.-]+)")
  if rock and rock ~= "lua" then
    local ok, mod = pcall(require, MODULE[rock] or rock)
    if ok then
      local v = type(mod) == "table" and (mod._VERSION or mod.version)
      v = type(v) == "string" and v:match("(%d+[%d.]*)") or "0"
      io.write(rock, " loads ", v, "-1\n")
    else
      io.write(rock, " missing\n")
    end
  end
end
