-- B5 download: one large result through task:download, timed.
--
--   lua5.4 bench/download.lua URL OUTFILE
--
-- Prints seconds, bytes, MiB/s and peak RSS (KiB) as one JSON line.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local core = require("seedance.core")
local common = require("common")

local url, out = arg[1], arg[2]
assert(url and out, "usage: download.lua URL OUTFILE")
local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = 0.001 }
local task = assert(client:generate{ model = "doubao-seedance-2.0", prompt = "download bench" })
assert(task:wait())
os.remove(out)
local t0 = core.now()
local path, err = task:download(out)
local secs = core.now() - t0
if not path then io.stderr:write(tostring(err), "\n"); os.exit(1) end
local f = assert(io.open(path, "rb"))
local bytes = f:seek("end")
f:close()
local hwm = common.rss()
common.emit{ seconds = secs, bytes = bytes, mib_per_s = bytes / secs / 1048576, hwm_kib = hwm,
             video_url = task.video_url }
