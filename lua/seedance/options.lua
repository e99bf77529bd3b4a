--- The client's options: one table of name, type, default and doc.
-- It drives `seedance.new`'s checks and defaults; `types/seedance.lua`'s
-- `seedance.ClientOptions` lists the same names and types, and the reference
-- documents them from here (spec/packaging/docs_spec.lua keeps the three in agreement).
-- @module seedance.options

local errors = require("seedance.errors")
local numbers = require("seedance.numbers")

local M = {}

local MiB = 1024 * 1024

--- Every option: `{ name, type, default, doc, env = variable read when unset,
-- integer = true for whole numbers, min = smallest allowed }`, in the order docs list them.
M.list = {
  { "api_key", "string", nil, "the API key (never printed)", env = "SEEDANCE_API_KEY" },
  { "base_url", "string", "https://xcompute.us", "the service's address: https, or http to loopback",
    env = "SEEDANCE_BASE_URL" },
  { "timeout", "number", 60, "seconds per API request", min = 0 },
  { "connect_timeout", "number", 10, "seconds to connect", min = 0 },
  { "max_retries", "number", 4, "retries of 429, 5xx and transport errors", integer = true, min = 0 },
  { "backoff", "number", 0.5, "first retry delay in seconds, doubled each time (with jitter)", min = 0 },
  { "max_backoff", "number", 30, "cap of one retry delay in seconds", min = 0 },
  { "max_retry_after", "number", 120, "longest Retry-After honoured in seconds; longer is an error", min = 0 },
  { "validate", "boolean", true, "check requests against the service's rules before sending" },
  { "language", "string", nil, "language of the service's messages: en, zh, ko or ja" },
  { "proxy", "string", nil, "proxy URL for libcurl (else the https_proxy/no_proxy variables apply)" },
  { "ca_file", "string", nil, "CA bundle for TLS verification" },
  { "allow_insecure_http", "boolean", false, "allow an http:// base_url to a host other than loopback" },
  { "allow_insecure_media", "boolean", false, "allow http:// result URLs to hosts other than loopback "
    .. "(a gateway of your own); link-local addresses stay refused" },
  { "max_body", "number", 4 * MiB, "cap of an API answer in bytes", integer = true, min = 1 },
  { "max_download", "number", 1024 * MiB, "cap of a downloaded file in bytes", integer = true, min = 1 },
  { "download_timeout", "number", 3600, "overall seconds of one download call (all attempts)", min = 0 },
  { "min_download_rate", "number", 1024, "bytes per second below which, for 30 s, a download attempt "
    .. "counts as stalled", integer = true, min = 0 },
  { "poll_min", "number", 1, "shortest pause between task polls in seconds", min = 0 },
  { "poll_max", "number", 30, "longest pause between task polls in seconds", min = 0 },
  { "wait_timeout", "number", 1800, "default deadline of task:wait in seconds", min = 0 },
  { "time_scale", "number", 1, "multiply every pause by this (for a time-scaled emulator; "
    .. "$SEEDANCE_TIME_SCALE applies only to a loopback base_url)", env = "SEEDANCE_TIME_SCALE", min = 1e-6 },
  { "on_retry", "function", nil, "called as on_retry(err, attempt, delay) before each retry" },
  { "logger", "function", nil, "called as logger(level, line) for each log line (key masked); "
    .. "default: stderr when SEEDANCE_LOG is info or debug" },
  { "log_level", "string", nil, "warn (notices only: a journal's skipped records), info (also one line per "
    .. "HTTP exchange) or debug; default $SEEDANCE_LOG",
    env = "SEEDANCE_LOG" },
  { "user_agent", "string", nil, "User-Agent header (default seedance-lua/VERSION)" },
  { "journal", "string", nil, "path of a crash-safe journal: a re-run re-attaches to tasks instead of paying "
    .. "twice (one process at a time)" },
  { "max_in_flight", "number", nil, "at most this many tasks submitted and not finished (default unlimited)",
    integer = true, min = 1 },
  { "max_requests", "number", 64, "cap of the concurrent API request window", integer = true, min = 1 },
  { "governor", "boolean", true, "false turns off the shared back-off on 429" },
}

--- The same, by name.
M.by_name = {}
for _, o in ipairs(M.list) do
  o.name, o.type, o.default, o.doc = o[1], o[2], o[3], o[4]
  M.by_name[o.name] = o
end


-- A value read from the environment, converted to the option's type; nil when unset or empty.
local function from_env(o)
  local v = o.env and os.getenv(o.env)
  if v == nil or v == "" then return nil end
  -- (read the same under any locale: Lua 5.1's tonumber reads "0.05" as nothing under a comma locale)
  if o.type == "number" then return numbers.parse(v) or v end -- not a number: the caller's check says so
  return v
end

-- Why v is not acceptable for option o (nil when it is): type, finiteness, whole numbers, minimum.
local function problem(o, v)
  if type(v) ~= o.type then return string.format("must be a %s, got %s", o.type, type(v)) end
  -- (every string option reaches C, which reads a string up to its first NUL)
  if o.type == "string" and v:find("\0", 1, true) then return "must not contain NUL bytes" end
  if o.type ~= "number" then return nil end
  if v ~= v or v == math.huge or v == -math.huge then return "must be a finite number" end
  if o.integer and math.floor(v) ~= v then return "must be a whole number, got " .. numbers.text(v) end
  if o.min and v < o.min then
    return string.format("must be at least %s, got %s", numbers.text(o.min), numbers.text(v))
  end
  return nil
end

--- Check a caller's options and fill in defaults (from the environment, then
-- the table above). A value from the environment is held to the same rules
-- (its message names the variable).
-- @tparam table|nil opts
-- @treturn[1] table every option, resolved
-- @treturn[2] nil
-- @treturn[2] string what is wrong (an unknown name, a wrong type, a value out of range)
-- @treturn[2] string|nil the option it is about
function M.check(opts)
  if opts ~= nil and type(opts) ~= "table" then return nil, "table expected, got " .. type(opts) end
  opts = opts or {}
  for k, v in pairs(opts) do
    local o = M.by_name[k]
    if not o then return nil, "unknown option '" .. numbers.show(k) .. "'", numbers.show(k) end
    local why = problem(o, v)
    if why then return nil, string.format("option '%s' %s", k, why), k end
  end
  local out = {}
  for _, o in ipairs(M.list) do
    local v = opts[o.name]
    if v == nil then
      v = from_env(o)
      local why = v ~= nil and problem(o, v)
      if why then return nil, string.format("%s (for option '%s') %s", o.env, o.name, why), o.name end
    end
    if v == nil then v = o.default end
    out[o.name] = v
  end
  return out
end

--- As `check`, raising `bad argument #1 to '<fname>' (...)` on a problem.
-- @tparam table|nil opts
-- @tparam string fname the public function's name, for messages
-- @treturn table every option, resolved
function M.resolve(opts, fname)
  local out, why = M.check(opts)
  if not out then errors.argerror(1, fname, why, 4) end
  return out
end

return M
