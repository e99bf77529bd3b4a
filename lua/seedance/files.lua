--- Local files: the checks made before paying (outputs writable, inputs
-- readable images) and the small file operations downloads need. Symbolic
-- links are never followed when reading a partial file's companions.
-- Failures are `io_error` (a file or folder problem) or `validation_error`
-- (a file that is not an image the service accepts).
-- @module seedance.files

local core = require("seedance.core")
local errors = require("seedance.errors")

local M = {}

--- Largest image the service takes (20 MB).
M.UPLOAD_MAX = 20 * 1024 * 1024

--- Longest file name (one path component, in bytes) the file systems we run on take.
M.NAME_MAX = 255

-- The files a download keeps beside its target while it runs (a part and its validator).
local COMPANIONS = { ".part", ".part.meta" }

local function io_error(path, msg, extra)
  local e = errors.new{ type = "io_error", retryable = false, path = path, message = path .. ": " .. msg }
  for k, v in pairs(extra or {}) do e[k] = v end
  return nil, e
end

--- Whether this Lua runs on Windows (its package path separator is `\`).
M.WINDOWS = package.config:sub(1, 1) == "\\"

--- The folder a path is in ("." for a bare name). `/` separates folders, and
-- `\` too on Windows (elsewhere it is a character of a name: `a\b.mp4` is one
-- file in "."). On Windows a drive keeps its root (`C:\x` is in `C:\`) and a
-- drive-relative name stays in its drive's current folder (`C:x` is in `C:.`).
-- @tparam string path
-- @tparam[opt] boolean windows read the path as Windows does (default: this platform)
-- @treturn string
function M.dirname(path, windows)
  if windows == nil then windows = M.WINDOWS end
  local drive, rest = "", path
  if windows and path:match("^%a:") then drive, rest = path:sub(1, 2), path:sub(3) end
  local dir
  if windows then dir = rest:match("^(.*)[/\\][^/\\]*$") else dir = rest:match("^(.*)/[^/]*$") end
  if dir == nil then return drive .. "." end
  if dir == "" then return drive .. rest:sub(1, 1) end -- the root: "/", "\\" or "C:\\"
  return drive .. dir
end

--- The absolute form of a path, resolved against the current working
-- directory now (symbolic links are not resolved): what the library keeps of
-- a path it is given, so a host that changes folder later (an editor's `:cd`,
-- `uv.chdir`) changes nothing about which file it names. The path itself
-- when the working directory cannot be read.
-- @tparam string path
-- @treturn string
function M.absolute(path)
  if M.path_problem(path) then return path end -- refused where it is checked, never raised here
  return core.absolute(path) or path
end

--- What stands at a path (never following a symbolic link): `{ type, size }` or nil.
-- @tparam string path
-- @treturn table|nil
function M.stat(path)
  return (core.stat(path))
end

--- Size of a regular file (not through a link), or nil when there is none.
-- @tparam string path
-- @treturn integer|nil
function M.size(path)
  local kind, size = core.kind(path)
  return kind == "file" and size or nil
end

--- Remove a file (a link itself, never what it points to); quiet when absent.
-- @tparam string path
function M.remove(path)
  core.remove(path)
end

--- Move `from` onto `to` in one step, replacing a file (or a link itself) at
-- `to`: what `os.rename` does on POSIX, and refuses to do on Windows when `to`
-- exists (the core uses MoveFileEx there).
-- @tparam string from
-- @tparam string to
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string message
function M.replace(from, to)
  local ok, err = core.replace(from, to)
  if not ok then return nil, err end
  return true
end

--- Read a small companion file (at most 4 KiB), never through a symbolic link.
-- @tparam string path
-- @treturn string|nil its contents, nil when absent or unusable
function M.read_small(path)
  return (core.read_file(path, 4096))
end

--- Why a value cannot be a path (nil when it can be tried): not a string, empty,
-- or holding a NUL byte (C reads a string up to its first NUL: "a.mp4\0x" would be a.mp4).
-- @param path
-- @treturn string|nil
function M.path_problem(path)
  if type(path) ~= "string" then return "a path must be a string, got " .. type(path) end
  if path == "" then return "a path must not be empty" end
  local nul = path:find("\0", 1, true)
  if nul then return string.format("the path '%s' holds a NUL byte (at byte %d)", core.utf8_clean(path:sub(1, nul - 1)),
    nul) end
  return nil
end

--- Whether a file can be made at `path`: its folder exists and takes a new
-- file (tried for real, unless `probe` is false: a download about to make its
-- file learns the same at once, and a frame loop is spared a file made and
-- removed), and whatever stands at `path` is a regular file (or a link, which
-- the final rename replaces) and not a folder, FIFO or device.
-- @tparam string path
-- @tparam[opt=true] boolean probe
-- @tparam[opt] string shown how messages name it (default path)
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error `io_error`
function M.check_output(path, probe, shown)
  if type(path) ~= "string" or path == "" then
    return nil, errors.new{ type = "io_error", retryable = false, message = "output path must be a non-empty string" }
  end
  local why = M.path_problem(path)
  shown = shown or path
  if why then return nil, errors.new{ type = "io_error", retryable = false, message = "output: " .. why } end
  -- (core.kind: no table, no message for a file not there yet; a download checks several a task)
  local kind = core.kind(path)
  if kind and kind ~= "file" and kind ~= "link" then
    return io_error(shown, "is a " .. kind .. ", not a file; choose another output path")
  end
  -- the companions the download makes beside it: never anything but files, and names that fit
  for _, suffix in ipairs(COMPANIONS) do
    local ckind = core.kind(path .. suffix)
    if ckind and ckind ~= "file" and ckind ~= "link" then
      return io_error(shown, shown .. suffix .. " (where the download is kept while it runs) is a " .. ckind
        .. "; remove it or choose another output path")
    end
  end
  local base = path:match("([^/\\]*)$")
  if #base + #".part.meta" > M.NAME_MAX then
    return io_error(shown, string.format("the file name is %d bytes; with the download's companion "
      .. "'.part.meta' it would pass the %d-byte limit of a name", #base, M.NAME_MAX))
  end
  local dir = M.dirname(path)
  local dkind = core.kind(dir)
  if not dkind then
    local _, derr, code = core.stat(dir) -- (the message, only now)
    derr = derr or code or "not found"
    local reason = tostring(derr):match(": ([^:]*)$") or tostring(derr)
    return io_error(shown, "its folder " .. M.dirname(shown) .. " does not exist (" .. M.dirname(shown) .. ": "
      .. reason .. ")")
  end
  if dkind ~= "directory" and dkind ~= "link" then -- a link to a folder is a folder
    return io_error(shown, M.dirname(shown) .. " is a " .. dkind .. ", not a folder")
  end
  if probe == false then return true end
  local ok, perr = core.probe_dir(dir)
  if not ok then return io_error(shown, "cannot write in its folder (" .. tostring(perr) .. ")") end
  return true
end

-- Sniff an image type from its first bytes.
local function image_type(head)
  if head:sub(1, 3) == "\255\216\255" then return "image/jpeg" end
  if head:sub(1, 8) == "\137PNG\r\n\26\n" then return "image/png" end
  if head:sub(1, 6) == "GIF87a" or head:sub(1, 6) == "GIF89a" then return "image/gif" end
  if head:sub(1, 4) == "RIFF" and head:sub(9, 12) == "WEBP" then return "image/webp" end
  return nil
end

--- Check a local image before it is uploaded: readable (`io_error` if not),
-- JPEG, PNG, WebP or GIF, at most 20 MB (`validation_error` if not).
-- @tparam string path the file
-- @tparam[opt] string shown how messages name it (default path: a marker's path as the caller gave it)
-- @treturn[1] string its content type
-- @treturn[2] nil
-- @treturn[2] seedance.Error
function M.check_image(path, shown)
  -- (both spellings: a marker's path changed after seedance.file would go out as the upload's name)
  local why = (shown and M.path_problem(shown)) or M.path_problem(path)
  if why then return nil, errors.new{ type = "io_error", retryable = false, message = "image: " .. why } end
  shown = shown or path
  -- what the path names (through links): a FIFO or a device would block or never end an upload
  local target, terr = core.stat(path, true)
  if not target then
    return io_error(shown, "cannot read (" .. (tostring(terr):match(": ([^:]+)$") or tostring(terr)) .. ")")
  end
  if target.type ~= "file" then return io_error(shown, "is a " .. target.type .. ", not an image file") end
  local f, ferr = io.open(path, "rb")
  if not f then
    return io_error(shown, "cannot read (" .. (tostring(ferr):match(": ([^:]+)$") or tostring(ferr)) .. ")")
  end
  local head = f:read(12) or ""
  local size = f:seek("end")
  f:close()
  local function bad(msg)
    return nil, errors.new{ type = "validation_error", retryable = false, message = shown .. ": " .. msg,
                            errors = { { field = shown, message = msg } } }
  end
  local ctype = image_type(head)
  if not ctype then return bad("not a JPEG, PNG, WebP or GIF image") end
  if size > M.UPLOAD_MAX then
    return bad(string.format("is %d bytes; images may be at most %d bytes (20 MB)", size, M.UPLOAD_MAX))
  end
  return ctype
end

--- Every local image a request names (`seedance.file` markers wherever an
-- image URL goes: `seedance.request.local_images`), checked before anything is paid for.
-- @tparam table request
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] seedance.Error the first problem
function M.check_inputs(request)
  for _, marker in ipairs(require("seedance.request").local_images(request)) do
    local ok, err = M.check_image(marker.resolved or marker.path, marker.path)
    if not ok then return nil, err end
  end
  return true
end

return M
