--- What `seedance batch FILE` reads and checks before paying: the JSON lines
-- of FILE (one request object per line, blank lines skipped, an item known by
-- its line number), the request flags as defaults each line overrides, every
-- line validated, and every input and output checked (readable, writable, no
-- file another's under another spelling), then the plan a dry run prints.
-- @module seedance.cli.batch_input
-- @local

local core = require("seedance.core")
local errors = require("seedance.errors")
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
      if not is_object(obj) then
        local what = jerr and (": " .. jerr) or type(obj) == "table" and ": a JSON array"
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
  if #problems > 0 then return nil, M.problems(problems, args.file) end
  if #items == 0 then
    return nil, errors.new{ type = "usage_error", retryable = false,
      message = string.format("%s holds no request (one JSON object per line)", args.file) }
  end
  return items
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
  if args.no_validate then return true end
  local problems = {}
  for _, item in ipairs(items) do
    local ok, err = seedance.validate(item.request)
    if not ok then
      for _, p in ipairs(err.errors) do
        problems[#problems + 1] = { line = item.line, field = p.field, message = p.message }
      end
    end
  end
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
  local ok1, a = pcall(string.format, pattern, 1)
  local ok2, b = pcall(string.format, pattern, 2)
  if pattern == "-" or pattern:find("\0", 1, true) or not (ok1 and ok2) or a == b then
    return nil, errors.new{ type = "usage_error", retryable = false, message = string.format(
      "%s %s: give a printf pattern that takes each item's line number once, e.g. out/%%03d.mp4", flag, pattern) }
  end
  return true
end

--- The journal keys of the items (`hash#n`, the n-th equal request), as the
-- batch takes them from its journal.
-- @tparam table items
-- @treturn table keys by index
function M.keys(items)
  local counts, keys = {}, {}
  for i, item in ipairs(items) do
    local h = journal.hash(item.request)
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
  local keys = jrnl and M.keys(items)
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
    for _, o in ipairs{ { args.output, outs, "output" }, { args.save_last_frame, frames, "last frame" } } do
      if o[1] then
        local path = string.format(o[1], line)
        o[2][i] = path
        local wok, werr = files.check_output(path)
        if not wok then
          problem(line, werr.message, werr.type)
        else
          local added, why = set:add(string.format("line %d's %s %s", line, o[3], path), path, { output = true })
          if not added then problem(line, why, "usage_error") end
          if files.size(path) and not (entry and entry.status == "completed") then
            problem(line, string.format("%s already exists, and the journal did not save it from this line's "
              .. "task: the batch never overwrites a file it did not make; move it away, or choose another "
              .. "pattern", path), "io_error")
          end
        end
      end
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
  local keys = jrnl and M.keys(items)
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
    local failed = e and (e.refused or e.status == "failed" or e.status == "cancelled")
    local moderated = failed and (errors.moderation(e.refused or (type(e.error) == "table" and e.error) or {}))
    if e and e.abandoned then state.abandoned = state.abandoned + 1
    elseif failed and not (args.retry_failed and (args.retry_moderated or not moderated)) then
      state.failed = state.failed + 1
    elseif e and e.status == "completed" then state.done = state.done + 1
    elseif e and e.task_id and not failed then state.running = state.running + 1
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
