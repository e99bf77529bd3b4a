-- Specs for the body of a submit: the JSON text the validator writes in its
-- own walk (request.check = core.validate_encode, core.encode_request;
-- src/validate_json.c), and request.encode, which falls back to lua-cjson for
-- what the validator's writer declines.
local cjson = require("cjson")
local core = require("seedance.core")
local request = require("seedance.request")

local util = require("helpers.util")

-- A valid text-to-video base, copied and changed per case.
local req = util.request

-- The body the validator writes for r: asserts that r is valid and was written.
local function body_of(r)
  local ok, body = request.check(r)
  assert(ok, "not valid: " .. tostring(body and body[1] and body[1].message))
  assert.equals("string", type(body), "the validator declined to write it")
  assert.equals(body, core.encode_request(r))
  return body
end

-- r's body (the validator's), decoded by lua-cjson, is r, and is what lua-cjson's own text of r decodes to.
local function round_trips(r)
  local body = body_of(r)
  local decoded = cjson.decode(body)
  assert.same(r, decoded)
  assert.same(cjson.decode(cjson.encode(r)), decoded)
  return body
end

-- The validator wrote nothing for r, which is valid: request.check says true alone.
local function declined(r)
  local ok, body = request.check(r)
  assert.is_true(ok)
  assert.is_nil(body)
  assert.is_nil(core.encode_request(r))
end

local LISTS = { "tools", "image_urls", "image_with_roles", "video_urls", "audio_urls" } -- field table order

