--- The request flags of `seedance generate`, made from the validator's own
-- field table (`core.request_fields()`), and the request they build. A field
-- the validator learns gets a flag without a change here: scalars map to
-- `--name-with-dashes`, lists to the names below (or a repeatable
-- `--name-with-dashes` when a new list has none).
-- @module seedance.cli.request
-- @local

local cjson = require("cjson.safe")
local core = require("seedance.core")
local errors = require("seedance.errors")
local files = require("seedance.files")
local seedance = require("seedance")

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

--- Every request flag: `{ name, field, kind = "option"|"flag"|"list", arg, doc, target,
-- integer, image, role, single, value }`, in the validator's field order.
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
        arg = ARGNAMES[f.name] or (f.type == "integer" and "N" or "VALUE"), doc = f.doc,
        integer = f.type == "integer" }
    end
  end
  for _, flag in ipairs(out) do flag.target = "request:" .. flag.name:sub(3) end
  return out
end

-- A URL stays a URL; anything else is a local file to upload.
local function image_ref(v)
  if v:match("^%a[%w+.-]*://") or v:match("^data:") then return v end
  return seedance.file(v)
end

local function usage(fmt, ...)
  return errors.new{ type = "usage_error", retryable = false, message = string.format(fmt, ...) }
end

--- Read a request from a JSON file (`-` for standard input).
-- @tparam string path
-- @treturn[1] table the request
-- @treturn[2] nil
-- @treturn[2] seedance.Error `io_error` (unreadable) or `validation_error` (not a JSON object)
function M.read(path)
  local text, ferr
  if path == "-" then
    text = io.stdin:read("*a")
  else
    local f
    f, ferr = io.open(path, "rb")
    text = f and f:read("*a")
    if f then f:close() end
  end
  if not text then
    return nil, errors.new{ type = "io_error", retryable = false, message = string.format("cannot read %s (%s)",
      path, tostring(ferr or "is a folder"):match(": ([^:]+)$") or tostring(ferr or "is a folder")) }
  end
  local obj, jerr = cjson.decode(text)
  if type(obj) ~= "table" then
    return nil, errors.new{ type = "validation_error", retryable = false,
      message = path .. " is not a JSON object" .. (jerr and (": " .. jerr) or "") }
  end
  return obj
end

--- Build the request from the parsed flags (and --request FILE, whose keys the flags override).
-- @tparam table args the parsed flags
-- @treturn[1] table the request
-- @treturn[2] nil
-- @treturn[2] seedance.Error `usage_error`, `io_error` (--request unreadable) or `validation_error` (not JSON)
function M.build(args)
  local req = {}
  if args.request then
    local obj, err = M.read(args.request)
    if not obj then return nil, err end
    req = obj
  end
  local roles
  for _, flag in ipairs(M.flags()) do
    local v = args[flag.target]
    if type(v) == "table" and #v == 0 then v = nil end   -- a repeatable flag not given
    if flag.kind == "flag" then
      if v then req[flag.field] = flag.value and { flag.value() } or true end
    elseif flag.kind == "option" and v ~= nil and not flag.role then
      if flag.integer then
        local n = tonumber(v)
        if not n or n ~= math.floor(n) then return nil, usage("%s must be a whole number, got '%s'", flag.name, v) end
        v = n
      end
      req[flag.field] = v
    elseif flag.role and v ~= nil then
      roles = roles or {}
      for _, x in ipairs(flag.single and { v } or v) do
        roles[#roles + 1] = { url = image_ref(x), role = flag.role }
      end
    elseif flag.kind == "list" and v ~= nil then
      local list = {}
      for i, x in ipairs(v) do list[i] = flag.image and image_ref(x) or x end
      req[flag.field] = list
    end
  end
  if roles then req.image_with_roles = roles end
  if args.save_last_frame then req.return_last_frame = true end
  if req.model == nil then req.model = "doubao-seedance-2.0" end
  return req
end

--- The checks made before paying: the request against the service's rules
-- (unless `validate` is false), every local input readable and an image, and
-- every output path writable (its folder exists, it is not a folder).
-- @tparam table req
-- @tparam table outputs paths the command will write, by flag (`["-o"] = path`)
-- @tparam boolean validate
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.preflight(req, outputs, validate)
  if validate then
    local ok, err = seedance.validate(req)
    if not ok then return nil, err end
  end
  local ok, err = files.check_inputs(req)
  if not ok then return nil, err end
  return M.check_outputs(outputs)
end

--- Check the output paths: writable, and not two flags naming one file.
-- @tparam table outputs `{ [flag] = path }`
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.check_outputs(outputs)
  local seen = {}
  for _, flag in ipairs{ "-o", "--save-last-frame" } do
    local path = outputs[flag]
    if path then
      if seen[path] then return nil, usage("%s and %s name the same file %s", seen[path], flag, path) end
      seen[path] = flag
      local ok, err = files.check_output(path)
      if not ok then return nil, err end
    end
  end
  return true
end

return M
