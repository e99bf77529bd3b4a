--- What `seedance batch FILE` reads and checks before paying: the JSON lines
-- of FILE (one request object per line, blank lines skipped, an item known by
-- its line number), the request flags as defaults each line overrides, every
-- line validated, and every input and output checked (readable, writable, no
-- file another's under another spelling), then the plan a dry run prints.
-- @module seedance.cli.batch_input
-- @local

local core = require("seedance.core")
local errors = require("seedance.errors")
local fanout = require("seedance.pipeline.fanout")
local files = require("seedance.files")
local journal = require("seedance.journal")
local json = require("seedance.json")
local paths = require("seedance.paths")
local request = require("seedance.cli.request")
local seedance = require("seedance")
local text = require("seedance.cli.text")

local M = {}

-- A shallow copy.
local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- Whether a decoded JSON value is an object (lua-cjson gives arrays and objects both as tables).
local function is_object(v)
  if type(v) ~= "table" then return false end
  if next(v) == nil then return true end
  for k in pairs(v) do
    if type(k) == "string" then return true end
  end
  return false
end

-- Every problem the validator finds in the items (none with --no-validate), as `{ line, field, message }`.
local function validation_problems(items, args)
  local problems = {}
  if args.no_validate then return problems end
  for _, item in ipairs(items) do
    local ok, err = seedance.validate(item.request)
    if not ok then
      for _, p in ipairs(err.errors) do
        problems[#problems + 1] = { line = item.line, field = p.field, message = p.message }
      end
    end
  end
  return problems
end

--- Read the batch's items: `{ { line = N, request = table }, ... }` in file
-- order, each request the flags' defaults with the line's keys over them (a
-- local image path in a line is uploaded, as `--image PATH` is).
-- @tparam table args the parsed flags
-- @tparam[opt] table config_defaults `model`, `resolution` (the config file's), for a line and flags naming none
-- @treturn[1] table items
-- @treturn[2] nil
-- @treturn[2] seedance.Error an `io_error` (unreadable), a `usage_error` (a flag), or a `validation_error`
--   whose `errors` are `{ line, field, message }` (lines that are not JSON objects)
function M.read(args, config_defaults)
  local body, err = text.read(args.file, { stdin = true, format_error = "validation_error" })
  if not body then return nil, err end
  local defaults, derr = request.apply_flags({}, args)
  if not defaults then return nil, derr end
  local fallback = config_defaults or {}
  local items, problems, line = {}, {}, 0
  for raw in (body .. "\n"):gmatch("([^\n]*)\n") do
    line = line + 1
    raw = raw:gsub("\r$", "")
    if raw:find("%S") then
      local obj, jerr = json.decode(raw)
      if not is_object(obj) or raw:match("^%s*%[") then -- ([] decodes as an empty table, as {} does)
        local what = jerr and (": " .. M.json_problem(raw, jerr)) or type(obj) == "table" and ": a JSON array"
          or obj == json.null and ": null" or (": a JSON " .. type(obj))
        problems[#problems + 1] = { line = line, field = "line", message = "not a JSON object" .. what }
      else
        local req = copy(defaults)
        for k, v in pairs(obj) do req[k] = v end
        request.path_images(req)
        if req.model == nil then req.model = fallback.model or request.DEFAULTS.model end
        if req.resolution == nil then req.resolution = fallback.resolution end
        if args.save_last_frame then req.return_last_frame = true end
        items[#items + 1] = { line = line, request = req }
      end
    end
  end
  if #problems > 0 then
    -- every problem of the file at once: the other lines' too, in line order
    for _, p in ipairs(validation_problems(items, args)) do problems[#problems + 1] = p end
    for i, p in ipairs(problems) do p.rank = i end
    table.sort(problems, function(a, b) return a.line < b.line or (a.line == b.line and a.rank < b.rank) end)
    return nil, M.problems(problems, args.file)
  end
  if #items == 0 then
    return nil, errors.new{ type = "usage_error", retryable = false,
      message = string.format("%s holds no request (one JSON object per line)", args.file) }
  end
  return items
end

--- What lua-cjson says of a line that is not JSON, as an editor shows the
-- place: "column N: expected ..., found ...; the fix".
-- @tparam string raw the line
-- @tparam string message lua-cjson's
-- @treturn string
function M.json_problem(raw, message)
  local said = request.json_problem(raw, message)
  local column, rest = said:match("^%d+:(%d+): not valid JSON: (.*)$")
  if not column then return (said:gsub("^ ", "")) end
  return string.format("column %s: %s", column, (rest:gsub("the end of the file", "the end of the line")))
end

--- The error listing problems by line (`line N: field: message`).
-- @tparam table problems `{ line, field, message }`
-- @tparam string file
-- @tparam[opt] string kind the error's type (default `validation_error`)
-- @treturn seedance.Error
function M.problems(problems, file, kind)
  local lines = {}
  for _, p in ipairs(problems) do lines[p.line] = true end
  local nlines = 0
  for _ in pairs(lines) do nlines = nlines + 1 end
  local listed = {}
  for i, p in ipairs(problems) do
    listed[i] = { line = p.line, field = "line " .. p.line .. (p.field ~= "line" and (": " .. p.field) or ""),
                  message = p.message }
  end
  local first = problems[1]
  return errors.new{ type = kind or "validation_error", retryable = false, errors = listed, message = string.format(
    "%d problem%s in %d line%s of %s, nothing was sent (first: line %d: %s%s)", #problems,
    #problems == 1 and "" or "s", nlines, nlines == 1 and "" or "s", file, first.line,
    first.field ~= "line" and (first.field .. ": ") or "", first.message) }
end

--- Validate every item (unless `--no-validate`): every problem of every line.
-- @tparam table items
-- @tparam table args
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error `validation_error` listing `line N: field: message`
function M.validate(items, args)
  local problems = validation_problems(items, args)
  if #problems > 0 then return nil, M.problems(problems, args.file) end
  return true
end

--- Check a printf pattern taking the item's line number.
-- @tparam string flag
-- @tparam string pattern
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error `usage_error`
function M.check_pattern(flag, pattern)
  -- one conversion of a whole number (d i u o x X, or s: the number's digits), flags, width and precision
  -- allowed, %% for a percent sign; never %c (a control character or '/' in a file name) nor a float
  local count, at, bad = 0, 1, nil
  while true do
    local s, e, spec = pattern:find("%%([-+ #0]*%d*%.?%d*.?)", at)
    if not s then break end
    if spec == "%" then
      at = e + 1
    else
      count = count + 1
      if not spec:match("[diuoxXs]$") then bad = bad or ("%" .. spec) end
      at = e + 1
    end
  end
  local ok1, a = pcall(string.format, pattern, 1)
  local ok2, b = pcall(string.format, pattern, 2)
  if pattern == "-" or pattern:find("\0", 1, true) or count ~= 1 or bad or not (ok1 and ok2) or a == b then
    return nil, errors.new{ type = "usage_error", retryable = false, message = string.format(
      "%s %s: give a printf pattern that takes each item's line number once, as a whole number, e.g. "
      .. "out/%%03d.mp4%s", flag, pattern, bad and (" (" .. bad .. " does not write a whole number)") or "") }
  end
  return true
end

--- The journal keys of the items (`hash#n`, the n-th equal request), as the
-- batch takes them from its journal.
-- @tparam table items
-- @tparam table jrnl the journal (`seedance.journal.read`'s)
-- @treturn table keys by index
function M.keys(items, jrnl)
  local counts, keys = {}, {}
  for i, item in ipairs(items) do
    local h = jrnl:hash_of(item.request)
    counts[h] = (counts[h] or 0) + 1
    keys[i] = h .. "#" .. counts[h]
  end
  return keys
end

--- Check every input and output before paying: each item's output and
-- last-frame paths can be written, its local images read, no file of the batch
-- is another's (outputs and their download companions, images, FILE, the
-- journal, the key file, the model rules), and no output already stands there
-- that the journal did not save from a task of that item (a re-run never
-- overwrites a file it did not make).
-- @tparam table items
-- @tparam table args the parsed flags (`output`, `save_last_frame`, `journal`, ...)
-- @tparam[opt] table jrnl the journal as `seedance.journal.read` gives it
-- @treturn[1] table output paths by index
-- @treturn[1] table last-frame paths by index
-- @treturn[2] nil
-- @treturn[2] seedance.Error listing `line N: ...`
function M.check_files(items, args, jrnl)
  local set, problems, outs, frames = paths.new(), {}, {}, {}
  local kind
  local function problem(line, message, etype)
    problems[#problems + 1] = { line = line, field = "line", message = message }
    kind = kind or etype
  end
  for _, f in ipairs{ { "the requests", args.file ~= "-" and args.file }, { "--api-key-file", args.api_key_file },
                      { "--model-rules", args.model_rules } } do
    if f[2] then set:add(f[1] .. " " .. f[2], f[2]) end
  end
  if args.journal and not journal.is_url(args.journal) then
    set:add("--journal " .. args.journal, args.journal, { writes = true })
  end
  local keys = jrnl and M.keys(items, jrnl)
  local saved_by = {} -- path -> the journal entry whose task saved it there
  local probed, folder_said = {}, {} -- folders that take a file; a folder's problem, by its words
  for _, key in ipairs(jrnl and jrnl.order or {}) do
    for path in pairs(jrnl.entries[key].downloads) do saved_by[path] = jrnl.entries[key] end
  end
  for i, item in ipairs(items) do
    local line = item.line
    local ok, err = files.check_inputs(item.request)
    if not ok then problem(line, err.message, err.type) end
    local req = item.request
    local images = {}
    for _, v in ipairs(type(req.image_urls) == "table" and req.image_urls or {}) do images[#images + 1] = v end
    for _, r in ipairs(type(req.image_with_roles) == "table" and req.image_with_roles or {}) do
      if type(r) == "table" then images[#images + 1] = r.url end
    end
    for _, v in ipairs(images) do
      if core.is_file(v) then
        local added, why = set:add(string.format("line %d's image %s", line, v.path), v.path)
        if not added then problem(line, why, "usage_error") end
      end
    end
    local entry = keys and jrnl:entry(keys[i])
    -- whether the journal's entry was submitted for this line's output (a kill between a download's rename
    -- and its record leaves a whole file the journal has not recorded yet)
    local this_line = entry and entry.status == "completed" and args.output and entry.output == string.format(
      args.output, line)
    for _, o in ipairs{ { args.output, outs, "output" }, { args.save_last_frame, frames, "last frame" } } do
      if o[1] then
        local path = string.format(o[1], line)
        o[2][i] = path
        local dir = files.dirname(path)
        local wok, werr = files.check_output(path, not probed[dir]) -- (a folder is tried for a new file once)
        local why = not wok and werr.message:sub(1, #path + 2) == path .. ": " and werr.message:sub(#path + 3)
        if not wok and why and why:find("folder", 1, true) and folder_said[why] then
          folder_said[why].more = folder_said[why].more + 1 -- the folder's problem, said once for every line
        elseif not wok then
          problem(line, werr.message, werr.type)
          if why and why:find("folder", 1, true) then
            folder_said[why] = problems[#problems]
            folder_said[why].more = 0
          end
        else
          probed[dir] = true
          local added, clash = set:add(string.format("line %d's %s %s", line, o[3], path), path, { output = true })
          if not added then problem(line, clash, "usage_error") end
          -- a file there is this line's only when the journal saved it at this very path from this line's
          -- task: another line's video (the input changed since: a line removed, moved) is never clobbered
          if files.size(path) and not (entry and (entry.downloads[path] or (this_line and not saved_by[path]))) then
            local other = saved_by[path]
            problem(line, string.format("%s already exists, and the journal did not save it from this line's "
              .. "task%s: the batch never overwrites a file it did not make; move it away, or choose another "
              .. "pattern", path, other and other.task_id and string.format(" (it saved it from task %s, of %s; "
              .. "was a line removed or moved since?)", other.task_id, other.item and string.format("line %d then",
              math.floor(other.item)) or "another request") or ""), "io_error")
          end
        end
      end
    end
  end
  for _, p in pairs(folder_said) do
    if p.more > 0 then
      p.message = string.format("%s (and the same for the outputs of %d more line%s)", p.message, p.more,
        p.more == 1 and "" or "s")
    end
  end
  if #problems > 0 then return nil, M.problems(problems, args.file, kind) end
  return outs, frames
end

--- What a dry run prints: the items by model, resolution and duration, the
-- seconds of video in all, and what a run would do given the journal.
-- @tparam table items
-- @tparam[opt] table jrnl the journal as `seedance.journal.read` gives it
-- @tparam table args
-- @treturn table `{ items, seconds, groups = { { model, resolution, duration, count } }, journal = {
--   done, running, failed, abandoned, to_pay }, to_pay_seconds }`
function M.plan(items, jrnl, args)
  local groups, by, seconds = {}, {}, 0
  local keys = jrnl and M.keys(items, jrnl)
  local state = { done = 0, running = 0, failed = 0, abandoned = 0, to_pay = 0 }
  local pay_seconds = 0
  for i, item in ipairs(items) do
    local r = item.request
    local duration = type(r.duration) == "number" and r.duration or 5
    local resolution = type(r.resolution) == "string" and r.resolution or "480p"
    local k = tostring(r.model) .. "\0" .. resolution .. "\0" .. duration
    if not by[k] then
      by[k] = { model = tostring(r.model), resolution = resolution, duration = duration, count = 0 }
      groups[#groups + 1] = by[k]
    end
    by[k].count = by[k].count + 1
    seconds = seconds + duration
    local e = keys and jrnl:entry(keys[i])
    local failed, moderated = false, false
    if e then failed, moderated = fanout.failed_try(e) end
    local expired = e and e.task_id and e.expired and not failed -- its result expired unsaved
    if e and e.abandoned then state.abandoned = state.abandoned + 1
    elseif (failed and not (args.retry_failed and (args.retry_moderated or not moderated)))
      or (expired and not args.retry_failed) then
      state.failed = state.failed + 1
    elseif e and e.status == "completed" and not expired then state.done = state.done + 1
    elseif e and e.task_id and not failed and not expired then state.running = state.running + 1
    else
      state.to_pay = state.to_pay + 1
      pay_seconds = pay_seconds + duration
    end
  end
  table.sort(groups, function(a, b)
    if a.model ~= b.model then return a.model < b.model end
    if a.resolution ~= b.resolution then return a.resolution < b.resolution end
    return a.duration < b.duration
  end)
  return { items = #items, seconds = seconds, groups = groups, journal = state, to_pay_seconds = pay_seconds }
end

return M
