--- Drive the emulator with the curl command line, a client the project did
-- not write (spec/emulator/service_spec.lua, spec/emulator/hostile_input_spec.lua).
--
--     local curl = require("helpers.curl")
--     local r = curl.http("GET", emu.url .. "/v1/balance")   -- r.status, r.headers, r.body, r.json
local cjson = require("cjson")

local process = require("helpers.process")
local luassert = require("luassert")

local M = {}

--- The key sent when a request names none.
M.KEY = "sk-spec"

--- s quoted for the shell.
M.q = process.quote

--- A whole file, or nil.
M.read_file = process.read_file

--- Write data to path.
M.write_file = process.write

--- Run a shell command: its stdout, true when it exited 0, and the code.
function M.run(cmd)
  local ok, out, code = process.run(cmd .. " 2>/dev/null")
  return out, ok, code
end

--- Assert that an answer is an error of this status whose message matches pattern.
-- @tparam table r an answer of `http`
-- @tparam number status
-- @tparam string pattern
function M.assert_error(r, status, pattern)
  luassert.equals(status, r.status, r.body)
  luassert.matches(pattern, r.json and r.json.error and r.json.error.message or r.body)
end

--- Wall clock in seconds, sub-second (date +%s.%N).
function M.now()
  return tonumber((M.run("date +%s.%N")))
end

--- One request with curl. o: key (false: no Authorization), headers (a map,
-- or a list of whole "Name: value" lines), json (a table or a raw string),
-- body (raw bytes, with its Content-Type in headers), form (a curl -F
-- argument), range, timeout. The path is sent as it is (--path-as-is).
-- Answers { status, headers (lower-cased names), body, json, exit (curl's) }.
function M.http(method, url, o)
  o = o or {}
  local q = M.q
  local hdr, out, data = os.tmpname(), os.tmpname(), nil
  local args = { "curl", "-sS", "--path-as-is", "-o", q(out), "-D", q(hdr), "-w", "'%{http_code}'", "-X", method,
                 "--max-time", tostring(o.timeout or 10) }
  local function add(...) for _, a in ipairs{ ... } do args[#args + 1] = a end end
  if o.key ~= false then add("-H", q("Authorization: Bearer " .. (o.key or M.KEY))) end
  for k, v in pairs(o.headers or {}) do
    add("-H", q(type(k) == "number" and v or k .. ": " .. v))
  end
  if o.json ~= nil or o.body ~= nil then
    data = os.tmpname()
    local raw = o.body or (type(o.json) == "table" and cjson.encode(o.json) or o.json)
    M.write_file(data, raw)
    if o.json ~= nil then add("-H", q("Content-Type: application/json")) end
    add("--data-binary", q("@" .. data))
  end
  if o.form then add("-F", q(o.form)) end
  if o.range then add("-H", q("Range: " .. o.range)) end
  add(q(url))
  local code, _, exit = M.run(table.concat(args, " ") .. " 2>/dev/null")
  local r = { status = tonumber(code), headers = {}, body = M.read_file(out) or "", exit = exit }
  for line in (M.read_file(hdr) or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then r.headers[k:lower()] = v end
  end
  local ok, decoded = pcall(cjson.decode, r.body)
  if ok then r.json = decoded end
  os.remove(hdr)
  os.remove(out)
  if data then os.remove(data) end
  return r
end

--- A valid submit body.
M.BASIC = { model = "doubao-seedance-2.0", prompt = "a kitten yawns at the camera", duration = 5 }

--- BASIC with the keys of over replaced.
function M.with(over)
  local t = {}
  for k, v in pairs(M.BASIC) do t[k] = v end
  for k, v in pairs(over or {}) do t[k] = v end
  return t
end

--- Submit body (default BASIC) with http options o; the task id (raises
-- unless the answer is 200) and the answer.
function M.submit(emu, body, o)
  o = o or {}
  o.json = body or M.BASIC
  local r = M.http("POST", emu.url .. "/v1/videos/generations", o)
  if r.status ~= 200 then error("submit answered " .. tostring(r.status) .. ": " .. r.body, 2) end
  return r.json.data[1] and r.json.data[1].task_id or r.json.data.id, r
end

--- GET /v1/tasks/{id}.
function M.poll(emu, id, o)
  return M.http("GET", emu.url .. "/v1/tasks/" .. id, o)
end

--- Poll until the task ends (bounded: at most `limit` seconds, default 10); its data.
function M.wait_done(emu, id, limit)
  local deadline = M.now() + (limit or 10)
  repeat
    local r = M.poll(emu, id)
    local s = r.json and r.json.data and r.json.data.status
    if s == "completed" or s == "failed" then return r.json.data end
    M.run("sleep 0.05")
  until M.now() > deadline
  error("task " .. id .. " did not end in time")
end

--- The video URL of a completed task's data (array or string style).
function M.video_url(data)
  local u = data.result.videos[1].url
  return type(u) == "table" and u[1] or u
end

return M
