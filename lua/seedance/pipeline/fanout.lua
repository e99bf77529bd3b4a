--- The engine of `seedance.map` and of `seedance batch`: items submitted at
-- most `concurrency` at a time, polled by a small pool, downloaded by another,
-- with the journal read first so that a re-run pays for nothing twice.
--
-- With the client's journal, every item has its journal key (its request's
-- hash and occurrence: the n-th equal request of the list is `hash#n`), taken
-- before anything starts, and what the journal says of it decides what is done:
--
-- - abandoned (`task:abandon()`, `seedance abandon`): skipped, no request;
-- - its try failed (the task failed, or the submit was refused): failed again
--   with the recorded error, no request, unless `retry_failed` (and, for a
--   moderation failure, `retry_moderated`) asks for a new try under a new key;
-- - completed, with its output saved whole (or no output asked for): done, no
--   request (a `skipped` event with reason "done");
-- - paid for and not ended: re-attached (no pay), waited for, downloaded;
-- - else submitted (paid for).
--
-- `max_spend` reads the balance before the first paying submit and before
-- each one after it; once `used_balance` has grown by more than `max_spend`
-- no more items are submitted (with it, one submit at a time, so the cap is
-- read between two). An interrupt (`control.interrupt()`, the command's Ctrl-C)
-- stops submitting, lets a submit in flight finish, and ends every wait and
-- download (a `.part` stays for the re-run).
-- @module seedance.pipeline.fanout
-- @local

local errors = require("seedance.errors")
local files = require("seedance.files")
local heap = require("seedance.heap")
local numbers = require("seedance.numbers")
local scheduler = require("seedance.scheduler")
local tasks_mod = require("seedance.task")
local tries = require("seedance.pipeline.tries")

local M = {}

--- Coroutines of each pool, at most: submitting, polling and downloading. The
-- items in flight (`concurrency`) are handles and small waiters whose tasks the engine
-- polls (it wakes a poller only for a change, an answer it cannot read or a deadline),
-- not a coroutine each.
M.POOLS = { submit = 16, poll = 4, download = 8 }

-- The options of each submit: opts.generate, with opts.timeout as its deadline unless it has one.
local function generate_options(opts)
  local g = {}
  for k, v in pairs(opts.generate or {}) do g[k] = v end
  if g.timeout == nil then g.timeout = opts.timeout end
  return g
end
M.generate_options = generate_options

--- Refusals of the account, not of an item's request (a wrong key, a key that may not do this, no
-- balance left): the first one stops the submits (the rest are `skipped`), and none is recorded as
-- the item's try, so the run after the key is fixed or the balance topped up submits them.
M.ACCOUNT = { authentication_error = true, permission_error = true, payment_required = true }

-- An item's tries (seedance.pipeline.tries): submitting it, and what the journal says of an earlier one.
M.SUBMIT_ROUNDS = tries.SUBMIT_ROUNDS
M.submit_item = tries.submit_item
M.failed_try = tries.failed_try
M.again = tries.again
local failed_try, recorded_failure = tries.failed_try, tries.recorded_failure

