-- The rock installs with LuaRocks into a private tree, and loads from there,
-- for the interpreter this run is under (LuaJIT takes the Lua 5.1 rock).
local util = require("helpers.util")

local V = util.LUA == "luajit" and "5.1" or util.LUA:match("^lua(5%.%d)$") or "5.4"

describe("seedance-scm-1.rockspec", function()
  it("installs with luarocks make into a temporary tree, and the module loads from it", function()
    local tree = os.tmpname() .. "-tree"
    local run = util.run
    local ok, out = run("luarocks --lua-version=" .. V .. " --tree '" .. tree .. "' make --deps-mode=none seedance-scm-1.rockspec")
    assert(ok, out)
    -- where each module loads from (package.searchpath is not in Lua 5.1)
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local function where(name, path)
        for t in path:gmatch("[^;]+") do
          local file = t:gsub("%?", (name:gsub("%.", "/")))
          local h = io.open(file)
          if h then h:close() return file end
        end
      end
      print(where("seedance", package.path), where("seedance.core", package.cpath))
      print(require("seedance").validate{ model = "doubao-seedance-2.0" })
    ]])
    f:close()
    local check = "cd /tmp && eval \"$(luarocks --lua-version=" .. V .. " --tree '" .. tree .. "' path)\" && "
      .. "LUA_PATH=\"$LUA_PATH;;\" LUA_CPATH=\"$LUA_CPATH;;\" " .. util.LUA .. " " .. script
    ok, out = run(check)
    assert(ok, out)
    assert.truthy(out:find(tree .. "/share/lua/" .. V .. "/seedance/init.lua", 1, true), out)
    assert.truthy(out:find(tree .. "/lib/lua/" .. V .. "/seedance/core.so", 1, true), out)
    assert.matches("validation_error", out)
    assert.matches("prompt", out)
    assert.is_true((run("test -x '" .. tree .. "/bin/seedance'")))
    os.remove(script)
    os.execute("rm -rf '" .. tree .. "'")
  end)
end)
