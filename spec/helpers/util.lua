--- Small helpers shared by the specs that run against the emulator.
local seedance = require("seedance")
local process = require("helpers.process")

local M = {}

--- The emulator's --speed in these specs; clients scale their pauses by 1/SPEED.
M.SPEED = 200

--- The interpreter the specs run under, for the Lua children they start
-- (make test-all-lua sets SEEDANCE_SPEC_LUA; the children get this run's
-- package.path and cpath, so they must load the same core build).
M.LUA = os.getenv("SEEDANCE_SPEC_LUA") or "lua5.4"

--- Run a shell command: true when it exited 0, its output and its exit code (helpers.process).
M.run = process.run

--- A whole file, or nil when it cannot be read.
M.read_file = process.read_file

--- A client for the emulator, with quick retries; `over` replaces options.
function M.client_for(emu, over)
  local o = { api_key = "sk-spec", base_url = emu.url, time_scale = 1 / M.SPEED, backoff = 0.01,
              max_backoff = 0.05, wait_timeout = 600 }
  for k, v in pairs(over or {}) do o[k] = v end
  return seedance.new(o)
end

--- A fresh temporary path (nothing stands there, nor at path .. ".part").
function M.tmpfile(name)
  -- os.tmpname's unique name as the stem (math.random is not seeded on Lua
  -- 5.1, so it gave every run the same names, and a folder from an earlier run)
  local stem = os.tmpname()
  os.remove(stem)
  local p = stem .. "-seedance-spec-" .. name
  os.remove(p)
  os.remove(p .. ".part")
  return p
end

--- A fresh temporary folder.
function M.tmpdir()
  local d = M.tmpfile("dir")
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end

--- Size of a file in bytes, or nil when it does not exist.
function M.size_of(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
end

--- The first n bytes of a file.
function M.head(path, n)
  local f = assert(io.open(path, "rb"))
  local s = f:read(n)
  f:close()
  return s
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
