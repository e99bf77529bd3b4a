--- The client: settings, the API key, and the service's endpoints.
-- Made with `seedance.new{...}`.
-- @module seedance.client

local cjson = require("cjson.safe")
local core = require("seedance.core")
local errors = require("seedance.errors")
local governor = require("seedance.governor")
local http = require("seedance.http")
local journal = require("seedance.journal")
local Task = require("seedance.task")

local M = {}

local Client = {}
Client.__index = Client

local DEFAULT_BASE_URL = "https://xcompute.us"
local USER_AGENT = "seedance-lua/" .. core.version

local OPTION_TYPES = {
  api_key = "string", base_url = "string", timeout = "number", connect_timeout = "number",
  max_retries = "number", backoff = "number", max_backoff = "number", max_retry_after = "number",
  validate = "boolean", language = "string", proxy = "string", ca_file = "string",
  allow_insecure_http = "boolean", max_body = "number", poll_min = "number", poll_max = "number",
  wait_timeout = "number", time_scale = "number", on_retry = "function", user_agent = "string",
  journal = "string", max_in_flight = "number", max_requests = "number", governor = "boolean",
}

local function argerror(n, fname, msg)
  error(string.format("bad argument #%d to '%s' (%s)", n, fname, msg), 3)
end

-- Split a base URL into scheme, host and the rest; nil when it is not http(s).
local function parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil end
  scheme = scheme:lower()
  local host = rest:match("^%[([^%]]+)%]") or rest:match("^([^/:?#]+)")
  if not host then return nil end
  return scheme, host:lower()
end

local function is_loopback(host)
  return host == "localhost" or host == "::1" or host:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

--- Make a client. Raises on wrong option types and refused base URLs.
-- @tparam[opt] seedance.ClientOptions opts
-- @treturn seedance.Client
function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then argerror(1, "new", "table expected, got " .. type(opts)) end
  opts = opts or {}
  for k, v in pairs(opts) do
    local want = OPTION_TYPES[k]
    if not want then argerror(1, "new", "unknown option '" .. tostring(k) .. "'") end
    if type(v) ~= want then
      argerror(1, "new", string.format("option '%s' must be a %s, got %s", k, want, type(v)))
    end
  end
  local base = opts.base_url or os.getenv("SEEDANCE_BASE_URL") or DEFAULT_BASE_URL
  if base == "" then base = DEFAULT_BASE_URL end
  base = base:gsub("/+$", "")
  local scheme, host = parse_url(base)
  if scheme ~= "http" and scheme ~= "https" then
    argerror(1, "new", "base_url must be an http(s) URL, got '" .. base .. "'")
  end
  if scheme == "http" and not is_loopback(host) and not opts.allow_insecure_http then
    argerror(1, "new", "base_url '" .. base .. "' is plain http to a non-loopback host; "
      .. "use https, or set allow_insecure_http = true")
  end
  local key = opts.api_key
  if key == nil then key = os.getenv("SEEDANCE_API_KEY") end
  if key then key = key:match("^%s*(.-)%s*$") end   -- a key read from a file often ends in a newline
  if key == "" then key = nil end
  if key and key:find("[%c ]") then
    argerror(1, "new", "api_key contains spaces or control characters")
  end
  local jrnl
  if opts.journal then
    local jerr
    jrnl, jerr = journal.open(opts.journal)
    if not jrnl then error("seedance.new: cannot use journal: " .. tostring(jerr), 2) end
  end
  local self = setmetatable({
    base_url = base,
    host = host,
    validate = opts.validate ~= false,
    language = opts.language,
    _key = key,
    _opts = opts,
    _on_retry = opts.on_retry,
    _journal = jrnl,
    _gov = governor.new{ max_in_flight = opts.max_in_flight, max_requests = opts.max_requests,
                         enabled = opts.governor },
    _policy = {
      max_retries = opts.max_retries or 4,
      backoff = opts.backoff or 0.5,
      max_backoff = opts.max_backoff or 30,
      max_retry_after = opts.max_retry_after or 120,
      time_scale = opts.time_scale or tonumber(os.getenv("SEEDANCE_TIME_SCALE") or "") or 1,
      poll_min = opts.poll_min or 1,
      poll_max = opts.poll_max or 30,
      wait_timeout = opts.wait_timeout or 1800,
    },
  }, Client)
  return self
end

--- Printable form: the base URL and whether a key is set, never the key.
function Client:__tostring()
  return string.format("seedance.client(%s, %s)", self.base_url, self._key and "key set" or "no key")
end

