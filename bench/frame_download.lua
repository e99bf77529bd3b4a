-- B9 a large download and the frame: seedance.step(0) from a 60 Hz host loop
-- while a 300 MB video is downloaded from the emulator on loopback (served as
-- fast as the machine moves bytes) and then saved again over the first copy,
-- with the file budget (a step writes at most scheduler.file_budget bytes of
-- downloads; the rename over the first copy and the removal run on the
-- engine's worker) or without it (the peer: file_budget = 0, every byte that
-- arrived written inside the step, as before issue 21's review).
--
--   lua5.4 bench/frame_download.lua URL TIME_SCALE DIR budget|none
--
-- Every step(0) call is timed by the wall clock and by this process's CPU
-- clock; prints the worst and p99 step in ms, the steps, the bytes saved a
-- second, and the frame budget (1/60 s) as one JSON line.
package.path = "bench/?.lua;" .. package.path
local scheduler = require("seedance.scheduler")
local url, scale, dir, mode = arg[1], tonumber(arg[2]), arg[3], arg[4]
assert(url and scale and dir and (mode == "budget" or mode == "none"),
  "usage: frame_download.lua URL TIME_SCALE DIR budget|none")
if mode == "none" then scheduler.file_budget = 0 end -- read when the engine is made, below
local seedance = require("seedance")
local core = require("seedance.core")
local common = require("common")

local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = scale, max_download = 2 ^ 31 }
local out = dir .. "/b9-" .. mode .. ".mp4"
local result, bytes, t_dl
seedance.spawn(function()
  local task, err = client:generate{ model = "doubao-seedance-2.0", prompt = "a large download, " .. os.time() }
  if task then task, err = task:wait() end
  local path
  local t0 = core.now()
  if task then path, err = task:download(out) end
  if path then path, err = task:download(out) end -- again, over the first copy
  t_dl = core.now() - t0
  local f = path and io.open(path, "rb")
  if f then bytes = f:seek("end") * 2; f:close() end
  result = { path = path, err = err and tostring(err) }
end)

local row = common.frames(function() return result ~= nil end, 300)
client:close()
os.remove(out)
row.mode, row.ok, row.error = mode, result ~= nil and result.path ~= nil, result and result.err
row.mib_per_s = bytes and t_dl and bytes / t_dl / 1048576 or nil
common.emit(row)
os.exit(result and result.path and 0 or 1)
