-- Regressions: each case here is a crash or sanitizer report that `make check`
-- or `make fuzz` found once. The comment above each names what it found.
local core = require("seedance.core")
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local util = require("helpers.util")

-- Step until the engine hands over the result for id.
local function result_of(eng, id)
  local deadline = core.now() + 10
  while core.now() < deadline do
    eng:step(10)
    local r = eng:next()
    while r do
      if r.id == id then return r end
      r = eng:next()
    end
  end
  error("no result for transfer " .. tostring(id))
end

describe("regressions", function()
  describe("seedance.core.engine", function()
    -- UBSan, make check: sd_push_headers computed NULL + 0 ("applying zero
    -- offset to null pointer") for a transfer that failed before any header
    -- arrived, so its header buffer had never been allocated.
    it("gives an empty headers table for a transfer that failed before any response", function()
      local eng = core.engine()
      local id = eng:add{ method = "POST", url = "http://127.0.0.1:9/",
                          form_file = { name = "f", path = "/nonexistent/seedance-regression" } }
      local r = result_of(eng, id)
      assert.is_false(r.ok)
      assert.equal("file", r.kind)
      assert.same({}, r.headers)
      eng:close()
    end)
  end)

  describe("seedance.core.engine form_file", function()
    -- fuzz_form: a content_type holding CR or LF went into the multipart
    -- part's header as it was (curl_mime_type does not escape), so a caller
    -- could smuggle header lines into the upload. It is a caller mistake now.
    it("refuses a content_type with CR or LF, naming the field", function()
      local eng = core.engine()
      for _, ct in ipairs({ "image/png\r\nX-Injected: 1", "\n", "a\rb" }) do
        assert.has_error(function()
          eng:add{ method = "POST", url = "http://127.0.0.1:9/",
                   form_file = { name = "file", path = "spec/regressions_spec.lua", content_type = ct } }
        end, "bad argument #1 to 'add' (field 'content_type' must be one line (no CR or LF))")
      end
      eng:close()
    end)
  end)

  describe("task handles", function()
    local emu
    setup(function() emu = emulator.start{ speed = util.SPEED } end)
    teardown(function() if emu then emu:stop() end end)

    -- spec/gc_spec.lua: a task closed by one coroutine while another slept
    -- between polls in task:wait() made the waiter raise "attempt to use a
    -- closed task" from its next refresh, instead of returning an aborted error.
    it("wait() returns an aborted error when another coroutine closes the task between polls", function()
      local c = util.client_for(emu)
      local got
      seedance.run(function()
        local task = assert(c:generate{ model = "doubao-seedance-2.0", prompt = "x", duration = 5 })
        local waiter = seedance.spawn(function() return task:wait() end)
        seedance.sleep(0.05) -- the waiter polled once and sleeps now
        task:close()
        got = { waiter:wait() }
      end)
      assert.is_nil(got[1])
      assert.equal("aborted", got[2].type)
    end)
  end)
end)
