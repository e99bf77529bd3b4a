--- The one error type of seedance.
-- Every expected failure (validation, HTTP, network, timeout, failed task)
-- is returned as `nil, err` where `err` is one of these objects.
-- @module seedance.errors

local M = {}

local Error = {}
Error.__index = Error

--- Render an error: its type, status, message and, for validation errors, every problem.
function Error.__tostring(e)
  local head = e.type
  if e.status then head = head .. " (HTTP " .. tostring(e.status) .. ")" end
  local out = head .. ": " .. tostring(e.message)
  if e.errors then
    local lines = { out }
    for _, p in ipairs(e.errors) do
      lines[#lines + 1] = "  " .. tostring(p.field) .. ": " .. tostring(p.message)
    end
    out = table.concat(lines, "\n")
  end
  return out
end

local error_types = require("seedance.error_types")

--- Make an error object.
-- @tparam table fields `type` and `message` required; `status`, `retryable`, `errors` and others optional
-- @treturn seedance.Error
function M.new(fields)
  assert(type(fields) == "table" and type(fields.type) == "string", "error needs a type")
  local e = {}
  for k, v in pairs(fields) do e[k] = v end
  if e.message == nil then e.message = e.type end
  if e.retryable == nil then e.retryable = error_types.retryable(e.type) end
  return setmetatable(e, Error)
end

--- Whether a value is a seedance error object.
-- @param v any value
-- @treturn boolean
function M.is(v)
  return getmetatable(v) == Error
end

--- The validation error for a list of `{ field, message }` problems.
-- @tparam table problems as returned by the C validator
-- @treturn seedance.Error
-- @local (for the library's own modules)
function M.validation(problems)
  local n = #problems
  local first = problems[1]
  local msg = string.format("invalid request: %d problem%s (first: %s: %s)", n,
    n == 1 and "" or "s", tostring(first and first.field), tostring(first and first.message))
  return M.new{ type = "validation_error", message = msg, errors = problems, retryable = false }
end

--- Raise a caller mistake as Lua's own functions do:
-- "bad argument #n to 'fname' (msg)", blamed on the caller of the public function.
-- @tparam integer n the argument's position
-- @tparam string fname the public function's name
-- @tparam string msg what is wrong
-- @tparam[opt=3] integer level error level (3: the caller of the function that calls this)
-- @local (for the library's own modules)
function M.argerror(n, fname, msg, level)
  error(string.format("bad argument #%d to '%s' (%s)", n, fname, msg), level or 3)
end

--- Check that argument n is of type `want` (or nil when `optional`), raising a
-- bad argument error otherwise.
-- @tparam any v the value
-- @tparam string want a type name
-- @tparam integer n its position
-- @tparam string fname the public function's name
-- @tparam[opt] boolean optional nil is allowed
-- @local (for the library's own modules)
function M.checkarg(v, want, n, fname, optional)
  if type(v) == want or (optional and v == nil) then return end
  M.argerror(n, fname, want .. " expected, got " .. type(v), 4)
end

--- Check that the string argument n can be a path: C reads a string up to its
-- first NUL byte, so "a.mp4\0x" would name a.mp4. Raises a bad argument error.
-- @tparam string v the value (already known to be a string)
-- @tparam integer n its position
-- @tparam string fname the public function's name
-- @local (for the library's own modules)
function M.checkpath(v, n, fname)
  if v:find("\0", 1, true) then M.argerror(n, fname, "path must not contain NUL bytes", 4) end
end

--- The `callback_error` for a user callback that raised (or, with `kind`, the
-- error of that type for another call that raised).
-- @tparam string name the callback's name ("on_progress", ...)
-- @param err what it raised
-- @tparam[opt="callback_error"] string kind the error's type
-- @treturn seedance.Error
-- @local (for the library's own modules)
function M.callback(name, err, kind)
  local ok, text = pcall(tostring, err) -- an object whose __tostring raises is still reported
  if not ok or type(text) ~= "string" then text = "a " .. type(err) .. " that cannot be printed" end
  return M.new{ type = kind or "callback_error", retryable = false, value = err, message = name .. " raised: " .. text }
end

--- Check an optional timeout argument (seconds): nil, or a number that is not NaN
-- (negative means "now"; math.huge means no limit). Raises a bad argument error otherwise.
-- @param v the value
-- @tparam string fname the public function's name
-- @tparam integer n the argument's position
-- @local
function M.checktimeout(v, fname, n)
  if v == nil then return end
  if type(v) ~= "number" or v ~= v then
    M.argerror(n, fname, "field 'timeout' must be a number of seconds, got " .. (v ~= v and "NaN" or type(v)), 4)
  end
end

-- What marks a moderation refusal, in a code (the native ones: InputImageSensitiveContentDetected,
-- OutputVideoSensitiveContentDetected.PrivacyInformation, ...), a type or a message (lower case).
local MODERATION_WORDS = { "sensitive", "moderation", "content polic", "content_polic", "content filter",
  "content_filter", "risk control", "敏感", "违规" }

-- The input a code names by its native prefix.
local CODE_INPUTS = { { "^inputtext", "prompt" }, { "^inputimage", "image_urls" }, { "^inputvideo", "video_urls" },
  { "^inputaudio", "audio_urls" }, { "^outputvideo", "output" }, { "^outputimage", "output" },
  { "^outputaudio", "audio" } }

-- The input a message names: a field path first, then the words of the service's messages.
local MESSAGE_INPUTS = { { "generated audio", "audio" }, { "output audio", "audio" }, { "output video", "output" },
  { "output image", "output" }, { "generated video", "output" }, { "input text", "prompt" }, { "prompt", "prompt" },
  { "input image", "image_urls" }, { "input video", "video_urls" }, { "input audio", "audio_urls" } }

-- Whether text holds the word w, "sensitive" not as part of "insensitive" ("case-insensitive" is no verdict).
local function marks(text, w)
  local at = 1
  while true do
    local s, e = text:find(w, at, true)
    if not s then return false end
    if text:sub(s - 2, s - 1) ~= "in" then return true end
    at = e + 1
  end
end

--- Whether the service's error (its `code`, `type` and `message`, from a refused
-- submit or a failed task) says that content moderation refused something, and
-- which input where the service says it: a field path it names (`prompt`,
-- `image_urls[2]`, `image_with_roles[1]`, `video_urls[1]`, `audio_urls[1]`), else
-- `prompt`, `image_urls`, `video_urls` or `audio_urls` for an input of that kind,
-- `output` for the generated video, `audio` for the generated sound, nil when
-- it does not say.
-- @tparam table e `{ code, type, message }` as the service sent them (any may be missing)
-- @treturn boolean
-- @treturn string|nil the input
-- @local
function M.moderation(e)
  if type(e) ~= "table" then return false end
  local code = type(e.code) == "string" and e.code:lower() or ""
  local kind = type(e.type) == "string" and e.type:lower() or ""
  local message = type(e.message) == "string" and e.message or ""
  local low = message:lower()
  local hit = false
  for _, w in ipairs(MODERATION_WORDS) do
    if marks(code, w) or marks(kind, w) or marks(low, w) then hit = true; break end
  end
  if not hit then return false end
  local path = message:match("image_with_roles%[%d+%]") or message:match("image_urls%[%d+%]")
    or message:match("video_urls%[%d+%]") or message:match("audio_urls%[%d+%]")
  if path then return true, path end
  for _, c in ipairs(CODE_INPUTS) do
    if code:find(c[1]) then return true, c[2] end
  end
  for _, m in ipairs(MESSAGE_INPUTS) do
    if low:find(m[1], 1, true) then return true, m[2] end
  end
  return true, nil
end

--- Mark an error as a moderation refusal when the service's error says so:
-- `kind = "moderation"`, `input` (see `moderation`), and never retryable (the
-- same input would be refused, and perhaps billed, again).
-- @tparam seedance.Error err
-- @tparam[opt] table service the service's error object (default: err itself)
-- @treturn seedance.Error err
-- @local
function M.classify(err, service)
  local hit, input = M.moderation(service or err)
  if hit then
    err.kind, err.input, err.retryable = "moderation", input, false
  end
  return err
end

M.Error = Error
return M
