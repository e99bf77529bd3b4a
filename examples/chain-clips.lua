-- Chained clips (the reference's "continuous video" scenario): each clip
-- starts from the previous clip's last frame, and every clip is downloaded.
--
--   build/seedance-emulator --speed 50 &      # prints: listening on http://127.0.0.1:PORT
--   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.02 \
--     lua5.4 examples/chain-clips.lua
--   (for the real service: export SEEDANCE_API_KEY=... and leave SEEDANCE_BASE_URL unset)
local seedance = require("seedance")

local client = seedance.new()
local dir = os.getenv("SEEDANCE_OUT_DIR") or "out"
os.execute("mkdir -p '" .. dir .. "'")

local story = {
  "a kitten wakes up in a sunny room",
  "the kitten stretches and walks to the window",
  "the kitten watches birds outside, tail swishing",
}
local requests = {}
for i, prompt in ipairs(story) do
  requests[i] = { model = "doubao-seedance-2.0", prompt = prompt, duration = 5 }
end

local clips, err = seedance.chain(client, requests, {
  output = dir .. "/chain-%02d.mp4",
  on_progress = function(i, t) print(string.format("clip %d: %-10s %3d%%", i, t.status, t.progress or 0)) end,
  on_clip = function(i, task, path)
    print(string.format("clip %d saved to %s; last frame %s", i, path, tostring(task.last_frame_url)))
  end,
})
if err then
  io.stderr:write("chain stopped after ", #clips, " clips: ", tostring(err), "\n")
  os.exit(1)
end
print(#clips .. " clips done")
