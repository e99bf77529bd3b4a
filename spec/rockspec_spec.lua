-- The rock installs with LuaRocks into a private tree, and loads from there.
describe("seedance-scm-1.rockspec", function()
  it("installs with luarocks make into a temporary tree, and the module loads from it", function()
    local tree = os.tmpname() .. "-tree"
    local function run(cmd)
      local p = assert(io.popen(cmd .. " 2>&1"))
      local out = p:read("*a")
      local ok = p:close()
      return ok, out
    end
    local ok, out = run("luarocks --lua-version=5.4 --tree '" .. tree .. "' make --deps-mode=none seedance-scm-1.rockspec")
    assert(ok, out)
    local check = "cd /tmp && eval \"$(luarocks --lua-version=5.4 --tree '" .. tree .. "' path)\" && "
      .. "LUA_PATH=\"$LUA_PATH;;\" LUA_CPATH=\"$LUA_CPATH;;\" lua5.4 -e "
      .. "'print(package.searchpath(\"seedance\", package.path), package.searchpath(\"seedance.core\", package.cpath)) "
      .. "print(require(\"seedance\").validate{model=\"doubao-seedance-2.0\"})'"
    ok, out = run(check)
    assert(ok, out)
    assert.truthy(out:find(tree .. "/share/lua/5.4/seedance/init.lua", 1, true), out)
    assert.truthy(out:find(tree .. "/lib/lua/5.4/seedance/core.so", 1, true), out)
    assert.matches("validation_error", out)
    assert.matches("prompt", out)
    assert.is_true((run("test -x '" .. tree .. "/bin/seedance'")))
    os.execute("rm -rf '" .. tree .. "'")
  end)
end)
