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
local retry = require("seedance.retry")

local M = {}

local USER_AGENT = "seedance-lua/" .. core.version
local LEVELS = { info = 1, debug = 2 }

--- Make the context of a client.
-- @tparam table settings resolved options (see `seedance.options`)
-- @tparam string|nil key the API key
-- @tparam table base the parsed base URL (see `seedance.urls.check_base`)
-- @tparam table|nil jrnl the open journal
-- @treturn table the context
function M.new(settings, key, base, jrnl)
  local ctx = { settings = settings, base = base, journal = jrnl }
  local key_pattern = key and #key >= 4 and key:gsub("%p", "%%%0") or nil

  -- Logging: the `logger` option, else stderr when log_level (SEEDANCE_LOG) asks.
  local level = LEVELS[settings.log_level or ""] or (settings.logger and 1) or 0
  local sink = settings.logger or function(lvl, line) io.stderr:write("seedance ", lvl, ": ", line, "\n") end

  --- Mask the API key (and any bearer token) in a string.
  -- @tparam any s
  -- @treturn any s with the key replaced by "sk-...(masked)" (non-strings are returned as they are)
  function ctx.redact(s)
    if type(s) ~= "string" then return s end
    if key_pattern then s = s:gsub(key_pattern, "[key masked]") end
    return (s:gsub("([Bb][Ee][Aa][Rr][Ee][Rr]%s+)[^%s\"',;]+", "%1[masked]"))
  end

  --- Mask the key in an error's strings (message, service message), in place.
  -- @tparam seedance.Error err
  -- @treturn seedance.Error err
  function ctx.redact_error(err)
    for k, v in pairs(err) do
      if type(v) == "string" then err[k] = ctx.redact(v) end
    end
    if type(err.service_error) == "table" then
      for k, v in pairs(err.service_error) do
        if type(v) == "string" then err.service_error[k] = ctx.redact(v) end
      end
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

  --- Log one line at `lvl` ("info" or "debug") when the level allows; the key is masked.
  -- A logger that raises is ignored (logging never breaks a call).
  function ctx.log(lvl, fmt, ...)
    if (LEVELS[lvl] or 2) > level then return end
    local ok, line = pcall(string.format, fmt, ...)
    if not ok then line = fmt end
    pcall(sink, lvl, ctx.redact(line))
  end

  --- Whether an API key is set.
  function ctx.has_key() return key ~= nil end

  --- The error for a call made without a key (no network is used).
  function ctx.no_key()
    return errors.new{ type = "authentication_error", retryable = false,
      message = "no API key: set SEEDANCE_API_KEY or pass api_key to seedance.new" }
  end

  -- Settings every transfer shares.
  local function spec_of(url, timeout)
    return {
      url = url, headers = { "User-Agent: " .. (settings.user_agent or USER_AGENT) },
      timeout = timeout, connect_timeout = settings.connect_timeout,
      ca_file = settings.ca_file, proxy = settings.proxy, guard_link_local = true,
    }
  end

  --- The engine transfer spec of an API call: the only spec with the key.
  -- @tparam table req `method`, `path` (under the base URL), `body`, `headers`, `form_file`, `timeout`
  -- @treturn table
  function ctx.api_spec(req)
    local spec = spec_of(base.url .. req.path, req.timeout or settings.timeout)
    local h = spec.headers
    h[#h + 1] = "Authorization: Bearer " .. key
    h[#h + 1] = "Accept: application/json"
    if req.body then h[#h + 1] = "Content-Type: application/json" end
    for _, line in ipairs(req.headers or {}) do h[#h + 1] = line end
    spec.method, spec.body, spec.form_file = req.method or "GET", req.body, req.form_file
    spec.max_body = settings.max_body
    return spec
  end

  --- The engine transfer spec of a media download: never the key; redirects
  -- to https only (or http too when the URL itself is http, i.e. loopback or allowed).
  -- @tparam table parts the checked URL (see `seedance.urls.check_media`)
  -- @tparam table dl `output`, `validator_file`, `resume_from`, `if_range`, `timeout`
  -- @treturn table
  function ctx.media_spec(parts, dl)
    local spec = spec_of(parts.url, dl.timeout)
    spec.follow_redirects = true
    spec.redirect_protocols = parts.scheme == "https" and "https" or "http,https"
    spec.output, spec.validator_file = dl.output, dl.validator_file
    spec.resume_from, spec.if_range = dl.resume_from, dl.if_range
    spec.max_file = settings.max_download
    spec.low_speed_limit = settings.min_download_rate > 0 and settings.min_download_rate or nil
    spec.low_speed_time = settings.min_download_rate > 0 and 30 or nil
    return spec
  end

  ctx.governor = governor.new{ max_in_flight = settings.max_in_flight, max_requests = settings.max_requests,
                               enabled = settings.governor }
  ctx.policy = retry.new(settings, ctx.governor, ctx.log)
  return ctx
end

return M