--- Run the batch (its arguments and options already checked, and `paths` the
-- items' output paths as `preflight.items` gives them).
-- @tparam seedance.Client client
-- @tparam table requests
-- @tparam table opts the checked options of `map`
-- @tparam table paths output path by index (nil: no download)
-- @tparam[opt] table hooks `on_event(ev)` (events: `{ event, index, task_id, ... }`), `items` (the
--   number a person knows each item by, for the journal; default the index), `control` (a table
--   this fills with `interrupt()`), `frames` (paths by index to save each last frame to, after the video),
--   `given` (each output as the caller named it, what the results say; default `paths`)
-- @treturn table results
-- @treturn table stats
function M.run(client, requests, opts, paths, hooks)
  hooks = hooks or {}
  local n = #requests
  local results, percent, tasks = {}, {}, {}
  local stats = { total = n, done = 0, failed = 0, skipped = 0, running = 0, percent = 0 }
  local concurrency = math.max(1, math.min(opts.concurrency or 4, math.max(n, 1)))
  local stop, interrupted, cap_reached = false, false, false
  local started, finished, in_flight, percent_sum = 0, 0, 0, 0
  local queue, qhead = {}, 1     -- indexes of the items the pools work on, in order
  local due, downloads = {}, {} -- watches with an event to read, by when it came; completed items to download
  local unparked = {}             -- watch id -> its item's waiter, for the few tasks that are not parked
  local version = 0               -- bumped on every change the pools wait for
  local changed = scheduler.condition()
  local gopts = generate_options(opts)
  local fatal                     -- what a pool raised outside any item (a bug): the batch ends
  local jrnl = client:journal()
  local keys, retry = {}, {}      -- journal key by index; whether the item is a new try
  -- a journal shared with other workers (Redis): each item is claimed before it is worked on; those
  -- another worker holds wait in `elsewhere` until it settles them or its claim lapses
  local shared = jrnl and jrnl.shared
  local seen, elsewhere, handed = {}, {}, {} -- the try seen at the start; items held by others; items lost to one
  local watching = false                       -- a submitter watches `elsewhere`
  local base_used                 -- used_balance before the first paying submit (max_spend)
  local last_report
  local cancel = {}               -- the submits' stop token (scheduler.sleep's): interrupted with the batch

  local function event(ev)
    if hooks.on_event then hooks.on_event(ev) end
  end

  local function report(force)
    if not opts.on_progress or stats.error then return end
    stats.percent = n > 0 and math.floor(percent_sum / n) or 100
    local sig = table.concat({ stats.done, stats.failed, stats.skipped, stats.running, stats.percent }, " ")
    if sig == last_report and not force then return end -- only on a change
    last_report = sig
    local ok, err = scheduler.protect(opts.on_progress, stats)
    if not ok then
      stats.error = errors.callback("on_progress", err)
      stop = true
    end
  end
  local function set_percent(i, p)
    percent_sum = percent_sum + p - (percent[i] or 0)
    percent[i] = p
  end
  local function poke()
    version = version + 1
    changed.notify()
  end
  -- What a call of an item raised (a client closed under it, say): the item's error, and the batch ends.
  local function raised(what, err)
    local e = errors.callback(what, err, "aborted")
    stats.error = stats.error or e
    stop = true
    return e
  end
  -- (err: a submit called off between two attempts; one that went unanswered may have made a task)
  local function interrupted_error(task, err)
    local key = err and err.maybe_paid and err.idempotency_key
    return errors.new{ type = "interrupted", task_id = task and task.id, idempotency_key = key or nil,
      maybe_paid = key and true or nil, message = task
      and ("interrupted: task " .. task.id .. " keeps running on the service; a re-run with the journal resumes it")
      or key and ("interrupted before its submit was answered: the service may have made its task under "
        .. "Idempotency-Key " .. key .. ", which the journal keeps; a re-run submits it again under that key")
      or "interrupted before it was submitted" }
  end
  -- Settle item i with `item` (`{ task, path, error }`); `counted` when it was in flight.
  local function settle(i, item, counted)
    if counted and handed[i] and not interrupted then
      -- another worker took the item over (this one's claim lapsed): it finishes it; watched till then
      handed[i] = nil
      finished, in_flight = finished + 1, in_flight - 1
      stats.running = stats.running - 1
      tasks[i] = nil
      elsewhere[#elsewhere + 1] = i
      poke()
      return
    end
    results[i] = item
    if shared then jrnl:unclaim(keys[i]) end
    if counted then
      finished, in_flight = finished + 1, in_flight - 1
      stats.running = stats.running - 1
    end
    set_percent(i, 100)
    local tid = item.task and item.task.id or (item.error and item.error.task_id)
    if item.error and item.error.type == "interrupted" then
      stats.skipped = stats.skipped + 1
      event{ event = "skipped", index = i, task_id = tid, reason = "interrupted", error = item.error }
    elseif item.error then
      stats.failed = stats.failed + 1
      if jrnl and keys[i] and item.error.type == "expired" and item.task and not item.error.earlier then
        -- the service no longer has the result: the journal says so, so retry_failed pays for a new try
        local ok, werr = jrnl:append{ type = "expired", key = keys[i], task_id = item.task.id }
        if not ok then item.error.journal_error = werr end
      end
      if opts.fail_fast then stop = true end
      if M.ACCOUNT[item.error.type] and not item.task then
        -- the key or the balance refused: every later submit would be refused the same way
        stop = true
        stats.error = stats.error or item.error
      end
      if item.error.journal_gone then -- (Redis lost the shared journal: nothing more is submitted with it)
        stop = true
        stats.error = stats.error or item.error
      end
      event{ event = "failed", index = i, task_id = tid, error = item.error,
             again = M.again(jrnl and keys[i] and jrnl:entry(keys[i])) }
    else
      stats.done = stats.done + 1
      event{ event = "done", index = i, task_id = tid, path = item.path, task = item.task }
    end
    report()
    poke()
  end
  local function finish(i, item) settle(i, item, true) end

  -- ---- waiting: the engine polls each item's task -----------------------------------------------
  -- a task's progress, for the batch's percent and its events (one function for every item: its
  -- index comes along); none asked for: the engine wakes a poller only for the end
  local on_task_progress = (opts.on_progress or hooks.on_event) and function(t, i)
    set_percent(i, t.progress or 0)
    event{ event = "progress", index = i, task_id = t.id, status = t.status, progress = t.progress }
    report()
  end
  -- the engine has something for an item it polls: the pollers read it (called inside a step: no
  -- yield, no raise)
  local function sink(wid)
    heap.push(due, { at = scheduler.now(), wid = wid })
    poke()
  end
  local kind = tasks_mod.waiters(opts.timeout, on_task_progress, sink)
  kind.requests, kind.keys, kind.items = requests, jrnl and keys, tasks -- (tasks: a parked item's watch id)

  -- One step of an item's wait (at the start, and at each event): what comes of it. While the
  -- engine polls, the item is parked: its task is a record in the engine (tasks[i] its watch id).
  local function step(w)
    local ok, what, x = scheduler.protect(w.step, w)
    if not ok then
      w.task:close() -- its max_in_flight slot back; the handle is the item's still
      tasks[w.i] = w.task
      finish(w.i, { task = w.task, error = raised("polling", what) })
    elseif interrupted then
      tasks[w.i] = w.task
      if w.wid then scheduler.unwatch(w.wid) end
      w.task:close()
      finish(w.i, { task = w.task, error = interrupted_error(w.task) })
    elseif what == "wait" then
      if w:park() then tasks[w.i] = w.wid else unparked[w.wid], tasks[w.i] = w, w.task end
    elseif what == "done" and paths[w.i] then
      tasks[w.i] = w.task
      downloads[#downloads + 1] = w
      poke()
    else
      tasks[w.i] = w.task
      finish(w.i, { task = w.task, error = what == "fail" and x or nil })
    end
  end

  -- The handle of item i's task (a parked one comes back as a handle, its watch ended), or nil.
  local function handle(i)
    local t = tasks[i]
    if type(t) == "number" then
      local w = tasks_mod.unpark(kind, t)
      scheduler.unwatch(t)
      unparked[t] = nil
      t = w and w.task
      tasks[i] = t
    end
    return t
  end

  -- ---- what the journal already says ----------------------------------------------------------
  local frames = hooks.frames or {}
  local given = hooks.given or paths -- each output as the caller named it, for the results
  -- whether the journal saved path (none: nothing to save) and the file is whole still
  local function whole(e, path)
    return not path or (e.downloads[path] ~= nil and (files.size(path) == e.downloads[path]
      or jrnl:saved_elsewhere(e, path)))
  end
  -- each file the journal saved from a task, by path: the entry (another request's video is never clobbered)
  local saved_at = {}
  for _, key in ipairs(jrnl and jrnl.order or {}) do
    for path in pairs(jrnl.entries[key].downloads) do saved_at[path] = jrnl.entries[key] end
  end
  -- The error of item i's download to path when that file is still the one the journal saved from another
  -- request's task (the list changed since: an item removed or moved), else nil.
  local function not_its(i, task, path)
    -- (a shared journal: what every worker saved so far, read again before each download)
    local other = path and (shared and jrnl.saved_at or saved_at)[path]
    if not other or other.key == keys[i] or files.size(path) ~= other.downloads[path] then return nil end
    return errors.new{ type = "io_error", retryable = false, task_id = task.id, message = string.format(
      "%s holds the video of task %s, another request's (saved by an earlier run or another worker, in the "
      .. "journal); not overwritten with task %s's: move it away, or give this item another output", path,
      tostring(other.task_id), task.id) }
  end
  local settled_early, journaled = 0, false
  -- What the journal says of item i decides it, when it can: abandoned, failed (not to be tried
  -- again), or done with its files whole (or saved by another worker, on its disk). true when settled.
  local function judge(i, e)
    if not e or results[i] then return results[i] ~= nil end
    local failed, moderated = failed_try(e)
    local other = shared and e.attempt ~= seen[i] -- (another worker made a newer try since the start)
    local function early(item, ev, count)
      settled_early = settled_early + 1
      results[i] = item
      stats[count] = stats[count] + 1
      set_percent(i, 100)
      event(ev)
      if shared then
        jrnl:unclaim(keys[i])
        report()
        poke()
      end
      return true
    end
    if e.abandoned then
      return early({ error = errors.new{ type = "skipped", reason = "abandoned", task_id = e.task_id,
        message = "task " .. tostring(e.task_id) .. " was abandoned: neither waited for nor downloaded" } },
        { event = "skipped", index = i, task_id = e.task_id, reason = "abandoned" }, "skipped")
    elseif failed and (other or not (opts.retry_failed and (opts.retry_moderated or not moderated))) then
      local err = recorded_failure(e)
      return early({ error = err }, { event = "failed", index = i, task_id = e.task_id, error = err, earlier = true,
        again = M.again(e) }, "failed")
    elseif failed or (e.task_id and e.expired and opts.retry_failed) then
      retry[i] = true -- (a result that expired unsaved is had again only by a new try)
    elseif e.status == "completed" and whole(e, paths[i]) and whole(e, frames[i]) then
      -- finished in an earlier run (or by another worker): a handle without a request (a re-attach)
      local ok, task = scheduler.protect(client.generate, client, requests[i],
        { key = keys[i], validate = false, claimed = shared or nil })
      if ok and task then
        local by = shared and paths[i] and e.savers and e.savers[paths[i]]
        return early({ task = task, path = given[i] }, { event = "skipped", index = i, task_id = e.task_id,
          reason = "done", path = given[i], task = task, worker = by ~= jrnl.worker and by or nil }, "done")
      end
    end
    return false
  end
  if jrnl then
    for i, req in ipairs(requests) do
      keys[i] = jrnl:take_key(jrnl:hash_of(req))
      local e = jrnl:entry(keys[i])
      if e then
        journaled = true
        seen[i] = e.attempt
        judge(i, e)
      end
    end
  end
  for i = 1, n do
    if not results[i] then queue[#queue + 1] = i end
  end
  if journaled then report(true) end -- a journaled re-run: where it stands, at once

  -- ---- the spending cap -----------------------------------------------------------------------
  -- Whether item i pays when submitted (not a re-attach to a task the journal holds).
  local function pays(i)
    local e = keys[i] and jrnl:entry(keys[i])
    return retry[i] or not (e and e.task_id)
  end
  -- Before a paying submit: false (and the batch stops) once the cap is reached or the balance unknown.
  local function under_cap()
    local bal, err = client:balance()
    local used = bal and bal.used_balance
    if type(used) == "string" then used = numbers.parse(used) end -- (a gateway that quotes its numbers)
    if type(used) ~= "number" or used ~= used then used = nil end
    if not used then
      stats.error = stats.error or errors.new{ type = err and err.type or "server_error", status = err and err.status,
        message = "max_spend: the balance could not be read, so no more items are submitted: "
          .. (err and err.message or "the answer has no used_balance") }
      return false
    end
    base_used = base_used or used
    stats.spent = used - base_used
    if stats.spent > opts.max_spend then
      cap_reached = true
      stats.stopped = "max_spend"
      return false
    end
    return true
  end

  -- ---- the pools -------------------------------------------------------------------------------
  -- every item started has finished, and no more will start (or a pool broke)
  local function over()
    return fatal ~= nil or (finished == started and (stop or (qhead > #queue and #elsewhere == 0)))
  end

  -- Claim item i (a shared journal): true to work on it; false when another worker holds it (it waits
  -- in `elsewhere`) or had settled it (what the journal says, read again now).
  local function claim(i)
    if not shared then return true end
    local ok = jrnl:claim(keys[i])
    if not ok then
      elsewhere[#elsewhere + 1] = i
      return false
    end
    jrnl:refresh()
    if judge(i, jrnl:entry(keys[i])) then return false end -- (judge gave the claim back)
    return true
  end

  -- One look at the items other workers hold (every lease/5): those they settled are settled here,
  -- those whose claim lapsed (a worker killed) go back into the queue, to be re-attached to.
  local function watch()
    scheduler.sleep(math.max(0.2, math.min(2, (jrnl.lease or 10) / 5)))
    jrnl:refresh()
    local still = {}
    for _, i in ipairs(elsewhere) do
      if not results[i] and not judge(i, jrnl:entry(keys[i])) then
        if not stop and jrnl:claim(keys[i]) then queue[#queue + 1] = i else still[#still + 1] = i end
      end
    end
    elsewhere = still
    poke()
  end
  if shared then
    jrnl.on_lost = function(key)
      for i, k in pairs(keys) do
        if k == key and tasks[i] and not results[i] then
          handed[i] = true
          local parked = type(tasks[i]) == "number"
          local t = handle(i)
          if t then t:close() end
          -- (a parked item has no waiter left to end it: it ends here, handed over)
          if parked then finish(i, { task = t, error = errors.new{ type = "aborted", message = "claim lost" } }) end
        end
      end
    end
  end

  local function submitter()
    -- (shared: submitters stay until the batch is over, for the items other workers may hand back)
    while not stop and (qhead <= #queue or (shared and not over())) do
      if qhead > #queue then -- only items other workers hold are left: one submitter watches them
        if #elsewhere > 0 and not watching then
          watching = true
          watch()
          watching = false
        else
          local v = version
          changed.wait(function() return version ~= v or stop end)
        end
      elseif in_flight >= concurrency then
        changed.wait(function() return in_flight < concurrency or stop end)
      elseif client.closed then -- closed by a callback, say: no more submits
        stop = true
        stats.error = stats.error or errors.new{ type = "aborted", message = "the client was closed" }
      elseif opts.max_spend and pays(queue[qhead]) and not under_cap() then
        stop = true
      else
        local i = queue[qhead]
        qhead, started, in_flight = qhead + 1, started + 1, in_flight + 1
        stats.running = stats.running + 1
        if not claim(i) then -- (another worker holds it, or settled it): no longer this one's to start
          started, in_flight = started - 1, in_flight - 1
          stats.running = stats.running - 1
          poke()
        else
          local g = {}
          for k, v in pairs(gopts) do g[k] = v end
          g.key, g.item, g.output, g.retry_failed = keys[i], (hooks.items or {})[i] or i, paths[i], retry[i]
          g.claimed, g.retry_attempt = shared or nil, shared and retry[i] and seen[i] or nil
          g.cancel = cancel
          if not jrnl then g.item, g.output = nil, nil end
          local ok, task, err = M.submit_item(client, requests[i], g, function() return stop end)
          if not ok then
            finish(i, { error = raised("generate", task) })
          elseif not task and interrupted and err and (err.type == "aborted" or tries.resubmit(err)) then
            -- called off before another attempt (or another round): nothing more sent, its key named
            finish(i, { error = interrupted_error(nil, err) })
          elseif not task then
            finish(i, { error = err })
          elseif interrupted then -- paid (or re-attached) while stopping: named, not waited for
            tasks[i] = task
            event{ event = "submitted", index = i, task_id = task.id, reattached = task.reattached or nil }
            task:close()
            finish(i, { task = task, error = interrupted_error(task) })
          else
            tasks[i] = task
            event{ event = "submitted", index = i, task_id = task.id, reattached = task.reattached or nil }
            step(task:waiter(kind, i))
          end
        end
      end
    end
    poke() -- no more to submit: pools waiting on that may end
  end

  local function poller()
    while not over() do
      if not due[1] then
        local v = version
        changed.wait(function() return version ~= v end)
      else
        local wid = heap.pop(due).wid
        local w = unparked[wid]
        unparked[wid] = nil
        w = w or tasks_mod.unpark(kind, wid) -- nil: its wait ended already
        if w then step(w) end
      end
    end
  end

  -- A shared journal: a path is downloaded into by one worker at a time (its claim, `out:PATH`), and what
  -- the others saved is read again first, so another request's video there is seen (two batch files under
  -- one NAME, one output pattern). false when the batch was interrupted meanwhile.
  local function hold_output(path)
    if not shared or not path then return true end
    while not jrnl:claim("out:" .. path) do
      if interrupted then return false end
      scheduler.sleep(math.min(1, (jrnl.lease or 10) / 10), cancel)
    end
    jrnl:refresh()
    return true
  end

  local function downloader()
    while not over() do
      local w = table.remove(downloads, 1)
      local held = w and hold_output(paths[w.i])
      local clash = held and (not_its(w.i, w.task, paths[w.i]) or not_its(w.i, w.task, frames[w.i]))
      if not w then
        local v = version
        changed.wait(function() return version ~= v end)
      elseif interrupted or not held then
        if held and shared then jrnl:unclaim("out:" .. paths[w.i]) end
        finish(w.i, { task = w.task, error = interrupted_error(w.task) })
      elseif clash then
        if shared then jrnl:unclaim("out:" .. paths[w.i]) end
        finish(w.i, { task = w.task, error = clash })
      else
        local item = { task = w.task }
        local ok, saved, err = scheduler.protect(w.task.download, w.task, paths[w.i],
          { on_progress = opts.on_download })
        if ok and saved and frames[w.i] and not interrupted then -- the last frame too (the command's)
          local fok, frame, ferr = scheduler.protect(w.task.download, w.task, frames[w.i], { source = "last_frame" })
          if not fok then ok, saved = false, frame
          elseif not frame then saved, err = nil, ferr end
        end
        if not ok and interrupted then item.error = interrupted_error(w.task)
        elseif not ok then item.error = raised("download", saved)
        elseif saved then item.path = given[w.i]
        elseif interrupted then item.error = interrupted_error(w.task)
        else item.error = err end
        if shared then jrnl:unclaim("out:" .. paths[w.i]) end
        finish(w.i, item)
      end
    end
  end

  if hooks.control then
    --- Stop the batch: no more submits; a submit in flight finishes (its task is named, not waited
    -- for); every wait and download in progress ends (the tasks run on, a re-run resumes them).
    function hooks.control.interrupt()
      if interrupted then return end
      interrupted, stop = true, true
      scheduler.interrupt(cancel) -- a submit pausing before another attempt (a 429's Retry-After) ends now
      if jrnl then jrnl:interrupt() end -- (a shared journal waiting for its Redis waits no more)
      stats.stopped = stats.stopped or "interrupted"
      for i, t in pairs(tasks) do
        if not results[i] then
          -- a parked item is ended by a poller (its handle made again, closed, interrupted), never here:
          -- settling an item may wait on its journal (a Redis that is gone), this may run outside a coroutine
          if type(t) == "number" then heap.push(due, { at = scheduler.now(), wid = t }) else t:close() end
        end
      end
      poke()
    end
  end

  -- A pool's coroutine: whatever it raises ends the batch, and wakes the others to end too.
  local function worker(body)
    return scheduler.spawn(function()
      local ok, err = scheduler.protect(body)
      if not ok then
        fatal = fatal or err
        stop = true
        poke()
      end
    end)
  end
  local pool = {}
  local submit_pool = opts.max_spend and 1 or M.POOLS.submit -- with a cap: one submit at a time, read between
  if #queue > 0 then
    for _, p in ipairs{ { submitter, submit_pool }, { poller, M.POOLS.poll }, { downloader, M.POOLS.download } } do
      for _ = 1, math.min(concurrency, p[2]) do pool[#pool + 1] = worker(p[1]) end
    end
  end
  for _, h in ipairs(pool) do
    local _, err = h:wait()
    if err then fatal = fatal or err end
  end
  if fatal then stats.error = stats.error or errors.callback("map", fatal, "aborted") end
  for wid in pairs(unparked) do -- waits the batch ended under: the engine stops polling
    scheduler.unwatch(wid)
    unparked[wid] = nil
  end
  for i = 1, n do
    local task = not results[i] and handle(i) -- (a parked one: its handle again, the engine stops polling it)
    if task then -- paid for, and the batch ended under it: the handle is the caller's
      stats.failed = stats.failed + 1
      results[i] = { task = task, error = stats.error }
      event{ event = "failed", index = i, task_id = task.id, error = stats.error }
    elseif not results[i] then
      local reason = interrupted and "interrupted" or cap_reached and "max_spend" or "stopped"
      local why = interrupted and "the batch was interrupted"
        or cap_reached and string.format("the spending cap was reached (used_balance grew by %s, more than "
          .. "max_spend %s)", tostring(stats.spent), tostring(opts.max_spend))
        or (stats.error and stats.error.message:match("[^\n]*")) or "an earlier item failed (fail_fast)"
      stats.skipped = stats.skipped + 1
      results[i] = { error = errors.new{ type = "skipped", reason = reason, message = "not started: " .. why } }
      event{ event = "skipped", index = i, reason = reason }
    end
  end
  stats.running = 0
  if settled_early > 0 or #queue > 0 then report() end
  return results, stats
end

return M
