--- A request table to the JSON body of a submit: `seedance.file` markers
-- become the URLs of their uploads, and every list field is a JSON array
-- whatever its length (`seedance.json`, as lua-cjson 2.1, writes an empty table as `{}`).
-- A valid request with no markers is written by the validator's own walk
-- (`core.validate_encode`, src/validate_json.c); any other goes through
-- `seedance.json` here (numbers written the same under any locale).
-- @module seedance.request

local core = require("seedance.core")
local errors = require("seedance.errors")
local json = require("seedance.json")

local M = {}

--- The request keys whose values are lists (from the validator's field table).
M.LIST_FIELDS = {}
--- The request keys whose lists hold image URLs, from the validator's field table:
-- `{ name, url_key }`, where url_key names the key of each item that holds the URL
-- (`image_with_roles`' `url`) and is nil when the items are the URLs (`image_urls`).
M.IMAGE_FIELDS = {}
-- the key of an item that holds its URL, by list field
local URL_KEY = {}
for _, f in ipairs(core.request_fields()) do
  if f.type == "array" then M.LIST_FIELDS[f.name] = true end
  if f.media == "image" then M.IMAGE_FIELDS[#M.IMAGE_FIELDS + 1] = { name = f.name, url_key = f.url_key } end
  URL_KEY[f.name] = f.url_key
end

--- Every local image a request reads: the `seedance.file` markers wherever the
-- validator's field table says an image URL goes, in the order they stand.
-- What is not a list or not an item is passed over (the validator says so).
-- @tparam table request
-- @treturn table the markers (`marker.path` each)
function M.local_images(request)
  local out = {}
  for _, f in ipairs(M.IMAGE_FIELDS) do
    local list = request[f.name]
    if type(list) == "table" and not core.is_file(list) then
      for _, item in ipairs(list) do
        local v = item
        if f.url_key then v = type(item) == "table" and not core.is_file(item) and item[f.url_key] or nil end
        if core.is_file(v) then out[#out + 1] = v end
      end
    end
  end
  return out
end

-- Stands for an empty list until the JSON text is written: a string no request
-- can hold (NUL bytes and a random part, made once per process).
local EMPTY = "\0seedance-empty-list-" .. core.random_hex(8) .. "\0"
local EMPTY_JSON = json.encode(EMPTY)
local EMPTY_PATTERN = EMPTY_JSON:gsub("%p", "%%%0")

-- A shallow copy of a list whose markers are replaced by url_of(marker); url_key
-- names the key of each item that holds its URL, for lists of objects.
local function resolve_list(list, url_of, url_key)
  local out = {}
  for i, v in ipairs(list) do
    if url_key and type(v) == "table" and not core.is_file(v) then
      local item = {}
      for k, x in pairs(v) do item[k] = x end
      if core.is_file(item[url_key]) then
        local url, err = url_of(item[url_key])
        if not url then return nil, err end
        item[url_key] = url
      end
      out[i] = item
    elseif core.is_file(v) then
      local url, err = url_of(v)
      if not url then return nil, err end
      out[i] = url
    else
      out[i] = v
    end
  end
  return out
end

--- A deep copy of a request as it stands now, read with raw accesses (as the
-- validator reads it): what a submit checks and then sends, whatever the caller
-- changes while the submit waits for a max_in_flight slot or its uploads.
-- `seedance.file` markers are copied as markers; other tables lose their
-- metatables; a table met twice (a cycle) is copied once. Past a depth no
-- request has (nor JSON writer takes: seedance.json stops at 1000), tables are kept as they are.
-- @tparam table request
-- @treturn table
function M.copy(request)
  local seen = {}
  local function copy(t, depth)
    if seen[t] then return seen[t] end
    if depth > 64 then return t end
    local out = {}
    seen[t] = out
    if core.is_file(t) then setmetatable(out, getmetatable(t)) end
    local k, v = next(t)
    while k ~= nil do
      rawset(out, k, type(v) == "table" and copy(v, depth + 1) or v)
      k, v = next(t, k)
    end
    return out
  end
  return copy(request, 1)
end

--- Validate a request and write its JSON body in the same walk: what a submit
-- with validation on calls (one C call; `core.validate_encode`).
-- @function check
-- @tparam table request
-- @treturn[1] true
-- @treturn[1] string|nil the JSON body; nil when the request names `seedance.file` images
-- (or holds a URL that is not UTF-8): `M.encode` writes those
-- @treturn[2] nil
-- @treturn[2] table the problems, as `core.validate` lists them
M.check = core.validate_encode

--- The JSON body of a request.
-- @tparam table request
-- @tparam function url_of `url_of(marker)` uploads a `seedance.file` and returns its URL (or nil, err)
-- @treturn[1] string the JSON text
-- @treturn[2] nil
-- @treturn[2] seedance.Error the upload's error, or a `validation_error` when it is not JSON-able
function M.encode(request, url_of)
  local body = core.encode_request(request) -- nil unless valid and free of markers
  if body then return body end
  local copy = {}
  for k, v in pairs(request) do
    if M.LIST_FIELDS[k] and type(v) == "table" and not core.is_file(v) then
      local list, err = resolve_list(v, url_of, URL_KEY[k])
      if not list then return nil, err end
      copy[k] = next(list) == nil and EMPTY or list
    else
      copy[k] = v
    end
  end
  local jerr
  body, jerr = json.encode(copy)
  if not body then
    return nil, errors.new{ type = "validation_error", retryable = false,
      message = "request cannot be encoded as JSON: " .. tostring(jerr),
      errors = { { field = "request", message = tostring(jerr) } } }
  end
  if body:find(EMPTY_JSON, 1, true) then body = body:gsub(EMPTY_PATTERN, "[]") end
  return body
end

return M