describe("seedance.request #c #compat", function()
  describe("the validator's JSON text", function()
    for n = 1, 13 do
      local path = string.format("spec/fixtures/scenario-%02d.json", n)
      it("writes scenario " .. n .. " as JSON that lua-cjson decodes to the request", function()
        round_trips(cjson.decode((assert(util.read_file(path)))))
      end)
    end

    it("writes the typical request of bench B6, and request.encode sends the same text", function()
      local r = req{ resolution = "720p", duration = 5, seed = 42, generate_audio = true, image_with_roles = {
        { url = "https://example.com/first.png", role = "first_frame" },
        { url = "https://example.com/last.png", role = "last_frame" } } }
      local body = round_trips(r)
      assert.equals(body, request.encode(r, function() error("no uploads here") end))
    end)

    it("writes every key of the field table, each once", function()
      local r = req{ duration = 15, size = "21:9", resolution = "1080p", seed = 4294967295, generate_audio = false,
        return_last_frame = true, tools = { { type = "web_search" } }, image_urls = { "https://e.x/a.png" },
        video_urls = { "https://e.x/v.mp4" }, audio_urls = { "https://e.x/a.mp3" } }
      local body = round_trips(r)
      for _, f in ipairs(core.request_fields()) do
        local _, count = body:gsub('"' .. f.name .. '":', "")
        assert.equals(f.name == "image_with_roles" and 0 or 1, count, f.name)
      end
    end)

    it("writes each list field as a JSON array, empty ones as [] #m-empty-lists-arrays-validator", function()
      local body = round_trips(req{ video_urls = {}, audio_urls = {}, tools = {} })
      for _, k in ipairs{ "video_urls", "audio_urls", "tools" } do
        assert.matches('"' .. k .. '":%[%]', body)
      end
      body = round_trips(req{ image_urls = { "https://e.x/1.png", "https://e.x/2.png" }, video_urls = { "asset://v" },
        audio_urls = { "https://e.x/a.mp3" }, tools = { { type = "web_search" } } })
      assert.matches('"image_urls":%["https://e.x/1.png","https://e.x/2.png"%]', body)
      assert.matches('"video_urls":%["asset://v"%]', body)
      assert.matches('"audio_urls":%["https://e.x/a.mp3"%]', body)
      assert.matches('"tools":%[{"type":"web_search"}%]', body)
      body = round_trips(req{ image_with_roles = { { url = "https://e.x/r.png", role = "reference_image" } } })
      assert.matches('"image_with_roles":%[{"url":"https://e.x/r.png","role":"reference_image"}%]', body)
      -- every list field is one of those
      local lists = {}
      for _, f in ipairs(core.request_fields()) do
        if f.type == "array" then lists[#lists + 1] = f.name end
      end
      assert.same(LISTS, lists)
    end)

    it("writes whole numbers as integers: 5.0 as 5, and the ends of duration and seed", function()
      -- body holds "key":text as a whole value
      local function holds(body, key, text)
        local at = '"' .. key .. '":' .. text
        return body:find(at .. ",", 1, true) or body:find(at .. "}", 1, true)
      end
      for _, n in ipairs{ 4, 5, 5.0, 15, 15.0 } do
        assert.truthy(holds(round_trips(req{ duration = n }), "duration", string.format("%d", n)))
      end
      for _, n in ipairs{ -1, -1.0, 0, 42, 2147483647, 2147483648, 4294967295, 4294967295.0 } do
        assert.truthy(holds(round_trips(req{ seed = n }), "seed", string.format("%d", n)))
      end
      assert.truthy(holds(round_trips(req{ seed = -0.0 }), "seed", "0"))
      assert.is_nil(core.encode_request(req{ seed = 4294967296 })) -- out of range: not valid, not written
      assert.is_nil(core.encode_request(req{ duration = 5.5 }))
    end)

    it("writes booleans", function()
      local body = round_trips(req{ generate_audio = true, return_last_frame = false })
      assert.matches('"generate_audio":true', body)
      assert.matches('"return_last_frame":false', body)
    end)

    it("escapes '\"', '\\\\' and every control character; passes UTF-8 and DEL through #m-json-escapes-control", function()
      local all = {}
      for c = 0, 31 do all[#all + 1] = string.char(c) end
      local prompt = "q\"b\\s/" .. table.concat(all) .. "\127 caf\195\169 \228\184\173 \240\159\152\128 \226\128\168"
      local body = round_trips(req{ prompt = prompt })
      assert.is_nil(body:find("[%z\1-\31]")) -- no raw control byte left
      assert.truthy(body:find("caf\195\169 \228\184\173 \240\159\152\128 \226\128\168", 1, true))
      assert.truthy(body:find("\\u0000\\u0001", 1, true))
      assert.truthy(body:find("\\b\\t\\n\\u000b\\f\\r", 1, true))
      assert.truthy(body:find('q\\"b\\\\s/', 1, true))
    end)

    it("escapes a special byte at every position of strings 1 to 40 bytes long (the 8-byte steps)", function()
      for _, special in ipairs{ '"', "\\", "\n", "\1", "\31", "\195\169", "\127" } do
        for len = 1, 40 do
          for at = 1, len do
            local s = string.rep("a", at - 1) .. special .. string.rep("b", len - at)
            round_trips(req{ prompt = s, image_urls = { "https://e.x/i.png" } }) -- not text-only: may be blank
            round_trips(req{ image_urls = { "https://e.x/" .. s:gsub("[%c ]", "") } })
          end
        end
      end
    end)

    it("writes a URL holding '\"', '\\\\' and UTF-8 as it is, escaped", function()
      local url = 'https://e.x/a"b\\c/\226\130\172?q=1#f'
      local body = round_trips(req{ image_urls = { url, "asset://x_1.2-3" } })
      assert.truthy(body:find('a\\"b\\\\c/\226\130\172', 1, true))
    end)

    it("grows past its first buffer: 4000 CJK characters, 4000 control characters, nine long URLs", function()
      round_trips(req{ prompt = string.rep("\229\176\143", 4000) })
      local body = round_trips(req{ prompt = string.rep("\1", 4000) })
      assert.equals(4000, select(2, body:gsub("\\u0001", ""))) -- 24000 bytes of escapes
      local urls = {}
      for i = 1, 9 do urls[i] = "https://e.x/" .. string.rep(string.char(96 + i), 5000) end
      round_trips(req{ image_urls = urls, prompt = string.rep('"', 3000) })
    end)

    it("is a new string each call, the same for the same request", function()
      local r = req{ video_urls = {} }
      assert.equals(body_of(r), body_of(r))
    end)
  end)

  describe("declines, and request.encode falls back to lua-cjson", function()
    local function no_upload() error("no upload expected") end

    it("for a request with seedance.file markers: request.check says valid with no body", function()
      declined(req{ image_urls = { "https://e.x/a.png", core.file("spec/fixtures/scenario-01.json") } })
      declined(req{ image_with_roles = { { url = core.file("a.png"), role = "first_frame" } } })
      local marker = core.file("cat.png")
      local r = req{ image_urls = { marker }, image_with_roles = nil, video_urls = {} }
      local body = assert(request.encode(r, function(m)
        assert.equals(marker, m)
        return "https://uploads.example/cat.png"
      end))
      assert.same({ model = r.model, prompt = r.prompt, image_urls = { "https://uploads.example/cat.png" },
        video_urls = {} }, cjson.decode(body))
      assert.matches('"video_urls":%[%]', body)
    end)

    it("for a URL that is not valid UTF-8 (the validator does not check it); lua-cjson sends it as it is", function()
      local r = req{ image_urls = { "https://e.x/\255\254.png" } }
      declined(r)
      local body = assert(request.encode(r, no_upload))
      assert.same(r, cjson.decode(body))
    end)

    it("for a request that is not valid (validate = false sends it as it is)", function()
      for _, r in ipairs{
        req{ aspect_ratio = "16:9" },                     -- a key unknown to the field table
        req{ duration = 5.5 },                            -- not a whole number
        req{ seed = 1e300 },
        req{ prompt = { nested = { "table" } } },         -- a nested table of an unexpected shape
        req{ tools = { { type = "web_search", extra = 1 } } },
        req{ image_urls = {}, video_urls = {}, tools = {} },
        { model = "doubao-seedance-2.0", prompt = "x", image_urls = {}, image_with_roles = {}, video_urls = {},
          audio_urls = {}, tools = {} },
      } do
        assert.is_nil(core.encode_request(r))
        local ok, problems = request.check(r)
        assert.is_nil(ok)
        assert.is_true(#problems > 0)
        local body = assert(request.encode(r, no_upload))
        assert.same(cjson.decode(cjson.encode(r)), cjson.decode(body))
        for _, k in ipairs(LISTS) do
          if r[k] and next(r[k]) == nil then assert.matches('"' .. k .. '":%[%]', body) end
        end
      end
    end)

    it("request.check lists the same problems as core.validate", function()
      local r = req{ duration = 99, image_urls = { "ftp://x" }, bogus = true }
      local ok, problems = request.check(r)
      local ok2, problems2 = core.validate(r)
      assert.is_nil(ok)
      assert.is_nil(ok2)
      assert.same(problems2, problems)
    end)

    it("raises only when the request is not a table", function()
      for _, f in ipairs{ request.check, core.encode_request } do
        assert.has_error(function() f(nil) end)
        assert.has_error(function() f("x") end)
        assert.has_no.errors(function() f({}) end)
      end
    end)
  end)

  describe("local_images", function()
    it("finds every seedance.file wherever the validator's field table puts an image URL #m-images-from-field-table", function()
      local seedance = require("seedance")
      local a, b, c = seedance.file("a.png"), seedance.file("b.png"), seedance.file("c.png")
      local found = request.local_images{ model = "m", image_urls = { "https://x/1.png", a },
        image_with_roles = { { url = b, role = "first_frame" }, { url = "https://x/2.png", role = "last_frame" }, c },
        video_urls = { "https://x/v.mp4" } }
      assert.same({ a.path, b.path }, { found[1].path, found[2].path })
      assert.equals(2, #found) -- c is not an item with a url: the validator refuses it
      -- the fields come from the C table, which marks which ones take images
      local names = {}
      for _, f in ipairs(request.IMAGE_FIELDS) do names[#names + 1] = f.name .. ":" .. tostring(f.url_key) end
      assert.same({ "image_urls:nil", "image_with_roles:url" }, names)
    end)

    it("passes over what is not a list", function()
      assert.same({}, request.local_images{ image_urls = "x", image_with_roles = 3 })
    end)
  end)
end)
