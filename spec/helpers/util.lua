--- Small helpers shared by the specs: the one client builder, requests, files.
local seedance = require("seedance")
local process = require("helpers.process")

local M = {}

--- The emulator's --speed in these specs; clients scale their pauses by 1/SPEED.
M.SPEED = 200

--- The interpreter the specs run under, for the Lua children they start
-- (make test-all-lua sets SEEDANCE_SPEC_LUA; the children get this run's
-- package.path and cpath, so they must load the same core build).
M.LUA = os.getenv("SEEDANCE_SPEC_LUA") or "lua5.4"

--- The repository's root folder, absolute.
M.ROOT = process.ROOT

--- The model of the requests specs send.
M.MODEL = "doubao-seedance-2.0"

--- The bytes of a small PNG (its signature, then zeros): enough for every check of a local image.
M.PNG = "\137PNG\r\n\26\n" .. string.rep("\0", 64)

--- Run a shell command: true when it exited 0, its output and its exit code (helpers.process).
M.run = process.run

--- A whole file, or nil when it cannot be read.
M.read_file = process.read_file

--- Write a file whole; returns its path (helpers.process).
M.write = process.write

--- Remove a folder and everything in it (helpers.process).
M.rmrf = process.remove_dir

--- The lines a shell command printed, sorted; raises when it did not exit 0.
-- @tparam string cmd
-- @treturn table
function M.lines(cmd)
  local ok, out = M.run(cmd)
  assert(ok, out)
  local t = {}
  for l in out:gmatch("[^\n]+") do t[#t + 1] = l end
  table.sort(t)
  return t
end

--- A new table: the keys of each table given, later ones winning (a false value is kept).
-- @tparam table ... tables (nil ones are skipped)
-- @treturn table
function M.merge(...)
  local out = {}
  for i = 1, select("#", ...) do
    for k, v in pairs(select(i, ...) or {}) do out[k] = v end
  end
  return out
end

--- The keys of a table, sorted.
-- @tparam table t
-- @treturn table
function M.sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

--- A valid text-to-video request: `request("a prompt", 5)` sets prompt and duration,
-- `request{ ... }` changes the base (model and a prompt) by these fields.
-- @tparam[opt] string|table prompt_or_fields
-- @tparam[opt] number duration
-- @treturn table
function M.request(prompt_or_fields, duration)
  if type(prompt_or_fields) == "table" then
    return M.merge({ model = M.MODEL, prompt = "a cat yawns at the camera" }, prompt_or_fields)
  end
  return { model = M.MODEL, prompt = prompt_or_fields or "a cat yawns at the camera", duration = duration }
end

--- n requests, prompts `prefix .. i` (i = 1 to n), as `request` makes them.
-- @tparam string prefix
-- @tparam number n
-- @treturn table
function M.requests(prefix, n)
  local list = {}
  for i = 1, n do list[i] = M.request(prefix .. i) end
  return list
end

--- The one client builder of the specs: a client for a server (an emulator or a gateway
-- from the helpers, or a base URL), with quick retries; each further table replaces options.
-- @param server anything with a `url` field, or the base URL itself
-- @tparam table ... options over the defaults, in order
-- @return the client
function M.client_for(server, ...)
  local url = type(server) == "table" and server.url or server
  return seedance.new(M.merge({ api_key = "sk-spec", base_url = url, time_scale = 1 / M.SPEED, backoff = 0.01,
                                max_backoff = 0.05, wait_timeout = 600 }, ...))
end

--- A fresh temporary path (nothing stands there, nor at path .. ".part"); with `text`, a file
-- holding it.
-- @tparam string name the end of its name
-- @tparam[opt] string text
-- @treturn string the path
function M.tmpfile(name, text)
  -- os.tmpname's unique name as the stem (math.random is not seeded on Lua
  -- 5.1, so it gave every run the same names, and a folder from an earlier run)
  local stem = os.tmpname()
  os.remove(stem)
  local p = stem .. "-seedance-spec-" .. name
  os.remove(p)
  os.remove(p .. ".part")
  if text then M.write(p, text) end
  return p
end

--- A fresh temporary folder.
function M.tmpdir()
  local d = M.tmpfile("dir")
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end

--- What to clean up after each test of the enclosing describe: returns `cleanup(x)`, which
-- keeps x for after the test (busted's after_each, even when the test failed) and returns it:
-- a path is removed (a folder with what it holds; a file with its download companions .part
-- and .part.meta), a function is called, an object is stopped (an emulator, a gateway, a
-- server), else closed (an engine, a client), else removed (a certificate set). Last kept,
-- first cleaned.
--
--     local cleanup = util.cleanup()               -- in a describe
--     local dir = cleanup(util.tmpdir())           -- in a test: removed after it
--     local slow = cleanup(emulator.start{ speed = 1 })
-- @treturn function cleanup
function M.cleanup()
  local kept = {}
  require("busted").after_each(function()
    for i = #kept, 1, -1 do
      local x = kept[i]
      kept[i] = nil
      if type(x) == "string" then
        os.execute(("rm -rf %s %s %s"):format(process.quote(x), process.quote(x .. ".part"),
          process.quote(x .. ".part.meta")))
      elseif type(x) == "function" then x()
      elseif x.stop then x:stop()
      elseif x.close then x:close()
      else x:remove() end
    end
  end)
  return function(x)
    kept[#kept + 1] = x
    return x
  end
end

--- Size of a file in bytes, or nil when it does not exist.
function M.size_of(path)
  local s = M.read_file(path)
  return s and #s
end

--- The first n bytes of a file, or nil when it does not exist.
function M.head(path, n)
  local s = M.read_file(path)
  return s and s:sub(1, n)
end

--- Whether a file starts like an MP4 (an 'ftyp' box).
function M.is_mp4(path)
  local h = M.head(path, 12)
  return h ~= nil and h:sub(5, 8) == "ftyp"
end

--- Whether ffprobe reads a duration from the file; also its output.
function M.ffprobe_ok(path)
  local p = io.popen("ffprobe -v error -show_entries format=duration -of csv=p=0 '" .. path .. "' 2>&1")
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("^%s*([%d.]+)%s*$")) ~= nil, out
end

return M
