-- seedance.compat: the same behaviour under Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT
-- (make test-all-lua runs this under each).
local compat = require("seedance.compat")

describe("seedance.compat #compat", function()
  it("xpcall passes the arguments to the function, nils and all (Lua 5.1's does not)", function()
    local got = compat.pack(compat.xpcall(function(...) return select("#", ...), ... end, debug.traceback,
      1, nil, "three", nil))
    assert.same({ n = 6, true, 4, 1, nil, "three", nil }, got)
  end)

  it("xpcall hands a raised error to the handler", function()
    local ok, msg = compat.xpcall(function(a) error({ code = a }) end, function(e) return "handled " .. e.code end, 7)
    assert.is_false(ok)
    assert.equal("handled 7", msg)
  end)

  it("pack counts trailing nils and unpack gives them back", function()
    local t = compat.pack(nil, 2, nil)
    assert.equal(3, t.n)
    assert.equal(3, select("#", compat.unpack(t, 1, t.n)))
  end)
end)
