-- mutants/redis.lua: mutations of the shared journal's promises (seedance.journal.redis; mutants/catalogue.lua
-- says how a row reads).
return {
  { name = "redis-lease",
    promise = "a request claimed by a worker (its lease, renewed while it lives) is refused to every other worker",
    file = "lua/seedance/journal/redis.lua",
    from = [[
if h and h ~= ARGV[1] then return {0, h} end
]],
    to = [[
if false then return {0, h} end
]] },
  { name = "redis-intent",
    promise = "with a shared journal, the intent (with its Idempotency-Key) is in Redis before the submit is sent",
    file = "lua/seedance/client.lua",
    from = [[
  if jrnl and (not entry or attempt) then
]],
    to = [[
  if jrnl and not jrnl.shared and (not entry or attempt) then
]] },
  { name = "redis-reattach",
    promise = "a worker that takes a request over reads what the others recorded for it (a killed worker's task) "
      .. "before paying, and re-attaches to that task",
    edits = {
      { file = "lua/seedance/journal/redis.lua",
        from = [[
      self:refresh()
]],
        to = [[

]] },
      { file = "lua/seedance/journal/redis.lua",
        from = [[
  if tonumber(a) >= tonumber(ARGV[4]) then return {'taken', t} end
]],
        to = [[
  if false then return {'taken', t} end
]] } } },
  { name = "redis-interrupt-waits",
    promise = "a batch's interrupt (Ctrl-C) ends the journal's waits for a Redis that does not answer",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
      if jrnl then jrnl:interrupt() end -- (a shared journal waiting for its Redis waits no more)
]],
    to = [[
]] },
  { name = "redis-journal-gone",
    promise = "a worker writes (and submits) only into the journal it read: one Redis lost (restarted empty, "
      .. "flushed, replaced under its NAME) takes no more records from it",
    edits = {
      { file = "lua/seedance/journal/redis.lua",
        from = [[
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[2] or redis.call('LLEN', KEYS[1]) < tonumber(ARGV[3]) then
]],
        to = [[
if false then
]] },
      { file = "lua/seedance/journal/redis.lua",
        from = [[
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[6] or redis.call('LLEN', KEYS[1]) < tonumber(ARGV[7]) then
]],
        to = [[
if false then
]] } } },
  { name = "redis-output-claim",
    promise = "with a shared journal, one worker at a time downloads into a path, and reads what the others saved "
      .. "there first: another request's video is never overwritten (two batch files under one NAME)",
    file = "lua/seedance/pipeline/fanout.lua",
    from = [[
    if not shared or not path then return true end
]],
    to = [[
    if true then return true end
]] },
  { name = "redis-scheme-hint",
    promise = "a Redis journal whose first contact gets no answer names a scheme that does not match the port as the likely cause (rediss:// to a plain port, redis:// to a TLS one)",
    file = "lua/seedance/journal/redis.lua",
    from = [[
    return nil, M.scheme_hint(conf, err, kind)
]],
    to = [[
    return nil, err
]] },
}
