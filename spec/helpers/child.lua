--- A Lua child for specs whose attack may raise from inside the scheduler or
-- hang (what a broken pool leaves behind would hang this process's later specs):
-- it runs under `timeout`, with a client `c` for $URL already made.
local process = require("helpers.process")
local util = require("helpers.util")

local M = {}
local q = process.quote

--- The child's first lines: a client `c` for $URL (an emulator at util.SPEED; its
-- journal $JOURNAL when set), `R(prompt)`, and quiet spawned-coroutine errors
-- (what a pool raises is the finding, not log noise).
M.PRELUDE = [[
local seedance = require("seedance")
local c = seedance.new{ api_key = "sk-adv", base_url = os.getenv("URL"), time_scale = 1 / 200,
                        backoff = 0.01, max_backoff = 0.05, journal = os.getenv("JOURNAL") }
local function R(p) return { model = "doubao-seedance-2.0", prompt = p } end
require("seedance.scheduler").set_error_handler(function() end)
]]

--- Run PRELUDE .. code in a child with URL = url (in folder `opts.cwd`, with
-- JOURNAL = `opts.journal` when given), killed after `opts.limit` seconds (20).
-- package.path must be absolute when `cwd` is given.
-- @treturn boolean ok
-- @treturn string output
-- @treturn number exit code
function M.run(url, code, opts)
  opts = opts or {}
  local cd = opts.cwd and ("cd " .. q(opts.cwd) .. " && ") or ""
  local jr = opts.journal and ("JOURNAL=" .. q(opts.journal) .. " ") or ""
  return util.run(("%sURL=%s %stimeout -s KILL %d env LUA_PATH=%s LUA_CPATH=%s %s -e %s"):format(cd, q(url), jr,
    opts.limit or 20, q(package.path), q(package.cpath), util.LUA, q(M.PRELUDE .. code)))
end

return M
