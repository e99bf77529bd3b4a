--- The shared journal: the file journal's records and guarantees, kept in
-- Redis so that many processes on many machines split one batch and pay once
-- per request (`journal = "redis://[user:PASSWORD@]HOST:PORT/NAME"`, or
-- `rediss://` for TLS; `?lease=SECONDS` sets the lease, default 15).
--
-- Keys, all under NAME (nothing else is written, and never the service's key):
--
--     NAME:records      a list of the journal's records, the same JSON as a file journal's lines
--                       (its first is the header); every process folds it as the file is folded
--     NAME:tries        a hash: each request key -> "ATTEMPT IDEMPOTENCY-KEY" of its recorded intent
--     NAME:lease:KEY    the worker that holds a request (string, expiring after the lease); a batch's
--                       downloads claim their paths the same way (NAME:lease:out:PATH)
--
-- Writes are Lua scripts run by Redis (EVAL), so each is atomic: the
-- `submit` record (the intent, with its Idempotency-Key) is appended only by
-- the worker that holds the request's lease, and only once per try (a second
-- worker finds the try recorded and submits under its key instead, which the
-- service answers with the same task). A worker claims a request before paying
-- for it, keeps the claim renewed while it lives (every lease/3, a coroutine of
-- its own), and gives it back when the request is settled; a worker killed
-- with SIGKILL loses its claims after the lease, and another one re-attaches
-- to the tasks it paid for.
--
-- Redis down or restarting: a write waits (with backoff, logged once) until
-- Redis answers again, so nothing is submitted before its intent is recorded
-- and no task id is forgotten; reads keep what was read. The connection is
-- the engine's (`eng:redis`, src/redis.c): its socket is polled with
-- libcurl's, so `step(0)` never waits on Redis.
-- @module seedance.journal.redis
-- @local

local core = require("seedance.core")
local json = require("seedance.json")
local journal = require("seedance.journal")
local scheduler = require("seedance.scheduler")

local M = {}

--- Seconds a claim lasts unless renewed (the URL's `?lease=` changes it).
M.LEASE = 15

--- Seconds a journal waits for Redis when it is opened, before it gives up.
M.OPEN_WAIT = 20

--- Seconds between two tries while Redis cannot be reached (the longest pause).
M.BACKOFF_MAX = 1

--- Records read per request while reading the list.
M.PAGE = 1000

-- Error replies that pass (Redis loading its append-only file after a restart, a busy script).
local TRANSIENT_REPLY = { LOADING = true, BUSY = true, TRYAGAIN = true, MASTERDOWN = true, CLUSTERDOWN = true }

-- Failures of the connection that pass: Redis restarting, a connection the server closed.
local TRANSIENT_KIND = { connect = true, closed = true, timeout = true, protocol = true }
-- The failures of a first contact that a scheme not matching the port makes (a refused connection is no such).
local SCHEME_KIND = { closed = true, timeout = true, protocol = true }

-- The scripts. Each runs atomically in Redis.
local SCRIPTS = {
  -- KEYS: records. ARGV: the header record. Writes the header into an empty journal; the first record.
  header = [[
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('RPUSH', KEYS[1], ARGV[1]) end
return redis.call('LINDEX', KEYS[1], 0)
]],
  -- KEYS: records. ARGV: record, the header, the records read. A record, into the journal this worker
  -- read (its header first, no shorter than what was read): else 'gone' (Redis lost it) and its length.
  append = [[
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[2] or redis.call('LLEN', KEYS[1]) < tonumber(ARGV[3]) then
  return {'gone', redis.call('LLEN', KEYS[1])}
end
return {'ok', redis.call('RPUSH', KEYS[1], ARGV[1])}
]],
  -- KEYS: records, lease, tries. ARGV: record, worker, request key, attempt, idempotency key, the header,
  -- the records read. The intent of a try: only into the journal this worker read, only by the lease's
  -- holder, once per try.
  submit = [[
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[6] or redis.call('LLEN', KEYS[1]) < tonumber(ARGV[7]) then
  return {'gone', redis.call('LLEN', KEYS[1])}
end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'lease', redis.call('GET', KEYS[2]) or ''} end
local t = redis.call('HGET', KEYS[3], ARGV[3])
if t then
  local a, k = string.match(t, '^(%d+) (.*)$')
  if tonumber(a) == tonumber(ARGV[4]) and k == ARGV[5] then return {'ok', redis.call('LLEN', KEYS[1])} end
  if tonumber(a) >= tonumber(ARGV[4]) then return {'taken', t} end
end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4] .. ' ' .. ARGV[5])
return {'ok', redis.call('RPUSH', KEYS[1], ARGV[1])}
]],
  -- KEYS: lease. ARGV: worker, milliseconds. Take a free lease (or renew one's own).
  claim = [[
local h = redis.call('GET', KEYS[1])
if h and h ~= ARGV[1] then return {0, h} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, ARGV[1]}
]],
  -- KEYS: leases. ARGV: worker, milliseconds. Renew each held one (take back one that expired while
  -- nobody took it); the holders of those lost to another worker, as {index, holder, ...}.
  renew = [[
local lost = {}
for i, k in ipairs(KEYS) do
  local h = redis.call('GET', k)
  if h and h ~= ARGV[1] then
    lost[#lost + 1] = i
    lost[#lost + 1] = h
  else
    redis.call('SET', k, ARGV[1], 'PX', ARGV[2])
  end
end
return lost
]],
  -- KEYS: lease. ARGV: worker. Give a lease back (only one's own).
  unclaim = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
]],
}

