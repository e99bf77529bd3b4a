-- mutants/journal.lua: mutations of the journal promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "journal-bad-records",
    promise = "journal records of the wrong types are skipped, never raised on",
    file = "lua/seedance/journal.lua",
    from = [[
  elseif well_formed(rec) then
]],
    to = [[
  elseif true then
]] },
  { name = "journal-hash-image-bytes",
    promise = "a journaled request with a local image is told apart by the image's bytes",
    file = "lua/seedance/journal.lua",
    from = [[
        local r = scheduler.job{ op = "hash", path = v.resolved or v.path, max = M.HASH_MAX }
]],
    to = [[
        local r = { ok = false }
]] },
  { name = "journal-key-token",
    promise = "a journal's Idempotency-Key must be a header-safe token",
    file = "lua/seedance/journal.lua",
    from = [[
      if not M.key_ok(v) then return false end
]],
    to = [[

]] },
  { name = "journal-lock",
    promise = "a journal belongs to one process (client) at a time",
    file = "src/platform_posix.c",
    from = [[
    return flock((int)f, LOCK_EX | LOCK_NB);
]],
    to = [[
    return f == SD_NOFILE ? -1 : 0; /* no lock taken: every opener holds it */
]] },
  { name = "journal-not-foreign",
    promise = "a journal is never appended to a file that is not a journal",
    file = "lua/seedance/journal.lua",
    from = [[
  if not M.is_header(first) and not (first == nil and only_line and text:sub(1, 1) == "{") then
]],
    to = [[
  if false then
]] },
  { name = "journal-not-foreign-one-line",
    promise = "a one-line file that is not JSON (a user's notes) is not taken for a journal torn mid-header",
    file = "lua/seedance/journal.lua",
    from = [[
  if not M.is_header(first) and not (first == nil and only_line and text:sub(1, 1) == "{") then
]],
    to = [[
  if not M.is_header(first) and not (first == nil and only_line) then
]] },
  { name = "journal-read-whole",
    promise = "a journal is read whole, however long",
    file = "lua/seedance/journal.lua",
    from = [[
  local r = scheduler.job{ op = "read", file = lock, max = 2 ^ 50 }
]],
    to = [[
  local r = scheduler.job{ op = "read", file = lock, max = 64 * 1024 * 1024 }
]] },
  { name = "journal-key-wins",
    promise = "with a journal, a submit goes under the Idempotency-Key the journal recorded for the request, "
      .. "never another the caller passes (that one could pay twice)",
    file = "lua/seedance/client.lua",
    from = [[
  local key = (not attempt and entry and entry.idempotency_key) or (not busy and opts.idempotency_key)
    or core.random_hex(16)
]],
    to = [[
  local key = (not attempt and not busy and opts.idempotency_key) or (entry and entry.idempotency_key)
    or core.random_hex(16)
]] },
  { name = "journal-by-descriptor",
    promise = "a journal's records go to the file it opened, through its descriptor, whatever folder the host "
      .. "changed to (never a new, headerless, unlocked file of that name elsewhere)",
    file = "lua/seedance/journal.lua",
    from = [[
  local r = scheduler.job{ op = "append", file = self.lock, data = line .. "\n" }
]],
    to = [[
  local r = { ok = core.append_sync(self.path, line .. "\n") }
]] },
  { name = "journal-path-resolved",
    promise = "map and chain compare their files with the client's journal as it was resolved when the client was made",
    file = "lua/seedance/preflight.lua",
    from = [[
    set:add("the client's journal " .. client.settings.journal, client.journal_path or client.settings.journal,
]],
    to = [[
    set:add("the client's journal " .. client.settings.journal, client.settings.journal,
]] },
  { name = "image-hash-off-frame",
    promise = "a request's local images are read and hashed for its journal identity on the worker thread, never "
      .. "inside a host's step(0)",
    file = "lua/seedance/journal.lua",
    from = [[
        local r = scheduler.job{ op = "hash", path = v.resolved or v.path, max = M.HASH_MAX }
]],
    to = [[
        local data = core.read_file(v.resolved or v.path, M.HASH_MAX)
        local r = { ok = data ~= nil, hash = data and core.hash(data) }
]] },
  { name = "journal-read-sliced",
    promise = "a journal of thousands of records is read over several frames (a slice per step), not in one step",
    file = "lua/seedance/journal.lua",
    from = [[
    if n % M.SLICE == 0 then scheduler.pass() end
]],
    to = [[
]] },
  { name = "journal-new-try",
    promise = "a submit record of a new try replaces what the journal knew of the earlier try",
    file = "lua/seedance/journal.lua",
    from = [[
    if attempt > e.attempt then -- a new try of the request: the earlier one's outcome is history
]],
    to = [[
    if false then
]] },
  { name = "journal-hash-stable",
    promise = "a request with a local image hashes the same in every process (its marker's keys in one order), so a re-run finds its task instead of paying again",
    file = "lua/seedance/journal.lua",
    from = [[
      return '{"$file":' .. path .. ',"bytes":' .. sum .. "}"
]],
    to = [[
      return json.encode({ ["$file"] = v.path, bytes = bytes })
]] },
  { name = "journal-legacy-hash",
    promise = "a journal written before, holding a request's hash with its images' keys in the other order, is still found: a re-run pays nothing",
    file = "lua/seedance/journal.lua",
    from = [[
  if legacy and not self.hashes[h] and self.hashes[legacy] then return legacy end
]],
    to = [[
]] },
}
