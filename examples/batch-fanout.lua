-- A batch fan-out: many prompts, at most 4 worked on at once, results in
-- input order, one failure never stopping the others. With a journal, a
-- re-run after a crash re-attaches to the tasks already paid for.
--
--   build/seedance-emulator --speed 50 &      # prints: listening on http://127.0.0.1:PORT
--   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.02 \
--     lua5.4 examples/batch-fanout.lua
--   (for the real service: export SEEDANCE_API_KEY=... and leave SEEDANCE_BASE_URL unset)
local seedance = require("seedance")

local dir = os.getenv("SEEDANCE_OUT_DIR") or "out"
os.execute("mkdir -p '" .. dir .. "'")
local client = seedance.new{
  journal = dir .. "/batch.journal",   -- kill this script at any moment and run it again: nothing is paid twice
  max_in_flight = 8,                   -- the governor: tasks submitted and not finished
}

local subjects = { "a red fox", "a paper boat", "a lighthouse", "a hot-air balloon",
                   "a steam train", "a koi pond", "a snowy owl", "a windmill" }
local requests = {}
for i, s in ipairs(subjects) do
  requests[i] = { model = "doubao-seedance-2.0-fast", prompt = s .. ", cinematic", duration = 5 }
end

local results, stats = seedance.map(client, requests, {
  concurrency = 4,
  output = dir .. "/batch-%02d.mp4",
  on_progress = function(s)
    io.write(string.format("\rbatch: %d/%d done, %d failed, %d running, %3d%%", s.done, s.total,
      s.failed, s.running, s.percent))
    io.flush()
  end,
})
print()
for i, r in ipairs(results) do
  print(string.format("%2d  %-30s %s", i, subjects[i], r.path or tostring(r.error)))
end
if stats.failed > 0 then os.exit(1) end