local Shared = setmetatable({}, { __index = journal.Journal })
Shared.__index = Shared

--- A shared journal is shared.
Shared.shared = true

--- A journal URL with its password masked (for messages and logs).
-- @tparam string url
-- @treturn string
function M.masked(url)
  return (url:gsub("^(%a+://)([^@/]*)@", function(scheme, userinfo)
    local user = userinfo:match("^([^:]*):") or userinfo
    return scheme .. user .. ":***@"
  end))
end

--- Read a journal URL: `{ host, port, tls, user, password, name, lease, shown }`, or nil and why.
-- @tparam string url
-- @treturn[1] table
-- @treturn[2] nil
-- @treturn[2] string
function M.parse(url)
  local shown = M.masked(url)
  local p, err = core.parse_redis_url(url)
  if not p then return nil, shown .. ": not a journal URL (" .. tostring(err) .. ")" end
  local scheme = (p.scheme or ""):lower()
  local name = (p.path or ""):gsub("^/", "")
  local usage = " (redis://[:PASSWORD@]HOST:PORT/NAME, or rediss:// for TLS)"
  if scheme ~= "redis" and scheme ~= "rediss" then return nil, shown .. ": not a redis:// URL" .. usage end
  if name == "" or name:find("[%c%s]") then
    return nil, shown .. ": name the journal after the port: /NAME (its keys are NAME:...)" .. usage
  end
  local lease = M.LEASE
  for k, v in (p.query or ""):gmatch("([^&=]+)=?([^&]*)") do
    if k == "lease" then
      lease = v:match("^%d+%.?%d*$") and require("seedance.numbers").parse(v)
      if not lease or lease < 1 or lease > 86400 then
        return nil, shown .. ": lease must be a number of seconds from 1 to 86400, got '" .. v .. "'"
      end
    else
      return nil, shown .. ": unknown setting '" .. k .. "' (only lease=SECONDS)"
    end
  end
  return { host = p.host, port = p.port or 6379, tls = scheme == "rediss", user = p.user ~= "" and p.user or nil,
           password = p.password, name = name, lease = lease, shown = shown }
end

-- ---- the connection ----------------------------------------------------------------------------

-- One command, waited for: the reply, or nil, the error message, whether it may pass and the
-- failure's kind (the engine's: connect, closed, timeout, protocol, reply, ...).
local function once(self, argv)
  local eng = scheduler.engine()
  local ok, id = pcall(eng.redis, eng, self.conn, argv)
  if not ok then return nil, tostring(id), false, "call" end
  local r = scheduler.await(id)
  if r.ok then return r.reply end
  if r.kind == "reply" then
    return nil, "redis: " .. tostring(r.error), TRANSIENT_REPLY[tostring(r.error):match("^(%u+)")] == true, r.kind
  end
  return nil, tostring(r.error), TRANSIENT_KIND[r.kind] == true, r.kind
end

-- A command, tried again while Redis cannot be reached (Redis down, restarting, loading), until
-- `deadline` (absolute, scheduler time; nil: for as long as it takes). The reply, or nil, message and
-- the last failure's kind.
function Shared:_call(argv, deadline)
  local pause = 0.05
  while true do
    if self.closed_conn then return nil, self.path .. ": journal closed" end
    local reply, err, transient, kind = once(self, argv)
    if reply ~= nil then
      self.down = false
      if self.said_down then
        self.said_down = false
        self.log("warn", "journal %s: Redis answers again", self.path)
      end
      return reply
    end
    if not transient then return nil, self.path .. ": " .. err, kind end
    if deadline and scheduler.now() + pause > deadline then return nil, self.path .. ": " .. err, kind end
    self.down = true
    if self.stop_waiting.interrupted then -- (interrupted: Ctrl-C ends a worker whose Redis is gone)
      return nil, self.path .. ": " .. err .. " (interrupted: no longer waiting for Redis)", kind
    end
    if not self.said_down then
      self.said_down = true
      self.log("warn", "journal %s: %s; waiting for Redis (nothing is submitted meanwhile)", self.path, err)
    end
    scheduler.sleep(pause, self.stop_waiting)
    pause = math.min(M.BACKOFF_MAX, pause * 2)
  end
