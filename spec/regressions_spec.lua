-- Regressions: each case here is a crash or sanitizer report that `make check`
-- or `make fuzz` found once. The comment above each names what it found.
local core = require("seedance.core")
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local util = require("helpers.util")

-- Run fuzz/answers.lua (the fuzz_answers harness: fake answers from a text
-- input, the client's calls against them, the properties checked) on input,
-- in fresh copies of the Lua modules so its stubs never reach other specs.
local function run_answers(input)
  local function fresh()
    for name in pairs(package.loaded) do
      if (name == "seedance" or name:match("^seedance%.")) and name ~= "seedance.core" then
        package.loaded[name] = nil
      end
    end
  end
  local saved = {}
  for name, m in pairs(package.loaded) do saved[name] = m end
  fresh()
  local ok, err = pcall(function() dofile("fuzz/answers.lua")(input) end)
  fresh()
  for name, m in pairs(saved) do package.loaded[name] = m end
  return ok, err
end

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

  describe("the small parsers (fuzz/parsers.lua)", function()
    -- fuzz_parsers found a result URL whose host is not UTF-8: libcurl parsed
    -- it but could not give its host back (IDNA), and check_media raised on the
    -- missing host. core.parse_url now refuses such a URL.
    it("every committed fuzz_parsers seed passes the harness", function()
      local run = dofile("fuzz/parsers.lua")
      local p = assert(io.popen("ls fuzz/corpus/parsers"))
      local n = 0
      for name in p:lines() do
        local f = assert(io.open("fuzz/corpus/parsers/" .. name, "rb"))
        local input = f:read("*a")
        f:close()
        local ok, err = pcall(run, input)
        assert(ok, name .. ": " .. tostring(err))
        n = n + 1
      end
      p:close()
      assert.is_true(n >= 10)
    end)
  end)

  describe("answers from the server (fuzz/answers.lua)", function()
    it("every committed fuzz_answers seed passes the harness", function()
      local p = assert(io.popen("ls fuzz/corpus/answers"))
      local n = 0
      for name in p:lines() do
        local f = assert(io.open("fuzz/corpus/answers/" .. name, "rb"))
        local input = f:read("*a")
        f:close()
        local ok, err = run_answers(input)
        assert(ok, name .. ": " .. tostring(err))
        n = n + 1
      end
      p:close()
      assert.is_true(n >= 10)
    end)

    -- fuzz_answers: a 200 submit answer without a task id whose body echoed
    -- the key put the key into the error's message (a body excerpt made
    -- outside the HTTP layer's masking); every public call now masks its error.
    it("masks the key in an error quoting a body that echoes it #m-key-masked-every-call", function()
      local ok, err = run_answers("generate\n200\nContent-Type: application/json\n\n"
        .. '{"error":{"message":"bad key sk-fuzz-secret-0123456789"}}')
      assert(ok, err)
    end)

    -- fuzz_answers: an ETag holding a CR ("a\rb") was saved beside the .part
    -- file and sent back as "If-Range: a\rb"; the engine refuses such a header
    -- line (a caller mistake), so task:download raised instead of returning.
    it("a download survives an ETag with a control byte", function()
      local ok, err = run_answers("download\n200\nContent-Length: 100\nETag: \"a\rb\"\n\nshort\n===\n"
        .. "200\nContent-Length: 5\n\nshort")
      assert(ok, err)
    end)
  end)

  describe("task handles", function()
    local emu
    setup(function() emu = emulator.start{ speed = util.SPEED } end)
    teardown(function() if emu then emu:stop() end end)

    -- spec/core/lifetime_spec.lua: a task closed by one coroutine while another slept
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
