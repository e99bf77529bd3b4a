--- fuzz/answers.lua: the client against answers made of fuzz bytes.
--
-- Loaded once by fuzz/fuzz_lua.c (target fuzz_answers); returns run(input), called for every
-- input. By hand (LUA_PATH/LUA_CPATH pointing at lua/ and build/):
--     lua5.4 -e 'dofile("fuzz/answers.lua")(io.read("a"))' < fuzz/corpus/answers/generate-ok
--
-- Input format (plain text, so seeds are readable and mutations stay near
-- the shape):
--
--     <operation>\n           generate | refresh | wait | download | upload | balance | all
--     <answer>\n===\n<answer>\n===\n...
--
-- An answer is a status line, header lines, an empty line and the body:
--
--     429
--     Retry-After: 3
--     Content-Type: application/json
--
--     {"error":{"type":"rate_limit_error","message":"slow down"}}
--
-- or "ERR <kind>" for a transport failure of that kind (connect, timeout,
-- recv, ...). The status is read as the engine reads it (at most 4 digits,
-- so 0..9999); header names are lowercased and values trimmed, last wins.
-- Every transfer the client starts (an API call, a poll of a watch, a
-- download) takes the next answer; when they run out, transfers fail with
-- kind "aborted", so every operation ends. The engine here is a fake that
-- hands every answer to the Lua layer whole, as the real one hands every
-- answer it does not read in C (the C reading of clean answers, and that it
-- reads them as this Lua does, is fuzz_answer's: fuzz/fuzz_answer.c).
--
-- Properties checked (an error raised here is a crash for libFuzzer):
-- * no client call raises: every call returns a result, or nil and an error
--   object with string `type` and `message` whose tostring is a string;
-- * the API key never appears in an error's text, even when the answers echo it;
-- * every transfer the client asks for passes the engine's own checks
--   (eng:add, eng:profile and eng:api would raise otherwise): header lines
--   without CR/LF/NUL and with a colon, a known method, a path under the base
--   URL, an Idempotency-Key on one line, string URL and body;
-- * a download either returns the target path, with the whole file there, or
--   fails leaving nothing under the target name.

-- The engine is a fake (its methods below), handed to the scheduler as these
-- modules load; seedance.core itself is left as it was (a spec loads this file
-- beside the real library).
local core = require("seedance.core")
local Engine = {}
Engine.__index = Engine
function Engine.budget() end
local fake_engine = setmetatable({ ids = 0, queue = {}, results = {}, events = {}, watches = {} }, Engine)
local real_engine = core.engine
core.engine = function() return fake_engine end
local seedance = require("seedance")
local scheduler = require("seedance.scheduler")
scheduler.engine() -- the scheduler keeps it
core.engine = real_engine

local KEY = "sk-fuzz-secret-0123456789"
local MEDIA = "https://media.example/v.mp4"

-- ---- decoding the input ----------------------------------------------------

local function parse_answer(chunk)
  local head, body = chunk:match("^(.-)\r?\n\r?\n(.*)$")
  if not head then head, body = chunk, "" end
  local first, rest = head:match("^([^\n]*)\n?(.*)$")
  local kind = first:match("^ERR%s*(%S*)")
  if kind then
    return { ok = false, kind = kind ~= "" and kind or "recv", error = "fuzz: transport failure",
             status = 0, headers = {}, body = "" }
  end
  local status = tonumber(first:match("^%s*(%d%d?%d?%d?)") or "200")
  local headers = {}
  for line in rest:gmatch("[^\n]+") do
    local name, value = line:match("^([^:%s][^:]*):[ \t]*(.-)[\r \t]*$")
    if name then headers[name:lower()] = value end
  end
  return { ok = true, status = status, headers = headers, body = body }
end

-- ---- the fake network --------------------------------------------------------

local METHODS = { GET = true, POST = true, PUT = true, DELETE = true, HEAD = true }

-- The checks eng:add makes before it starts a transfer (a failure there raises).
local function check_spec(spec)
  assert(type(spec.url) == "string" and not spec.url:find("\0", 1, true), "transfer url")
  assert(spec.method == nil or METHODS[spec.method], "transfer method")
  assert(spec.body == nil or type(spec.body) == "string", "transfer body")
  for i, h in ipairs(spec.headers or {}) do
    assert(type(h) == "string", "header " .. i .. " is not a string")
    if h:find("[\r\n%z]") or not h:find(":", 1, true) then
      error("the client built a header line the engine refuses: " .. string.format("%q", h), 0)
    end
  end
  if spec.form_file then
    for _, k in ipairs({ "name", "path" }) do assert(type(spec.form_file[k]) == "string", "form_file." .. k) end
  end
end

local answers, served = {}, 0
local echoed = false -- the answers themselves hold the key (a server may echo it: it must be masked)
local function fake_transfer(spec)
  check_spec(spec)
  served = served + 1
  local a = answers[served]
  if not a then
    return { id = served, ok = false, kind = "aborted", error = "fuzz: no more answers", status = 0, headers = {},
             body = "" }
  end
  local r = { id = served, ok = a.ok, kind = a.kind, error = a.error, status = a.status, headers = {},
              body = a.body, bytes = #a.body, url = spec.url, time = 0 }
  for k, v in pairs(a.headers) do r.headers[k] = v end
  if a.ok and spec.output and a.status >= 200 and a.status < 300 then
    -- the engine's rules for a download's file (src/engine_output.c): a 206 is
    -- appended only when it continues the part with the If-Range validator;
    -- a 200 makes the file anew and keeps its validator in validator_file
    local h = a.headers
    local etag = h["etag"]
    if etag and etag:match("^[Ww]/") then etag = nil end -- a weak ETag never validates a range
    local validator = etag or h["last-modified"]
    if validator and (validator == "" or validator:find("%c")) then validator = nil end
    if a.status == 206 then
      local first = tonumber((h["content-range"] or ""):match("^bytes (%d+)%-%d+/[%d*]+$"))
      if (spec.resume_from or 0) <= 0 or first ~= spec.resume_from or
         (spec.if_range and validator ~= spec.if_range) then
        return { id = served, ok = false, kind = "range_mismatch", error = "fuzz: 206 does not continue the part",
                 status = 206, headers = r.headers, body = "", bytes = 0, url = spec.url, time = 0 }
      end
    elseif spec.validator_file then
      os.remove(spec.validator_file)
      if validator then
        local f = assert(io.open(spec.validator_file, "wb"))
        f:write(validator, "\n")
        f:close()
      end
    end
    local append = a.status == 206
    local f = assert(io.open(spec.output, append and "ab" or "wb"))
    f:write(a.body)
    f:close()
    r.resumed = append
    r.body = ""
  elseif spec.output then
    r.resumed = false
  end
  return r
end

scheduler.transfer = fake_transfer
scheduler.sleep = function() end

-- The fake engine: each API call, and each poll of a watch, takes the next
-- answer at once; every answer goes to Lua whole (`take` says false and the
-- result), as the engine hands over what it does not read in C.
local function check_line(what, h)
  if type(h) ~= "string" or h:find("[\r\n%z]") or not h:find(":", 1, true) then
    error("the client built a " .. what .. " the engine refuses: " .. string.format("%q", tostring(h)), 0)
  end
end

function Engine:_id()
  self.ids = self.ids + 1
  return self.ids
end
function Engine:_ready(id, r)
  self.results[id] = r
  self.queue[#self.queue + 1] = id
end
function Engine.profile(_, t)
  assert(type(t.base) == "string", "profile base")
  for _, h in ipairs(t.headers) do check_line("profile header line", h) end
  return { pause = function() end, close = function() end,
           stats = function() return { active = 0, window = 1, throttled = 0, waiting = 0, paused = 0 } end }
end
function Engine:api(_, method, path, body, key, _, _, _)
  assert(method == "GET" or method == "POST", "api method")
  assert(type(path) == "string" and path:sub(1, 1) == "/" and not path:find("[%z\r\n ]"), "api path " .. path)
  if key ~= nil then check_line("Idempotency-Key line", "Idempotency-Key: " .. key) end
  if type(body) == "table" then check_spec{ url = "http://x/", form_file = body }
  else assert(body == nil or type(body) == "string", "api body") end
  local id = self:_id()
  self:_ready(id, fake_transfer{ url = "http://127.0.0.1:9" .. path, method = method, body = type(body) == "string"
    and body or nil })
  return id
end
function Engine:add(spec)
  local id = self:_id()
  self:_ready(id, fake_transfer(spec))
  return id
end
function Engine:job(spec)
  local id = self:_id()
  local r = { id = id, ok = true, job = spec.op }
  if spec.op == "replace" then
    local ok, err = os.rename(spec.path, spec.to)
    r.ok, r.error = ok and true or false, err
    if ok and spec.remove then os.remove(spec.remove) end
  elseif spec.op == "remove" then
    os.remove(spec.path)
  end
  self:_ready(id, r)
  return id
end
function Engine:pop() return table.remove(self.queue, 1) end
function Engine:step() return #self.queue end
function Engine:timeout() return #self.queue > 0 and 0 or 1 end
function Engine.sockets() return {} end
function Engine.pending() return 0 end
function Engine:result(id)
  local r = self.results[id]
  self.results[id] = nil
  if r then r.id = id end
  return r
end
function Engine:take(id)
  if self.watches[id] then
    local e = self.events[id]
    self.events[id] = nil
    if not e then return nil end
    if e == "deadline" then return false end
    return false, e
  end
  local r = self:result(id)
  if r == nil then return nil end
  return false, r
end
function Engine:cancel(id)
  self.results[id], self.events[id], self.watches[id] = nil, nil, nil
  return true
end
-- a watch polls at once, and again at each rearm
function Engine:_poll(id)
  self.events[id] = fake_transfer{ url = "http://127.0.0.1:9/v1/tasks/" .. self.watches[id].task_id }
  self.queue[#self.queue + 1] = id
end
function Engine:watch(_, task_id)
  assert(type(task_id) == "string" and task_id:match("^[%w_%-]+$"), "watch task id")
  local id = self:_id()
  self.watches[id] = { task_id = task_id }
  self:_poll(id)
  return id
end
function Engine:event(id)
  local e = self.events[id]
  if e == nil then return nil end
  if e == "deadline" then return "deadline", nil, true end
  return "answer", nil, true
end
function Engine:rearm(id)
  if self.watches[id] then self:_poll(id) end
end
function Engine.seen() return true end
function Engine.counts() return nil end
function Engine.progress() return nil end
function Engine:stats() return { queued = #self.queue, pending = 0, watches = 0, more = false } end

-- ---- the calls -----------------------------------------------------------------

local function check_result(what, ok, err)
  if ok then return ok end
  if type(err) ~= "table" then error(what .. " failed without an error object: " .. tostring(err), 0) end
  if type(err.type) ~= "string" or type(err.message) ~= "string" then
    error(what .. ": error object without type/message: " .. tostring(err.type), 0)
  end
  local text = tostring(err)
  if type(text) ~= "string" then error(what .. ": tostring(err) is not a string", 0) end
  if text:find(KEY, 1, true) or err.message:find(KEY, 1, true) then
    error(what .. ": the API key appears in an error" .. (echoed and " (the server echoed it)" or ""), 0)
  end
  return nil
end

-- temporary files: names derived from one os.tmpname(), removed after each use
local prefix = os.tmpname()
os.remove(prefix)

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local client
local REQ = { model = "doubao-seedance-2.0", prompt = "a kitten yawns", duration = 5 }

local function download(task, n)
  local target = prefix .. "-video" .. n .. ".mp4"
  local path, err = task:download(target, { on_progress = function() end })
  if check_result("download", path, err) then
    if path ~= target or not exists(target) then error("download returned a path with no file", 0) end
  elseif exists(target) then
    error("a failed download left a file under the target name", 0)
  end
  os.remove(target)
  os.remove(target .. ".part")
  os.remove(target .. ".part.meta")
end

local function completed_task()
  local t = client:task("task_fuzz")
  t:_apply{ status = "completed", result = { videos = { { url = MEDIA, expires_at = os.time() + 3600 } } } }
  return t
end

local OPS = {}
function OPS.generate()
  local task = check_result("generate", client:generate(REQ))
  if task then
    if check_result("wait", task:wait{ timeout = 3600 }) then download(task, 1) end
    tostring(task)
    task:close()
  end
end
function OPS.refresh()
  local t = client:task("task_fuzz")
  check_result("refresh", t:refresh())
  tostring(t)
end
function OPS.wait()
  local t = client:task("task_fuzz")
  check_result("wait", t:wait{ timeout = 3600, on_progress = function(x) tostring(x) end })
  tostring(t)
end
function OPS.download()
  download(completed_task(), 2)
end
function OPS.upload()
  local png = prefix .. "-image.png"
  local f = assert(io.open(png, "wb"))
  f:write("\137PNG\r\n\26\n", string.rep("\0", 32))
  f:close()
  check_result("upload_image", client:upload_image(png))
  os.remove(png)
end
function OPS.balance()
  check_result("balance", client:balance())
end
function OPS.all()
  OPS.generate()
  OPS.refresh()
  OPS.download()
  OPS.upload()
  OPS.balance()
end

--- Run one input (see the format above); raises when a property fails.
return function(input)
  local op, rest = input:match("^([%a_]+)\r?\n(.*)$")
  if not op then op, rest = "all", input end
  answers, served = {}, 0
  fake_engine.queue, fake_engine.results, fake_engine.events, fake_engine.watches = {}, {}, {}, {}
  echoed = input:find(KEY, 1, true) ~= nil
  local pos = 1
  while pos <= #rest + 1 and #answers < 64 do
    local s, e = rest:find("\n===\n", pos, true)
    answers[#answers + 1] = parse_answer(rest:sub(pos, (s or #rest + 1) - 1))
    if not s then break end
    pos = e + 1
  end
  client = seedance.new{ api_key = KEY, base_url = "http://127.0.0.1:9", max_retries = 3,
                         backoff = 0.001, max_backoff = 0.001, time_scale = 1e-6, wait_timeout = 3600 }
  local ok, err = pcall(OPS[op] or OPS.all)
  client = nil
  if not ok then error(err, 0) end
end
