--- Drive seedance from a libuv loop: luv (`require("luv")`) or Neovim's
-- `vim.uv` / `vim.loop`, whose module is passed in.
--
--     local adapter = require("seedance.adapters.luv").attach(uv)
--     adapter:spawn(function()                 -- seedance.spawn, then wake
--       local task = assert(client:generate(req))
--       assert(task:wait())
--       assert(task:download("clip.mp4"))
--     end)
--     uv.run()                                 -- returns once nothing is pending
--     adapter:detach()                         -- closes every handle it made
--     uv.run("nowait")                         -- lets libuv finish closing them
--
-- Like hiredis's `adapters/libuv.h`, the engine owns no loop: the adapter
-- watches the sockets libcurl wants (`seedance.sockets()`, one poll handle
-- each) and arms one timer for `seedance.timeout()`; when either fires it
-- calls `seedance.step(0)`, then re-syncs the polls and re-arms the timer.
-- Nothing busy-loops and nothing blocks the host.
--
-- New work is noticed by itself: an unreferenced prepare handle runs once
-- per loop iteration, before the loop sleeps, and re-arms the timer when
-- `seedance.timeout()` says work is due sooner (a spawn from a host callback,
-- say). The polls and the timer are active only while seedance has work
-- pending, and the prepare handle is unreferenced, so `uv.run()` returns
-- once the host's own handles are gone and seedance is idle. `wake()` (or
-- `spawn`) is only needed when the spawn is the last thing the loop would do.
--
-- seedance has one engine per Lua state: drive it from one loop. Attaching
-- again to the same loop (a second plugin, say) shares the first attachment's
-- handles; they are closed when every attachment has been detached
-- (`seedance.adapters.attachment`).
--
-- Callbacks of seedance coroutines run inside the poll and timer callbacks:
-- in Neovim these are fast contexts, so editor API calls go through `vim.schedule`.
-- Make seedance calls in coroutines the adapter steps (`spawn`): a blocking
-- call from a loop callback stalls the loop until it returns.
-- @module seedance.adapters.luv

local seedance = require("seedance")
local attachment = require("seedance.adapters.attachment")

local M = {}

-- Milliseconds for a luv timer: rounded up, so a deadline a fraction of a
-- millisecond away is not stepped too early and re-armed at 0 over and over.
local function ms(seconds)
  return math.ceil(seconds * 1000)
end

-- Start the timer for seedance's next deadline (stopped when nothing is pending).
local function arm(d, seconds)
  d.timer:stop()
  d.due = nil
  if seconds then
    d.uv.update_time()
    d.timer:start(ms(seconds), 0, d.on_ready)
    d.due = d.uv.now() + ms(seconds)
  end
end

-- Watch exactly the sockets libcurl wants, each with the events it wants.
-- Every wanted poll is (re)started: libcurl may have closed a socket inside
-- the step and opened another under the same number, which the kernel's
-- poll set does not know yet; a restart registers it afresh. A socket
-- something else already polls on this loop is left to it (the timer still
-- bounds the wait).
local function sync(d)
  local want = {}
  for _, s in ipairs(seedance.sockets()) do want[s[1]] = s[2] end
  for fd, poll in pairs(d.polls) do
    if not want[fd] then
      poll:stop()
      poll:close()
      d.polls[fd] = nil
    end
  end
  for fd, events in pairs(want) do
    local poll = d.polls[fd] or d.uv.new_socket_poll(fd)
    if poll then
      d.polls[fd] = poll
      poll:start(events, d.on_ready)
    end
  end
  arm(d, seedance.timeout())
end

local function start(uv)
  local d = { uv = uv, polls = {}, steps = 0, closed = false }
  d.on_ready = function() attachment.pump(d, sync) end
  d.timer = uv.new_timer()
  d.prepare = uv.new_prepare()
  d.prepare:start(function()
    if d.stepping then return end
    local t = seedance.timeout()
    if t and (not d.due or uv.now() + ms(t) < d.due) then arm(d, t) end
  end)
  d.prepare:unref()
  sync(d)
  return d
end

-- Close every handle the driver made. libuv finishes closing them at the
-- loop's next iteration: a host whose loop has ended runs `uv.run("nowait")`
-- once more before it exits (luv 1.44 crashes when Lua closes with handles
-- still closing).
local function stop(d)
  d.closed = true
  for fd, poll in pairs(d.polls) do
    poll:stop()
    poll:close()
    d.polls[fd] = nil
  end
  d.timer:stop()
  d.timer:close()
  d.prepare:stop()
  d.prepare:close()
end

-- Step at the loop's next iteration: needed only after work is spawned
-- outside a step by code after which the loop would have nothing left to run.
local function wake(d)
  arm(d, 0)
end

local registry = attachment.registry{
  check = function(uv)
    if type(uv) ~= "table" or type(uv.new_socket_poll) ~= "function" then
      return "bad argument #1 to 'attach' (luv module expected, got " .. type(uv) .. ")"
    end
  end,
  start = start, stop = stop, wake = wake,
}

--- Start driving seedance on a luv loop.
-- @function attach
-- @param uv the luv module: `require("luv")`, `vim.uv` or `vim.loop`
-- @treturn seedance.adapters.attachment.Attachment an attachment:
-- `spawn(fn, ...)`, `wake()`, `steps()`, and `detach()`, which with the
-- loop's last attachment closes every handle the adapter made
M.attach = registry.attach

return M
