--- Drive seedance from copas, beside copas's own coroutines.
--
--     local copas = require("copas")
--     local adapter = require("seedance.adapters.copas").attach(copas)
--     adapter:spawn(function() ... end)        -- or seedance.spawn: noticed at the next select
--     copas.loop()                             -- copas 2+; see below for copas 1.x
--     -- once done: adapter:detach(), and copas.loop() (copas 3+) can end
--
-- copas threads wait on LuaSocket sockets, and `socket.select` takes any
-- object with a `getfd` method. So the adapter parks, for each socket
-- libcurl wants (`seedance.sockets()`), a stand-in holding that descriptor
-- in copas's read or write set (a copas thread per direction, blocked in
-- `copas.receive` or `copas.send` on the stand-in); when it is ready, the
-- thread calls `seedance.step(0)` and the adapter re-syncs the stand-ins.
-- One more stand-in, "the engine", is `dirty` (LuaSocket's word for
-- "ready without waiting") whenever seedance has work due now: `select`
-- asks it on every call, so work spawned anywhere, or a deadline that
-- passed, is stepped at copas's next select without any `wake()`.
--
-- Deadlines: copas 2 and later have timers; a copas thread of the adapter
-- sleeps until `seedance.timeout()` so copas's select returns in time.
-- copas 1.x (Debian 12's lua-copas) has no timers at all: its loop is
-- the host's `while ... do copas.step(t) end`, and the host gives t no larger
-- than `seedance.timeout()` (nil when nothing is pending):
--
--     while running do copas.step(math.min(seedance.timeout() or 1, 1)) end
--
-- A stand-in that is no longer wanted (its socket closed, or the events
-- changed) is retired: its `getfd` then answers a private UDP socket, which
-- is always writable and never readable, and it is dirty, so copas hands it
-- back at once and its thread ends. Select never sees a closed descriptor.
--
-- While attached the engine stand-in stays in copas's read set, so
-- `copas.loop()` of copas 3+ (which ends when nothing is left) runs until
-- `detach()`. seedance has one engine per Lua state: drive it from one loop;
-- attaching again shares the first attachment's threads, which end when
-- every attachment has been detached (`seedance.adapters.attachment`).
-- seedance coroutines are not copas threads: inside them use seedance's
-- calls, never copas's; and from copas threads start seedance work with
-- `spawn`, never a blocking seedance call (it stalls copas, and closes
-- sockets behind the stand-ins' backs). select limits descriptors to
-- FD_SETSIZE (1024).
-- @module seedance.adapters.copas

local socket = require("socket")
local seedance = require("seedance")
local attachment = require("seedance.adapters.attachment")

local M = {}

-- A stand-in for a socket in copas's sets: `fd`, `retired`, `dirty_when` (an
-- extra readiness test), `spare` (the UDP socket a retired stand-in answers).
local Stand = {}
Stand.__index = Stand

function Stand:getfd()
  if self.retired then return self.spare:getfd() end
  return self.fd
end

function Stand:dirty()
  return self.retired or (self.dirty_when ~= nil and self.dirty_when())
end

-- copas.receive / copas.send call these until they succeed, parking the
-- thread in the read / write set after each "timeout": the first call of a
-- wait parks, the call after the wake-up returns.
function Stand:receive()
  if self.reading then
    self.reading = false
    return ""
  end
  self.reading = true
  return nil, "timeout", ""
end

function Stand:send(_, i)
  if self.writing then
    self.writing = false
    return i or 1
  end
  self.writing = true
  return nil, "timeout", (i or 1) - 1
end

function Stand.settimeout() end
function Stand.close() return 1 end

-- Re-read the sockets seedance wants and park a stand-in for each.
local sync

-- The last of the driver's threads to end closes the spare socket.
local function ended(d)
  d.threads = d.threads - 1
  if d.closed and d.threads == 0 then d.spare:close() end
end

-- A copas thread that waits on `stand` with `wait` (copas.receive or
-- copas.send) and steps seedance each time it is ready, until retired.
local function watch(d, stand, wait)
  d.threads = d.threads + 1
  d.copas.addthread(function()
    while not stand.retired do
      wait(stand, "")
      if not stand.retired then attachment.pump(d, sync) end
    end
    ended(d)
  end)
end

function sync(d)
  local want = {}
  for _, s in ipairs(seedance.sockets()) do want[s[1]] = s[2] end
  for fd, stand in pairs(d.stands) do
    if want[fd] ~= stand.events then
      stand.retired = true
      d.stands[fd] = nil
    end
  end
  for fd, events in pairs(want) do
    if not d.stands[fd] then
      local stand = setmetatable({ fd = fd, events = events, spare = d.spare }, Stand)
      d.stands[fd] = stand
      if events:find("r", 1, true) then watch(d, stand, d.copas.receive) end
      if events:find("w", 1, true) then watch(d, stand, d.copas.send) end
    end
  end
  if d.timer then d.copas.wakeup(d.timer) end
end

-- Sleep until seedance's next deadline (copas 2+), so copas's select
-- returns in time for the engine stand-in to be dirty; woken after each step.
local function timer(d, copas)
  local pause = copas.pause or copas.sleep
  local forever = copas.pauseforever or function() copas.sleep(-1) end
  d.threads = d.threads + 1
  return copas.addthread(function()
    while not d.closed do
      local t = seedance.timeout()
      if t and t > 0 then pause(t) else forever() end
    end
    ended(d)
  end)
end

local function start(copas)
  local spare = assert((socket.udp4 or socket.udp)())
  local d = { copas = copas, spare = spare, stands = {}, threads = 0, steps = 0, closed = false }
  d.engine = setmetatable({ fd = spare:getfd(), spare = spare, dirty_when = function()
    local t = seedance.timeout()
    return t ~= nil and t <= 0
  end }, Stand)
  watch(d, d.engine, copas.receive)
  if copas.sleep and copas.wakeup then d.timer = timer(d, copas) end
  return d
end

-- Retire every stand-in: copas hands each back at its next steps and the
-- driver's threads end (the last one closes the spare socket).
local function stop(d)
  d.closed = true
  d.engine.retired = true
  for fd, stand in pairs(d.stands) do
    stand.retired = true
    d.stands[fd] = nil
  end
  if d.timer then d.copas.wakeup(d.timer) end
end

-- Work spawned anywhere is already noticed at copas's next select: this
-- only re-times the deadline sleep (copas 2+).
local function wake(d)
  if d.timer then d.copas.wakeup(d.timer) end
end

local registry = attachment.registry{
  check = function(copas)
    if type(copas) ~= "table" or type(copas.addthread) ~= "function" then
      return "bad argument #1 to 'attach' (copas module expected, got " .. type(copas) .. ")"
    end
  end,
  start = start, stop = stop, wake = wake,
}

--- Start driving seedance from copas.
-- @function attach
-- @param copas the copas module (`require("copas")`, 1.x to 4.x)
-- @treturn seedance.adapters.attachment.Attachment an attachment:
-- `spawn(fn, ...)`, `wake()`, `steps()`, and `detach()`, which with the last
-- attachment retires every stand-in so the adapter's threads end
M.attach = registry.attach

return M
