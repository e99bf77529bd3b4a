-- A host with its own event loop (luv, as in Neovim's vim.uv) drives seedance
-- through the luv adapter: a poll handle per socket libcurl wants and one
-- timer for the engine's next deadline, each calling seedance.step(0). No busy
-- loop, no blocking call: the host's own timer keeps its pace meanwhile.
--
--   build/seedance-emulator --speed 50 &      # prints: listening on http://127.0.0.1:PORT
--   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.02 \
--     lua5.4 examples/luv-host.lua
--   (for the real service: export SEEDANCE_API_KEY=... and leave SEEDANCE_BASE_URL unset)
local uv = require("luv")
local seedance = require("seedance")

local client = seedance.new()
local dir = os.getenv("SEEDANCE_OUT_DIR") or "out"
os.execute("mkdir -p '" .. dir .. "'")

local adapter = require("seedance.adapters.luv").attach(uv)

local job = adapter:spawn(function()
  local task = assert(client:generate{ model = "doubao-seedance-2.0", prompt = "fireflies over a pond" })
  assert(task:wait{ on_progress = function(t) print("task", t.status, t.progress) end })
  print("saved " .. assert(task:download(dir .. "/luv-host.mp4")))
end)

-- The host's own work keeps running on the same loop.
local ticks = 0
local heartbeat = uv.new_timer()
heartbeat:start(100, 100, function()
  ticks = ticks + 1
  if job.done then heartbeat:stop(); heartbeat:close() end
end)

uv.run()          -- returns when the heartbeat is closed and seedance has nothing pending
adapter:detach()
uv.run("nowait")  -- libuv finishes closing the adapter's handles (luv crashes at exit on handles left closing)
print(string.format("done in %d steps; the host's 100 ms heartbeat fired %d times meanwhile", adapter:steps(), ticks))
if not job.ok then
  io.stderr:write(tostring(job.error), "\n")
  os.exit(1)
end
