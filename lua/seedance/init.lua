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

---@class seedance.Request
---@field model "doubao-seedance-2.0"|"doubao-seedance-2.0-fast"|"doubao-seedance-2.0-face"|"doubao-seedance-2.0-fast-face"
---@field prompt string|nil required for text-to-video; at most 4000 characters
---@field duration integer|nil seconds, 4 to 15 (default 5)
---@field size "16:9"|"9:16"|"1:1"|"4:3"|"3:4"|"21:9"|"adaptive"|nil
---@field resolution "480p"|"720p"|"1080p"|nil 1080p only on doubao-seedance-2.0 and -face
---@field seed integer|nil -1 .. 4294967295
---@field generate_audio boolean|nil
---@field return_last_frame boolean|nil
---@field tools {type:"web_search"}[]|nil
---@field image_urls (string|seedance.File)[]|nil 1 to 9 http(s):// or asset:// URLs
---@field image_with_roles {url:string|seedance.File, role:"first_frame"|"last_frame"|"reference_image"}[]|nil
---@field video_urls string[]|nil at most 3
---@field audio_urls string[]|nil at most 3; needs a reference image or video

--- Check a request against the service's rules, without any network.
-- Raises only when `request` is not a table.
-- @tparam seedance.Request request
-- @treturn[1] boolean true when the request is valid
-- @treturn[2] nil
-- @treturn[2] seedance.Error a `validation_error` whose `errors` lists every problem
function M.validate(request)
  if type(request) ~= "table" then
    error("bad argument #1 to 'validate' (table expected, got " .. type(request) .. ")", 2)
  end
  local ok, problems = core.validate(request)
  if ok then return true end
  return nil, errors.validation(problems)
end

---@class seedance.File
---@field path string

--- Mark a local image file to be uploaded where a URL is expected.
-- @tparam string path the image's path
-- @treturn seedance.File
function M.file(path)
  if type(path) ~= "string" then
    error("bad argument #1 to 'file' (string expected, got " .. type(path) .. ")", 2)
  end
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
