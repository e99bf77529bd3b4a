--- The command's settings: flags first, then the environment, then the
-- config file (`seedance.cli.config`), then the defaults, each checked
-- before anything is sent. A bad one is one line naming the setting (and for
-- the config file, its file and line) and the fix (a `usage_error`, exit 2;
-- an unreadable key file is a file error), never a stack trace and never
-- advice meant for a Lua caller.
-- @module seedance.cli.settings
-- @local

local config = require("seedance.cli.config")
local core = require("seedance.core")
local errors = require("seedance.errors")
local numbers = require("seedance.numbers")
local options = require("seedance.options")
local output = require("seedance.cli.output")
local request = require("seedance.cli.request")
local seedance_client = require("seedance.client")
local text = require("seedance.cli.text")
local urls = require("seedance.urls")

local M = {}

--- Wall-clock seconds `--wait-timeout` stands for when neither it nor the config file sets them.
M.WAIT_TIMEOUT = 1800

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
-- @tparam[opt] string source how the message names it (default "--proxy")
-- @treturn[1] string value
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.check_proxy(value, source)
  local scheme, rest = value:match("^(%a[%w+.-]*)://(.*)$")
  local bad = value == "" or value:find("[%s%c]") or (scheme and not PROXY_SCHEMES[scheme:lower()])
    or (rest or value):match("^[^/]*@?[%w%.%-%[%]:]+/?$") == nil
  if bad then
    return nil, M.usage("%s '%s' is not a proxy URL; write it as http://HOST:PORT (or socks5://HOST:PORT)",
      source or "--proxy", masked(value))
  end
  return value
end

--- The refusal of a key file others can read, or nil: only the owner may read a key file
-- named in the config file (ssh refuses a private key the same way). Nil where the system has
-- no permission bits (Windows).
-- @tparam string path
-- @tparam string label how the message names it
-- @treturn seedance.Error|nil
function M.key_file_exposed(path, label)
  local st = core.stat(path, true)
  local mode = st and st.mode
  if not mode or math.floor(mode / 4) % 2 == 0 and math.floor(mode / 32) % 2 == 0 then return nil end
  return M.usage("%s is readable by others (mode %04o); a key file must be yours alone, as ssh requires of a "
    .. "private key: run chmod 600 %s", label, mode, path)
end

--- Read the API key: --api-key-file FILE, else SEEDANCE_API_KEY, else the
-- config file's api_key_file (which others must not be able to read).
-- Surrounding white space is dropped (a key file often ends in a newline).
-- @tparam table args the parsed flags
-- @tparam function getenv
-- @tparam[opt] table conf the config file's values (`seedance.cli.config`), with `api_key_file.path`
-- @treturn[1] string|nil the key (nil when none is set)
-- @treturn[1] string|nil where it came from: "--api-key-file FILE", "SEEDANCE_API_KEY" or
--   "api_key_file FILE (CONFIG:LINE)"
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.read_key(args, getenv, conf)
  local key, source = getenv("SEEDANCE_API_KEY"), "SEEDANCE_API_KEY"
  if key == "" then key = nil end
  local file = args.api_key_file
  if file then
    source = "--api-key-file " .. file
    if file == "-" then
      return nil, M.usage("--api-key-file -: only --request reads standard input; name a file (./- for one "
        .. "named '-'), or set SEEDANCE_API_KEY")
    end
  elseif key == nil and conf and conf.api_key_file then
    file = conf.api_key_file.path
    source = string.format("api_key_file %s (%s)", file, conf.api_key_file.where)
    local st = core.stat(file, true)
    if st and st.type == "file" then
      -- (a folder or a device is said to be just that when it is read, not taken for a key others can read)
      local exposed = M.key_file_exposed(file, source)
      if exposed then return nil, exposed end
    end
  end
  if file then
    local body, err = text.read(file, { label = source, max = 4096 })
    if not body then
      if not args.api_key_file then err.message = err.message .. config.comment_note(conf.api_key_file.value) end
      return nil, err
    end
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
  return key, source
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
  local n = numbers.parse(v)
  if not n or n ~= n or n <= 0 or n == math.huge then
    return nil, M.usage("%s must be a number above 0%s, got '%s'", name, hint, v)
  end
  return n
end

local LOG_LEVELS = { info = true, debug = true }

