--- The models the validator knows, and their rules, as data: `seedance.models`.
--
-- `seedance.models["doubao-seedance-2.0"]` is a copy of that model's rules:
--
--     { resolutions = { "480p", "720p", "1080p" },
--       sizes = { "16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive" },
--       duration = { min = 4, max = 15 },                -- seconds
--       features = { "generate_audio", "return_last_frame", "web_search", "image_urls", "first_frame",
--                    "last_frame", "reference_image", "video_urls", "audio_urls" },
--       url_kinds = { "http", "asset" } }               -- http(s):// (and uploaded files), asset://<id>
--
-- `pairs(seedance.models)` lists every model. The built-in ones are those of
-- the service's contract: `doubao-seedance-2.0` and `-face` take 1080p, the
-- `-fast` ones 480p and 720p; the `-face` ones take no asset URLs. A model the
-- gateway added after this release (a longer duration, a new resolution) is
-- described with `add`, and then validated like any other, so a request never
-- needs `validate = false`, which drops every other check too. The command
-- takes the same rules from `--model-rules FILE.json` (`{ "NAME": { rules }, ... }`).
--
-- The tables listed are copies: change a model with `add`, not by editing them.
-- A model the validator does not know is refused with a message that says how
-- to describe it. The rules live in the C validator (one set per Lua state),
-- which the emulator shares.
-- @module seedance.models

local core = require("seedance.core")
local errors = require("seedance.errors")

local models = {}
local M = {} -- the functions: seedance.models.add (through the list's metatable)

-- Fill `models` with a copy of every model's rules.
local function refresh()
  for name in pairs(models) do models[name] = nil end
  for name, rules in pairs(core.models()) do models[name] = rules end
end

--- Add a model, or extend one. Rules not given are those of `rules.like`
-- when given, else the model's own when it exists, else those of
-- `doubao-seedance-2.0` as built in. Raises a bad argument error on a name or
-- rule that is not one (an unknown field, a `like` naming no model, a
-- duration whose min is above its max...).
--
--     seedance.models.add("doubao-seedance-2.5", { like = "doubao-seedance-2.0", duration = { max = 30 } })
--     seedance.models.add("doubao-seedance-2.0", { resolutions = { "480p", "720p", "1080p", "4k" } })
-- @tparam string name the model's name: 1 to 63 letters, digits or `.:_-+`
-- @tparam seedance.ModelRules rules `like`, `resolutions`, `sizes`, `duration` (`{ min, max }`, either may
--   be left out), `features`, `url_kinds`
-- @treturn seedance.ModelRules a copy of the model's rules as they now stand
function M.add(name, rules)
  errors.checkarg(name, "string", 1, "add")
  errors.checkarg(rules, "table", 2, "add")
  local ok, why = core.model_add(name, rules)
  if not ok then errors.argerror(2, "add", why) end
  refresh()
  return core.models()[name]
end

--- Describe several models at once from a table `{ NAME = rules, ... }` (the
-- shape of a `--model-rules` file), each `like` resolved whatever the order.
-- @tparam table list
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string what is wrong (nothing is added past it)
-- @local
function M.add_all(list)
  local ok, why = core.models_add_many(list)
  refresh()
  if not ok then return nil, why end
  return true
end

refresh()
return setmetatable(models, { __index = M })
