-- B6 validate + encode: seedance.validate and cjson.encode of a typical
-- request, N times.
--
--   lua5.4 bench/validate.lua N
--
-- Prints the time per call in microseconds as one JSON line. Run under
-- valgrind --tool=callgrind with two values of N, the difference of the
-- instruction counts over the difference of N is the count per call.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local cjson = require("cjson")
local core = require("seedance.core")
local common = require("common")

local n = tonumber(arg[1]) or 100000
local req = common.typical_request(1)
assert(seedance.validate(req))
local t0 = core.now()
local bytes = 0
for _ = 1, n do
  local ok = seedance.validate(req)
  local body = cjson.encode(req)
  if not ok then error("invalid") end
  bytes = bytes + #body
end
local secs = core.now() - t0
common.emit{ n = n, us_per_call = secs / n * 1e6, body_bytes = bytes / n }
