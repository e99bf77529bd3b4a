-- mutants/paths.lua: mutations of the paths promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "cli-outputs-by-identity",
    promise = "the command compares output paths by the identity of their folder, not their spelling",
    file = "lua/seedance/paths.lua",
    from = [[
  return dir_id .. "/" .. name:lower()
]],
    to = [[
  return files.dirname(path) .. "/" .. name:lower()
]] },
  { name = "cli-outputs-companions",
    promise = "an output's partial file and companion never name a file the run reads",
    file = "lua/seedance/paths.lua",
    from = [[
M.COMPANIONS = { "", ".part", ".part.meta" }
]],
    to = [[
M.COMPANIONS = { "" }
]] },
  { name = "cli-outputs-file-identity",
    promise = "an output that is the same file as an input (a hard link, through a link) is refused",
    file = "lua/seedance/paths.lua",
    from = [[
    if id then keys[#keys + 1] = { "i" .. id, p } end
]],
    to = [[
    if false then keys[#keys + 1] = { "i" .. id, p } end
]] },
  { name = "paths-case-folded",
    promise = "outputs that differ only in case are one file (case-insensitive file systems)",
    file = "lua/seedance/paths.lua",
    from = [[
  return dir_id .. "/" .. name:lower()
]],
    to = [[
  return dir_id .. "/" .. name
]] },
  { name = "map-outputs-resolved-first",
    promise = "map and chain resolve every output before their checks yield to the host's frame: a folder changed "
      .. "between two frames of a batch's checks saves no item elsewhere",
    edits = {
      { file = "lua/seedance/preflight.lua",
        from = [[
    given[i], out[i], output_err[i] = path, path and files.absolute(path), err
]],
        to = [[
    given[i], out[i], output_err[i] = path, path, err
]] },
      { file = "lua/seedance/preflight.lua",
        from = [[
    local path, full, err = given[i], out[i], output_err[i]
]],
        to = [[
    local path, full, err = given[i], given[i] and files.absolute(given[i]), output_err[i]
    out[i] = full
]] },
    } },
}
