-- mutants/task.lua: mutations of the task promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "task-progress-observes",
    promise = "every answer a task handle reads feeds its progress estimate (task:progress_at)",
    file = "lua/seedance/task.lua",
    from = [[
  if self._estimate then self:_observe(scheduler.now()) end
]],
    to = [[

]] },
  { name = "answers-never-raise",
    promise = "no value in a task answer makes a call raise (wrong types, fractions, huge numbers)",
    file = "lua/seedance/task_answer.lua",
    from = [[
  local p = number_in(data.progress, -1e9, 1e9)
]],
    to = [[
  local p = data.progress
]] },
  { name = "close-wakes-wait",
    promise = "closing a task wakes a wait or download pausing between requests, at once",
    timeout = 15,
    edits = {
      { file = "lua/seedance/task.lua",
        from = [[
  if naps then scheduler.interrupt(naps) end -- a wait or download pausing between requests ends now
]],
        to = [[

]] },
      { file = "lua/seedance/task.lua",
        from = [[
  if watch then scheduler.unwatch(watch) end -- a wait ends now (its waiter is woken)
]],
        to = [[

]] },
    } },
  { name = "key-nested-masked",
    promise = "the key is masked in every string of a service error, nested ones too",
    file = "lua/seedance/task_answer.lua",
    from = [[
    elseif type(v) == "table" then v = depth < 8 and clean_error(redact, v, depth + 1) or nil end
]],
    to = [[
    elseif type(v) == "table" and depth > 8 then v = nil end
]] },
  { name = "poll-answer-other-task",
    promise = "a poll answer about another task is never taken as this task's state",
    file = "lua/seedance/task_answer.lua",
    from = [[
  if about ~= nil and about ~= id then
]],
    to = [[
  if false then
]] },
  { name = "poll-estimate-slack",
    promise = "polling trusts the estimate only as an upper bound up to 4x too long",
    file = "lua/seedance/polling.lua",
    from = [[
  local earliest = estimated_time and estimated_time / M.ESTIMATE_SLACK or 0
]],
    to = [[
  local earliest = estimated_time and estimated_time / 2 or 0
]] },
  { name = "poll-lag-bound",
    promise = "polling never sleeps more than max(2 s, 5% of the elapsed time) when a task could be ending",
    file = "lua/seedance/polling.lua",
    from = [[
  local delay = M.LAG_SHARE * t
]],
    to = [[
  local delay = 0.5 * t
]] },
  { name = "poll-rate-not-from-zero",
    promise = "polling reads no progress rate from a poll at 0% (queued tasks start late)",
    file = "lua/seedance/polling.lua",
    from = [[
  if p and pp and pp > 0 and s.progress_step and s.prev_elapsed and t > s.prev_elapsed and p >= pp then
]],
    to = [[
  if p and pp and s.progress_step and s.prev_elapsed and t > s.prev_elapsed and p >= pp then
]] },
  { name = "slot-back-when-closed",
    promise = "a closed task gives its max_in_flight slot back",
    file = "lua/seedance/task.lua",
    from = [[
  self.closed = true
  Task._release(self)
]],
    to = [[
  self.closed = true
]] },
  { name = "slot-back-when-collected",
    promise = "a collected task gives its max_in_flight slot back",
    file = "lua/seedance/task.lua",
    from = [[
function Task:__gc()
  if self.closed then return end
  self.closed = true
  self:_release()
]],
    to = [[
function Task:__gc()
  if self.closed then return end
  self.closed = true
]] },
  { name = "slot-back-when-wait-fails",
    promise = "a task gives its max_in_flight slot back when wait ends without success (timeout, error)",
    file = "lua/seedance/task_wait.lua",
    from = [[
      tasks().release(task)
]],
    to = [[

]] },
  { name = "undecodable-cap",
    promise = "wait gives up after a few undecodable answers in a row",
    file = "lua/seedance/task_wait.lua",
    from = [[
  if (self.undecodable or 0) >= tasks().UNDECODABLE_MAX then
]],
    to = [[
  if false then
]] },
  { name = "wait-callback-protected",
    promise = "a raising on_progress in wait comes back as callback_error, never raised into the host",
    file = "lua/seedance/task_wait.lua",
    from = [[
    if self.i then cok, cerr = scheduler.protect(self.on_progress, task, self.i)
    else cok, cerr = scheduler.protect(self.on_progress, task) end
]],
    to = [[
    cok, cerr = true, self.on_progress(task, self.i)
]] },
  { name = "wait-progress-on-change",
    promise = "wait calls on_progress only when the task's status or progress changed",
    edits = {
      { file = "lua/seedance/task_wait.lua",
        from = [[
  if self.on_progress and changed then
]],
        to = [[
  if self.on_progress then
]] },
      { file = "src/engine_sched.c",
        from = [[
    int tell = w->prof->wake_all, progress_changed;
]],
        to = [[
    int tell = 1, progress_changed;
]] },
    } },
  { name = "wait-timeout-option",
    promise = "the client's wait_timeout is the deadline of a wait given none",
    file = "lua/seedance/task_wait.lua",
    from = [[
  local timeout = opts.timeout or s.wait_timeout
]],
    to = [[
  local timeout = opts.timeout or 1800
]] },
  { name = "task-created-server-clock",
    promise = "a task's age (from its created) is read on the service's clock (its answer's Date), not this machine's",
    file = "src/engine_sched.c",
    from = [[
        double server_now = w->server_offset != 0 ? (double)now / 1e6 + w->server_offset : (double)sd_wall_s();
]],
    to = [[
        double server_now = (double)sd_wall_s();
]] },
  { name = "engine-poll-delay",
    promise = "the engine polls a task on polling.lua's schedule: never later than the lag bound allows",
    file = "src/engine_sched.c",
    from = [[
    if (delay < lag_floor) delay = lag_floor;
]],
    to = [[
    if (delay < lag_floor) delay = lag_floor * 2;
]] },
  { name = "engine-poll-rate",
    promise = "the engine's schedule counts the progress seen since the last poll at most one step short of "
      .. "the truth (polling.lua's rate), never polling before the task could have moved",
    file = "src/engine_sched.c",
    from = [[
        double rate = (double)(p - pp + step) / (t - pt);
]],
    to = [[
        double rate = (double)(p - pp) / (t - pt);
]] },
  { name = "task-abandon-records",
    promise = "task:abandon() records it in the journal, so a re-run neither waits for it nor downloads it",
    file = "lua/seedance/task.lua",
    from = [[
    local ok, err = j:append{ type = "abandon", key = self._journal_key, task_id = self.id }
]],
    to = [[
    local ok, err = true, nil
]] },
  { name = "task-abandoned-no-wait",
    promise = "a handle of an abandoned task neither polls nor downloads",
    file = "lua/seedance/task_wait.lua",
    from = [[
  if task.abandoned then return "fail", T.abandoned_error(task) end
]],
    to = [[
]] },
  { name = "interrupt-lists-parked",
    promise = "an interrupted script's error names every paid task of a map, those the engine polls (parked, no "
      .. "handle in Lua) too",
    timeout = 90,
    file = "lua/seedance/task.lua",
    from = [[
      if type(wid) == "number" then -- parked: the engine has its id and key
]],
    to = [[
      if false then
]] },
  { name = "poll-stops-when-closed",
    promise = "a task closed (the command's Ctrl-C) while a poll waits out a 429's Retry-After, its own or the "
      .. "client's shared pause, ends at once and sends nothing more",
    timeout = 90,
    edits = {
      -- a wait's polls: the watch's poll waiting in the client's window (the shared pause) goes with it
      { file = "src/engine_watch.c",
        from = [[
        t->watch = NULL;
        sd_engine_cancel(e, &t->q);
]],
        to = [[
        t->watch = NULL;
]] },
      -- a refresh's poll (http's stopped)
      { file = "lua/seedance/task.lua",
        from = [[
    { track = self:_track(), nap = nap, stopped = stopped }))
]],
        to = [[
    { track = self:_track(), nap = nap, stopped = nil }))
]] },
    } },
}
