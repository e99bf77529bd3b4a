--- The request flags of `seedance generate`, made from the validator's own
-- field table (`core.request_fields()`), and the request they build. A field
-- the validator learns gets a flag without a change here: scalars map to
-- `--name-with-dashes`, lists to the names below (or a repeatable
-- `--name-with-dashes` when a new list has none).
-- @module seedance.cli.request
-- @local

local core = require("seedance.core")
local errors = require("seedance.errors")
local files = require("seedance.files")
local json = require("seedance.json")
local numbers = require("seedance.numbers")
local paths = require("seedance.paths")
local library_request = require("seedance.request")
local seedance = require("seedance")
local text = require("seedance.cli.text")

local M = {}

-- Lists get flags that read as a user thinks of them. `role` entries fill image_with_roles.
local LIST_FLAGS = {
  tools = { { name = "--web-search", kind = "flag", doc = "add the web_search tool",
              value = function() return { type = "web_search" } end } },
  image_urls = { { name = "--image", arg = "PATH|URL", doc = "a reference image (repeatable); a local file is uploaded",
                   image = true } },
  image_with_roles = {
    { name = "--first-frame", arg = "PATH|URL", role = "first_frame", single = true,
      doc = "use this image as the first frame (a local file is uploaded)" },
    { name = "--last-frame", arg = "PATH|URL", role = "last_frame", single = true,
      doc = "use this image as the last frame (a local file is uploaded); to save the result's last frame, "
        .. "see --save-last-frame" },
    { name = "--reference-image", arg = "PATH|URL", role = "reference_image",
      doc = "a reference image with its role (repeatable)" },
  },
  video_urls = { { name = "--video", arg = "URL", doc = "a reference video (repeatable)" } },
  audio_urls = { { name = "--audio", arg = "URL", doc = "a reference audio (repeatable)" } },
}

local ARGNAMES = { model = "NAME", prompt = "TEXT", duration = "SECONDS", size = "RATIO", resolution = "RES",
                   seed = "N" }

--- The request's defaults the command applies (the config file's `model` and
-- `resolution` take their place): the model; a resolution left out is the service's.
M.DEFAULTS = { model = "doubao-seedance-2.0" }

-- What the command's help says of a field where the validator's line is meant for a request table.
local DOCS = {
  model = "doubao-seedance-2.0 (the default, or the config file's model), -fast, -face or -fast-face",
  resolution = "480p, 720p or 1080p (1080p only on doubao-seedance-2.0 and -face); default the config "
    .. "file's resolution, else the service's 480p",
}

