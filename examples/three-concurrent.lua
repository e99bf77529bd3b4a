-- Three videos at once under seedance.run: each coroutine submits, waits with
-- progress and downloads; while one waits, the others go on.
--
--   build/seedance-emulator --speed 50 &      # prints: listening on http://127.0.0.1:PORT
--   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.02 \
--     lua5.4 examples/three-concurrent.lua
--   (for the real service: export SEEDANCE_API_KEY=... and leave SEEDANCE_BASE_URL unset)
local seedance = require("seedance")

local client = seedance.new()
local dir = os.getenv("SEEDANCE_OUT_DIR") or "out"
os.execute("mkdir -p '" .. dir .. "'")

local prompts = {
  "a kitten yawns at the camera",
  "a city at night, time-lapse",
  "waves on a beach at sunrise",
}

local saved = seedance.run(function()
  local jobs = {}
  for i, prompt in ipairs(prompts) do
    jobs[i] = seedance.spawn(function()
      local task = assert(client:generate{ model = "doubao-seedance-2.0-fast", prompt = prompt, duration = 5 })
      assert(task:wait{
        on_progress = function(t) print(string.format("[%d] %-10s %3d%%", i, t.status, t.progress or 0)) end,
      })
      return assert(task:download(string.format("%s/concurrent-%d.mp4", dir, i)))
    end)
  end
  local paths = {}
  for i, job in ipairs(jobs) do paths[i] = assert(job:wait()) end
  return paths
end)

for _, path in ipairs(saved) do print("saved " .. path) end
