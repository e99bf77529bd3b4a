--- seedance: generate videos with ByteDance's Seedance 2.0 models from Lua.
-- The C core (`seedance.core`) validates requests and runs HTTP; this module
-- builds the public API on top of it.
-- @module seedance

local core = require("seedance.core")
local errors = require("seedance.errors")

local M = {}

--- The version of seedance, as "MAJOR.MINOR.PATCH".
M._VERSION = require("seedance.version")

--- The error objects every expected failure returns (`seedance.errors`): `new`, `is`.
M.errors = errors

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

--- The models the validator knows and their rules, as data (`seedance.models`):
-- `seedance.models[name]` lists a model's rules, `seedance.models.add(name, rules)`
-- adds or extends one (`like = "doubao-seedance-2.0"` to start from an existing one).
M.models = require("seedance.models")

--- Mark a local image file to be uploaded where a URL is expected. The path
-- is resolved now, against the current working directory: a host that
-- changes folder later changes nothing about which file is uploaded.
-- @tparam string path the image's path
-- @treturn seedance.File
function M.file(path)
  errors.checkarg(path, "string", 1, "file")
  errors.checkpath(path, 1, "file")
  local marker = core.file(path)
  marker.resolved = core.absolute(path) or path
  return marker
end

local scheduler = require("seedance.scheduler")
local client = require("seedance.client")

