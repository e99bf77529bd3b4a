--- Reading the service's task object: a poll's answer the Lua layer decoded
-- (one the engine did not read in C, src/answer.c), turned into the fields a
-- task handle keeps, each checked (what does not fit is left out: no value of
-- any type or size makes these raise); and the errors a task's answer says
-- (no data object, an answer about another task, a task that failed). Pure:
-- no IO, no handle; `seedance.task` applies what these return.
-- @module seedance.task_answer
-- @local

local core = require("seedance.core")
local errors = require("seedance.errors")
local http = require("seedance.http")

local M = {}

-- v when it is a finite number within [lo, hi], else nil.
local function number_in(v, lo, hi)
  if type(v) ~= "number" or v ~= v or v < lo or v > hi then return nil end
  return v
end

-- First string of a string-or-array URL field.
local function first_url(v)
  if type(v) == "string" and v ~= "" then return v end
  if type(v) == "table" and type(v[1]) == "string" and v[1] ~= "" then return v[1] end
  return nil
end

-- The last frame's URL, from the places API.md section 2 lists, in order.
local function last_frame(result)
  local u = first_url(result.last_frame_url)
  if u then return u end
  if type(result.videos) == "table" then
    for _, v in ipairs(result.videos) do
      u = type(v) == "table" and first_url(v.last_frame_url)
      if u then return u end
    end
  end
  if type(result.images) == "table" and type(result.images[1]) == "table" then
    return first_url(result.images[1].url)
  end
  return nil
end

-- A service error object with its strings made printable (valid UTF-8, key masked), nested ones too.
local function clean_error(redact, e, depth)
  local out = {}
  for k, v in pairs(e) do
    if type(v) == "string" then v = redact(core.utf8_clean(v))
    elseif type(v) == "table" then v = depth < 8 and clean_error(redact, v, depth + 1) or nil end
    out[k] = v
  end
  return out
end

--- A service error object with its strings made printable (valid UTF-8) and masked.
-- @tparam function redact masks the API key in a string (the client context's `redact`)
-- @tparam table e the service's error object
-- @treturn table a copy (nested tables to a depth of 8)
function M.clean_error(redact, e)
  return clean_error(redact, e, 0)
end

--- The fields of a task object as a task handle's `_set` takes them, each
-- checked (nil: the object did not give it, or gave what does not fit).
-- @tparam table data the answer's `data` object
-- @return status, progress, estimated_time, created, completed, actual_time, result, the first
--   video's URL (false: none), its expiry, the last frame's URL (false: none), the error object
function M.fields(data)
  local p = number_in(data.progress, -1e9, 1e9)
  if p then p = math.floor(math.max(0, math.min(100, p))) end
  local c, d = number_in(data.created, 0, 1e11), number_in(data.completed, 0, 1e11)
  local result, video, expires, frame = type(data.result) == "table" and data.result or nil, nil, nil, nil
  if result then
    local v = type(result.videos) == "table" and result.videos[1]
    if type(v) == "table" then
      video = first_url(v.url) or false
      local e = number_in(v.expires_at, 0, 1e11)
      expires = e and math.floor(e)
    end
    frame = last_frame(result) or false
  end
  return type(data.status) == "string" and #data.status <= 64 and data.status or nil, p,
    number_in(data.estimated_time, 0, 1e8), c and math.floor(c), d and math.floor(d),
    number_in(data.actual_time, 0, 1e8), result, video, expires, frame,
    type(data.error) == "table" and data.error or nil
end

--- The `data` object of a poll's decoded answer about task `id`, or nil and the error
-- (`server_error`, retryable: no data object; an answer about another task, counted as undecodable).
-- @tparam table obj the decoded answer
-- @tparam string id the task polled
-- @treturn table|nil data
-- @treturn seedance.Error|nil
function M.data(obj, id)
  if type(obj.data) ~= "table" then
    return nil, errors.new{ type = "server_error", retryable = true, task_id = id,
      message = "task answer has no data object" }
  end
  local about = obj.data.id or obj.data.task_id
  if about ~= nil and about ~= id then
    -- an answer about another task (a cache keyed without the path, say): never this task's state;
    -- counted like an undecodable answer, so a wait does not go on reading them for ever
    return nil, errors.new{ type = "server_error", retryable = true, undecodable = true, task_id = id,
      message = "the answer to a poll of task " .. id .. " is about " .. http.excerpt(tostring(about)) }
  end
  return obj.data
end

--- The error of a task that ended failed or cancelled; a failure for sensitive content is
-- `kind = "moderation"` with the `input` the service names (`seedance.errors.moderation`).
-- @tparam string id the task
-- @tparam string status its status
-- @tparam[opt] table err the service's error object
-- @treturn seedance.Error `task_failed`
function M.failure(id, status, err)
  local e = type(err) == "table" and err or {}
  return errors.classify(errors.new{
    type = "task_failed", retryable = false, task_id = id,
    code = e.code, service_type = e.type, service_error = err,
    message = string.format("task %s %s: %s", id, status, tostring(e.message or "no reason given")),
  }, e)
end

return M
