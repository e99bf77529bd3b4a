-- What a submit sends: the request the validator checked (a copy taken at the
-- call, whatever the caller changes while it waits for a slot), every list
-- field as a JSON array, even empty.
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local R, cleanup = util.request, util.cleanup()

describe("what a submit sends #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }
  local gw = gateway.fixture(function() return { upstream = emu.url } end, { each = true })

  it("every list field as a JSON array, even empty, with validate = false #found #m-empty-lists-arrays", function()
    local c = util.client_for(gw, { validate = false })
    c:generate{ model = "doubao-seedance-2.0", prompt = "x", image_urls = {}, image_with_roles = {},
                video_urls = {}, audio_urls = {}, tools = {} }
    local body = gw:requests{ method = "POST" }[1].body
    for _, k in ipairs{ "image_urls", "image_with_roles", "video_urls", "audio_urls", "tools" } do
      assert.matches('"' .. k .. '":%[%]', body)
    end
  end)

  it("every list field as a JSON array, even empty, with validation on (the validator writes the body) #found #m-empty-lists-arrays-validator", function()
    assert(util.client_for(gw):generate{ model = "doubao-seedance-2.0", prompt = "x",
      image_urls = { "https://example.com/a.png" }, video_urls = {}, audio_urls = {}, tools = {} })
    local body = gw:requests{ method = "POST" }[1].body
    for _, k in ipairs{ "video_urls", "audio_urls", "tools" } do
      assert.matches('"' .. k .. '":%[%]', body)
    end
    assert.matches('"image_urls":%["https://example.com/a.png"%]', body)
  end)

  -- found: a request naming a seedance.file image was validated at once but written only after its
  -- max_in_flight slot came free: a callback that changed it meanwhile sent a request the validator
  -- never saw (a service that took it would charge for it). Fixed: generate copies such a request at
  -- the call (request.copy) and checks, hashes and sends the copy.
  it("never sends a request changed after it was validated (a seedance.file request waiting for a slot) #found #m-generate-sends-what-it-checked", function()
    local dir = cleanup(util.tmpdir())
    util.write(dir .. "/in.png", util.PNG)
    local reqs = { R"first", R{ prompt = "second", image_urls = { seedance.file(dir .. "/in.png") } } }
    local refused = emu:stats().validation_errors
    local changed = false
    seedance.map(util.client_for(emu, { max_in_flight = 1 }), reqs, { concurrency = 2,
      on_progress = function() if not changed then changed = true; reqs[2].duration = 99 end end })
    assert.is_true(changed)
    assert.equals(refused, emu:stats().validation_errors, "sent a request that was never validated")
    -- a marker changed meanwhile (its path) is not read either
    local marker = seedance.file(dir .. "/in.png")
    local c = util.client_for(emu, { max_in_flight = 1 })
    local uploads = emu:stats().uploads
    seedance.run(function()
      local first = assert(c:generate(R"first"))
      local h = seedance.spawn(c.generate, c, R{ prompt = "m", image_urls = { marker } })
      seedance.sleep(0.02)
      marker.path = dir .. "/missing.png"
      assert(first:wait())
      assert(h:wait())
    end)
    assert.equals(uploads + 1, emu:stats().uploads)
  end)
end)
