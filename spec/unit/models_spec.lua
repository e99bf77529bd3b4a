-- Specs for seedance.models: the validator's per-model rules as data. The
-- built-in models list the contract's rules; add() describes a model the
-- gateway added (or extends one) and the C validator checks requests by it at
-- once; a model nobody described is refused with a message that says how to
-- describe it. Every model a spec adds has its own name (one table per Lua
-- state, and busted runs every file in one), and a built-in model a spec
-- extends is put back as it was.
local seedance = require("seedance")
local core = require("seedance.core")

local function req(over)
  local r = { model = "doubao-seedance-2.0", prompt = "a cat yawns at the camera" }
  for k, v in pairs(over or {}) do r[k] = v end
  return r
end

-- The message of the problem naming `field`, or nil.
local function problem(r, field)
  local ok, err = seedance.validate(r)
  if ok then return nil end
  for _, p in ipairs(err.errors) do
    if p.field == field then return p.message end
  end
end

local function copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = copy(v) end
  return out
end

describe("seedance.models #c", function()
  it("lists the contract's four models with their rules", function()
    local names = {}
    for name in pairs(seedance.models) do names[#names + 1] = name end
    for _, m in ipairs{ "doubao-seedance-2.0", "doubao-seedance-2.0-fast", "doubao-seedance-2.0-face",
                        "doubao-seedance-2.0-fast-face" } do
      assert.is_table(seedance.models[m], m)
      assert.same({ min = 4, max = 15 }, seedance.models[m].duration)
      assert.same({ "16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive" }, seedance.models[m].sizes)
    end
    assert.same({ "480p", "720p", "1080p" }, seedance.models["doubao-seedance-2.0"].resolutions)
    assert.same({ "480p", "720p" }, seedance.models["doubao-seedance-2.0-fast"].resolutions)
    assert.same({ "http", "asset" }, seedance.models["doubao-seedance-2.0-fast"].url_kinds)
    assert.same({ "http" }, seedance.models["doubao-seedance-2.0-face"].url_kinds)
    assert.is_function(seedance.models.add)
    for _, n in ipairs(names) do assert.is_table(seedance.models[n], n .. " is not a model's rules") end
  end)

  it("validates a model added at run time by its own rules, like an existing one #m-models-duration-data", function()
    local name = "doubao-seedance-2.5-spec-a"
    assert.matches("unknown model", problem(req{ model = name }, "model"))
    local rules = seedance.models.add(name, { like = "doubao-seedance-2.0", duration = { max = 30 } })
    assert.same({ min = 4, max = 30 }, rules.duration)
    assert.same({ "480p", "720p", "1080p" }, rules.resolutions)
    assert.same(rules, seedance.models[name])
    assert.is_true(seedance.validate(req{ model = name, duration = 30, resolution = "1080p" }))
    assert.matches("between 4 and 30, got 31", problem(req{ model = name, duration = 31 }, "duration"))
    -- the built-in model keeps its own range
    assert.matches("between 4 and 15, got 30", problem(req{ duration = 30 }, "duration"))
  end)

  it("starts a model from the one `like` names, not from the default #m-models-like", function()
    local name = "doubao-seedance-2.0-mini-spec"
    seedance.models.add(name, { like = "doubao-seedance-2.0-fast-face" })
    assert.matches("1080p is available only on", problem(req{ model = name, resolution = "1080p" }, "resolution"))
    assert.matches("asset URLs are accepted only by",
      problem(req{ model = name, image_urls = { "asset://a1" } }, "image_urls[1]"))
  end)

  it("extends a built-in model (4k on 2.0), and the others stay as they were #m-models-resolutions-data", function()
    local before = copy(seedance.models["doubao-seedance-2.0"])
    finally(function() seedance.models.add("doubao-seedance-2.0", before) end)
    assert.matches("480p, 720p, 1080p", problem(req{ resolution = "4k" }, "resolution"))
    seedance.models.add("doubao-seedance-2.0", { resolutions = { "480p", "720p", "1080p", "4k" } })
    assert.is_true(seedance.validate(req{ resolution = "4k" }))
    assert.matches("4k is available only on doubao%-seedance%-2.0",
      problem(req{ model = "doubao-seedance-2.0-face", resolution = "4k" }, "resolution"))
    assert.same({ min = 4, max = 15 }, seedance.models["doubao-seedance-2.0"].duration) -- the rest is kept
  end)

  it("refuses what a model's features and URL kinds leave out #m-models-features #m-models-url-kinds", function()
    local name = "seedance-spec-text-only"
    seedance.models.add(name, { features = {}, url_kinds = { "asset" } })
    assert.matches("generate_audio is not available on " .. name,
      problem(req{ model = name, generate_audio = true }, "generate_audio"), nil, true)
    assert.is_true(seedance.validate(req{ model = name, generate_audio = false }))
    assert.matches("web_search is not available", problem(req{ model = name, tools = { { type = "web_search" } } },
      "tools[1].type"))
    assert.matches("first_frame is not available", problem(req{ model = name, image_with_roles = {
      { url = "asset://a", role = "first_frame" } } }, "image_with_roles[1].role"))
    assert.matches("not accepted by " .. name, problem(req{ model = name, image_with_roles = {
      { url = "https://e.x/a.png", role = "first_frame" } } }, "image_with_roles[1].url"), nil, true)
    assert.matches("return_last_frame is not available",
      problem(req{ model = name, return_last_frame = true }, "return_last_frame"))
  end)

  it("#found names every model that fits in a message and counts the rest, never cutting a name short "
    .. "#m-joined-whole-names", function()
    -- in a child: sixty models more would stay in this state
    local ok, out = require("helpers.child").lua([[
      local seedance = require("seedance")
      for i = 1, 60 do seedance.models.add(("model-%02d-with-a-long-name"):format(i), { like = "doubao-seedance-2.0" }) end
      local _, err = seedance.validate({ prompt = "a cat" })
      for _, p in ipairs(err.errors) do if p.field == "model" then io.write(p.message) end end
    ]])
    assert(ok, out)
    local list, more = out:match("^required: one of (.-) and (%d+) more$")
    assert.truthy(list, out)
    local shown = 0
    for name in (list .. ","):gmatch("%s*([^,]+),") do
      shown = shown + 1
      assert.truthy(name:match("^doubao%-seedance%-2%.0[%a%-]*$") or name:match("^model%-%d%d%-with%-a%-long%-name$"),
        "a name cut short: " .. name)
    end
    assert.equals(64, shown + tonumber(more))
  end)

  it("refuses a model nobody described, saying how to describe one #m-models-unknown-says-how", function()
    local msg = problem(req{ model = "doubao-seedance-3.0-pro" }, "model")
    assert.matches("seedance.models.add", msg, nil, true)
    assert.matches("like =", msg, nil, true)
    assert.matches("--model-rules FILE.json", msg, nil, true)
    assert.matches("did you mean", problem(req{ model = "doubao-seedance-2.0-fats" }, "model"))
  end)

  it("refuses rules that are not rules, naming the mistake, and adds nothing", function()
    local cases = {
      { { colour = "red" }, "unknown rule 'colour'" },
      { { like = "no-such-model" }, "like: no model named no%-such%-model" },
      { { duration = { min = 9, max = 3 } }, "duration.min %(9%) is above duration.max %(3%)" },
      { { duration = { min = 2.5 } }, "whole number" },
      { { resolutions = {} }, "1 to" },
      { { resolutions = { "480p", "480p" } }, "listed twice" },
      { { resolutions = { "4k\"" } }, "letters, digits" },
      { { features = { "teleport" } }, "features%[1%] must be one of" },
      { { url_kinds = {} }, "at least one" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(seedance.models.add, "seedance-spec-bad", c[1])
      assert.is_false(ok)
      assert.matches("bad argument #2 to 'add'", err, nil, true)
      assert.matches(c[2], err)
    end
    assert.is_nil(seedance.models["seedance-spec-bad"])
    assert.has_error(function() seedance.models.add("add", {}) end)
    assert.has_error(function() seedance.models.add(5, {}) end)
  end)

  it("the C validator reads the rules seedance.models lists (the same table)", function()
    for name, rules in pairs(core.models()) do
      assert.same(rules, seedance.models[name], name)
      for _, r in ipairs(rules.resolutions) do
        assert.is_true(seedance.validate(req{ model = name, resolution = r }), name .. " " .. r)
      end
      assert.is_true(seedance.validate(req{ model = name, duration = rules.duration.max }))
      assert.is_nil(seedance.validate(req{ model = name, duration = rules.duration.max + 1 }))
    end
  end)

  it("describes several models at once whatever their order (a --model-rules file)", function()
    assert.is_true(seedance.models.add_all{
      ["seedance-spec-child"] = { like = "seedance-spec-parent", duration = { min = 6 } },
      ["seedance-spec-parent"] = { like = "doubao-seedance-2.0", duration = { max = 20 } },
    })
    assert.same({ min = 6, max = 20 }, seedance.models["seedance-spec-child"].duration)
    local ok, why = seedance.models.add_all{ ["seedance-spec-x"] = { like = "seedance-spec-y" },
                                             ["seedance-spec-y"] = { like = "seedance-spec-x" } }
    assert.is_nil(ok)
    assert.matches("cycle", why)
  end)
end)
