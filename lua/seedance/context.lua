--- The narrow internal context a client hands to http, tasks and downloads:
-- its resolved settings, retry policy, governor, journal and logger, and the
-- only code that sees the API key. The key lives in this module's closures,
-- never in a table field, so no `pairs`, dump or error can reach it; it goes
-- into the Authorization header of API requests and nowhere else, and
-- `redact` masks it wherever a server echoes it back.
-- @module seedance.context

local core = require("seedance.core")
local errors = require("seedance.errors")
local governor = require("seedance.governor")
local polling = require("seedance.polling")
local retry = require("seedance.retry")
local scheduler = require("seedance.scheduler")
local urls = require("seedance.urls")

local M = {}

local USER_AGENT = "seedance-lua/" .. require("seedance.version")

--- Characters of the key's start that, found anywhere, are masked as a cut copy of the key.
M.KEY_PREFIX = 10
local LEVELS = { warn = 0, info = 1, debug = 2 }

--- Make the context of a client.
-- @tparam table settings resolved options (see `seedance.options`)
-- @tparam string|nil key the API key
-- @tparam table base the parsed base URL (see `seedance.urls.check_base`)
-- @tparam table|nil jrnl the open journal
-- @treturn table the context
function M.new(settings, key, base, jrnl)
  local ctx = { settings = settings, base = base, journal = jrnl }
  local key_pattern = key and #key >= 4 and key:gsub("%p", "%%%0") or nil
  local key_start = key and key:sub(1, M.KEY_PREFIX)

  -- Logging: the `logger` option, else stderr when log_level (SEEDANCE_LOG) asks for it; with
  -- neither, nothing is written anywhere (the library never writes to stderr on its own).
  local level = LEVELS[settings.log_level or ""] or (settings.logger and LEVELS.info) or -1
  --- Whether each HTTP exchange is logged (log level info or debug).
  ctx.logs = level >= LEVELS.info
  local sink = settings.logger or function(lvl, line) io.stderr:write("seedance ", lvl, ": ", line, "\n") end

  --- Mask the API key (and any bearer token) in a string: the whole key, and
  -- any start of it of KEY_PREFIX characters or more (an excerpt cut inside the key).
  -- @tparam any s
  -- @treturn any s with the key replaced by "[key masked]" (non-strings are returned as they are)
  function ctx.redact(s)
    if type(s) ~= "string" then return s end
    if key_pattern then
      s = s:gsub(key_pattern, "[key masked]")
      if #key > M.KEY_PREFIX and s:find(key_start, 1, true) then
        -- each cut copy of the key: its first KEY_PREFIX bytes, then as far as it goes on matching
        local out, i = {}, 1
        while true do
          local a = s:find(key_start, i, true)
          if not a then break end
          local b = a + M.KEY_PREFIX - 1
          while b < #s and b - a + 2 <= #key and s:byte(b + 1) == key:byte(b - a + 2) do b = b + 1 end
          out[#out + 1] = s:sub(i, a - 1) .. "[key masked]"
          i = b + 1
        end
        out[#out + 1] = s:sub(i)
        s = table.concat(out)
      end
    end
    return (s:gsub("([Bb][Ee][Aa][Rr][Ee][Rr]%s+)[^%s\"',;]+", "%1[masked]"))
  end

  -- Mask the key in every string of a value, nested tables too (a copy for tables, depth-limited).
  local function deep(v, depth)
    if type(v) == "string" then return ctx.redact(v) end
    if type(v) ~= "table" or depth > 16 or errors.is(v) then return v end
    local out = {}
    for k, x in pairs(v) do out[deep(k, depth + 1)] = deep(x, depth + 1) end
    return out
  end

  --- A copy of a value from the service (a task's error object, say) with the
  -- key masked in every string, nested ones too.
  -- @param v
  -- @return the copy
  function ctx.redact_deep(v)
    return deep(v, 0)
  end

  --- Mask the key in an error's strings (message, service error, nested ones), in place.
  -- @tparam seedance.Error err
  -- @treturn seedance.Error err
  function ctx.redact_error(err)
    for k, v in pairs(err) do
      if type(v) == "string" then err[k] = ctx.redact(v)
      elseif type(v) == "table" and not errors.is(v) then err[k] = deep(v, 0) end
    end
    if errors.is(err.last_error) then ctx.redact_error(err.last_error) end
    return err
  end

  --- A call's results as they are, with the key masked in its error (the
  -- second result) when the first is nil: every public call returns through this.
  function ctx.redact_result(v, err, ...)
    if v == nil and errors.is(err) then return nil, ctx.redact_error(err) end
    return v, err, ...
  end

  --- Log one line at `lvl` ("warn", "info" or "debug") when the level allows; the key is masked.
  -- A logger that raises is ignored (logging never breaks a call).
  function ctx.log(lvl, fmt, ...)
    if (LEVELS[lvl] or 2) > level then return end
    local ok, line = pcall(string.format, fmt, ...)
    if not ok then line = fmt end
    -- one line of valid UTF-8, whatever a server's bytes in it held
    line = core.utf8_clean(ctx.redact(line)):gsub("[%c]", " ")
    pcall(sink, lvl, line)
  end

  --- Whether an API key is set.
  function ctx.has_key() return key ~= nil end

  --- The error for a call made without a key (no network is used).
  function ctx.no_key()
    return errors.new{ type = "authentication_error", retryable = false,
      message = "no API key: set SEEDANCE_API_KEY or pass api_key to seedance.new" }
  end

  -- Plain http never goes through a proxy from the environment (http_proxy): it
  -- would show the proxy the key in clear text (and plain http is only allowed to
  -- this machine's loopback, which the proxy's is not). https goes through one in
  -- a CONNECT tunnel; the `proxy` option is used as given.
  local function proxy_for(scheme)
    local proxy = settings.proxy
    if proxy == nil and scheme == "http" then proxy = "" end
    return proxy
  end
  local user_agent = "User-Agent: " .. (settings.user_agent or USER_AGENT)

  -- Every API call's settings, given to the engine once: the only place the key goes.
  local lines = { user_agent, "Accept: application/json" }
  if key then table.insert(lines, 2, "Authorization: Bearer " .. key) end
  --- The client's profile in the engine (`engine:profile`): its base URL and
  -- header lines (the key among them, in C), TLS, proxy, timeouts, the answer's
  -- size cap, its request window (the governor) and its polls' schedule.
  ctx.profile = scheduler.engine():profile{
    base = base.url, headers = lines, ca_file = settings.ca_file, proxy = proxy_for(base.scheme),
    poll_query = settings.language and ("?language=" .. urls.encode_segment(settings.language)) or nil,
    timeout = settings.timeout, connect_timeout = settings.connect_timeout, max_body = settings.max_body,
    guard_link_local = true, governed = settings.governor, max_requests = settings.max_requests,
    poll_min = settings.poll_min, poll_max = settings.poll_max, time_scale = settings.time_scale,
    lag_floor = polling.LAG_FLOOR, lag_share = polling.LAG_SHARE, slack = polling.ESTIMATE_SLACK,
    wake_all = ctx.logs, -- a poll the engine makes is logged by the Lua layer: it is told of each
  }

  -- Settings every other transfer (a download) shares.
  -- (one list for every download: the engine only reads it)
  local media_headers = { user_agent }
  local function spec_of(url, timeout, scheme)
    return {
      url = url, headers = media_headers,
      timeout = timeout, connect_timeout = settings.connect_timeout,
      ca_file = settings.ca_file, proxy = proxy_for(scheme), guard_link_local = true,
    }
  end

  --- The engine transfer spec of a media download: never the key, and no
  -- redirect followed by libcurl (the download checks each Location as a result
  -- URL and follows it itself, so a proxy in the way hides no target from it).
  -- @tparam table parts the checked URL (see `seedance.urls.check_media`)
  -- @tparam string output the file the body goes to (the part)
  -- @tparam string validator_file where the answer's validator is kept (the part's .meta)
  -- @tparam number timeout seconds
  -- @tparam[opt] integer resume_from bytes already in `output` (a Range request from there)
  -- @tparam[opt] string if_range the validator those bytes were fetched under (If-Range)
  -- @treturn table
  function ctx.media_spec(parts, output, validator_file, timeout, resume_from, if_range)
    local spec = spec_of(parts.url, timeout, parts.scheme)
    spec.output, spec.validator_file = output, validator_file
    spec.resume_from, spec.if_range = resume_from, if_range
    spec.max_file = settings.max_download
    spec.low_speed_limit = settings.min_download_rate > 0 and settings.min_download_rate or nil
    spec.low_speed_time = settings.min_download_rate > 0 and 30 or nil
    return spec
  end

  ctx.governor = governor.new{ max_in_flight = settings.max_in_flight, profile = ctx.profile,
                               enabled = settings.governor }
  ctx.policy = retry.new(settings, ctx.governor, ctx.log)
  return ctx
end

return M