end

-- A script, by its name.
function Shared:_script(name, keys, args, deadline)
  local argv = { "EVAL", SCRIPTS[name], tostring(#keys) }
  for _, k in ipairs(keys) do argv[#argv + 1] = k end
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return self:_call(argv, deadline)
end

-- The key of what: records, tries, lease:KEY.
function Shared:_key(what)
  return self.name .. ":" .. what
end

-- Fold the records from the list's index self.n on. true, or nil, message. Several coroutines may
-- read (and append) at once on the one connection: each record is folded once, in the list's order
-- (a record whose index another reader folded meanwhile is passed over).
function Shared:_read_on(deadline)
  if self.gone then return nil, self.gone end
  while true do
    local from = self.n
    local page, err = self:_call({ "LRANGE", self:_key("records"), tostring(from),
                                   tostring(from + M.PAGE - 1) }, deadline)
    if not page then return nil, err end
    if type(page) ~= "table" then return nil, self.path .. ": " .. self:_key("records") .. " is not a list" end
    for i, line in ipairs(page) do
      if i % journal.SLICE == 0 then scheduler.pass() end
      if from + i - 1 == self.n then
        local ok, ferr = journal.fold(self, type(line) == "string" and line or "")
        if not ok then return nil, ferr end
        self.n = self.n + 1
      end
    end
    if #page < M.PAGE then return true end
  end
end

-- ---- opening -----------------------------------------------------------------------------------

-- A journal whose connection is closed when it is collected (the engine owns it until then).
local function close_when_collected(self)
  require("seedance.compat").on_collect(self, "_gc", function(j)
    if not j.closed_conn then
      j.closed_conn = true
      pcall(function() scheduler.engine():redis_close(j.conn) end)
    end
  end)
end

--- The error of a first contact that got no Redis answer (its kind: timeout, closed, protocol), with
-- what most often causes it: a URL whose scheme does not match the port (rediss:// to a plain port waits for
-- a TLS handshake that never comes; redis:// to a TLS port is cut off, or reads what is no Redis reply).
-- Other errors as they are.
-- @tparam table conf the parsed URL (`tls`)
-- @param err the error
-- @tparam[opt] string kind the failure's kind (the engine's)
-- @treturn string
-- @local
function M.scheme_hint(conf, err, kind)
  local text = tostring(err)
  if not SCHEME_KIND[kind] then return text end
  return text .. (conf.tls and " (rediss:// speaks TLS: if this port is a plain Redis one, use redis://)"
    or " (redis:// speaks plain Redis: if this port is a TLS one, use rediss://)")
end

-- Connect and read the journal (`write`: write its header when it is new). The journal, or nil, why.
local function connect(url, opts, write)
  opts = opts or {}
  local conf, perr = M.parse(url)
  if not conf then return nil, perr, "usage" end
  local features, tls = core.redis_features()
  if not features then
    return nil, conf.shown .. ": this seedance was built without hiredis, so a redis:// journal is not available: "
      .. "install libhiredis-dev (Debian; hiredis elsewhere) and build seedance again (luarocks make, or make build)"
  end
  if conf.tls and not tls then
    return nil, conf.shown .. ": this seedance was built without OpenSSL, so rediss:// is not available: install "
      .. "libssl-dev and build seedance again"
  end
  local eng = scheduler.engine()
  local conn, cerr = eng:redis_open{ host = conf.host, port = conf.port, user = conf.user, password = conf.password,
    tls = conf.tls, ca_file = opts.ca_file, timeout = opts.timeout or 10 }
  if not conn then return nil, conf.shown .. ": " .. tostring(cerr) end
  local self = journal.blank(conf.shown)
  setmetatable(self, Shared)
  self.conn, self.name, self.lease, self.n = conn, conf.name, conf.lease, 0
  self.file = conf.shown -- (what a client names as its journal_path)
  self.log = opts.log or function() end
  local host, pid = core.process()
  self.worker = string.format("%s:%d:%s", host ~= "" and host or "host", pid, core.random_hex(2))
  self.claims, self.lost, self.stop_waiting = {}, {}, {}
  close_when_collected(self)
  local deadline = scheduler.now() + (opts.wait or M.OPEN_WAIT)
  local first, err, kind
  if write then
    -- (its id tells this journal from one a fresh Redis got later under the same NAME)
    first, err, kind = self:_script("header", { self:_key("records") }, { json.encode{ v = journal.VERSION,
      type = "journal", format = "seedance-journal", id = core.random_hex(8), created = os.time(),
      time = os.time() } }, deadline)
  else
    first, err, kind = self:_call({ "LINDEX", self:_key("records"), "0" }, deadline)
  end
  if first == nil then
    self:close()
    return nil, M.scheme_hint(conf, err, kind)
  end
  self.header_line = first
  if first and not journal.is_header(json.decode(first)) then
    self:close()
    return nil, conf.shown .. " is not a seedance journal (" .. self:_key("records")
      .. " does not start with a journal header); choose another NAME"
  end
  local ok, rerr = self:_read_on(deadline)
  if not ok then
    self:close()
    return nil, rerr
  end
  return self
end

--- Open a shared journal: connect, write its header when it is new, read it.
-- @tparam string url
-- @tparam[opt] table opts `log(level, fmt, ...)`, `ca_file` (rediss://), `timeout` (seconds a connect or a
--   reply may take), `wait` (seconds to wait for Redis now, default `OPEN_WAIT`)
-- @treturn[1] table the journal
-- @treturn[2] nil
-- @treturn[2] string message (its URL's password masked)
-- @treturn[2] string "usage" when the URL names no journal
function M.open(url, opts)
  return connect(url, opts, true)
end

--- Read a shared journal for a look (nothing is written), then close the connection.
-- @tparam string url
-- @tparam[opt] table opts as for `open`
-- @treturn[1] table the journal (read only)
-- @treturn[2] nil
-- @treturn[2] string message
function M.read(url, opts)
  local self, err, why = connect(url, opts, false)
  if not self then return nil, err, why end
  self:close()
  return self
end

-- ---- records -----------------------------------------------------------------------------------

--- Append a record (atomically, in Redis; a `submit` record only by the holder of its request's
-- claim, once per try), waiting while Redis cannot be reached, and fold it in.
-- @tparam table rec
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string message; `lost` (another worker holds the request), `taken` (its try is
--   recorded already: read the journal again) or `gone` (Redis lost the journal: see `gone`) as a third value
function Shared:append(rec)
  if self.closed then return nil, self.path .. ": journal closed" end
  if self.gone then return nil, self.gone, "gone" end
  rec.v = journal.VERSION
  rec.time = rec.time or os.time()
  if rec.type == "download" then rec.worker = self.worker end
  local line, jerr = json.encode(rec)
  if not line then return nil, jerr end
  local n, err
  if rec.type == "submit" then
    local r
    r, err = self:_script("submit", { self:_key("records"), self:_key("lease:" .. rec.key), self:_key("tries") },
      { line, self.worker, rec.key, tostring(rec.attempt or 1), rec.idempotency_key, self.header_line,
        tostring(self.n) })
    if r and r[1] == "gone" then
      return self:_lost_journal(r[2])
    elseif r and r[1] == "lease" then
      return nil, string.format("%s: request %s is claimed by worker %s, not this one (%s)", self.path, rec.key,
        r[2] ~= "" and r[2] or "none", self.worker), "lost"
    elseif r and r[1] == "taken" then
      return nil, string.format("%s: request %s's try is recorded already (%s)", self.path, rec.key, r[2]), "taken"
    end
    n = r and r[2]
  else
    local r
    r, err = self:_script("append", { self:_key("records") }, { line, self.header_line, tostring(self.n) })
    if r and r[1] == "gone" then return self:_lost_journal(r[2]) end
    n = r and r[2]
  end
  if not n then return nil, err end
  if n == self.n + 1 then -- nobody appended meanwhile: fold it as a file journal does
    self.n = n
    self:_apply(rec)
    return true
  end
  return self:_read_on() -- (ours among them)
end

-- Redis no longer holds the journal this worker read (`left` records are there now): said once, and for
-- good, nothing more is written to it (so nothing more is submitted). nil, the message, "gone".
function Shared:_lost_journal(left)
  if not self.gone then
    self.gone = string.format("%s: Redis no longer holds the journal this worker read (%s has %s records "
      .. "of the %d read, or begins with another journal's header: Redis restarted without its append-only "
      .. "file, was flushed, or the keys were deleted); nothing more is submitted with it: the tasks this "
      .. "worker paid for are named in its output, and a worker started on the emptied journal pays again for "
      .. "what it does not hold", self.path, self:_key("records"), tostring(left), self.n)
    self.log("warn", "journal %s", self.gone)
  end
  return nil, self.gone, "gone"
end

--- Read what other workers appended since (a failure keeps what was read, and says why).
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string
function Shared:refresh()
  if self.closed then return true end
  return self:_read_on()
end

-- ---- claims ------------------------------------------------------------------------------------

-- The coroutine that renews this worker's claims every lease/3 while it holds any.
function Shared:_renewer()
  local token = {}
  self.renew_token = token
  while not self.closed and next(self.claims) do
    scheduler.sleep(self.lease / 3, token)
    if token.interrupted then token = {} self.renew_token = token end
    local keys, list = {}, {}
    for k in pairs(self.claims) do
      keys[#keys + 1] = self:_key("lease:" .. k)
      list[#list + 1] = k
    end
    if #keys > 0 and not self.closed then
      local lost = self:_script("renew", keys, { self.worker, tostring(math.floor(self.lease * 1000)) })
      for i = 1, #(lost or {}), 2 do
        local k = list[lost[i]]
        if k and self.claims[k] then
          self.claims[k] = nil
          self.lost[k] = lost[i + 1]
          self.log("warn", "journal %s: request %s was taken over by worker %s (this worker's claim lapsed)",
            self.path, k, tostring(lost[i + 1]))
          if self.on_lost then pcall(self.on_lost, k, lost[i + 1]) end
        end
      end
    end
  end
  self.renewing = nil
end

--- Claim request `key` for this worker: true, or false and the worker that holds it. The claim is
-- renewed while this process lives, until `unclaim`.
-- @tparam string key
-- @treturn boolean
-- @treturn[opt] string the holder
function Shared:claim(key)
  if self.closed then return false, "closed" end
  local r, err = self:_script("claim", { self:_key("lease:" .. key) },
    { self.worker, tostring(math.floor(self.lease * 1000)) })
  if not r then return false, err end
  if r[1] ~= 1 then return false, r[2] end
  self.claims[key], self.lost[key] = true, nil
  if not self.renewing then
    self.renewing = true
    scheduler.spawn(self._renewer, self)
  end
  return true
end

--- Claim `key`, waiting while another worker holds it (until `deadline`, absolute scheduler time;
-- nil: as long as it takes), then read what others appended. true, or false and the holder.
-- @tparam string key
-- @tparam[opt] number deadline
-- @treturn boolean
function Shared:acquire(key, deadline)
  while true do
    local ok, holder = self:claim(key)
    if ok then
      self:refresh()
      return true
    end
    if deadline and scheduler.now() + 0.5 > deadline then return false, holder end
    scheduler.sleep(math.min(1, self.lease / 4))
  end
end

--- Give a claim back (another worker may take the request at once).
-- @tparam string key
function Shared:unclaim(key)
  if not self.claims[key] then return end
  self.claims[key] = nil
  if not self.closed then
    once(self, { "EVAL", SCRIPTS.unclaim, "1", self:_key("lease:" .. key), self.worker })
  end
  if not next(self.claims) and self.renew_token then scheduler.interrupt(self.renew_token) end
end

--- Whether this worker holds the claim of `key`.
-- @tparam string key
-- @treturn boolean
function Shared:holds(key)
  return self.claims[key] == true
end

--- Whether an entry's file at `path` was saved by another worker (on its own disk, say).
-- @tparam table e
-- @tparam string path
-- @treturn boolean
function Shared:saved_elsewhere(e, path)
  local by = e.savers and e.savers[path]
  return by ~= nil and by ~= self.worker
end

--- Stop waiting for Redis: from now on a command Redis does not answer fails at once instead of
-- being tried again until Redis is back (a batch's interrupt: Ctrl-C ends a worker whose Redis is
-- gone; what it could not record, the next run learns from the intents Redis holds). For good.
function Shared:interrupt()
  scheduler.interrupt(self.stop_waiting)
end

--- Close: claims are given back (unless Redis is not answering: they lapse), the renewer ends, the
-- connection closes. Safe to call twice.
function Shared:close()
  if self.closed_conn then
    self.closed = true
    return
  end
  local held = {}
  for k in pairs(self.claims) do held[#held + 1] = k end
  if self.down then self.closed = true end -- (each give-back would wait for a reply that does not come)
  for _, k in ipairs(held) do pcall(self.unclaim, self, k) end
  self.closed = true
  if self.renew_token then scheduler.interrupt(self.renew_token) end
  self.closed_conn = true
  pcall(function() scheduler.engine():redis_close(self.conn) end)
end

return M
