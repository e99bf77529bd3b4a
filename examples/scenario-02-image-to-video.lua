-- Scenario 2 of the service reference: image to video from a first frame (图生视频).
-- Generates the video, waits with progress, and downloads it under out/.
--
--   build/seedance-emulator --speed 50 &      # prints: listening on http://127.0.0.1:PORT
--   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.02 \
--     lua5.4 examples/scenario-02-image-to-video.lua
--   (for the real service: export SEEDANCE_API_KEY=... and leave SEEDANCE_BASE_URL unset)
local seedance = require("seedance")

local client = seedance.new()   -- key and service from SEEDANCE_API_KEY and SEEDANCE_BASE_URL

local task = assert(client:generate({
  model = "doubao-seedance-2.0",
  prompt = "小猫站起来走向镜头",
  image_urls = { "https://example.com/cat.jpg" },
  duration = 5,
}))
print("submitted " .. task.id)

assert(task:wait{
  on_progress = function(t) print(string.format("%-10s %3d%%", t.status, t.progress or 0)) end,
})

local dir = os.getenv("SEEDANCE_OUT_DIR") or "out"
os.execute("mkdir -p '" .. dir .. "'")
local path = assert(task:download(dir .. "/scenario-02.mp4"))
print("saved " .. path)
