-- Specs for seedance.validate: the C validator against API.md sections 1 and 5.
local seedance = require("seedance")
local cjson = require("cjson")

local util = require("helpers.util")

-- A valid text-to-video base, copied and changed per case.
local req = util.request

-- The problem naming `field`, if any.
local function problem(err, field)
  for _, p in ipairs(err.errors) do
    if p.field == field then return p end
  end
end

local function rejects(r, field, pattern)
  local ok, err = seedance.validate(r)
  assert.is_nil(ok)
  assert.equals("validation_error", err.type)
  local p = problem(err, field)
  assert(p, "expected a problem naming " .. field .. ", got:\n" .. tostring(err))
  if pattern then
    assert(p.message:find(pattern), "message for " .. field .. " was: " .. p.message)
  end
  return err
end

describe("seedance.validate #c #compat", function()
  describe("the service reference's 13 scenarios", function()
    for n = 1, 13 do
      local path = string.format("spec/fixtures/scenario-%02d.json", n)
      it("accepts scenario " .. n .. " decoded by lua-cjson", function()
        local r = cjson.decode((assert(util.read_file(path))))
        local ok, err = seedance.validate(r)
        assert(ok, tostring(err))
        assert.is_true(ok)
      end)
    end
  end)

  describe("accepts", function()
    it("duration 5 and 5.0 (lua-cjson decodes every number as a float)", function()
      assert.is_true(seedance.validate(req{ duration = 5 }))
      assert.is_true(seedance.validate(req{ duration = 5.0 }))
      assert.is_true(seedance.validate(req{ duration = 4 }))
      assert.is_true(seedance.validate(req{ duration = 15 }))
    end)
    it("a prompt of 4000 CJK characters (12000 bytes)", function()
      assert.is_true(seedance.validate(req{ prompt = string.rep("猫", 4000) }))
    end)
    it("seed at both ends of -1 .. 2^32-1", function()
      assert.is_true(seedance.validate(req{ seed = -1 }))
      assert.is_true(seedance.validate(req{ seed = 4294967295 }))
      assert.is_true(seedance.validate(req{ seed = 4294967295.0 }))
    end)
    it("1080p on doubao-seedance-2.0 and -face", function()
      assert.is_true(seedance.validate(req{ resolution = "1080p" }))
      assert.is_true(seedance.validate(req{ model = "doubao-seedance-2.0-face", resolution = "1080p" }))
    end)
    it("every size, http, https and asset URLs, and web_search", function()
      for _, s in ipairs{ "16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive" } do
        assert.is_true(seedance.validate(req{ size = s }))
      end
      assert.is_true(seedance.validate(req{
        image_urls = { "http://a.example/x.jpg", "HTTPS://b.example/y.png", "asset://asset_a" },
        tools = { { type = "web_search" } },
      }))
    end)
    it("image requests without a prompt", function()
      assert.is_true(seedance.validate{ model = "doubao-seedance-2.0", image_urls = { "https://e.x/a.jpg" } })
      assert.is_true(seedance.validate{ model = "doubao-seedance-2.0", video_urls = { "https://e.x/a.mp4" } })
    end)
    it("seedance.file in image_urls and image_with_roles", function()
      assert.is_true(seedance.validate(req{ image_urls = { seedance.file("cat.png") } }))
      assert.is_true(seedance.validate(req{
        model = "doubao-seedance-2.0-face",
        image_with_roles = { { url = seedance.file("a.png"), role = "first_frame" },
                             { url = "https://e.x/b.png", role = "last_frame" } },
      }))
    end)
    it("all four models", function()
      for _, m in ipairs{ "doubao-seedance-2.0", "doubao-seedance-2.0-fast",
                          "doubao-seedance-2.0-face", "doubao-seedance-2.0-fast-face" } do
        assert.is_true(seedance.validate(req{ model = m }))
      end
    end)
  end)

  describe("rejects", function()
    local U = "https://e.x/a.jpg"
    local cases = {
      { "a missing model", { prompt = "x" }, "model", "required" },
      { "an unknown model", req{ model = "doubao-seedance-3" }, "model", "did you mean" },
      { "a 1.5 model", req{ model = "doubao-seedance-1.5-pro" }, "model", "not a Seedance 2.0 model" },
      { "a model that is a number", req{ model = 2 }, "model", "must be a string" },
      { "text-to-video without a prompt", { model = "doubao-seedance-2.0" }, "prompt", "required for text%-to%-video" },
      { "an empty prompt for text-to-video", req{ prompt = "" }, "prompt", "must not be empty" },
      { "a blank prompt for text-to-video", req{ prompt = "  \n " }, "prompt", "must not be empty" },
      { "a prompt of 4001 characters", req{ prompt = string.rep("猫", 4001) }, "prompt", "4001 characters" },
      { "a prompt with invalid UTF-8", req{ prompt = "ok \195\040" }, "prompt", "not valid UTF%-8" },
      { "a prompt with an overlong encoding", req{ prompt = "\192\175" }, "prompt", "not valid UTF%-8" },
      { "a prompt with a UTF-16 surrogate", req{ prompt = "\237\160\128" }, "prompt", "not valid UTF%-8" },
      { "a prompt that is a table", req{ prompt = { "x" } }, "prompt", "must be a string" },
      { "duration 3", req{ duration = 3 }, "duration", "between 4 and 15" },
      { "duration 16", req{ duration = 16 }, "duration", "between 4 and 15" },
      { "duration 5.5", req{ duration = 5.5 }, "duration", "whole number" },
      { "duration \"5\"", req{ duration = "5" }, "duration", "must be an integer, got string \"5\"" },
      { "duration NaN", req{ duration = 0 / 0 }, "duration", "integer" },
      { "duration infinity", req{ duration = math.huge }, "duration", "integer" },
      { "size 16x9", req{ size = "16x9" }, "size", "must be one of" },
      { "size as a number", req{ size = 1.5 }, "size", "must be a string" },
      { "resolution 4k", req{ resolution = "4k" }, "resolution", "480p, 720p, 1080p" },
      { "resolution 720 as a number", req{ resolution = 720 }, "resolution", "did you mean \"720p\"" },
      { "resolution 720P", req{ resolution = "720P" }, "resolution", "did you mean 720p" },
      { "1080p on the fast model", req{ model = "doubao-seedance-2.0-fast", resolution = "1080p" }, "resolution", "not on doubao%-seedance%-2.0%-fast" },
      { "1080p on the fast-face model", req{ model = "doubao-seedance-2.0-fast-face", resolution = "1080p" }, "resolution", "1080p is available only" },
      { "seed -2", req{ seed = -2 }, "seed", "between %-1 and 4294967295" },
      { "seed 2^32", req{ seed = 4294967296 }, "seed", "between %-1 and 4294967295" },
      { "seed 1.5", req{ seed = 1.5 }, "seed", "whole number" },
      { "generate_audio \"true\"", req{ generate_audio = "true" }, "generate_audio", "boolean" },
      { "return_last_frame 1", req{ return_last_frame = 1 }, "return_last_frame", "boolean" },
      { "a tool of another type", req{ tools = { { type = "code" } } }, "tools[1].type", "web_search" },
      { "a tool without a type", req{ tools = { {} } }, "tools[1].type", "required" },
      { "a tool that is a string", req{ tools = { "web_search" } }, "tools[1]", "must be a table" },
      { "tools as an object", req{ tools = { type = "web_search" } }, "tools", "sequence" },
      { "a tool with an unknown key", req{ tools = { { type = "web_search", depth = 2 } } }, "tools[1].depth", "unknown key" },
      { "10 image_urls", req{ image_urls = { U, U, U, U, U, U, U, U, U, U } }, "image_urls", "at most 9" },
      { "empty image_urls", req{ image_urls = {} }, "image_urls", "1 to 9" },
      { "image_urls as a string", req{ image_urls = U }, "image_urls", "array" },
      { "a sparse image_urls", req{ image_urls = { [1] = U, [3] = U } }, "image_urls", "sequence" },
      { "an empty URL", req{ image_urls = { "" } }, "image_urls[1]", "must not be empty" },
      { "a file:// URL", req{ image_urls = { U, "file:///tmp/cat.png" } }, "image_urls[2]", "seedance.file" },
      { "a relative path", req{ image_urls = { "./cat.png" } }, "image_urls[1]", "seedance.file" },
      { "an ftp URL", req{ image_urls = { "ftp://e.x/a.jpg" } }, "image_urls[1]", "http:// or https://" },
      { "a number as URL", req{ image_urls = { 42 } }, "image_urls[1]", "must be a URL string" },
      { "a URL without a host", req{ image_urls = { "https:///a.jpg" } }, "image_urls[1]", "no host" },
      { "a URL with a space", req{ image_urls = { "https://e.x/a b.jpg" } }, "image_urls[1]", "spaces" },
      { "a base64 data URL", req{ image_urls = { "data:image/png;base64,AAAA" } }, "image_urls[1]", "base64" },
      { "an asset URL without an id", req{ image_urls = { "asset://" } }, "image_urls[1]", "needs an id" },
      { "an asset URL on a face model", req{ model = "doubao-seedance-2.0-face", image_urls = { "asset://asset_a" } }, "image_urls[1]", "not by doubao%-seedance%-2.0%-face" },
      { "an asset video on the fast-face model", req{ model = "doubao-seedance-2.0-fast-face", video_urls = { "asset://v" } }, "video_urls[1]", "asset URLs are accepted only" },
      { "image_urls with image_with_roles", req{ image_urls = { U }, image_with_roles = { { url = U, role = "first_frame" } } }, "image_with_roles", "cannot be used together" },
      { "a role that does not exist", req{ image_with_roles = { { url = U, role = "middle_frame" } } }, "image_with_roles[1].role", "first_frame, last_frame, reference_image" },
      { "a role given as a prefix", req{ image_with_roles = { { url = U, role = "first" } } }, "image_with_roles[1].role", "did you mean first_frame" },
      { "a role item without url", req{ image_with_roles = { { role = "first_frame" } } }, "image_with_roles[1].url", "required" },
      { "a role item without role", req{ image_with_roles = { { url = U } } }, "image_with_roles[1].role", "required" },
      { "two first frames", req{ image_with_roles = { { url = U, role = "first_frame" }, { url = U, role = "first_frame" } } }, "image_with_roles[2].role", "second first_frame" },
      { "two last frames", req{ image_with_roles = { { url = U, role = "last_frame" }, { url = U, role = "reference_image" }, { url = U, role = "last_frame" } } }, "image_with_roles[3].role", "second last_frame" },
      { "a role item with an unknown key", req{ image_with_roles = { { url = U, role = "first_frame", weight = 1 } } }, "image_with_roles[1].weight", "unknown key" },
      { "a role item that is a string", req{ image_with_roles = { U } }, "image_with_roles[1]", "must be a table" },
      { "video_urls with a first_frame", req{ image_with_roles = { { url = U, role = "first_frame" } }, video_urls = { "https://e.x/v.mp4" } }, "video_urls", "not allowed" },
      { "audio_urls with a last_frame", req{ image_with_roles = { { url = U, role = "last_frame" } }, audio_urls = { "https://e.x/a.wav" } }, "audio_urls", "not allowed" },
      { "audio_urls alone", req{ audio_urls = { "https://e.x/a.wav" } }, "audio_urls", "needs at least one reference image" },
      { "4 video_urls", req{ video_urls = { U, U, U, U } }, "video_urls", "at most 3" },
      { "4 audio_urls", req{ video_urls = { U }, audio_urls = { U, U, U, U } }, "audio_urls", "at most 3" },
      { "a local file as a video", req{ video_urls = { seedance.file("v.mp4") } }, "video_urls[1]", "no upload for video or audio" },
      { "aspect_ratio (1.5 Pro)", req{ aspect_ratio = "16:9" }, "aspect_ratio", "1.5 Pro name; use size" },
      { "audio (1.5 Pro)", req{ audio = true }, "audio", "use generate_audio" },
      { "camera_fixed (1.5 Pro)", req{ camera_fixed = true }, "camera_fixed", "no 2.0 equivalent" },
      { "a typo resoluton", req{ resoluton = "720p" }, "resoluton", "did you mean resolution%?" },
      { "a typo promt", { model = "doubao-seedance-2.0", promt = "x" }, "promt", "did you mean prompt%?" },
      { "an unknown key", req{ negative_prompt = "blurry" }, "negative_prompt", "known keys are" },
      { "a numeric key", req{ [1] = "x" }, "[1]", "keys here are strings" },
      { "a JSON null seed", req{ seed = cjson.null }, "seed", "got null" },
    }
    for _, c in ipairs(cases) do
      it(c[1] .. ", naming " .. c[3], function()
        rejects(c[2], c[3], c[4])
      end)
    end
    it("has at least 40 rejection cases", function()
      assert.is_true(#cases >= 40)
    end)
  end)

  describe("reports", function()
    it("every problem at once, each naming its field, and tostring prints them all #m-validator-every-problem", function()
      local _, err = seedance.validate{
        model = "doubao-seedance-2.0-fast", resolution = "1080p", duration = 99,
        size = "wide", seed = "x", image_urls = { "asset://a", "nope" }, resoluton = 1,
      }
      local fields = {}
      for _, p in ipairs(err.errors) do fields[#fields + 1] = p.field end
      table.sort(fields)
      assert.same({ "duration", "image_urls[2]", "resolution", "resoluton", "seed", "size" }, fields)
      local text = tostring(err)
      for _, f in ipairs(fields) do
        assert.truthy(text:find(f, 1, true), f .. " missing from: " .. text)
      end
      assert.is_false(err.retryable)
    end)
    it("a closing entry when there are more than 100 problems #m-validator-every-problem", function()
      local r = req{}
      for i = 1, 150 do r["junk" .. i] = i end
      local _, err = seedance.validate(r)
      assert.equals(101, #err.errors)
      assert.equals("request", err.errors[101].field)
      assert.matches("50 more problems", err.errors[101].message)
    end)
    it("#found did-you-mean reads full-width forms as ASCII (16：9 typed with a CJK input method) #c #m-validator-fullwidth", function()
      local cases = {
        { { size = "16：9" }, "size", "did you mean 16:9?" },
        { { size = "２１：９" }, "size", "did you mean 21:9?" },
        { { resolution = "７２０ｐ" }, "resolution", "did you mean 720p?" },
        { { model = "ｄｏｕｂａｏ-seedance-2.0" }, "model", "did you mean doubao-seedance-2.0?" },
      }
      for _, c in ipairs(cases) do
        local ok, err = seedance.validate(req(c[1]))
        assert.is_nil(ok)
        assert.equals(c[2], err.errors[1].field)
        assert.equals(c[3], err.errors[1].message:match("did you mean [^ ]+$"), err.errors[1].message)
      end
    end)
    it("#found a value that differs only in case is offered as itself, not a longer value it begins (Doubao-Seedance-2.0 was told -fast) #c #m-validator-exact-suggestion", function()
      local _, err = seedance.validate(req{ model = "Doubao-Seedance-2.0" })
      assert.matches("did you mean doubao%-seedance%-2%.0%?$", err.errors[1].message)
      _, err = seedance.validate(req{ model = "DOUBAO-SEEDANCE-2.0-FAST" })
      assert.matches("did you mean doubao%-seedance%-2%.0%-fast%?$", err.errors[1].message)
    end)
    it("long values cut short in messages", function()
      local _, err = seedance.validate(req{ size = string.rep("x", 100000) })
      assert.is_true(#err.errors[1].message < 300)
    end)
  end)

  describe("cost", function()
    it("allocates nothing for a valid request (the problem list is made at the first problem)", function()
      local core = require("seedance.core")
      local r = req{ duration = 5, seed = 42, resolution = "720p", generate_audio = true, image_with_roles = {
        { url = "https://e.x/first.png", role = "first_frame" }, { url = "https://e.x/last.png", role = "last_frame" },
      } }
      -- bytes allocated by n calls, the collector stopped (a constant part, the same for any n:
      -- the measuring itself, LuaJIT compiling the loop, cancels out between two values of n)
      local function allocated(n)
        collectgarbage("collect")
        collectgarbage("stop")
        local before = collectgarbage("count")
        for _ = 1, n do core.validate(r) end
        local after = collectgarbage("count")
        collectgarbage("restart")
        return (after - before) * 1024
      end
      assert.is_true(core.validate(r))
      allocated(1000)
      local per_call = (allocated(11000) - allocated(1000)) / 10000
      assert.is_true(per_call < 1, string.format("%.1f bytes allocated per call", per_call))
    end)
  end)

  describe("robustness", function()
    it("raises only when the argument is not a table", function()
      assert.has_error(function() seedance.validate(nil) end,
        "bad argument #1 to 'validate' (table expected, got nil)")
      assert.has_error(function() seedance.validate("x") end,
        "bad argument #1 to 'validate' (table expected, got string)")
    end)

    it("never calls metamethods of the request", function()
      local trap = setmetatable({}, {
        __index = function() error("__index called") end,
        __len = function() error("__len called") end,
        __pairs = function() error("__pairs called") end,
      })
      local r = setmetatable({ model = "doubao-seedance-2.0", prompt = "x", image_urls = trap }, getmetatable(trap))
      local ok, err = seedance.validate(r)
      assert.is_nil(ok)
      assert.truthy(problem(err, "image_urls"))
    end)

    it("survives cycles and huge strings #m-validator-every-problem", function()
      local t = {}
      t.self = t
      t[1] = t
      local r = req{ tools = { t, t }, image_with_roles = { t }, size = t }
      r.loop = r
      local ok, err = seedance.validate(r)
      assert.is_nil(ok)
      assert.truthy(problem(err, "tools[1].self"))
      assert.is_nil(seedance.validate(req{ prompt = string.rep("a", 10 * 1024 * 1024) }))
    end)

    it("never raises on thousands of random nested tables", function()
      math.randomseed(20261123)
      local keys = { "model", "prompt", "duration", "size", "resolution", "seed", "generate_audio",
                     "return_last_frame", "tools", "image_urls", "image_with_roles", "video_urls",
                     "audio_urls", "url", "role", "type", 1, 2, 3, 1.5, true, "x" }
      local atoms = { "doubao-seedance-2.0", "doubao-seedance-2.0-fast-face", "asset://a", "https://e.x/a",
                      "first_frame", "last_frame", "web_search", "720p", "1080p", "16:9", "", "\255\254",
                      0, -1, 5, 5.5, 2 ^ 40, -2 ^ 63, 0 / 0, math.huge, true, false, print,
                      coroutine.create(function() end), io.stdout, cjson.null, seedance.file("a.png") }
      local function value(depth)
        local r = math.random(10)
        if depth > 3 or r <= 6 then return atoms[math.random(#atoms)] end
        local t = {}
        for _ = 1, math.random(0, 6) do
          local k = keys[math.random(#keys)]
          if math.random(4) == 1 then k = math.random(0, 12) end
          t[k] = value(depth + 1)
        end
        if math.random(8) == 1 then t.cycle = t end
        return t
      end
      local invalid = 0
      for _ = 1, 5000 do
        local r = value(0)
        if type(r) ~= "table" then r = { model = r } end
        local ok, a, b = pcall(seedance.validate, r)
        assert(ok, a)
        assert(a == true or (a == nil and b.type == "validation_error"))
        if not a then
          invalid = invalid + 1
          for _, p in ipairs(b.errors) do
            assert.equals("string", type(p.field))
            assert.equals("string", type(p.message))
          end
          assert.equals("string", type(tostring(b)))
        end
      end
      assert.is_true(invalid > 4000)
    end)
  end)
end)

describe("seedance.file #c", function()
  it("marks a path and prints as a call", function()
    local f = seedance.file("cat.png")
    assert.equals("cat.png", f.path)
    assert.equals('seedance.file("cat.png")', tostring(f))
  end)
  it("raises on a non-string path", function()
    assert.has_error(function() seedance.file(1) end,
      "bad argument #1 to 'file' (string expected, got number)")
  end)
end)

describe("core.request_fields #c", function()
  local core = require("seedance.core")

  -- The ---@field lines of types/seedance.lua's seedance.Request class, in order.
  local function typed_fields()
    local fields, inside = {}, false
    for line in io.lines("types/seedance.lua") do
      if line == "---@class seedance.Request" then
        inside = true
      elseif inside then
        local name, rest = line:match("^%-%-%-@field (%S+) (.*)$")
        if not name then break end
        fields[#fields + 1] = { name = name, rest = rest }
      end
    end
    return fields
  end

  it("lists each request key once, with its JSON type and a one-line doc, in a new table each call", function()
    local fields = core.request_fields()
    assert.is_true(#fields > 0)
    local seen = {}
    for _, f in ipairs(fields) do
      assert.equals("string", type(f.name))
      assert.is_nil(seen[f.name], f.name .. " listed twice")
      seen[f.name] = true
      assert.truthy(({ string = true, integer = true, boolean = true, array = true })[f.type], f.type)
      assert.truthy(#f.doc > 0 and not f.doc:find("\n"), f.name)
    end
    fields[1].name = "changed"
    assert.equals("model", core.request_fields()[1].name)
  end)

  it("names the keys types/seedance.lua's seedance.Request declares, in its order, with the same docs", function()
    local typed = typed_fields()
    local names, typed_names = {}, {}
    for i, f in ipairs(core.request_fields()) do names[i] = f.name end
    for i, f in ipairs(typed) do typed_names[i] = f.name end
    assert.same(typed_names, names)
    for i, f in ipairs(core.request_fields()) do
      local rest = typed[i].rest
      assert.equals(" " .. f.doc, rest:sub(-#f.doc - 1), f.name .. ": the doc of types/seedance.lua differs")
      local lua_type = rest:sub(1, #rest - #f.doc - 1)
      local ok = ({
        string = lua_type:match('^"') or lua_type:match("^string"),
        integer = lua_type:match("^integer"),
        boolean = lua_type:match("^boolean"),
        array = lua_type:match("%[%]|nil$"),
      })[f.type]
      assert(ok, f.name .. ": JSON type " .. f.type .. " but LuaLS type " .. lua_type)
    end
  end)

  it("is the list the validator dispatches on: a value of another type is a problem naming the key", function()
    for _, f in ipairs(core.request_fields()) do
      local r = { model = "doubao-seedance-2.0", prompt = "x" }
      r[f.name] = f.type == "boolean" and "yes" or true
      local ok, problems = core.validate(r)
      assert.is_nil(ok)
      assert.equals(1, #problems, f.name)
      assert.equals(f.name, problems[1].field)
      assert.matches("^must be an? " .. f.type, problems[1].message)
    end
  end)

  it("is the list did-you-mean draws from: each key with two letters swapped is suggested", function()
    for _, f in ipairs(core.request_fields()) do
      local n = #f.name
      local typo = f.name:sub(1, n - 2) .. f.name:sub(n) .. f.name:sub(n - 1, n - 1)
      local _, problems = core.validate{ model = "doubao-seedance-2.0", prompt = "x", [typo] = 1 }
      assert.equals(typo, problems[1].field)
      assert.equals("unknown key; did you mean " .. f.name .. "?", problems[1].message)
    end
  end)
end)