-- The engine transfer spec for an API call or a media download.
function Client:_spec(req)
  local o = self._opts
  local headers = { "User-Agent: " .. (o.user_agent or USER_AGENT) }
  local spec = {
    method = req.method or "GET",
    url = req.url or (self.base_url .. req.path),
    headers = headers,
    body = req.body,
    form_file = req.form_file,
    output = req.output,
    resume_from = req.resume_from,
    timeout = req.timeout or o.timeout or 60,
    connect_timeout = o.connect_timeout or 10,
    max_body = o.max_body or 4 * 1024 * 1024,
    ca_file = o.ca_file,
    proxy = o.proxy,
    follow_redirects = req.follow_redirects or false,
    low_speed_limit = req.low_speed_limit,
    low_speed_time = req.low_speed_time,
  }
  if req.auth ~= false then
    headers[#headers + 1] = "Authorization: Bearer " .. self._key
    headers[#headers + 1] = "Accept: application/json"
  end
  if req.body then headers[#headers + 1] = "Content-Type: application/json" end
  for _, h in ipairs(req.headers or {}) do headers[#headers + 1] = h end
  return spec
end

-- The error for a call made without a key (no network is used).
local function no_key()
  return errors.new{
    type = "authentication_error", retryable = false,
    message = "no API key: set SEEDANCE_API_KEY or pass api_key to seedance.new",
  }
end

-- 128 random bits as hex, for Idempotency-Key.
local function random_key()
  local f = io.open("/dev/urandom", "rb")
  -- unbuffered: read the 16 bytes asked for, not a 4 KiB buffer's worth (that
  -- made the kernel's generator a tenth of a submit's CPU time)
  if f then f:setvbuf("no") end
  local bytes = f and f:read(16)
  if f then f:close() end
  if not bytes or #bytes ~= 16 then
    local t = {}
    for i = 1, 16 do t[i] = string.char(math.random(0, 255)) end
    bytes = table.concat(t)
  end
  return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
M.random_key = random_key

-- Replace seedance.file markers in a copy of the request by uploaded URLs.
local function resolve_files(self, request)
  local uploaded = {}
  local function url_of(v)
    if not core.is_file(v) then return v end
    if not uploaded[v.path] then
      local url, err = self:upload_image(v.path)
      if not url then return nil, err end
      uploaded[v.path] = url
    end
    return uploaded[v.path]
  end
  local copy = {}
  for k, v in pairs(request) do
    -- an empty list means none: leave it out (lua-cjson would send {} for it)
    if not (type(v) == "table" and next(v) == nil and not core.is_file(v)) then copy[k] = v end
  end
  if type(request.image_urls) == "table" then
    copy.image_urls = {}
    for i, v in ipairs(request.image_urls) do
      local url, err = url_of(v)
      if not url then return nil, err end
      copy.image_urls[i] = url
    end
  end
  if type(request.image_with_roles) == "table" then
    copy.image_with_roles = {}
    for i, item in ipairs(request.image_with_roles) do
      local c = {}
      if type(item) == "table" then
        for k, v in pairs(item) do c[k] = v end
        local url, err = url_of(item.url)
        if not url then return nil, err end
        c.url = url
      else
        c = item
      end
      copy.image_with_roles[i] = c
    end
  end
  return copy
end

-- The task id and status from a submit answer: data as an array or an object.
local function submitted(obj)
  local data = obj.data
  if type(data) == "table" and data[1] ~= nil then data = data[1] end
  if type(data) ~= "table" then return nil end
  local id = data.task_id or data.id
  if type(id) ~= "string" or id == "" then return nil end
  return id, type(data.status) == "string" and data.status or "submitted"
end

--- Submit a generation. Validates first unless disabled; uploads `seedance.file`
-- images; retries under one `Idempotency-Key`.
-- @tparam seedance.Request request
-- @tparam[opt] seedance.GenerateOptions opts
-- @treturn[1] seedance.Task
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function Client:generate(request, opts)
  if type(request) ~= "table" then argerror(1, "generate", "table expected, got " .. type(request)) end
  if opts ~= nil and type(opts) ~= "table" then argerror(2, "generate", "table expected, got " .. type(opts)) end
  opts = opts or {}
  if self.validate and opts.validate ~= false then
    local ok, problems = core.validate(request)
    if not ok then return nil, errors.validation(problems) end
  end
  if not self._key then return nil, no_key() end
  local jrnl, jkey, entry = self._journal, nil, nil
  if jrnl then
    jkey = opts.key or jrnl:next_key(journal.hash(request))
    entry = jrnl:entry(jkey)
    if entry and entry.task_id then
      -- paid for already: re-attach instead of submitting again
      local t = Task.new(self, entry.task_id, {
        status = entry.status or "submitted", request = request, reattached = true,
        video_url = entry.video_url, last_frame_url = entry.last_frame_url,
        expires_at = entry.expires_at, error = entry.error,
      })
      t._journal_key = jkey
      t._recorded = entry.status ~= nil
      if not Task.TERMINAL[t.status] then self._gov:acquire_task(); t._slot = true end
      return t
    end
  end
  local body_table, uerr = resolve_files(self, request)
  if not body_table then return nil, uerr end
  local body, jerr = cjson.encode(body_table)
  if not body then
    return nil, errors.new{ type = "validation_error", message = "request cannot be encoded as JSON: " .. jerr,
                            errors = { { field = "request", message = jerr } } }
  end
  local key = opts.idempotency_key or (entry and entry.idempotency_key) or random_key()
  if jrnl and not entry then
    local ok, werr = jrnl:append{ type = "submit", key = jkey, hash = journal.hash(request), idempotency_key = key }
    if not ok then return nil, errors.new{ type = "io_error", message = "journal: " .. tostring(werr) } end
  end
  self._gov:acquire_task()
  local obj, r = http.json(self, {
    method = "POST", path = "/v1/videos/generations", body = body,
    headers = { "Idempotency-Key: " .. key },
  })
  if obj then obj = { submitted(obj) } end
  if not obj or not obj[1] then
    self._gov:release_task()
    if obj then
      return nil, errors.new{ type = "server_error", status = r.status, retryable = false,
        message = "submit answer has no task id: " .. (r.body or ""):sub(1, 200) }
    end
    return nil, r
  end
  local id, status = obj[1], obj[2]
  if jrnl then
    local ok, werr = jrnl:append{ type = "task", key = jkey, task_id = id }
    if not ok then io.stderr:write("seedance: journal: ", tostring(werr), "\n") end
  end
  local task = Task.new(self, id, { status = status, request = request })
  task._slot = true
  task._journal_key = jkey
  task.idempotency_key = key
  task.replayed = r.headers["idempotency-replayed"] == "true"
  return task
end

--- A handle for an existing task (after a restart, say). No network is used;
-- call `refresh` or `wait` to learn its state.
-- @tparam string id a task id
-- @treturn seedance.Task
function Client:task(id)
  if type(id) ~= "string" or id == "" then
    argerror(1, "task", "non-empty string expected, got " .. (type(id) == "string" and "empty string" or type(id)))
  end
  return Task.new(self, id, {})
end

-- Sniff an image type from its first bytes.
local function image_type(head)
  if head:sub(1, 3) == "\255\216\255" then return "image/jpeg" end
  if head:sub(1, 8) == "\137PNG\r\n\26\n" then return "image/png" end
  if head:sub(1, 6) == "GIF87a" or head:sub(1, 6) == "GIF89a" then return "image/gif" end
  if head:sub(1, 4) == "RIFF" and head:sub(9, 12) == "WEBP" then return "image/webp" end
  return nil
end

local UPLOAD_MAX = 20 * 1024 * 1024

--- Upload a local image (JPEG, PNG, WebP or GIF, at most 20 MB).
-- @tparam string path
-- @treturn[1] string the URL to use in `image_urls` (lives 72 hours)
-- @treturn[1] table the service's whole answer
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function Client:upload_image(path)
  if type(path) ~= "string" then argerror(1, "upload_image", "string expected, got " .. type(path)) end
  local function bad(msg)
    return nil, errors.new{ type = "validation_error", retryable = false, message = path .. ": " .. msg,
                            errors = { { field = path, message = msg } } }
  end
  local f, ferr = io.open(path, "rb")
  if not f then return bad("cannot open: " .. tostring(ferr)) end
  local head = f:read(12) or ""
  local size = f:seek("end")
  f:close()
  local ctype = image_type(head)
  if not ctype then return bad("not a JPEG, PNG, WebP or GIF image") end
  if size > UPLOAD_MAX then
    return bad(string.format("is %d bytes; images may be at most %d bytes (20 MB)", size, UPLOAD_MAX))
  end
  if not self._key then return nil, no_key() end
  local name = path:match("([^/\\]+)$") or path
  local obj, err = http.json(self, {
    method = "POST", path = "/v1/uploads/images",
    form_file = { name = "file", path = path, filename = name, content_type = ctype },
    timeout = math.max(self._opts.timeout or 60, 120),
  })
  if not obj then return nil, err end
  if type(obj.url) ~= "string" then
    return nil, errors.new{ type = "server_error", retryable = false,
                            message = "upload answer has no url" }
  end
  return obj.url, obj
end

--- The account's balance: `{ success, remain_balance, used_balance, unlimited_quota }`.
-- @treturn[1] table
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function Client:balance()
  if not self._key then return nil, no_key() end
  local obj, err = http.json(self, { path = "/v1/balance" })
  if not obj then return nil, err end
  return obj
end

M.Client = Client
return M
