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
      local bytes = core.read_file(v.path, 64 * 1024 * 1024)
]],
    to = [[
      local bytes = nil
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
    file = "lua/seedance/journal.lua",
    from = [[
  local lock, lerr = core.lock(path)
]],
    to = [[
  local lock, lerr = { unlock = function() end }
]] },
  { name = "journal-not-foreign",
    promise = "a journal is never appended to a file that is not a journal",
    file = "lua/seedance/journal.lua",
    from = [[
  if not (type(first) == "table" and first.type == "journal") and not (first == nil and only_line) then
]],
    to = [[
  if false then
]] },
  { name = "journal-read-whole",
    promise = "a journal is read whole, however long",
    file = "lua/seedance/journal.lua",
    from = [[
  local text = f and f:read("*a")
]],
    to = [[
  local text = f and f:read(64 * 1024 * 1024)
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
}