--- Make a client. Raises `bad argument #1 to 'new' (...)` on an unknown
-- option, a wrong type, a value out of range, a refused base URL or a
-- malformed key, and when the journal cannot be used. The options
-- (`seedance.ClientOptions` in `types/seedance.lua`) are those of
-- `lua/seedance/options.lua`:
-- @function new
-- @tparam[opt] table opts
-- @tparam[opt] string opts.api_key the API key, never printed (default $SEEDANCE_API_KEY)
-- @tparam[opt=https://xcompute.us] string opts.base_url the service's address: https, or http to loopback
--   (default $SEEDANCE_BASE_URL)
-- @tparam[opt=60] number opts.timeout seconds per API request
-- @tparam[opt=10] number opts.connect_timeout seconds to connect
-- @tparam[opt=4] int opts.max_retries retries of 429, 5xx and transport errors
-- @tparam[opt=0.5] number opts.backoff first retry delay in seconds, doubled each time (with jitter)
-- @tparam[opt=30] number opts.max_backoff cap of one retry delay in seconds
-- @tparam[opt=120] number opts.max_retry_after longest Retry-After honoured in seconds; longer is an error
-- @tparam[opt=true] boolean opts.validate check requests against the service's rules before sending
-- @tparam[opt] string opts.language language of the service's messages: en, zh, ko or ja
-- @tparam[opt] string opts.proxy proxy URL for libcurl (else the https_proxy/no_proxy variables apply)
-- @tparam[opt] string opts.ca_file CA bundle for TLS verification
-- @tparam[opt=false] boolean opts.allow_insecure_http allow an http:// base_url to a host other than loopback
-- @tparam[opt=false] boolean opts.allow_insecure_media allow http:// result URLs to hosts other than
--   loopback (a gateway of your own); link-local addresses stay refused
-- @tparam[opt=4194304] int opts.max_body cap of an API answer in bytes (4 MiB)
-- @tparam[opt=1073741824] int opts.max_download cap of a downloaded file in bytes (1 GiB)
-- @tparam[opt=3600] number opts.download_timeout overall seconds of one download call (all attempts)
-- @tparam[opt=1024] int opts.min_download_rate bytes per second below which, for 30 s, a download
--   attempt counts as stalled
-- @tparam[opt=1] number opts.poll_min shortest pause between task polls in seconds
-- @tparam[opt=30] number opts.poll_max longest pause between task polls in seconds
-- @tparam[opt=1800] number opts.wait_timeout default deadline of `Task:wait` in seconds
-- @tparam[opt=1] number opts.time_scale multiply every pause by this, for a sped-up emulator
--   (default $SEEDANCE_TIME_SCALE)
-- @tparam[opt] func opts.on_retry called as `on_retry(err, attempt, delay)` before each retry
-- @tparam[opt] func opts.logger called as `logger(level, line)` for each log line, the key masked
--   (default: standard error when log_level is set)
-- @tparam[opt] string opts.log_level "info" (one line per HTTP exchange: method, path, status, time;
--   and each retry with its reason) or "debug" (default $SEEDANCE_LOG)
-- @tparam[opt] string opts.user_agent the User-Agent header (default seedance-lua/VERSION)
-- @tparam[opt] string opts.journal path of a crash-safe journal: a re-run re-attaches to tasks instead
--   of paying twice (one process at a time)
-- @tparam[opt] int opts.max_in_flight at most this many tasks submitted and not finished (default unlimited)
-- @tparam[opt=64] int opts.max_requests cap of the concurrent API request window
-- @tparam[opt=true] boolean opts.governor false turns off the shared back-off on 429
-- @treturn seedance.Client
M.new = client.new

--- Run `fn(...)` in a coroutine and pump until it and every spawned coroutine end.
-- Inside, network calls yield so other coroutines go on.
-- @function run
-- @tparam function fn the body
-- @param ... its arguments
-- @return what fn returned; raises what fn raised
M.run = scheduler.run

--- Start `fn(...)` as a coroutine. It first runs at the next `step` (or inside `run`).
-- @function spawn
-- @tparam function fn the body
-- @param ... its arguments
-- @treturn Spawned a handle whose `wait` gives fn's results
M.spawn = scheduler.spawn

--- Pump IO and resume coroutines whose IO finished. Call it from a host's frame loop:
-- `step(0)` never blocks.
-- @function step
-- @tparam[opt=0] number timeout seconds to wait for IO at most
-- @treturn integer the number of coroutines still alive
M.step = scheduler.step

--- Pause: yields in a coroutine (others go on), blocks otherwise. In plain
-- code it sleeps `seconds` (to about a millisecond), pumping IO and the
-- spawned coroutines meanwhile, so `sleep(1/60)` paces a 60 Hz loop.
-- @tparam number seconds
function M.sleep(seconds)
  return scheduler.sleep(seconds)
end

--- Seconds on a monotonic clock: it never goes back and does not follow the
-- date (a wall-clock step, an NTP correction, changes nothing). The clock of
-- every deadline, timer and `timeout()`; only differences between two readings mean anything.
-- @treturn number seconds (with a fraction)
function M.now()
  return scheduler.now()
end

--- The sockets a host event loop should watch; when one is ready, or `timeout()`
-- elapses, call `step(0)`.
-- @function sockets
-- @treturn table `{ {fd, "r"|"w"|"rw"}, ... }`
M.sockets = scheduler.sockets

--- Seconds until `step` has work to do.
-- @function timeout
-- @treturn number|nil 0 when something is ready, nil when nothing is pending; at most a day (86400),
--   even while a coroutine sleeps for ever, so a host can hand it to its own timer
M.timeout = scheduler.timeout

local pipeline = require("seedance.pipeline")

--- Generate many requests, at most `opts.concurrency` at a time; results in
-- input order, per-item errors collected (see `seedance.pipeline.map`).
-- @function map
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables
-- @tparam[opt] seedance.MapOptions opts
-- @treturn table results in input order
-- @treturn table stats `{ total, done, failed, skipped, error }`
M.map = pipeline.map

--- Generate clips one after another, each from the previous clip's last
-- frame (see `seedance.pipeline.chain`).
-- @function chain
-- @tparam seedance.Client client
-- @tparam table requests a list of request tables, one per clip
-- @tparam[opt] seedance.ChainOptions opts
-- @treturn table clips `{ task = ..., path = ... }` done so far
-- @treturn seedance.Error|nil the error that stopped the chain
M.chain = pipeline.chain

--- A handle on a coroutine started by `spawn`: `done` (whether it has
-- finished), `ok` (true when it returned, false when it raised), `error`
-- (what it raised, with a traceback).
-- @type Spawned

--- Wait for the coroutine and return what it returned. Yields when called
-- from a coroutine, blocks otherwise.
-- @function Spawned:wait
-- @return the coroutine's results, or nil and its error

return M
