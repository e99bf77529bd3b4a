-- mutants/files.lua: mutations of the files promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "dirname-posix-backslash",
    promise = "a backslash is a character of a POSIX name, not a folder separator",
    file = "lua/seedance/files.lua",
    from = [[
  if windows then dir = rest:match("^(.*)[/\\][^/\\]*$") else dir = rest:match("^(.*)/[^/]*$") end
]],
    to = [[
  dir = rest:match("^(.*)[/\\][^/\\]*$")
]] },
  { name = "image-not-fifo",
    promise = "a local image that is not a regular file (FIFO) is refused without opening it",
    timeout = 10,
    file = "lua/seedance/files.lua",
    from = [[
  if target.type ~= "file" then return io_error(shown, "is a " .. target.type .. ", not an image file") end
]],
    to = [[

]] },
  { name = "meta-nofollow",
    promise = "the validator file is never read through a symbolic link",
    file = "lua/seedance/files.lua",
    from = [[
  return (core.read_file(path, 4096))
]],
    to = [[
  local f = io.open(path, "rb"); if not f then return nil end; local s = f:read("*a"); f:close(); return s
]] },
  { name = "output-companions",
    promise = "the download's companion files (.part, .part.meta) are checked before paying",
    file = "lua/seedance/files.lua",
    from = [[
    if ckind and ckind ~= "file" and ckind ~= "link" then
]],
    to = [[
    if false then
]] },
  { name = "paths-nul-refused",
    promise = "an output or image path holding a NUL byte is an io_error of the checks before paying, never a raise",
    file = "lua/seedance/files.lua",
    from = [[
  local nul = path:find("\0", 1, true)
]],
    to = [[
  local nul = nil
]] },
  { name = "target-regular-file",
    promise = "a target that is not a regular file (FIFO, device, folder) is refused",
    timeout = 60,
    file = "lua/seedance/files.lua",
    from = [[
  if kind and kind ~= "file" and kind ~= "link" then
]],
    to = [[
  if false then
]] },
  { name = "file-marker-resolved",
    promise = "seedance.file(path) names the file path named when it was called, whatever folder the host is in later",
    file = "lua/seedance/init.lua",
    from = [[
  marker.resolved = core.absolute(path) or path
]],
    to = [[
  marker.resolved = path
]] },
  { name = "ca-file-resolved",
    promise = "a client's ca_file is resolved when the client is made: TLS verifies after the host changes folder",
    file = "lua/seedance/client.lua",
    from = [[
  if s.ca_file then s.ca_file = files.absolute(s.ca_file) end
]],
    to = [[
]] },
}
