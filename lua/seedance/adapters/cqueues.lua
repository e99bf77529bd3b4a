--- Drive seedance from a cqueues controller, beside its other coroutines.
--
--     local cqueues = require("cqueues")
--     local cq = cqueues.new()
--     local adapter = require("seedance.adapters.cqueues").attach(cq)
--     cq:wrap(function()
--       local job = adapter:spawn(pipeline)    -- seedance.spawn, then wake
--       ...                                     -- the host's own coroutines go on
--       adapter:detach()                        -- when done: the driver ends
--     end)
--     assert(cq:loop())
--
-- The adapter is one coroutine on the controller (the driver). It polls,
-- with `cqueues.poll`, one ad hoc object `{ pollfd = fd, events = "r"|"w"|"rw" }`
-- per socket libcurl wants (`seedance.sockets()`), a condition variable
-- for `wake()`, and `seedance.timeout()` as the poll's timeout; when any
-- fires it calls `seedance.step(0)`, then polls again with the new sockets
-- and deadline. It yields to the controller before every step, so the
-- controller's other coroutines run between steps even while seedance stays
-- busy.
--
-- libcurl closes and reopens sockets inside `seedance.step`, and a cqueues
-- controller must be told before one of its descriptors is closed (else
-- its kernel queue and its own records part ways: EBADF, or a new socket
-- under an old number is never watched). So right after each poll returns,
-- before stepping, the driver cancels (`cqueues.cancel`) every descriptor
-- it polled: each poll installs the current ones afresh.
--
-- New work spawned inside a seedance coroutine is seen after the step that
-- spawned it. Work spawned from a cqueues coroutine (outside seedance)
-- needs `adapter:wake()` while seedance is idle, which `adapter:spawn` does.
-- While attached the driver is a pending coroutine, so `cq:loop()` runs
-- until `detach()`. seedance has one engine per Lua state: drive it from one
-- controller. Attaching to a second one while the first is attached is an
-- error; attaching again to the same one shares its driver, which ends when
-- every attachment has been detached (`seedance.adapters.attachment`).
-- seedance coroutines are not cqueues coroutines: inside them use
-- seedance's calls, never `cqueues.poll`; and from cqueues coroutines
-- start seedance work with `spawn`, never a blocking seedance call (it
-- stalls the controller, and closes descriptors the driver has installed).
-- @module seedance.adapters.cqueues

local cqueues = require("cqueues")
local condition = require("cqueues.condition")
local seedance = require("seedance")
local compat = require("seedance.compat")
local attachment = require("seedance.adapters.attachment")

local M = {}

local function drive(d)
  while not d.closed do
    local wanted = { d.cond }
    for _, s in ipairs(seedance.sockets()) do wanted[#wanted + 1] = { pollfd = s[1], events = s[2] } end
    local n = #wanted
    wanted[n + 1] = seedance.timeout()    -- nil: no timeout, until a socket or wake()
    cqueues.poll(compat.unpack(wanted, 1, n + 1))
    for i = 2, n do cqueues.cancel(wanted[i].pollfd) end
    attachment.pump(d)
  end
end

local registry = attachment.registry{
  check = function(cq, drivers)
    if cqueues.type(cq) ~= "controller" then
      return "bad argument #1 to 'attach' (cqueues controller expected, got " .. type(cq) .. ")"
    end
    for other in pairs(drivers) do
      if other ~= cq then return "seedance is already driven by an adapter on another cqueues controller" end
    end
  end,
  start = function(cq)
    local d = { cond = condition.new(), steps = 0, closed = false }
    cq:wrap(drive, d)
    return d
  end,
  -- the driver wakes and ends at the controller's next step, leaving nothing polled
  stop = function(d)
    d.closed = true
    d.cond:signal()
  end,
  -- needed after seedance.spawn from a cqueues coroutine while seedance is
  -- idle (work spawned inside seedance coroutines is seen without it)
  wake = function(d) d.cond:signal() end,
}

--- Start driving seedance on a cqueues controller: wraps the driver
-- coroutine on it (it first runs at the controller's next step).
-- @function attach
-- @param cq the controller (`cqueues.new()`)
-- @treturn seedance.adapters.attachment.Attachment an attachment:
-- `spawn(fn, ...)`, `wake()` (needed after `seedance.spawn` from a cqueues
-- coroutine while seedance is idle), `steps()`, and `detach()`, which with
-- the last attachment ends the driver at the controller's next step
M.attach = registry.attach

return M
