--- Lua children of the specs: the one place that says how a child finds seedance.
--
-- A child gets this run's package.path and package.cpath made absolute, so it
-- loads the same modules and core build whatever its working folder, and
-- whether or not `make` exported LUA_PATH (.busted's paths are relative).
--
-- `child.run` is for specs whose attack may raise from inside the scheduler or
-- hang (what a broken pool leaves behind would hang this process's later
-- specs): it runs under `timeout`, with a client `c` for $URL already made.
local process = require("helpers.process")
local util = require("helpers.util")

local M = {}
local q = process.quote

-- Each entry of a package path (";"-separated templates) made absolute.
local function absolute_paths(paths)
  local out = {}
  for entry in (paths .. ";"):gmatch("([^;]*);") do
    if entry ~= "" then out[#out + 1] = process.absolute(entry) end
  end
  return table.concat(out, ";")
end

--- The environment words that give a child this run's modules: "LUA_PATH='...' LUA_CPATH='...'",
-- every path absolute.
-- @treturn string
function M.paths()
  return "LUA_PATH=" .. q(absolute_paths(package.path)) .. " LUA_CPATH=" .. q(absolute_paths(package.cpath))
end

--- The shell command that runs Lua code in a child: `env [VARS] LUA_PATH=... LUA_CPATH=... LUA -e CODE`.
-- @tparam string code the chunk
-- @tparam[opt] table env variables for the child (a false value unsets one)
-- @treturn string
function M.command(code, env)
  local unset, set = {}, {}
  for k, v in pairs(env or {}) do
    if v == false then unset[#unset + 1] = "-u " .. k else set[#set + 1] = k .. "=" .. q(v) end
  end
  table.sort(unset)
  table.sort(set)
  -- env takes its options (-u) before the assignments
  return ("env %s %s %s %s -e %s"):format(table.concat(unset, " "), table.concat(set, " "), M.paths(), util.LUA, q(code))
end

--- Run Lua code in a child, killed after `opts.limit` seconds (default 20).
-- @tparam string code
-- @tparam[opt] table opts `env` (variables), `cwd` (its folder), `limit` (seconds),
--   `prefix` (shell words before it, e.g. "ulimit -f 64;")
-- @treturn boolean whether it exited 0
-- @treturn string its output (stdout and stderr)
-- @treturn number its exit code
function M.lua(code, opts)
  opts = opts or {}
  local cd = opts.cwd and ("cd " .. q(opts.cwd) .. " && ") or ""
  return util.run(("%s%stimeout -s KILL %d %s"):format(opts.prefix or "", cd, opts.limit or 20,
    M.command(code, opts.env)))
end

--- The child's first lines in `run`: a client `c` for $URL (an emulator at util.SPEED; its
-- journal $JOURNAL when set), `R(prompt)`, quiet spawned-coroutine errors (what a pool raises
-- is the finding, not log noise), and `run_returns()`, which writes "run returned" once a
-- seedance.run after the attack has returned (nothing was left parked in the scheduler).
M.PRELUDE = [[
local seedance = require("seedance")
local c = seedance.new{ api_key = "sk-adv", base_url = os.getenv("URL"), time_scale = 1 / 200,
                        backoff = 0.01, max_backoff = 0.05, journal = os.getenv("JOURNAL") }
local function R(p) return { model = "doubao-seedance-2.0", prompt = p } end
require("seedance.scheduler").set_error_handler(function() end)
local function run_returns() seedance.run(function() end) io.write("run returned") end
]]

--- Run PRELUDE .. code in a child with URL = url (in folder `opts.cwd`, with
-- JOURNAL = `opts.journal` when given), killed after `opts.limit` seconds (20).
-- @treturn boolean ok
-- @treturn string output
-- @treturn number exit code
function M.run(url, code, opts)
  opts = opts or {}
  return M.lua(M.PRELUDE .. code, util.merge(opts, { env = { URL = url, JOURNAL = opts.journal } }))
end

return M
