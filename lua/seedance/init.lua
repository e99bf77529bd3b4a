--- seedance: generate videos with ByteDance's Seedance 2.0 models from Lua.
-- The C core (`seedance.core`) validates requests and runs HTTP; this module
-- builds the public API on top of it.
-- @module seedance

local core = require("seedance.core")
local errors = require("seedance.errors")

local M = {
  _VERSION = core.version,
  errors = errors,
}

--- Check a request against the service's rules, without any network.
-- Raises only when `request` is not a table.
-- @tparam seedance.Request request
-- @treturn[1] boolean true when the request is valid
-- @treturn[2] nil
-- @treturn[2] seedance.Error a `validation_error` whose `errors` lists every problem
function M.validate(request)
  errors.checkarg(request, "table", 1, "validate")
  local ok, problems = core.validate(request)
  if ok then return true end
  return nil, errors.validation(problems)
end

--- Mark a local image file to be uploaded where a URL is expected.
-- @tparam string path the image's path
-- @treturn seedance.File
function M.file(path)
  errors.checkarg(path, "string", 1, "file")
  return core.file(path)
end

local scheduler = require("seedance.scheduler")
local client = require("seedance.client")

--- Make a client. Options mirror the service (see `seedance.ClientOptions`):
-- `api_key` (default $SEEDANCE_API_KEY), `base_url` (default $SEEDANCE_BASE_URL
-- or https://xcompute.us), `timeout`, `connect_timeout`, `max_retries`,
-- `validate`, `language`, `proxy`, `ca_file`, `allow_insecure_http`, ...
-- @tparam[opt] seedance.ClientOptions opts
-- @treturn seedance.Client
M.new = client.new

--- Run `fn(...)` in a coroutine and pump until it and every spawned coroutine end.
-- Inside, network calls yield so other coroutines go on. Returns fn's results.
-- @function run
M.run = scheduler.run

--- Start `fn(...)` as a coroutine; returns a handle whose `:wait()` gives fn's results.
-- It first runs at the next `step` (or inside `run`).
-- @function spawn
M.spawn = scheduler.spawn

--- Pump IO and resume coroutines whose IO finished; `step(0)` never blocks.
-- Call it from a host's frame loop. Returns the number of coroutines alive.
-- @function step
M.step = scheduler.step

--- Pause for a number of seconds: yields in a coroutine, blocks otherwise.
-- @function sleep
M.sleep = scheduler.sleep

--- The sockets a host event loop should watch: `{ {fd, "r"|"w"|"rw"}, ... }`.
-- @function sockets
M.sockets = scheduler.sockets

--- Seconds until `step` has work to do (0 if now, nil if nothing is pending).
-- @function timeout
M.timeout = scheduler.timeout

local pipeline = require("seedance.pipeline")

--- Generate many requests, at most `opts.concurrency` at a time; results in
-- input order, per-item errors collected (see `seedance.pipeline.map`).
-- @function map
M.map = pipeline.map

--- Generate clips one after another, each from the previous clip's last
-- frame (see `seedance.pipeline.chain`).
-- @function chain
M.chain = pipeline.chain

return M
