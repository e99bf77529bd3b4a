--- The client: settings, the API key, and the service's endpoints.
-- Made with `seedance.new{...}` (options: `seedance.options`).
-- @module seedance.client

local context = require("seedance.context")
local errors = require("seedance.errors")
local files = require("seedance.files")
local http = require("seedance.http")
local journal = require("seedance.journal")
local options = require("seedance.options")
local request = require("seedance.request")
local core = require("seedance.core")
local scheduler = require("seedance.scheduler")
local Task = require("seedance.task")
local urls = require("seedance.urls")

local M = {}

local Client = {}
Client.__index = Client

local NO_OPTS = {}
-- generate's options of a type the other checks do not look at (name, type)
local OPTION_TYPES = { { "retry_failed", "boolean" }, { "item", "number" }, { "output", "string" },
  { "cancel", "table" } }

--- Make a client, or say why not (what `seedance.new` raises, as a value).
-- @tparam[opt] seedance.ClientOptions opts
-- @treturn[1] seedance.Client
-- @treturn[2] nil
-- @treturn[2] seedance.Error a `usage_error` naming the refused `option` (an unknown option, a wrong
--   type, a refused base URL, a malformed key), or an `io_error` naming the `journal` that cannot be
--   used and the `reason`
-- @local (for `seedance.new` and the command)
function M.open(opts)
  local s, why, name = options.check(opts)
  if not s then return nil, errors.new{ type = "usage_error", option = name, message = why } end
  local base, berr = urls.check_base(s.base_url, s.allow_insecure_http)
  if not base then return nil, errors.new{ type = "usage_error", option = "base_url", message = berr } end
  if (opts == nil or opts.time_scale == nil) and s.time_scale ~= 1 and not urls.is_loopback(base.host) then
    -- SEEDANCE_TIME_SCALE is for an emulator on this machine: the real service's clock is the wall's
    s.time_scale = 1
  end
  -- libcurl reads the CA bundle at every connection: resolved now, a host's later chdir changes nothing
  if s.ca_file then s.ca_file = files.absolute(s.ca_file) end
  local key = s.api_key
  s.api_key = nil -- the key lives in the context's closures only
  if key then key = key:match("^%s*(.-)%s*$") end   -- a key read from a file often ends in a newline
  if key == "" then key = nil end
  if key and key:find("[%c ]") then
    return nil, errors.new{ type = "usage_error", option = "api_key",
                            message = "api_key contains spaces or control characters" }
  end
  local jrnl, ctx
  if s.journal then
    local jerr
    -- (a shared journal logs through the client's logger: Redis lost and found again)
    local jwhy
    jrnl, jerr, jwhy = journal.open(s.journal, { ca_file = s.ca_file, log = function(...)
      if ctx then ctx.log(...) end
    end })
    if not jrnl then
      -- (a journal URL that names no journal is the caller's mistake: a usage error)
      return nil, errors.new{ type = jwhy == "usage" and "usage_error" or "io_error", option = jwhy == "usage"
                              and "journal" or nil, journal = journal.shown(s.journal), reason = tostring(jerr),
                              message = "cannot use journal: " .. tostring(jerr) }
    end
  end
  ctx = context.new(s, key, base, jrnl)
  if jrnl and (jrnl.skipped > 0 or jrnl.torn > 0) then
    ctx.log("warn", "journal %s: skipped %d malformed and %d torn records", jrnl.path, jrnl.skipped, jrnl.torn)
  end
  -- the client's own settings stay its own: the public field is a copy
  local copy = {}
  for k, v in pairs(s) do copy[k] = v end
  return setmetatable({ base_url = base.url, settings = copy, journal_path = jrnl and jrnl.file, _ctx = ctx }, Client)
end

--- Make a client. Raises on unknown options, wrong types, a refused base URL,
-- a malformed key (`bad argument #1 to 'new' (...)`), or a journal that cannot
-- be used (`seedance.new: cannot use journal: ...`).
-- @tparam[opt] seedance.ClientOptions opts
-- @treturn seedance.Client
function M.new(opts)
  local client, err = M.open(opts)
  if client then return client end
  if err.option then errors.argerror(1, "new", err.message) end
  error("seedance.new: " .. err.message, 2)
end

--- Printable form: the base URL and whether a key is set, never the key.
function Client:__tostring()
  return string.format("seedance.client(%s, %s)", self.base_url, self._ctx.has_key() and "key set" or "no key")
end

-- POST /v1/uploads/images of the file at path (resolved: absolute) within an optional absolute deadline;
-- `shown` is the path as the caller gave it (messages, the file name sent).
local function upload(self, path, deadline, shown)
  local ctx = self._ctx
  local ctype, ferr = files.check_image(path, shown)
  if not ctype then return nil, ferr end
  if not ctx.has_key() then return nil, ctx.no_key() end
  local name = shown:match("([^/\\]+)$") or shown
  local obj, err = http.json(ctx, {
    method = "POST", path = "/v1/uploads/images", deadline = deadline,
    form_file = { name = "file", path = path, filename = name, content_type = ctype },
    timeout = math.max(ctx.settings.timeout, 120),
  })
  if not obj then return nil, err end
  local parts = type(obj.url) == "string" and urls.parse(obj.url)
  if not parts or (parts.scheme ~= "https" and parts.scheme ~= "http") then
    return nil, errors.new{ type = "server_error", retryable = false,
                            message = "upload answer has no usable url: " .. http.excerpt(tostring(obj.url)) }
  end
  return obj.url, obj
end

local submit, attach_or_pay -- defined below generate

-- The task id and status from a submit answer: data as an array or an object.
local function submitted(obj)
  local data = obj.data
  if type(data) == "table" and data[1] ~= nil then data = data[1] end
  if type(data) ~= "table" then return nil end
  local id = data.task_id or data.id
  if type(id) ~= "string" or id == "" then return nil end
  return id, type(data.status) == "string" and #data.status <= 64 and data.status or "submitted"
end

-- Calls on a closed client are caller mistakes.
local function check_open(self)
  if self.closed then error("attempt to use a closed client", 3) end
end

--- Submit a generation. Checks first, before anything is paid for: the request
-- against the service's rules (unless disabled) and every local image it names.
-- Uploads `seedance.file` images; retries under one `Idempotency-Key`. Every
-- error after the checks carries that key as `err.idempotency_key`: when the
-- answers were lost (a network outage, a laptop that slept) the service may
-- have made and billed the task, and `generate(req, { idempotency_key =
-- err.idempotency_key })` picks it up instead of paying again.
--
-- With the client's journal, a request it holds a task for is re-attached to
-- (nothing is paid again), whatever became of that task; with `retry_failed`, a
-- request whose journaled try failed (its task failed, the service refused the
-- submit, or its result expired before a pipeline saved it) is submitted again
-- under a new Idempotency-Key, recorded as a new try. A submit the service
-- refuses for the request itself (400, 413, 422, sensitive content: nothing was
-- made) is recorded too; a refusal of the key or the balance (401, 402, 403) is
-- not, so a later run submits the request again under its key. `item` and `output` are written beside it for people reading the journal.
-- @tparam seedance.Request req
-- @tparam[opt] seedance.GenerateOptions opts `validate`, `idempotency_key` (the key to submit
--   under: an earlier error's, to pick up the task it may have made; with a journal, the key the journal
--   recorded for this request wins, and a key another call of the same request holds is not used again:
--   two occurrences never share a task), `key` (journal),
--   `timeout` (seconds for the whole submit: waiting for a max_in_flight slot and retries),
--   `before_submit(key)` (called once the checks, the slot and the uploads are done, right before the
--   submit is first sent; returning false sends nothing and ends with an `aborted` error: a host's
--   "cancel" that can still pay nothing), `retry_failed` (journal: pay again for a failed try), `item`
--   (a number) and `output` (a path), recorded in the journal; `cancel` (the library's pipelines: a
--   `scheduler.sleep` token; once interrupted, a submit pausing before another attempt ends at once and
--   sends nothing more, with an `aborted` error carrying its key)
-- @treturn[1] seedance.Task
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function Client:generate(req, opts)
  check_open(self)
  if type(req) ~= "table" then errors.checkarg(req, "table", 1, "generate") end
  if opts ~= nil then
    errors.checkarg(opts, "table", 2, "generate")
    errors.checktimeout(opts.timeout, "generate", 2)
  end
  if opts and opts.idempotency_key ~= nil and not journal.key_ok(opts.idempotency_key) then
    errors.argerror(2, "generate", "field 'idempotency_key' must be 1 to 128 letters, digits, '-', '_' or '.'")
  end
  if opts ~= nil then
    for _, f in ipairs(OPTION_TYPES) do
      local v = opts[f[1]]
      if v ~= nil and type(v) ~= f[2] then
        errors.argerror(2, "generate", "field '" .. f[1] .. "' must be a " .. f[2] .. ", got " .. type(v))
      end
    end
  end
  return self._ctx.redact_result(submit(self, req, opts or NO_OPTS))
end

-- The body of generate (its errors are masked by the caller).
function submit(self, req, opts)
  local ctx = self._ctx
  local validate = ctx.settings.validate and opts.validate ~= false
  local body -- the JSON text, written by the validator's walk when it validates (nil: written later)
  if validate then
    local ok, res = request.check(req)
    if not ok then return nil, errors.validation(res) end
    body = res
  end
  local sent = req -- what is sent: req itself when its text is written now, else a copy made now
  if not body then
    -- the text is written after the wait for a slot and the uploads, when the caller may have
    -- changed req: it is written from a copy made now, and that copy is what is checked
    sent = request.copy(req)
    if validate then
      local ok, res = request.check(sent)
      if not ok then return nil, errors.validation(res) end
    end
  end
  if not ctx.has_key() then return nil, ctx.no_key() end
  if not body then -- (a body the validator wrote names no local image)
    local iok, ierr = files.check_inputs(sent)
    if not iok then return nil, ierr end
  end
  local deadline = opts.timeout and scheduler.now() + opts.timeout or nil
  local jrnl, jkey, hash, busy = ctx.journal, nil, nil, false
  if jrnl then
    -- a key the pipelines made (hash#n) names its hash: the request is not read and hashed twice
    hash = type(opts.key) == "string" and opts.key:match("^(%x+)#%d+$") or jrnl:hash_of(sent)
    if opts.key then jkey = opts.key else jkey, busy = jrnl:take_key(hash, opts.idempotency_key) end
  end
  -- (busy: the caller's Idempotency-Key is another occurrence's, held by another call: not this one's to use)
  local task, err = attach_or_pay(self, req, sent, opts, deadline, jkey, hash, body, busy)
  if not task and err and err.taken then -- another worker recorded this try first: its key, not a new one
    task, err = attach_or_pay(self, req, sent, opts, deadline, jkey, hash, body, busy)
  end
  -- no task: the occurrence is the next call's (a script's retry, or a re-run; see Journal:take_key)
  if not task and jkey and not opts.key then jrnl:release(jkey) end
  return task, err
end

-- A submit's error, with the Idempotency-Key it was (or would have been) sent under.
local function keyed(key, err)
  err.idempotency_key = key
  return nil, err
end

-- Whether a journal entry's current try failed: its task failed or was cancelled, its submit was refused,
-- or its result expired before it was saved.
local function try_failed(entry)
  return entry.refused ~= nil or (entry.task_id ~= nil and (entry.status == "failed" or entry.status == "cancelled"
    or entry.expired == true))
end

-- Submits in flight (sent, no answer yet), for the interrupted error: Idempotency-Key -> journal key or true.
local submitting = {}
scheduler.on_interrupt(function(report)
  for key, jkey in pairs(submitting) do
    report.submits[#report.submits + 1] = { idempotency_key = key, key = jkey ~= true and jkey or nil }
  end
end)

-- Whether a submit's error answer refuses the request itself (its content, its size, sensitive content),
-- which the journal records as the try's outcome. A refusal of the account (401, 402, 403: a wrong key, no
-- balance), of the URL (404, 405) or of the moment (408, 429) says nothing of the request: a later run
-- (the key fixed, the balance topped up) submits it again, under the same key.
local function refused_request(r)
  local s = r.status
  return s == 400 or s == 413 or s == 422 or (r.kind == "moderation" and s ~= nil and s >= 400 and s < 500)
end

-- The error of a refused submit, as the journal keeps it (no key, no request).
local function refusal(err)
  return { type = err.type, status = err.status, code = err.code, message = err.message, kind = err.kind,
           input = err.input }
end

-- A submit's stop token: the client's own (`_naps`, which close interrupts), or, with the run's
-- (`opts.cancel`), one interrupted with either. Interrupting it ends the wait for a slot, a pause before
-- another attempt, and withdraws an attempt waiting unsent in the client's 429 pause.
local function stop_token(self, opts)
  local naps = self._naps or {}
  self._naps = naps -- (what close interrupts)
  local cancel = opts.cancel
  if not cancel then return naps end
  local token = {}
  scheduler.link(cancel, token)
  scheduler.link(naps, token)
  return token
end

-- Wait for one of the client's max_in_flight slots on the submit's stop token: the token, the slot
-- taken; or nil and why not: "closed" or "stopped" (nothing taken, also when the slot came free just as
-- the client closed or the run stopped), or "timeout" (the deadline came first).
local function take_slot(self, opts, deadline)
  local governor = self._ctx.governor
  local token = stop_token(self, opts)
  local slot = governor:acquire_task(deadline, token)
  if self.closed or token.interrupted then
    if slot then governor:release_task() end
    return nil, self.closed and "closed" or "stopped"
  end
  if not slot then return nil, "timeout" end
  return token
end

-- Re-attach to the journal's task for key jkey, or submit (and pay) body, or sent's JSON when body is nil
-- (req: the caller's request, kept by the task). Once the submit's Idempotency-Key is chosen, every error
-- it ends with carries it (`idempotency_key`): an answer lost after the service made (and billed) the task
-- leaves the caller the one key that picks that task up (`generate(req, { idempotency_key = ... })`).
function attach_or_pay(self, req, sent, opts, deadline, jkey, hash, body, busy)
  local ctx = self._ctx
  local jrnl, entry, attempt = ctx.journal, nil, nil
  if jrnl and jrnl.shared and not opts.claimed then
    -- a journal shared by several workers: this request is claimed before it is looked at (and paid
    -- for), waiting while another worker holds it; the claim is given back once its task is recorded
    local ok, holder = jrnl:acquire(jkey, deadline)
    if not ok then
      return nil, errors.new{ type = "timeout_error", retryable = true, message = string.format(
        "worker %s held this request (journal %s) until the deadline", tostring(holder), jrnl.path) }
    end
    local claimed = {}
    for k, v in pairs(opts) do claimed[k] = v end
    claimed.claimed = true
    local task, err = attach_or_pay(self, req, sent, claimed, deadline, jkey, hash, body, busy)
    jrnl:unclaim(jkey)
    return task, err
  end
  if jrnl then
    entry = jrnl:entry(jkey)
    -- (retry_attempt: the try the caller saw fail; another worker may have made a newer one since)
    if entry and opts.retry_failed and try_failed(entry)
      and (opts.retry_attempt == nil or entry.attempt == opts.retry_attempt) then
      attempt = (entry.attempt or 1) + 1 -- a new try: a new Idempotency-Key, recorded before the submit
    elseif entry and entry.task_id then
      -- paid for already: re-attach instead of submitting again
      local slot = (entry.status == nil or not Task.TERMINAL[entry.status]) and not entry.abandoned
      -- its slot waited for as a submit's is: ended by close or a stopped run, the task named
      local _, why
      if slot then _, why = take_slot(self, opts, deadline) end
      if why == "timeout" then
        return nil, errors.new{ type = "timeout_error", retryable = true, task_id = entry.task_id,
          idempotency_key = entry.idempotency_key, message = "no max_in_flight slot came free before the "
            .. "deadline for the re-attach to task " .. entry.task_id .. " (paid for already)" }
      elseif why then
        return nil, errors.new{ type = "aborted", task_id = entry.task_id, idempotency_key = entry.idempotency_key,
          message = (why == "closed" and "the client was closed" or "the run was stopped") .. " before this "
            .. "re-attach to task " .. entry.task_id .. " (paid for already) took its max_in_flight slot" }
      end
      return Task.new(self, ctx, entry.task_id, entry.status or "submitted", req, entry.idempotency_key, slot, {
        reattached = true, video_url = entry.video_url, last_frame_url = entry.last_frame_url,
        expires_at = entry.expires_at, error = entry.error, abandoned = entry.abandoned, journal_key = jkey,
        recorded = entry.status ~= nil,
      }, nil, nil, true)
    end
  end
  -- the journal's key first: a submit it recorded may have made a task under that key alone
  -- (a new try of a failed request gets a new key: the old one would answer with the failed task)
  local key = (not attempt and entry and entry.idempotency_key) or (not busy and opts.idempotency_key)
    or core.random_hex(16)
  local cancel = opts.cancel
  local token, no_slot = take_slot(self, opts, deadline)
  if no_slot == "timeout" then
    return keyed(key, errors.new{ type = "timeout_error", retryable = true,
      message = "no max_in_flight slot came free before the deadline" })
  elseif no_slot then -- stopped while this submit waited for its slot, or as it came free: nothing paid
    return keyed(key, errors.new{ type = "aborted", message = no_slot == "closed"
      and "the client was closed while this submit waited" or "the run was stopped while this submit waited" })
  end
  local berr
  if not body then
    local uploaded = {}
    body, berr = request.encode(sent, function(marker)
      local file = marker.resolved or marker.path -- the file it named when seedance.file was called
      if not uploaded[file] then
        local url, err = upload(self, file, deadline, marker.path)
        if not url then return nil, err end
        uploaded[file] = url
      end
      return uploaded[file]
    end)
  end
  if not body then
    ctx.governor:release_task()
    return keyed(key, berr)
  end
  if jrnl and (not entry or attempt) then
    local ok, werr, why = jrnl:append{ type = "submit", key = jkey, hash = hash, idempotency_key = key,
      attempt = attempt, item = opts.item, output = opts.output, prompt = journal.excerpt(sent.prompt) }
    if not ok then
      -- nothing is sent without its intent recorded (a shared journal's: by the request's claim holder,
      -- once per try; `taken`: another worker's is there, so read it and submit under its key)
      ctx.governor:release_task()
      if why == "taken" then jrnl:refresh() end
      return keyed(key, errors.new{ type = "io_error", taken = why == "taken" or nil, lost = why == "lost" or nil,
                                    journal_gone = why == "gone" or nil, message = "journal: " .. tostring(werr) })
    end
  end
  if opts.before_submit then
    local pok, go = scheduler.protect(opts.before_submit, key)
    if not pok or go == false then
      ctx.governor:release_task() -- called off (or the callback raised): nothing was sent
      return keyed(key, pok and errors.new{ type = "aborted", message = "the submit was called off before it was sent" }
        or errors.callback("before_submit", go))
    end
  end
  -- a client closed while the submit pauses before another attempt (a 429's Retry-After, shared by every
  -- sender) sends nothing more: it ends at once with an `aborted` error (its key, maybe_paid when an
  -- attempt went unanswered), never pays after close (a pipeline's run stopped, the command's Ctrl-C:
  -- `opts.cancel` interrupted, the same). The engine reads the task id from a clean answer (a, b, c, d:
  -- the server's clock, id, status, replayed); any other is decoded here
  -- An attempt still waiting in the client's request window (a 429's pause every sender waits out) when
  -- the client is closed or the run stopped is withdrawn, unsent (`token`: see http.request).
  -- (the pause between attempts is a sleep on the token: see http.request)
  local call
  if cancel then
    local client = self
    call = { token = token, stopped = function()
      if client.closed then return "the client was closed" end
      if cancel.interrupted then return "the run was stopped" end
    end }
  else -- (the client's own `stopped`, made once)
    local stopped = self._submit_stopped
    if not stopped then
      local client = self
      stopped = function() return client.closed and "the client was closed" or nil end
      self._submit_stopped = stopped
    end
    call = { stopped = stopped, token = token }
  end
  submitting[key] = jkey or true
  local obj, a, b, c, d = http.request(ctx, "POST", "/v1/videos/generations", body, key, http.SUBMIT, nil, deadline,
    call)
  submitting[key] = nil
  local id, status, replayed, server_now
  if obj == true then
    server_now, id, status, replayed = a, b, c or "submitted", d
  elseif obj then
    id, status = submitted(obj)
    replayed = a.headers["idempotency-replayed"] == "true"
    server_now = http.server_time(a.headers)
  end
  if not id or (obj ~= true and not urls.task_id_ok(id)) then -- (the engine reads only a usable id)
    ctx.governor:release_task()
    if not obj and jrnl and refused_request(a) then
      -- the service refused the request (nothing was made, nothing paid): the journal says so
      local ok, werr = jrnl:append{ type = "refused", key = jkey, error = refusal(a) }
      if not ok then ctx.log("info", "journal: %s", tostring(werr)) end
    end
    if not obj then
      -- an attempt went unanswered (or answered 5xx): the service may have made the task under this key
      a.maybe_paid = call.unanswered or nil
      return keyed(key, a)
    end
    return keyed(key, errors.new{ type = "server_error", status = a.status, retryable = false, maybe_paid = true,
      message = (id and "submit answer has an unusable task id (letters, digits, '_' and '-' only): "
        or "submit answer has no task id: ") .. http.excerpt(a.body) })
  end
  if jrnl then
    local ok, werr = jrnl:append{ type = "task", key = jkey, task_id = id }
    if not ok then ctx.log("info", "journal: %s", tostring(werr)) end
  end
  return Task.new(self, ctx, id, status, req, key, true,
    (replayed or jkey) and { replayed = replayed or nil, journal_key = jkey } or nil, true, server_now, true)
end

--- The client's open journal, or nil (for the library's pipelines).
-- @treturn table|nil
-- @local
function Client:journal()
  return self._ctx.journal
end

--- A handle for an existing task (after a restart, say). No network is used;
-- call `refresh` or `wait` to learn its state.
-- @tparam string id a task id (letters, digits, `_` and `-`)
-- @treturn seedance.Task
function Client:task(id)
  check_open(self)
  if not urls.task_id_ok(id) then
    errors.argerror(1, "task", type(id) == "string"
      and "task id must be 1 to 128 letters, digits, '_' or '-', got '" .. core.utf8_clean(id):sub(1, 40) .. "'"
      or "string expected, got " .. type(id))
  end
  return Task.new(self, self._ctx, id)
end

--- Upload a local image (JPEG, PNG, WebP or GIF, at most 20 MB).
-- @tparam string path
-- @treturn[1] string the URL to use in `image_urls` (lives 72 hours)
-- @treturn[1] table the service's whole answer
-- @treturn[2] nil
-- @treturn[2] seedance.Error `io_error` (cannot read), `validation_error` (not an image, too big), service errors
function Client:upload_image(path)
  check_open(self)
  errors.checkarg(path, "string", 1, "upload_image")
  errors.checkpath(path, 1, "upload_image")
  return self._ctx.redact_result(upload(self, files.absolute(path), nil, path))
end

--- The account's balance: `{ success, remain_balance, used_balance, unlimited_quota }`.
-- @treturn[1] table
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function Client:balance()
  check_open(self)
  local ctx = self._ctx
  if not ctx.has_key() then return nil, ctx.no_key() end
  local obj, err = http.json(ctx, { path = "/v1/balance" })
  if not obj then return ctx.redact_result(nil, err) end
  return obj
end

--- Close the client: its journal's lock is released (another process may use
-- it), and the client may make no more calls (they raise "attempt to use a closed
-- client", and `client.closed` is true). A submit that was waiting for a max_in_flight slot,
-- or pausing before another attempt (a 429's Retry-After), or whose request waits unsent in the
-- client's 429 pause, sends nothing more: it ends at once with an `aborted` error carrying its key.
-- Safe to call twice; tasks of this client keep working, without the journal.
function Client:close()
  self.closed = true
  if self._naps then scheduler.interrupt(self._naps) end
  if self._ctx.journal then self._ctx.journal:close() end
end

M.Client = Client
return M