--- Every request flag: `{ name, field, kind = "option"|"flag"|"list", arg, doc, target,
-- integer, image, role, single, value, values }`, in the validator's field order (`values`: the
-- values of an enum field, for completion).
-- @treturn table
function M.flags()
  local out = {}
  for _, f in ipairs(core.request_fields()) do
    local dashed = "--" .. f.name:gsub("_", "-")
    if f.type == "array" then
      local list = LIST_FLAGS[f.name] or { { name = dashed, arg = "VALUE", doc = f.doc .. " (repeatable)" } }
      for _, l in ipairs(list) do
        local flag = { field = f.name, kind = l.kind or (l.single and "option" or "list") }
        for k, v in pairs(l) do flag[k] = v end
        out[#out + 1] = flag
      end
    else
      out[#out + 1] = { name = dashed, field = f.name, kind = f.type == "boolean" and "flag" or "option",
        arg = ARGNAMES[f.name] or (f.type == "integer" and "N" or "VALUE"), doc = DOCS[f.name] or f.doc,
        integer = f.type == "integer", values = f.values }
    end
  end
  for _, flag in ipairs(out) do flag.target = "request:" .. flag.name:sub(3) end
  return out
end

local function usage(fmt, ...)
  return errors.new{ type = "usage_error", retryable = false, message = string.format(fmt, ...) }
end

--- The refusal of `-` where it would be a file named "-": only --request and
-- `validate` read standard input; no flag writes standard output.
-- @tparam string flag
-- @treturn seedance.Error `usage_error`
function M.no_dash(flag)
  return usage("%s -: only --request reads standard input, and the command writes no file to standard output; "
    .. "name a file (./- for one named '-')", flag)
end

-- A URL stays a URL; anything else is a local file to upload.
local function image_ref(v, flag)
  if v:match("^%a[%w+.-]*://") or v:match("^data:") then return v end
  if v == "-" then return nil, M.no_dash(flag) end
  return seedance.file(v)
end

-- lua-cjson's names of what it expected and found, in words.
local JSON_WORDS = {
  ["object key string"] = "a key in double quotes", colon = "':'", ["comma or object end"] = "',' or '}'",
  ["comma or array end"] = "',' or ']'", ["the end"] = "the end of the file", value = "a value",
  T_OBJ_BEGIN = "'{'", T_OBJ_END = "'}'", T_ARR_BEGIN = "'['", T_ARR_END = "']'", T_STRING = "a string",
  T_NUMBER = "a number", T_BOOLEAN = "true or false", T_NULL = "null", T_COLON = "':'", T_COMMA = "','",
  T_END = "the end of the file",
}

-- What to do about a JSON mistake, by what was expected and found.
local JSON_FIXES = {
  ["object key string/T_OBJ_END"] = "remove the comma before it",
  ["value/T_ARR_END"] = "remove the comma before it",
  ["object key string/invalid token"] = "a key is written in double quotes (\"key\")",
  ["comma or object end/T_STRING"] = "a comma is missing before it",
  ["comma or array end/T_STRING"] = "a comma is missing before it",
  ["comma or array end/T_NUMBER"] = "a comma is missing before it",
  ["the end/T_OBJ_END"] = "there is one '}' too many",
  ["value/invalid token"] = "a string is written in double quotes; true, false and null in lower case",
}

--- lua-cjson's message about text that is not JSON, as an editor shows a
-- place: "LINE:COLUMN: not valid JSON: expected ..., found ...; the fix" (the
-- column counts characters, not bytes). A message it does not know follows
-- "not valid JSON: " as it is.
-- @tparam string body the text
-- @tparam string message lua-cjson's
-- @treturn string
function M.json_problem(body, message)
  local expected, found, at = message:match("^Expected (.-) but found (.-) at character (%d+)$")
  if not expected then return " not valid JSON: " .. message end
  at = math.min(tonumber(at), #body + 1)
  local before = body:sub(1, at - 1)
  local line = select(2, before:gsub("\n", "")) + 1
  local start = before:match(".*\n()") or 1
  local column = #before:sub(start):gsub("[\128-\191]", "") + 1
  local fix = JSON_FIXES[expected .. "/" .. found]
  return string.format("%d:%d: not valid JSON: expected %s, found %s%s", line, column, JSON_WORDS[expected] or expected,
    JSON_WORDS[found] or found, fix and ("; " .. fix) or "")
end

--- Read a request from a JSON file (`-` for standard input).
-- @tparam string path
-- @treturn[1] table the request
-- @treturn[2] nil
-- @treturn[2] seedance.Error `io_error` (unreadable) or `validation_error` (not JSON: its line and column;
--   not an object; UTF-16)
function M.read(path)
  local body, err = text.read(path, { stdin = true, format_error = "validation_error" })
  if not body then return nil, err end
  local name = path == "-" and "standard input" or path
  local obj, jerr = json.decode(body)
  local why
  if body:match("^%s*$") then
    why = string.format("%s is not a JSON object: it is empty", name)
  elseif jerr then
    why = name .. ":" .. M.json_problem(body, jerr)
  elseif type(obj) ~= "table" or (next(obj) ~= nil and obj[1] ~= nil) then
    why = string.format("%s is not a JSON object: it holds %s; a request is { \"model\": ..., ... }", name,
      type(obj) == "table" and "a list" or ("a " .. type(obj)))
  end
  if why then return nil, errors.new{ type = "validation_error", retryable = false, message = why } end
  return obj
end

--- Why a value cannot be a request default (`model`, `resolution` in the
-- config file): the validator's own words, or nil when it is fine.
-- @tparam string field "model" or "resolution"
-- @tparam string value
-- @treturn string|nil
function M.check_value(field, value)
  local req = { model = M.DEFAULTS.model, prompt = "x" }
  req[field] = value
  local ok, err = seedance.validate(req)
  if ok then return nil end
  for _, p in ipairs(err.errors) do
    if p.field == field then return p.message end
  end
  return nil
end

--- Build the request from the parsed flags (and --request FILE, whose keys
-- the flags override); a model or resolution neither gives comes from
-- `defaults` (the config file's), else `DEFAULTS`.
-- @tparam table args the parsed flags
-- @tparam[opt] table defaults `model`, `resolution`
-- @tparam[opt] table used filled with the names of the `defaults` the request took (`used.model = true`)
-- @treturn[1] table the request
-- @treturn[2] nil
-- @treturn[2] seedance.Error `usage_error`, `io_error` (--request unreadable) or `validation_error` (not JSON)
function M.build(args, defaults, used)
  defaults, used = defaults or {}, used or {}
  local req = {}
  if args.request then
    local obj, err = M.read(args.request)
    if not obj then return nil, err end
    req = obj
  end
  local ok, err = M.apply_flags(req, args)
  if not ok then return nil, err end
  for _, name in ipairs{ "model", "resolution" } do
    if req[name] == nil and defaults[name] ~= nil then req[name], used[name] = defaults[name], true end
  end
  if req.model == nil then req.model = M.DEFAULTS.model end
  return req
end

--- Set the request keys the flags give into `req` (`--save-last-frame` sets
-- return_last_frame): what `build` does after reading --request, and the
-- defaults of a batch's lines.
-- @tparam table req
-- @tparam table args the parsed flags
-- @treturn[1] table req
-- @treturn[2] nil
-- @treturn[2] seedance.Error `usage_error`
function M.apply_flags(req, args)
  local roles
  for _, flag in ipairs(M.flags()) do
    local v = args[flag.target]
    if type(v) == "table" and #v == 0 then v = nil end   -- a repeatable flag not given
    if flag.kind == "flag" then
      if v then req[flag.field] = flag.value and { flag.value() } or true end
    elseif flag.kind == "option" and v ~= nil and not flag.role then
      if flag.integer then
        local n = numbers.parse(v)
        if not n or n ~= math.floor(n) then return nil, usage("%s must be a whole number, got '%s'", flag.name, v) end
        v = n
      end
      req[flag.field] = v
    elseif flag.role and v ~= nil then
      roles = roles or {}
      for _, x in ipairs(flag.single and { v } or v) do
        local url, err = image_ref(x, flag.name)
        if not url then return nil, err end
        roles[#roles + 1] = { url = url, role = flag.role }
      end
    elseif flag.kind == "list" and v ~= nil then
      local list = {}
      for i, x in ipairs(v) do
        local item, err = x, nil
        if flag.image then item, err = image_ref(x, flag.name) end
        if not item then return nil, err end
        list[i] = item
      end
      req[flag.field] = list
    end
  end
  if roles then req.image_with_roles = roles end
  if args.save_last_frame then req.return_last_frame = true end
  return req
end

--- A request's images given as local paths (in a batch's JSON lines, as `--image PATH` takes them)
-- made `seedance.file` markers: every string of `image_urls` and `image_with_roles[i].url` that is
-- no URL (no `scheme://`, no `data:`). The request is changed in place.
-- @tparam table req
-- @treturn table req
function M.path_images(req)
  local function ref(v)
    if type(v) == "string" and v ~= "" and not v:match("^%a[%w+.-]*://") and not v:match("^data:")
       and not v:find("\0", 1, true) then
      return seedance.file(v)
    end
    return v
  end
  if type(req.image_urls) == "table" then
    for i, v in ipairs(req.image_urls) do req.image_urls[i] = ref(v) end
  end
  if type(req.image_with_roles) == "table" then
    for _, r in ipairs(req.image_with_roles) do
      if type(r) == "table" then r.url = ref(r.url) end
    end
  end
  return req
end

--- The local files a run reads or keeps, for `check_outputs`: the images a
-- request uploads, and the --request, --api-key-file and --journal files.
-- @tparam[opt] table req the request (its `seedance.file` images)
-- @tparam table args the parsed flags
-- @treturn table `{ { label, path, writes = boolean }, ... }`
function M.inputs(req, args)
  args = args or {}
  local list = {}
  for _, marker in ipairs(req and library_request.local_images(req) or {}) do
    list[#list + 1] = { "the image", marker.path }
  end
  if args.request and args.request ~= "-" then list[#list + 1] = { "--request", args.request } end
  if args.api_key_file then list[#list + 1] = { "--api-key-file", args.api_key_file } end
  if args.model_rules then list[#list + 1] = { "--model-rules", args.model_rules } end
  if args.journal and not require("seedance.journal").is_url(args.journal) then
    list[#list + 1] = { "--journal", args.journal, writes = true }
  end
  return list
end

--- The checks made before paying: the request against the service's rules
-- (unless `validate` is false), every local input readable and an image, and
-- every output path writable, free (unless --force) and no file the run reads or keeps (see `check_outputs`).
-- @tparam table req
-- @tparam table outputs paths the command will write, by flag (`["-o"] = path`)
-- @tparam boolean validate
-- @tparam table args the parsed flags (for the files the run reads, `inputs`; `force`)
-- @tparam[opt] boolean rerun a re-run with its journal (an existing output may be its own result)
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.preflight(req, outputs, validate, args, rerun)
  args = args or {}
  if validate then
    local ok, err = seedance.validate(req)
    if not ok then return nil, err end
  end
  local ok, err = files.check_inputs(req)
  if not ok then return nil, err end
  return M.check_outputs(outputs, M.inputs(req, args), args.force or rerun)
end

--- Check the output paths: writable (`files.check_output`), no file there
-- already (unless `force`: a download never replaces a file silently), and
-- none of them naming, in any spelling, another output, its partial file, or
-- a file the run reads or keeps (`seedance.paths`).
-- @tparam table outputs `{ [flag] = path }`
-- @tparam[opt] table inputs as `inputs` returns
-- @tparam[opt] boolean force whether an existing file may be replaced (--force)
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.check_outputs(outputs, inputs, force)
  local list = {}
  for _, flag in ipairs{ "-o", "--save-last-frame" } do
    local path = outputs[flag]
    if path then
      if path == "-" then return nil, M.no_dash(flag) end
      local ok, err = files.check_output(path)
      if not ok then return nil, err end
      list[#list + 1] = { flag, path }
    end
  end
  local ok, why = paths.check(list, inputs or {})
  if not ok then return nil, usage("%s", why) end
  for _, out in ipairs(force and {} or list) do
    if core.stat(out[2]) then
      return nil, usage("%s %s: the file exists; pass --force to replace it, or choose another name", out[1], out[2])
    end
  end
  return true
end

return M
