-- A host frame loop (a game engine's, an editor's) driving seedance with
-- seedance.step(0), which never blocks: the "game" keeps its 60 frames per
-- second while a video is generated and downloaded in the background.
--
--   build/seedance-emulator --speed 50 &      # prints: listening on http://127.0.0.1:PORT
--   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.02 \
--     lua5.4 examples/frame-loop.lua
--   (for the real service: export SEEDANCE_API_KEY=... and leave SEEDANCE_BASE_URL unset)
local seedance = require("seedance")
local core = require("seedance.core")   -- only for a stand-in of the frame's rendering (a sleep that runs nothing)

local client = seedance.new()
local dir = os.getenv("SEEDANCE_OUT_DIR") or "out"
os.execute("mkdir -p '" .. dir .. "'")

-- What the "game" shows: updated by the background job, read every frame.
local hud = { text = "starting", done = false }

seedance.spawn(function()
  local task, err = client:generate{ model = "doubao-seedance-2.0", prompt = "a paper boat on a river" }
  if not task then hud.text, hud.done = "failed: " .. tostring(err), true; return end
  local ok
  ok, err = task:wait{ on_progress = function(t) hud.text = t.status .. " " .. (t.progress or 0) .. "%" end }
  if not ok then hud.text, hud.done = "failed: " .. tostring(err), true; return end
  local path
  path, err = task:download(dir .. "/frame-loop.mp4", {
    on_progress = function(done, total) hud.text = string.format("downloading %d/%d", done, total or 0) end,
  })
  hud.text, hud.done = path and ("saved " .. path) or ("failed: " .. tostring(err)), true
end)

local frame, worst, shown = 0, 0, nil
local deadline = seedance.now() + 600  -- seedance.now(): a monotonic clock, in seconds
while not hud.done and seedance.now() < deadline do
  local t0 = seedance.now()
  seedance.step(0)                     -- pump IO, resume the job if its IO finished
  local spent = seedance.now() - t0
  if spent > worst then worst = spent end
  if hud.text ~= shown then
    print(string.format("frame %5d  %s", frame, hud.text))
    shown = hud.text
  end
  frame = frame + 1
  core.sleep(1 / 60)                   -- the rest of the frame: rendering, input...
end
print(string.format("%s after %d frames; slowest step(0): %.3f ms", hud.text, frame, worst * 1000))
if not hud.text:match("^saved") then os.exit(1) end
