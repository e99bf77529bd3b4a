-- mutants/estimate.lua: mutations of the progress estimate behind task:progress_at, which a HUD
-- reads every frame and the command's bar every redraw (mutants/catalogue.lua says how a row reads).
return {
  { name = "estimate-eta-wall-time",
    promise = "the ETA is in wall time (the service's estimate times time_scale)",
    file = "lua/seedance/estimate.lua",
    from = [[
    local whole, elapsed = est * self.scale, now - self.start
]],
    to = [[
    local whole, elapsed = est, now - self.start
]] },
  { name = "estimate-moves-between-polls",
    promise = "between answers the estimate moves on at the progress rate seen so far",
    file = "lua/seedance/estimate.lua",
    from = [[
    p = reported + rate * (now - self.last_t)
]],
    to = [[
    p = reported
]] },
  { name = "estimate-created-only-met",
    promise = "a task's created time moves the estimate only for a task met by its id, never one seen submitted",
    file = "lua/seedance/estimate.lua",
    from = [[
  if self.met and created and wall then
]],
    to = [[
  if created and wall then
]] },
  { name = "estimate-cap-99",
    promise = "the estimate never passes 99 % before the task has completed",
    file = "lua/seedance/estimate.lua",
    from = [[
  p = math.min(math.max(p, reported), M.CAP)
]],
    to = [[
  p = math.max(p, reported)
]] },
  { name = "estimate-monotonic",
    promise = "the estimate never runs backwards (a slower rate, a lower answer, an earlier time)",
    file = "lua/seedance/estimate.lua",
    from = [[
  if p > self.shown then self.shown = p end
  return self.shown, eta
]],
    to = [[
  self.shown = p
  return p, eta
]] },
  { name = "estimate-complete-100",
    promise = "the estimate is 100 % once the task has completed",
    file = "lua/seedance/estimate.lua",
    from = [[
  if status == "completed" then
    self.shown = 100
    return 100, nil
  end
]],
    to = [[
]] },
  { name = "estimate-no-eta-after-end",
    promise = "a task that has ended has no ETA",
    file = "lua/seedance/estimate.lua",
    from = [[
  if ENDED[status] then return self.shown, nil end
]],
    to = [[
]] },
  { name = "estimate-no-allocation",
    promise = "reading the estimate allocates nothing (a HUD reads it every frame)",
    file = "lua/seedance/estimate.lua",
    from = [[
  local status, reported = self.status, self.last_p or 0
]],
    to = [[
  local status, reported = self.status, ({ self.last_p or 0 })[1]
]] },
  { name = "estimate-pace",
    promise = "with one report the service's estimate disagrees with (or no estimate), the estimate goes at the pace "
      .. "reported since the task began, not to 99 on an estimate shorter than the task",
    file = "lua/seedance/estimate.lua",
    from = [[
  local pace = not rate and self:pace(est)
]],
    to = [[
  local pace = nil
]] },
  { name = "estimate-pace-known-start",
    promise = "the pace since the task began is used only when its start is known (seen submitted, or its created)",
    file = "lua/seedance/estimate.lua",
    from = [[
  if p <= 0 or not self.sure or t <= self.start then return nil end
]],
    to = [[
  if p <= 0 or t <= self.start then return nil end
]] },
  { name = "estimate-pace-agree",
    promise = "a report the service's estimate agrees with leaves the estimate in charge (its exact ETA)",
    file = "lua/seedance/estimate.lua",
    from = [[
    if math.abs(since - whole * p / 100) <= whole * M.AGREE then return nil end
]],
    to = [[
]] },
}
