--- What the command prints: valid UTF-8 whatever the server sent, one line
-- per message with no control characters (a server's text can neither move
-- the cursor, retitle the window nor split an error in two), numbers as
-- people write them, the library's advice in the command's own words, one
-- line per error (JSON on standard output with --json), and after a task was
-- paid for, the task and the exact command that fetches its result.
-- @module seedance.cli.output
-- @local

local core = require("seedance.core")
local exit = require("seedance.cli.exit")
local hints = require("seedance.cli.hints")
local json = require("seedance.json")
local numbers = require("seedance.numbers")

local M = {}

--- A copy of v whose strings are valid UTF-8 (bad bytes replaced): what the
-- command prints is always valid UTF-8 (and valid JSON), whatever the server sent.
-- @param v any value
-- @return the cleaned copy
function M.clean(v, depth)
  depth = depth or 0
  if type(v) == "string" then return core.utf8_clean(v) end
  if type(v) ~= "table" or depth > 32 then return v end
  local out = {}
  for k, x in pairs(v) do out[M.clean(k, depth + 1)] = M.clean(x, depth + 1) end
  return out
end

--- Text fit for one line of a terminal: valid UTF-8, line breaks and tabs as
-- spaces, every other control character (C0, DEL, C1: ESC and CSI start
-- terminal escape sequences, BEL rings) shown as `?`.
-- @param s any value (tostring'd)
-- @treturn string
function M.line(s)
  s = core.utf8_clean(tostring(s))
  s = s:gsub("\r\n", " "):gsub("[\r\n\t\v\f]", " "):gsub("[%z\1-\31\127]", "?"):gsub("\194[\128-\159]", "?")
  return s
end

--- A number as text: whole numbers without a fraction (`999873`, not `999873.0`).
-- @param n a number (anything else goes through tostring)
-- @treturn string
function M.number(n)
  if type(n) ~= "number" then return tostring(n) end
  if n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then return numbers.format("%.0f", n) end
  return numbers.format("%.6g", n)
end

--- A value a server sent where a number belongs, as text: a number as
-- `number` writes it, text that reads as a number as it is, anything else
-- (a list, an object, a word) as its JSON followed by "(not a number)",
-- "unknown" when absent. Never a Lua table address, never a control character.
-- @param v any value
-- @treturn string
function M.value(v)
  if type(v) == "number" then return M.number(v) end
  if v == nil then return "unknown" end
  if type(v) == "string" and numbers.parse(v) then return M.line(v) end
  local text = type(v) == "string" and v or json.encode(M.clean(v)) or "?"
  if #text > 60 then text = text:sub(1, 57) .. "..." end
  return M.line(text) .. " (not a number)"
end

--- A task as a plain table for --json output.
-- @tparam seedance.Task t
-- @treturn table
function M.task_json(t)
  return M.clean{
    id = t.id, status = t.status, progress = t.progress, video_url = t.video_url,
    last_frame_url = t.last_frame_url, expires_at = t.expires_at, error = t.error,
    estimated_time = t.estimated_time,
  }
end

--- Write one JSON object and a newline.
-- @param stream
-- @tparam table obj
function M.json(stream, obj)
  stream:write(M.encode(obj), "\n")
end

--- An object as one line of JSON (strings cleaned), its top-level fields named in `lists` written as
-- lists when empty too (the core's writer, as lua-cjson's, writes an empty table as `{}`).
-- @tparam table obj
-- @tparam[opt] table lists names of fields that are lists
-- @treturn string
function M.encode(obj, lists)
  local o, empty = M.clean(obj), {}
  for _, k in ipairs(lists or {}) do
    if type(o[k]) == "table" and next(o[k]) == nil then
      o[k] = nil
      empty[#empty + 1] = json.encode(k) .. ":[]"
    end
  end
  local text = json.encode(o)
  if #empty == 0 then return text end
  return "{" .. table.concat(empty, ",") .. (text == "{}" and "}" or ("," .. text:sub(2)))
end

--- A stream that remembers its first failed write: `write` as a file's,
-- `flush()` returns true, or nil and the first error (a full disk, a closed
-- descriptor). Standard output goes through one, so output that never
-- arrived is not taken for a success.
-- @param stream a file (or anything with `write` and, optionally, `flush`)
-- @treturn table
function M.checked(stream)
  local c = {}
  function c.write(self, ...)
    if not self.failed then
      local ok, err = stream:write(...)
      if not ok then self.failed = tostring(err) end
    end
    return self
  end
  function c.flush(self)
    if not self.failed and stream.flush then
      local ok, err = stream:flush()
      if not ok then self.failed = tostring(err) end
    end
    if self.failed then return nil, self.failed end
    return true
  end
  return c
end

-- ---- the library's advice, in the command's words ---------------------------

--- What the library tells a Lua caller to do, and what a command-line user
-- does instead: `{ library phrase, command phrase }`, applied to every
-- message the command prints.
M.ADVICE = {
  { "for a local image use seedance.file(path), which uploads it",
    "--request takes URLs only: give a local image with --image PATH (or --first-frame, --last-frame, "
      .. "--reference-image PATH), which uploads it" },
  { "upload the image with seedance.file(path)", "give the image's file with --image PATH, which uploads it" },
  { "a URL string or seedance.file(path)", "a URL string (a local image goes in --image PATH)" },
  { "seedance.file(path)", "--image PATH" },
  { "was the task made with return_last_frame = true?", "was the task generated with --save-last-frame?" },
  { "check ca_file, or the host name in the URL", "check the host name in the URL, or name the CA bundle "
    .. "with --ca-file FILE" },
  { "use https (or allow_insecure_http)", "use https, or pass --allow-insecure-http" },
  { "unless allow_insecure_media is set for a gateway of your own",
    "(the command fetches results only over https, or plain http from this machine)" },
  { "allow_insecure_http", "--allow-insecure-http" },
  { "wait again to keep waiting", "run `seedance wait` with its id to keep waiting" },
}

--- A library message in the command's words (see `ADVICE`).
-- @param s any value (tostring'd)
-- @treturn string
function M.advice(s)
  s = tostring(s)
  for _, pair in ipairs(M.ADVICE) do
    local from, to = pair[1], pair[2]
    local i = s:find(from, 1, true)
    while i do
      s = s:sub(1, i - 1) .. to .. s:sub(i + #from)
      i = s:find(from, i + #to, true)
    end
  end
  return s
end

-- ---- errors -------------------------------------------------------------------

--- A URL fit to print: its user info (a password, perhaps) masked, with or
-- without a scheme (`user:pw@host:1` as much as `http://user:pw@host:1`).
-- The user info is everything before the last `@` of the part before the path.
-- @tparam string s
-- @treturn string
function M.masked(s)
  local scheme, rest = s:match("^(%a[%w+.-]*://)(.*)$")
  if not scheme then scheme, rest = "", s end
  local authority = rest:match("^[^/?#]*")
  local at = authority:match("^.*()@")
  if not at then return s end
  return scheme .. "***" .. rest:sub(at)
end

-- A word for the shell: quoted unless it is plainly safe.
local function shell_word(s)
  if s:match("^[%w%./_:=@%-]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
M.shell_word = shell_word

--- The command that picks a task up again: `seedance wait ID -o FILE`, with
-- the settings flags this run was given (never the key itself). A file this
-- run has already saved is not asked for again (the command would refuse to
-- replace it).
-- @tparam string id
-- @tparam table args the parsed flags
-- @tparam[opt] table saved what this run saved: `video`, `last_frame` (paths)
-- @treturn string
function M.resume_command(id, args, saved)
  saved = saved or {}
  local words = { "seedance", "wait", id }
  local function add(flag, v, long)
    if v ~= nil and v ~= false then
      v = v ~= true and (type(v) == "number" and numbers.text(v) or tostring(v)) or nil
      if v and v:sub(1, 1) == "-" then
        words[#words + 1] = (long or flag) .. "=" .. shell_word(v)   -- a value that looks like a flag
      else
        words[#words + 1] = flag
        if v then words[#words + 1] = shell_word(v) end
      end
    end
  end
  add("-o", not saved.video and args.output, "--output")
  add("--save-last-frame", not saved.last_frame and args.save_last_frame)
  add("--base-url", args.base_url)
  add("--api-key-file", args.api_key_file)
  add("--allow-insecure-http", args.allow_insecure_http)
  add("--proxy", args.proxy and M.masked(args.proxy))   -- a proxy's password is never printed
  add("--timeout", args.timeout)
  return table.concat(words, " ")
end

-- The flags whose value may hold a password (masked in a printed command).
local URL_FLAGS = { ["--proxy"] = true, ["--base-url"] = true }

--- The command that submits again under an Idempotency-Key: this run's own
-- words (`argv`, shell-quoted; a password in a proxy or base URL masked),
-- with `--idempotency-key KEY` in place of any it had. Run again, it picks up
-- the task the first submit may have made instead of paying for another.
-- @tparam table argv the command's arguments (after `seedance`)
-- @tparam string key
-- @treturn string
function M.generate_command(argv, key)
  local words, i = { "seedance" }, 1
  while i <= #argv do
    local a = argv[i]
    if a == "--idempotency-key" then
      i = i + 2
    elseif a:match("^%-%-idempotency%-key=") then
      i = i + 1
    else
      local flag, value = a:match("^(%-%-[%w-]+)=(.*)$")
      if flag and URL_FLAGS[flag] then
        a = flag .. "=" .. M.masked(value)
      elseif URL_FLAGS[argv[i - 1] or ""] then
        a = M.masked(a)
      end
      words[#words + 1] = shell_word(a)
      i = i + 1
    end
  end
  words[#words + 1] = "--idempotency-key"
  words[#words + 1] = shell_word(key)
  return table.concat(words, " ")
end

--- Whether an error may have left a paid task behind with no id to name:
-- a submit some of whose answers were lost (`maybe_paid`, with its key).
-- @tparam table err
-- @treturn boolean
function M.maybe_paid(err)
  return err.maybe_paid == true and type(err.idempotency_key) == "string"
end

--- The sentence naming a submit that may have paid, and the command that picks its task up.
-- @tparam table ctx the command's context (`argv`)
-- @tparam string key the submit's Idempotency-Key
-- @tparam[opt] string why why it may have paid (default: an answer was lost)
-- @treturn string the sentence
-- @treturn string the command
function M.unanswered_note(ctx, key, why)
  local resume = M.generate_command(ctx.argv or {}, key)
  return string.format("the service may have made (and billed) the task: %s; its Idempotency-Key is %s; pick the "
    .. "task up without paying again with: %s", why or "an answer to its submit was lost", key, resume), resume
end

-- Errors after which fetching the task again cannot help: it failed, its result is gone, or the
-- user must change something first.
local NO_RESUME = { task_failed = true, expired = true, usage_error = true }

-- What to add to an error met after a task was paid for: a sentence, and the resume command or nil.
local function paid_note(ctx, err)
  local paid = ctx.paid
  if not paid then return nil end
  -- the id the user typed names no task: fetching it again cannot help
  if ctx.task_arg and err.status == 404 and err.type == "invalid_request_error" then return nil end
  local args = paid.args
  if NO_RESUME[err.type] or err.resume == false then
    if args.journal and (err.type == "task_failed" or err.type == "expired") then
      return string.format("--journal %s records task %s, so running this command again re-attaches to it; "
        .. "to pay for a new attempt, delete %s (or name another --journal file)",
        require("seedance.journal").shown(args.journal), paid.id, require("seedance.journal").shown(args.journal))
    end
    return nil
  end
  local resume = M.resume_command(paid.id, args, paid.saved)
  return string.format("task %s was paid for; pick it up with: %s", paid.id, resume), resume
end

--- What an error line met after paying ends with: "; task ID was paid for;
-- pick it up with: seedance wait ID ..." ("" when nothing was paid for).
-- @tparam table ctx the command's context (`paid`)
-- @treturn string
function M.paid_suffix(ctx)
  local note = paid_note(ctx, { type = "io_error" })
  return note and ("; " .. note) or ""
end

--- Report an error: one line on standard error (plus one line per problem of
-- a request with several), or a JSON object on standard output with --json.
-- After a task was paid for (`ctx.paid = { id, args }`), the line names the
-- task and the command that fetches its result (in JSON: `task_id`, `resume`).
-- @tparam table ctx the command's context (`out`, `err`, `json`, `paid`)
-- @tparam table err a seedance error (or the command's own `usage_error`)
-- @treturn integer the exit code
function M.report(ctx, err)
  local note, resume = paid_note(ctx, err)
  local key
  if not ctx.paid and ctx.argv and M.maybe_paid(err) then
    key = err.idempotency_key
    note, resume = M.unanswered_note(ctx, key)
  end
  local message = hints.apply(err, M.advice(err.message), ctx)
  if ctx.json then
    local problems
    if type(err.errors) == "table" then
      problems = {}
      for i, p in ipairs(err.errors) do problems[i] = { field = p.field, message = M.advice(p.message) } end
    end
    M.json(ctx.out, { error = { type = err.type, message = message .. (note and ("; " .. note) or ""),
      status = err.status, errors = problems, task_id = err.task_id or (ctx.paid and ctx.paid.id),
      idempotency_key = key, resume = resume } })
  else
    local head = err.type == "usage_error" and message
      or (err.type .. (err.status and (" (HTTP " .. M.number(err.status) .. ")") or "") .. ": " .. message)
    local lines = { "seedance: " .. M.line(head .. (note and ("; " .. note) or "")) }
    for _, p in ipairs(M.problems(err)) do
      lines[#lines + 1] = "  " .. M.line(tostring(p.field) .. ": " .. M.advice(p.message))
    end
    if ctx.show then ctx.show:clear() end
    M.tell(ctx, table.concat(lines, "\n"))
  end
  return exit.code(err)
end

--- Write a message (one or more lines) to standard error; when standard error
-- cannot be written (its reader went away), to standard output instead, so
-- a task paid for is still named where it can be.
-- @tparam table ctx the command's context (`err`, `out`: checked streams)
-- @tparam string text without its last newline
function M.tell(ctx, text)
  ctx.err:write(text, "\n")
  if ctx.err.failed then ctx.out:write(text, "\n") end
end

--- The problems of a validation error worth listing under its message: all of
-- them when there are several, none when the message already says the only one.
-- @tparam table err
-- @treturn table
function M.problems(err)
  local list = type(err.errors) == "table" and err.errors or {}
  if #list == 1 and tostring(err.message):find(tostring(list[1].message), 1, true) then return {} end
  return list
end

return M
