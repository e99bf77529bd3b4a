--- What to do about an error the service or the network gave, for a
-- command-line user: a refused connection asks whether the service (or the
-- proxy) at the address, and where that address came from, is running; a
-- refused key says where the key came from; a task that is not found without
-- its `task_` prefix gets the id it probably meant; a rate limit or a
-- failing service, once retried, says to come back later (unless a task was
-- paid for: then the line names the command that picks it up); a request the
-- validator refuses for a model or resolution the config file gave says so.
-- libcurl's words are said once (its error text repeats its error name).
-- @module seedance.cli.hints
-- @local

local urls = require("seedance.urls")

local M = {}

-- "host:port" of a URL (libcurl's default ports when none is written), or nil.
local function endpoint(url)
  local p = url and urls.parse(url)
  if not p or not p.host then
    -- a proxy is often written without its scheme: http:// is libcurl's default
    p = url and urls.parse("http://" .. url)
    if not p or not p.host then return nil end
  end
  return (p.host:gsub("^%[(.*)%]$", "%1")) .. ":" .. tostring(p.port)
end

--- libcurl's message said once: "Couldn't connect to server: Failed to connect
-- to H port P after 0 ms: Couldn't connect to server (connect)" becomes "Failed
-- to connect to H port P after 0 ms: Couldn't connect to server" (the failure's
-- kind in parentheses is the library's, for programs).
-- @tparam string message
-- @treturn string
function M.curl_once(message)
  local name, rest = message:match("^([^:]+): (.*)$")
  if name and rest:find(name, 1, true) then message = rest end
  return (message:gsub(" %((%a+)%)$", ""))
end

-- The sentence for a connection refused at host:port, naming what was there and where it came from.
local function not_running(message, settings)
  local host, port = message:match("Failed to connect to (%S+) port (%d+)")
  if not host then return nil end
  local at = host:gsub("^%[(.*)%]$", "%1") .. ":" .. port
  local values, sources = settings.values, settings.sources
  if values.proxy and endpoint(values.proxy) == at then
    return string.format("is the proxy at %s (%s) running?", values.proxy, sources.proxy)
  end
  if endpoint(values.base_url) == at then
    local source = sources.base_url == "default" and "the default; SEEDANCE_BASE_URL or --base-url names another"
      or sources.base_url
    return string.format("is the service at %s (%s) running?", values.base_url, source)
  end
  return nil
end

-- The request keys the config file gave (its model, its resolution) that a validation error is
-- about, said with where they came from and what overrides them; nil when it is about none. A key
-- counts when it is a problem's field, or its value is named in a problem (1080p's message names
-- the model it is not for).
local function config_defaults(err, settings)
  local said = {}
  for _, name in ipairs{ "model", "resolution" } do
    local value = settings.used[name] and settings.defaults[name]
    if value then
      for _, p in ipairs(type(err.errors) == "table" and err.errors or {}) do
        local text = tostring(p.message)
        if p.field == name or text:find(value .. ",", 1, true) or text:find(value .. " ", 1, true)
            or text:sub(-#value) == value then
          said[#said + 1] = string.format("%s %s comes from the config file (%s): pass --%s to override it", name,
            value, settings.sources[name], name)
          break
        end
      end
    end
  end
  return #said > 0 and table.concat(said, "; ") or nil
end

--- The message of an error with what to do about it appended.
-- @tparam table err a seedance error
-- @tparam string message its message, in the command's words
-- @tparam table ctx the command's context: `settings` (what `seedance.cli.settings.resolve` says of the
--   settings: `values`, `sources`), `task_arg` (the task id the user typed), `paid` (a task was paid for)
-- @treturn string
function M.apply(err, message, ctx)
  local settings = ctx.settings
  if err.type == "network_error" and err.kind == "connect" then
    message = M.curl_once(message)
    local hint = settings and not_running(message, settings)
    if hint then message = message .. "; " .. hint end
  elseif err.type == "network_error" and err.kind == "dns" and settings then
    message = string.format("%s; check the host name of %s (%s), and this machine's network", M.curl_once(message),
      settings.values.base_url, settings.sources.base_url)
  elseif (err.type == "authentication_error" or err.type == "permission_error") and settings then
    local source = settings.sources.api_key
    if source then
      message = string.format("%s; the key came from %s: check it%s", message, source,
        source == "SEEDANCE_API_KEY" and ", or name a key file with --api-key-file FILE" or "")
    end
  elseif err.type == "rate_limit_error" or (err.status and err.status >= 500) then
    local tried = type(err.attempts) == "number" and err.attempts > 1
      and string.format(" (tried %d times)", err.attempts) or ""
    -- after paying, the line goes on with the command that picks the task up: never "run it again"
    message = string.format("%s; the service %s%s%s", message,
      err.type == "rate_limit_error" and "is limiting this key's requests" or "is failing", tried,
      ctx.paid and "" or ": run the command again later")
  elseif err.type == "payment_required" then
    message = message .. "; `seedance balance` shows what is left"
  elseif err.type == "validation_error" and settings and settings.used then
    local from = config_defaults(err, settings)
    if from then message = message .. "; " .. from end
  elseif err.status == 404 and ctx.task_arg and err.type == "invalid_request_error" then
    local id = ctx.task_arg
    if id:match("^[Tt][Aa][Ss][Kk]_") and not id:match("^task_") then
      -- TASK_01... (a caps lock, a spreadsheet): the prefix is lower case
      message = string.format("%s; task ids begin with task_ in lower case: did you mean task_%s?", message,
        id:sub(6))
    elseif not id:match("^task_") then
      message = string.format("%s; task ids begin with task_: did you mean task_%s?", message, id)
    elseif settings then
      message = string.format("%s; check the id (as `seedance generate` printed it), and that the task was made "
        .. "on %s (%s)", message, settings.values.base_url, settings.sources.base_url)
    end
  end
  return message
end

return M
