-- mutants/scheduler.lua: mutations of the scheduler promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "bare-yield-cooperative",
    promise = "a bare coroutine.yield in a managed coroutine resumes at the next step",
    timeout = 30,
    file = "lua/seedance/runner.lua",
    from = [[
  elseif not rec.waiting then
]],
    to = [[
  elseif false then
]] },
  { name = "dispatch-budget",
    promise = "one step hands finished transfers over within the frame budget; the rest wait in the engine",
    file = "lua/seedance/scheduler.lua",
    from = [[
    if n >= most or ((n == 1 or n % 8 == 0) and now() > stop_at) then return end
]],
    to = [[
    if n >= most then return end
]] },
  { name = "error-handler-unjoined",
    promise = "the error handler gets only errors of spawned coroutines nobody waits on (never a waited one's, nor run's own)",
    file = "lua/seedance/runner.lua",
    from = [[
    if not h.joined then error_handler(h.error) end
]],
    to = [[
    error_handler(h.error)
]] },
  { name = "plain-sleep-length",
    promise = "sleep(t) in plain code waits t (to about a millisecond), not a whole 50 ms slice",
    file = "lua/seedance/scheduler.lua",
    from = [[
    if wake_at and wake_at - now() < wait then wait = math.max(0, wake_at - now()) end
]],
    to = [[
]] },
  { name = "now-exported",
    promise = "seedance.now() is the monotonic clock of every deadline and timer (public)",
    file = "lua/seedance/init.lua",
    from = [[
  return scheduler.now()
]],
    to = [[
  return os.time()
]] },
  { name = "protect-coroutine-lua51",
    promise = "Lua 5.1: a user callback runs in a coroutine of its own (scheduler.protect), so it may call seedance (yield); xpcall cannot yield there",
    lua = "lua5.1",
    file = "lua/seedance/scheduler.lua",
    from = [[
  if compat.yield_in_pcall or not current() then return protected(compat.xpcall(fn, M.traceback, ...)) end
]],
    to = [[
  if true then return protected(compat.xpcall(fn, M.traceback, ...)) end
]] },
  { name = "resume-budget",
    promise = "one step resumes ready coroutines within the frame budget; the rest run at the next step",
    file = "lua/seedance/runner.lua",
    from = [[
    if i <= last and now() > stop_at then break end
]],
    to = [[

]] },
  { name = "scheduler-stale-wake",
    promise = "a coroutine ends once: a wake it registered before a yield that raised is ignored",
    timeout = 60,
    edits = {
      { file = "lua/seedance/runner.lua",
        from = [[
  rec.waiting = false
]],
        to = [[

]] },
      { file = "lua/seedance/runner.lua",
        from = [[
  if rec.done then return end
]],
        to = [[

]] },
    } },
  { name = "sleep-nan-refused",
    promise = "seedance.sleep refuses a NaN pause as a caller mistake",
    file = "lua/seedance/scheduler.lua",
    from = [[
  if type(seconds) ~= "number" or seconds ~= seconds then
]],
    to = [[
  if type(seconds) ~= "number" then
]] },
  { name = "step-never-blocks",
    promise = "seedance.step(0) never blocks: it asks the engine's poll and core.sleep for no wait",
    file = "lua/seedance/scheduler.lua",
    from = [[
  timeout = timeout or 0
]],
    to = [[
  timeout = (timeout or 0) + 0.002
]] },
  { name = "step-not-reentrant",
    promise = "seedance.step called from inside a step raises",
    file = "lua/seedance/scheduler.lua",
    from = [[
  if stepping then error("seedance.step called from inside a step", 3) end
]],
    to = [[
]] },
  { name = "step-ready-snapshot",
    promise = "a step resumes only what was ready when it began: what its resumes make ready (a bare yield, a spawn) runs at the next step",
    file = "lua/seedance/runner.lua",
    from = [[
  while i <= last do
]],
    to = [[
  while i <= ready_tail do
]] },
  { name = "interrupt-error",
    promise = "Ctrl-C in a plain script ends it with an interrupted error naming every paid task, no traceback",
    file = "lua/seedance/scheduler.lua",
    from = [[
  if interrupt.from_host(res) then
]],
    to = [[
  if false then
]] },
  { name = "interrupt-through-protect",
    promise = "Ctrl-C is never taken for a protected call's error (chain's wait): the script ends interrupted",
    file = "lua/seedance/scheduler.lua",
    from = [[
  if not ok and M.is_interrupt((...)) then error((...), 0) end
]],
    to = [[
]] },
  { name = "timeout-finite",
    promise = "seedance.timeout() is at most a day: a coroutine that sleeps for ever (math.huge) never hands a "
      .. "host's timer an infinite wait (luv's raised inside its loop and the host exited)",
    file = "lua/seedance/scheduler.lua",
    from = [[
  if t and t > M.TIMEOUT_MAX then t = M.TIMEOUT_MAX end
]],
    to = [[
]] },
  { name = "timeout-drops-stale",
    promise = "seedance.timeout() counts only pauses still running: one ended early (interrupted) keeps no host "
      .. "awake, so a host loop returns once seedance is idle",
    timeout = 120,
    file = "lua/seedance/runner.lua",
    from = [[
  while top and not (top.rec.waiting and top.rec.gen == top.gen) do
]],
    to = [[
  while false do
]] },
  { name = "sleep-token-wakes-all",
    promise = "scheduler.interrupt(token) wakes every coroutine pausing on the token (a client's or a batch's "
      .. "submits pausing at a 429 all end at once), not only the last to sleep",
    file = "lua/seedance/scheduler.lua",
    from = [[
  for rec, gen in pairs(token.sleepers or {}) do wake(rec, gen) end
]],
    to = [[
  for rec, gen in pairs(token.sleepers or {}) do wake(rec, gen) break end
]] },
  { name = "resume-count",
    promise = "a host's step resumes at most RESUMES coroutines, however much of its time budget is left",
    file = "lua/seedance/scheduler.lua",
    from = [[
  local budget, handovers, resumes = M.budget, M.HANDOVERS, M.RESUMES
]],
    to = [[
  local budget, handovers, resumes = M.budget, M.HANDOVERS, math.huge
]] },
  { name = "pump-budget",
    promise = "plain code that blocks steps with the pump's budget (M.PUMP), never a host's frame budget",
    file = "lua/seedance/scheduler.lua",
    from = [[
    step_once(wait, true)
]],
    to = [[
    step_once(wait, false)
]] },
  { name = "step-does-one",
    promise = "a step resumes and hands over at least one, whatever a host set its counts to (0, nil, NaN): never a run that hangs",
    file = "lua/seedance/scheduler.lua",
    from = [[
  return type(n) == "number" and n >= 1 and n or 1
]],
    to = [[
  return n
]] },
}
