-- A pipeline run by the crash spec: N journaled requests, fan-out 4, each
-- downloaded. It is killed with SIGKILL at random moments and run again.
--   lua5.4 spec/support/crash_pipeline.lua BASE_URL OUT_DIR COUNT TIME_SCALE
local seedance = require("seedance")

local base, dir, count, scale = arg[1], arg[2], tonumber(arg[3] or "8"), tonumber(arg[4] or "0.01")
local client = seedance.new{
  api_key = "sk-crash", base_url = base, journal = dir .. "/pipeline.journal",
  time_scale = scale, backoff = 0.01, max_backoff = 0.05, max_in_flight = 6,
}
local requests = {}
for i = 1, count do
  requests[i] = { model = "doubao-seedance-2.0-fast", prompt = "crash-test clip " .. i, duration = 5 }
end
local results, stats = seedance.map(client, requests, { concurrency = 4, output = dir .. "/clip-%02d.mp4" })
for i, r in ipairs(results) do
  if r.error then io.stderr:write("item ", i, ": ", tostring(r.error), "\n") end
end
print(string.format("done %d failed %d", stats.done, stats.failed))
os.exit(stats.failed == 0 and 0 or 1)
