--- Where requests may go. Every URL the client uses (the base URL, result
-- URLs, upload answers) is parsed by libcurl's own URL parser
-- (`core.parse_url`, curl_url), and the client hands libcurl the URL that
-- parser wrote back, so the host checked here is the host libcurl connects to.
--
-- Rules:
--
-- - base_url: `https://`, or `http://` to loopback (127.0.0.0/8, `[::1]`,
--   `localhost`) unless `allow_insecure_http`; never user info
--   (`http://localhost:80@evil.example` goes to evil.example).
-- - result URLs (videos, last frames): `https://`, or `http://` to loopback
--   unless `allow_insecure_media` (a gateway of your own). Never to a
--   link-local address (169.254.0.0/16, fe80::/10: cloud metadata), checked on
--   the URL and again on the address libcurl connects to.
-- - task ids go into paths only when they are made of letters, digits, `_`
--   and `-` (at most 128), and percent-encoded all the same.
-- @module seedance.urls

local core = require("seedance.core")

local M = {}

--- Parse a URL as libcurl does.
-- @tparam string s
-- @tparam[opt] string base a URL s is relative to (a redirect's Location)
-- @treturn[1] table parts: `url` (as libcurl writes it back), `scheme`, `host`, `port`, `path`, `userinfo`
-- @treturn[2] nil
-- @treturn[2] string why it is not a URL
function M.parse(s, base)
  if type(s) ~= "string" then return nil, "not a string" end
  return core.parse_url(s, base)
end

--- Whether a host (as parsed) is this machine's loopback.
-- @tparam string host
-- @treturn boolean
function M.is_loopback(host)
  host = host:lower()
  return host == "localhost" or host == "[::1]" or host:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

--- Whether a host (as parsed) is a link-local address literal.
-- @tparam string host
-- @treturn boolean
function M.is_link_local(host)
  host = host:lower()
  if host:match("^169%.254%.%d+%.%d+$") then return true end
  if host:match("^%[fe[89ab]%x?:") then return true end
  return host:match("^%[::ffff:169%.254%.") ~= nil
end

--- A URL (or what was meant as one) fit to quote in a message: any user info
-- (what stands before '@' in its authority, with or without a scheme) masked.
-- @tparam any s
-- @treturn string
function M.redact(s)
  s = tostring(s)
  local scheme, rest = s:match("^(%a[%w+.-]*://)(.*)$")
  if not scheme then scheme, rest = "", s end
  local stop = rest:find("[/?#]") or #rest + 1
  local at = rest:sub(1, stop - 1):match(".*()@")
  if at then rest = "***" .. rest:sub(at) end
  return scheme .. rest
end

--- Check a base URL; returns its parts with `url` lacking a trailing slash.
-- @tparam string s
-- @tparam boolean allow_insecure_http
-- @treturn[1] table parts
-- @treturn[2] nil
-- @treturn[2] string why it is refused (a sentence naming the fix)
function M.check_base(s, allow_insecure_http)
  if s == "" then return nil, "base_url is empty; give a URL such as https://xcompute.us" end
  local p, err = M.parse(s)
  local shown = M.redact(s)
  if not p then
    return nil, string.format("base_url '%s' is not a URL (%s); write it in full, e.g. https://xcompute.us "
      .. "or http://127.0.0.1:8080", shown, err)
  end
  if p.scheme ~= "http" and p.scheme ~= "https" then
    return nil, string.format("base_url '%s' must be an http(s) URL", shown)
  end
  if p.userinfo then
    return nil, string.format("base_url '%s' holds user info before '@' (libcurl would connect to %s); "
      .. "remove it", shown, p.host)
  end
  if p.query or p.fragment then
    return nil, string.format("base_url '%s' has a query or a fragment ('?' or '#'); give the service's "
      .. "address only, e.g. https://xcompute.us", shown)
  end
  if M.is_link_local(p.host) then
    return nil, string.format("base_url '%s' is a link-local address", shown)
  end
  if p.scheme == "http" and not M.is_loopback(p.host) and not allow_insecure_http then
    return nil, string.format("base_url '%s' is plain http to %s, which is not this machine: the key would "
      .. "cross the network in clear text; use https (or allow_insecure_http)", shown, p.host)
  end
  p.url = p.url:gsub("/+$", "")
  return p
end

--- Check a result URL before it is fetched.
-- @tparam any s the URL as the service sent it
-- @tparam boolean allow_insecure whether plain http to other hosts is allowed
-- @treturn[1] table parts
-- @treturn[2] nil
-- @treturn[2] string why it is refused
function M.check_media(s, allow_insecure)
  local p, err = M.parse(s)
  if not p then return nil, string.format("result URL is not a URL (%s)", tostring(err)) end
  -- (the URL as a message shows it is made only for a message: a download checks one a task)
  if p.scheme ~= "http" and p.scheme ~= "https" then
    return nil, string.format("result URL '%s' is not http(s)", M.redact(s))
  end
  if M.is_link_local(p.host) then
    return nil, string.format("result URL '%s' points at a link-local address (where cloud metadata lives)",
      M.redact(s))
  end
  if p.scheme == "http" and not M.is_loopback(p.host) and not allow_insecure then
    return nil, string.format("result URL '%s' is plain http to another host; only https (or http to this "
      .. "machine) is fetched, unless allow_insecure_media is set for a gateway of your own", M.redact(s))
  end
  return p
end

--- Whether a task id is safe to put into a path.
-- @tparam any id
-- @treturn boolean
function M.task_id_ok(id)
  return type(id) == "string" and #id >= 1 and #id <= 128 and id:match("^[%w_%-]+$") ~= nil
end

--- Percent-encode a path segment (everything but unreserved characters).
-- @tparam string s
-- @treturn string
function M.encode_segment(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

return M
