--- The command's settings: flags first, then the environment, each checked
-- before anything is sent. A bad one is one line naming the setting and the
-- fix (a `usage_error`, exit 2; an unreadable key file is a file error),
-- never a stack trace and never advice meant for a Lua caller.
-- @module seedance.cli.settings
-- @local

local errors = require("seedance.errors")
local options = require("seedance.options")
local output = require("seedance.cli.output")
local seedance_client = require("seedance.client")
local text = require("seedance.cli.text")
local urls = require("seedance.urls")

local M = {}

--- The error of a setting a user must fix (exit 2).
-- @tparam string fmt
-- @return seedance.Error `usage_error`
function M.usage(fmt, ...)
  return errors.new{ type = "usage_error", retryable = false, message = string.format(fmt, ...) }
end

local masked = output.masked

-- Replace every plain occurrence of `what` in s.
local function replace(s, what, by)
  local i = s:find(what, 1, true)
  if not i or what == "" then return s end
  return s:sub(1, i - 1) .. by .. replace(s:sub(i + #what), what, by)
end

--- Check a base URL given by `source` (a flag or a variable name).
-- @tparam string value
-- @tparam string source "--base-url" or "SEEDANCE_BASE_URL"
-- @tparam boolean allow_insecure_http
-- @treturn[1] string the URL
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.check_base_url(value, source, allow_insecure_http)
  local ok, why = urls.check_base(value, allow_insecure_http)
  if ok then return value end
  local p = urls.parse(value)
  if p and p.scheme == "http" and not p.userinfo and not urls.is_link_local(p.host) then
    return nil, M.usage("%s '%s' is plain http to %s, which is not this machine: the key would cross the "
      .. "network in clear text; use https, or pass --allow-insecure-http", source, masked(value), p.host)
  end
  why = replace(why, value, masked(value)):gsub("^base_url ", "")
  return nil, M.usage("%s %s", source, why)
end

-- What libcurl takes as a proxy: [scheme://][user:pass@]host[:port][/].
local PROXY_SCHEMES = { http = true, https = true, socks4 = true, socks4a = true, socks5 = true, socks5h = true }

--- Check a proxy URL.
-- @tparam string value
-- @treturn[1] string value
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.check_proxy(value)
  local scheme, rest = value:match("^(%a[%w+.-]*)://(.*)$")
  local bad = value == "" or value:find("[%s%c]") or (scheme and not PROXY_SCHEMES[scheme:lower()])
    or (rest or value):match("^[^/]*@?[%w%.%-%[%]:]+/?$") == nil
  if bad then
    return nil, M.usage("--proxy '%s' is not a proxy URL; write it as http://HOST:PORT (or socks5://HOST:PORT)",
      masked(value))
  end
  return value
end

--- Read the API key: --api-key-file FILE, else SEEDANCE_API_KEY. Surrounding
-- white space is dropped (a key file often ends in a newline).
-- @tparam table args the parsed flags
-- @tparam function getenv
-- @treturn[1] string|nil the key (nil when none is set)
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.read_key(args, getenv)
  local key, source = getenv("SEEDANCE_API_KEY"), "SEEDANCE_API_KEY"
  if args.api_key_file then
    source = "--api-key-file " .. args.api_key_file
    if args.api_key_file == "-" then
      return nil, M.usage("--api-key-file -: only --request reads standard input; name a file (./- for one "
        .. "named '-'), or set SEEDANCE_API_KEY")
    end
    local body, err = text.read(args.api_key_file, { label = source, max = 4096 })
    if not body then return nil, err end
    if #body > 4096 then return nil, M.usage("%s holds more than a key (over 4096 bytes)", source) end
    key = body
    if key:match("^%s*$") then return nil, M.usage("%s is empty; put the API key in it", source) end
  end
  if key == nil then return nil end
  key = key:match("^%s*(.-)%s*$")
  if key == "" then return nil end
  if key:find("[%c ]") then
    return nil, M.usage("%s contains spaces or control characters; it must hold the API key alone", source)
  end
  return key
end

--- Whether a base URL is on this machine (loopback), where a sped-up emulator may run.
-- @tparam string base
-- @treturn boolean
function M.is_local(base)
  local p = urls.parse(base)
  return p ~= nil and p.host ~= nil and urls.is_loopback(p.host)
end

-- A positive number from a variable, or nil, error.
local function env_number(getenv, name, hint)
  local v = getenv(name)
  if v == nil or v == "" then return true end
  local n = tonumber(v)
  if not n or n ~= n or n <= 0 or n == math.huge then
    return nil, M.usage("%s must be a number above 0%s, got '%s'", name, hint, v)
  end
  return n
end

local LOG_LEVELS = { info = true, debug = true }

--- Resolve the client's options from the flags and the environment.
-- @tparam table args the parsed flags (`base_url`, `api_key_file`, `allow_insecure_http`, `proxy`,
--   `timeout`, `wait_timeout`, `verbose`, `no_validate`, `journal`)
-- @tparam[opt] function getenv default os.getenv
-- @treturn[1] table options for `seedance.new`
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.resolve(args, getenv)
  getenv = getenv or os.getenv
  local opts = { allow_insecure_http = args.allow_insecure_http or nil }
  local base, source = args.base_url, "--base-url"
  if base == "" then
    -- `--base-url "$URL"` with URL not set: never taken for "the real, paid service" (an empty
    -- variable is unset, as every SEEDANCE_* variable is)
    return nil, M.usage("--base-url is empty (a shell variable that is not set?); give the service's URL, or "
      .. "leave the flag out for the default %s", options.by_name.base_url.default)
  end
  if base == nil then base, source = getenv("SEEDANCE_BASE_URL"), "SEEDANCE_BASE_URL" end
  if base ~= nil and base ~= "" then
    local ok, err = M.check_base_url(base, source, args.allow_insecure_http)
    if not ok then return nil, err end
    opts.base_url = base
  else
    opts.base_url = options.by_name.base_url.default
  end
  local key, kerr = M.read_key(args, getenv)
  if kerr then return nil, kerr end
  opts.api_key = key
  if args.proxy then
    local ok, err = M.check_proxy(args.proxy)
    if not ok then return nil, err end
    opts.proxy = args.proxy
  end
  local scale, serr = env_number(getenv, "SEEDANCE_TIME_SCALE", " (1/speed for a sped-up emulator)")
  if not scale then return nil, serr end
  -- an emulator runs on this machine: a stale SEEDANCE_TIME_SCALE never speeds up polling of a remote service
  opts.time_scale = scale ~= true and M.is_local(opts.base_url) and scale or 1
  local level = getenv("SEEDANCE_LOG")
  if level == "" then level = nil end
  if level ~= nil and not LOG_LEVELS[level] then
    return nil, M.usage("SEEDANCE_LOG must be info or debug, got '%s'", level)
  end
  local verbose = args.verbose or 0
  if verbose >= 2 then level = "debug" elseif verbose == 1 and level == nil then level = "info" end
  opts.log_level = level
  opts.timeout, opts.wait_timeout, opts.journal = args.timeout, args.wait_timeout, args.journal
  if args.no_validate then opts.validate = false end
  return opts
end

--- Make the client: settings resolved and checked, then `seedance.new`, whose
-- own refusals become one line too.
-- @tparam table args the parsed flags
-- @tparam[opt] function logger `logger(level, line)` for the library's log lines
-- @tparam[opt] function getenv
-- @treturn[1] seedance.Client
-- @treturn[1] table the options it was made with
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.client(args, logger, getenv)
  local opts, err = M.resolve(args, getenv)
  if not opts then return nil, err end
  -- the library's notices (a journal's skipped records) always reach the command's stderr
  opts.logger = logger
  opts.log_level = opts.log_level or "warn"
  local client, cerr = seedance_client.open(opts)
  if client then return client, opts end
  if cerr.journal then
    return nil, errors.new{ type = "io_error", retryable = false,
      message = string.format("--journal %s: %s", tostring(args.journal), cerr.reason) }
  end
  local msg = tostring(cerr.message)
  for _, url in ipairs{ opts.proxy or "", opts.base_url or "" } do msg = replace(msg, url, masked(url)) end
  return nil, M.usage("%s", msg)
end

return M
