-- A host with its own event loop (luv, as in Neovim's vim.uv) drives seedance
-- through the engine's sockets and timeout: no busy loop, no blocking call.
-- The loop sleeps until a socket is ready or the engine's timer is due, then
-- calls seedance.step(0), then re-reads which sockets to watch.
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

local watched = {}           -- fd -> { poll = uv_poll, events = "r"|"w"|"rw" }
local timer = uv.new_timer()
local job                    -- the spawned pipeline
local pump                   -- forward declaration: step, then re-arm watchers

local function on_ready() pump() end

-- Watch exactly the sockets the engine wants, with the events it wants.
local function sync_watchers()
  local want = {}
  for _, s in ipairs(seedance.sockets()) do want[s[1]] = s[2] end
  for fd, w in pairs(watched) do
    if want[fd] ~= w.events then
      w.poll:stop()
      w.poll:close()
      watched[fd] = nil
    end
  end
  for fd, events in pairs(want) do
    if not watched[fd] then
      local poll = uv.new_socket_poll(fd)
      poll:start(events == "rw" and "rw" or events, on_ready)
      watched[fd] = { poll = poll, events = events }
    end
  end
end

function pump()
  local alive = seedance.step(0)
  sync_watchers()
  timer:stop()
  if alive == 0 and job.done then
    for _, w in pairs(watched) do w.poll:stop(); w.poll:close() end
    watched = {}
    timer:close()
    return
  end
  local t = seedance.timeout()
  timer:start(math.floor((t or 0.25) * 1000), 0, pump)   -- wake for the engine's timers too
end

job = seedance.spawn(function()
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

pump()
uv.run()
print(string.format("done; the host's 100 ms heartbeat fired %d times meanwhile", ticks))
if not job.ok then
  io.stderr:write(tostring(job.error), "\n")
  os.exit(1)
end
