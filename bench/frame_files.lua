-- B8 file work and the frame: seedance.step(0) from a 60 Hz host loop while one
-- generation with a 20 MB local image runs (check, upload, submit, wait,
-- download), with a journal (the image read and hashed for the request's
-- identity, each record synced) or without one (the peer: the same flow with
-- no file work beyond the upload).
--
--   lua5.4 bench/frame_files.lua URL TIME_SCALE DIR journal|none
--
-- Every step(0) call is timed by the wall clock and by this process's CPU
-- clock (os.clock); prints the worst and p99 step in ms, the steps, and the
-- frame budget (1/60 s) as one JSON line.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local common = require("common")

local url, scale, dir, mode = arg[1], tonumber(arg[2]), arg[3], arg[4]
assert(url and scale and dir and (mode == "journal" or mode == "none"),
  "usage: frame_files.lua URL TIME_SCALE DIR journal|none")

-- a 20 MB image (a PNG header, then bytes): made before the loop, it is the host's file
local image = dir .. "/image-20mb.png"
local f = assert(io.open(image, "wb"))
f:write("\137PNG\r\n\26\n")
local block = string.rep("seedance", 8192)
local left = 20 * 1000 * 1000 - 8
while left > 0 do
  local n = math.min(left, #block)
  f:write(block:sub(1, n))
  left = left - n
end
f:close()
local journal = mode == "journal" and (dir .. "/b8-" .. os.time() .. "-" .. math.random(1e6) .. ".journal") or nil

local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = scale, journal = journal }
local result
seedance.spawn(function()
  local task, err = client:generate{ model = "doubao-seedance-2.0", prompt = "a 20 MB image, " .. os.time(),
                                     image_urls = { seedance.file(image) } }
  if task then task, err = task:wait() end
  local path
  if task then path, err = task:download(dir .. "/b8.mp4") end
  result = { path = path, err = err and tostring(err) }
end)

local row = common.frames(function() return result ~= nil end, 120)
client:close()
os.remove(image)
os.remove(dir .. "/b8.mp4")
if journal then os.remove(journal) end
row.mode, row.ok, row.error = mode, result ~= nil and result.path ~= nil, result and result.err
common.emit(row)
os.exit(result and result.path and 0 or 1)
