--- What the host adapters (`seedance.adapters.luv`, `.copas`, `.cqueues`)
-- share: one driver per loop, and counted attachments to it.
--
-- seedance has one engine per Lua state, so one driver per loop steps it.
-- Each `attach(loop)` of an adapter returns an `Attachment`; attaching again
-- to the same loop (a second plugin, say) shares the running driver, and the
-- driver stops when every attachment has been detached.
-- @module seedance.adapters.attachment

local seedance = require("seedance")

local M = {}

--- One attachment to a loop's driver (made by an adapter's `attach`).
-- @type Attachment
local Attachment = {}
Attachment.__index = Attachment

--- How many times the loop's driver has called `seedance.step` (shared by
-- every attachment to that loop).
-- @treturn integer
function Attachment:steps()
  return self.driver.steps
end

--- Ask the driver to look at seedance's sockets and deadline again soon;
-- what it is needed for depends on the adapter (see each one). Safe
-- anywhere, inside a step too; does nothing once detached.
function Attachment:wake()
  if self.attached then self.registry.wake(self.driver) end
end

--- `seedance.spawn(fn, ...)`, then `wake()`.
-- @tparam function fn
-- @return the spawned handle (`done`, `ok`, `error`, `:wait()`)
function Attachment:spawn(fn, ...)
  local handle = seedance.spawn(fn, ...)
  self:wake()
  return handle
end

--- End this attachment; with the loop's last one, stop the driver (see each
-- adapter for what stopping leaves behind: nothing). Calling it again does
-- nothing. Work in flight stays in seedance and goes on under whatever
-- drives it next (another attachment, `seedance.step`, `seedance.run`).
function Attachment:detach()
  if not self.attached then return end
  self.attached = false
  local d = self.driver
  d.users = d.users - 1
  if d.users == 0 then
    self.registry.drivers[self.loop] = nil
    self.registry.stop(d)
  end
end

--- Step seedance once for a driver (a table with `steps`, `closed`,
-- `stepping`), unless it is closed or already stepping (a seedance
-- coroutine that runs the loop itself, as `vim.wait` does), then call
-- `after(driver)` unless the step closed it; an error of the step is
-- raised after that.
-- @tparam table d the driver
-- @tparam[opt] function after what re-syncs the driver's watchers
function M.pump(d, after)
  if d.closed or d.stepping then return end
  d.stepping = true
  local ok, err = pcall(seedance.step, 0)
  d.stepping = false
  d.steps = d.steps + 1
  if after and not d.closed then after(d) end
  if not ok then error(err, 0) end
end

--- A registry of drivers for one kind of loop.
-- @tparam table ops `check(loop)` returns an error message when `loop` will
-- not do, `start(loop)` makes and starts a driver (a table for `pump`),
-- `stop(driver)` stops it, `wake(driver)` nudges it
-- @return the registry: `drivers` (loop -> driver) and `attach(loop)`, which
-- returns an `Attachment` (an adapter's `attach`)
function M.registry(ops)
  local registry = { drivers = {}, stop = ops.stop, wake = ops.wake }
  function registry.attach(loop)
    local problem = ops.check(loop, registry.drivers)
    if problem then error(problem, 2) end
    local d = registry.drivers[loop]
    if not d then
      d = ops.start(loop)
      d.users = 0
      registry.drivers[loop] = d
    end
    d.users = d.users + 1
    return setmetatable({ registry = registry, loop = loop, driver = d, attached = true }, Attachment)
  end
  return registry
end

return M