-- A number of seconds above 0, or nil.
local function seconds(v)
  local n = numbers.parse(v)
  if not n or n ~= n or n <= 0 or n == math.huge then return nil end
  return n
end

-- The variable libcurl takes a proxy from for a URL (it reads them itself), and its value.
local function env_proxy(getenv, url)
  local names = (url or ""):match("^[Hh][Tt][Tt][Pp]:") and { "http_proxy" } or { "https_proxy", "HTTPS_PROXY" }
  names[#names + 1], names[#names + 2] = "all_proxy", "ALL_PROXY"
  for _, name in ipairs(names) do
    local v = getenv(name)
    if v ~= nil and v ~= "" then return name, v end
  end
end

-- Check each value the config file gives (used or not: a wrong line is said at once), naming
-- its file and line; paths are made absolute as the file means them.
local function check_file(conf, args, getenv)
  local file = conf.values
  for _, key in ipairs{ "base_url", "proxy", "timeout", "wait_timeout", "model", "resolution" } do
    local e = file[key]
    if e then
      local what, ok, err = e.where .. ": " .. key, true, nil
      if key == "base_url" then
        ok, err = M.check_base_url(e.value, what, args.allow_insecure_http)
      elseif key == "proxy" then
        ok, err = M.check_proxy(e.value, what)
      elseif key == "timeout" or key == "wait_timeout" then
        e.value = seconds(e.value) or e.value
        if type(e.value) ~= "number" then
          err = M.usage("%s must be a number of seconds above 0, got '%s'", what, e.value)
        end
      else
        err = request.check_value(key, e.value)
        if err then err = M.usage("%s: %s", what, err) end
      end
      if not ok or err then
        err.message = err.message .. config.comment_note(e.value)
        return nil, err
      end
    end
  end
  for _, key in ipairs{ "api_key_file", "ca_file" } do
    if file[key] then file[key].path = config.path_of(file[key].value, conf.path, getenv) end
  end
  return true
end

-- The CA bundle, checked readable: --ca-file, else the config file's ca_file.
local function ca_file(args, file)
  local path, source = args.ca_file, "--ca-file"
  local label = "--ca-file " .. tostring(path)
  if not path and file.ca_file then
    path, source = file.ca_file.path, file.ca_file.where
    label = string.format("ca_file %s (%s)", path, source)
  end
  if not path then return true end
  if path == "-" then return nil, M.usage("--ca-file -: name a file (./- for one named '-')") end
  local f, err = io.open(path, "rb")
  local st = core.stat(path, true)
  if not f or (st and st.type ~= "file") then
    if f then f:close() end
    return nil, M.usage("%s: cannot read it (%s); name a CA bundle (PEM)%s", label,
      st and ("is a " .. st.type) or tostring(err):match(": ([^:]+)$") or tostring(err),
      args.ca_file and "" or config.comment_note(file.ca_file.value))
  end
  f:close()
  return path, source
end

--- Resolve the client's options: each setting from its flag, else the
-- environment, else the config file (`seedance.cli.config`), else the default.
-- @tparam table args the parsed flags (`base_url`, `api_key_file`, `allow_insecure_http`, `proxy`, `ca_file`,
--   `timeout`, `wait_timeout`, `verbose`, `no_validate`, `journal`)
-- @tparam[opt] function getenv default os.getenv
-- @treturn[1] table options for `seedance.new`
-- @treturn[1] table what else the command needs: `sources` (setting name to where its value came
--   from: a flag, a variable, "FILE:LINE" or "default"), `values` (each setting in effect, the key
--   masked), `config` (the file: `path`, `exists`), `wait_timeout` (wall-clock seconds), `defaults`
--   (`model`, `resolution`: the request's defaults)
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.resolve(args, getenv)
  getenv = getenv or os.getenv
  local conf, cerr = config.load(getenv)
  if not conf then return nil, cerr end
  local ok, ferr = check_file(conf, args, getenv)
  if not ok then return nil, ferr end
  local file = conf.values
  local info = { config = conf, sources = {}, values = {}, defaults = {} }
  local function set(name, value, source)
    info.values[name], info.sources[name] = value, source
  end
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
    local bok, err = M.check_base_url(base, source, args.allow_insecure_http)
    if not bok then return nil, err end
    opts.base_url = base
  elseif file.base_url then
    opts.base_url, source = file.base_url.value, file.base_url.where
  else
    opts.base_url, source = options.by_name.base_url.default, "default"
  end
  set("base_url", masked(opts.base_url), source)
  local key, key_source = M.read_key(args, getenv, file)
  if type(key_source) == "table" then return nil, key_source end
  opts.api_key = key
  set("api_key", key and "********", key_source or "none: set SEEDANCE_API_KEY, or api_key_file in the config file")
  local key_file = args.api_key_file or (file.api_key_file and file.api_key_file.path)
  local key_file_source = args.api_key_file and "--api-key-file" or file.api_key_file and file.api_key_file.where
    or "default"
  if not args.api_key_file and file.api_key_file and key_source == "SEEDANCE_API_KEY" then
    -- the variable's key is the one in effect: the file's line is not read
    key_file_source = key_file_source .. " (not used: SEEDANCE_API_KEY is set)"
  end
  set("api_key_file", key_file, key_file_source)
  if args.proxy then
    local pok, err = M.check_proxy(args.proxy)
    if not pok then return nil, err end
    opts.proxy = args.proxy
    set("proxy", masked(args.proxy), "--proxy")
  else
    local var, value = env_proxy(getenv, opts.base_url)
    if var then
      set("proxy", masked(value), var)
    elseif file.proxy then
      opts.proxy = file.proxy.value
      set("proxy", masked(opts.proxy), file.proxy.where)
    else
      set("proxy", nil, "default")
    end
  end
  local ca, ca_source = ca_file(args, file)
  if not ca then return nil, ca_source end
  if ca ~= true then opts.ca_file = ca end
  set("ca_file", opts.ca_file, ca_source or "default")
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
  for _, name in ipairs{ "timeout", "wait_timeout" } do
    local flag = "--" .. name:gsub("_", "-")
    if args[name] then
      set(name, args[name], flag)
    elseif file[name] then
      set(name, file[name].value, file[name].where)
    else
      set(name, name == "timeout" and options.by_name.timeout.default or M.WAIT_TIMEOUT, "default")
    end
  end
  opts.timeout, opts.journal = info.values.timeout, args.journal
  opts.wait_timeout = info.values.wait_timeout
  info.wait_timeout = info.values.wait_timeout
  for _, name in ipairs{ "model", "resolution" } do
    if args["request:" .. name] then
      set(name, args["request:" .. name], "--" .. name)
    elseif file[name] then
      set(name, file[name].value, file[name].where)
      info.defaults[name] = file[name].value
    else
      set(name, request.DEFAULTS[name], "default")
    end
  end
  if args.no_validate then opts.validate = false end
  return opts, info
end

--- Make the client from resolved options (`seedance.client.open`), whose
-- refusals become one line too.
-- @tparam table opts as `resolve` returns them
-- @tparam table args the parsed flags
-- @tparam[opt] function logger `logger(level, line)` for the library's log lines
-- @treturn[1] seedance.Client
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.client_from(opts, args, logger)
  -- the library's notices (a journal's skipped records) always reach the command's stderr
  opts.logger = logger
  opts.log_level = opts.log_level or "warn"
  local client, cerr = seedance_client.open(opts)
  if client then return client end
  if cerr.journal then
    return nil, errors.new{ type = cerr.type == "usage_error" and "usage_error" or "io_error", retryable = false,
      message = string.format("--journal %s: %s", require("seedance.journal").shown(tostring(args.journal)),
        cerr.reason) }
  end
  local msg = tostring(cerr.message)
  for _, url in ipairs{ opts.proxy or "", opts.base_url or "" } do msg = replace(msg, url, masked(url)) end
  return nil, M.usage("%s", msg)
end

--- Make the client: settings resolved and checked (`resolve`), then `client_from`.
-- @tparam table args the parsed flags
-- @tparam[opt] function logger `logger(level, line)` for the library's log lines
-- @tparam[opt] function getenv
-- @treturn[1] seedance.Client
-- @treturn[1] table the options it was made with
-- @treturn[1] table what `resolve` says besides (sources, the config file)
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.client(args, logger, getenv)
  local opts, info = M.resolve(args, getenv)
  if not opts then return nil, info end
  local client, err = M.client_from(opts, args, logger)
  if not client then return nil, err end
  return client, opts, info
end

return M
