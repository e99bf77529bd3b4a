--- The text files the command reads (the key file, a request file), as the
-- editors that write them save them: an empty file is empty (not "a
-- folder"), a read error says what the system said, a UTF-8 byte order mark
-- is dropped, and UTF-16 text (Windows Notepad's "Unicode") is named as such.
-- @module seedance.cli.text
-- @local

local errors = require("seedance.errors")

local M = {}

--- The UTF-8 byte order mark.
M.BOM = "\239\187\191"

-- The system's reason, without the path Lua puts before it.
local function reason(err)
  err = tostring(err)
  return err:match(": ([^:]+)$") or err
end

--- Read a text file (`-` for standard input, when `opts.stdin`).
-- @tparam string path
-- @tparam table opts `label` (how messages name it, e.g. "--api-key-file key.txt"), `max` (read at most
--   this many bytes plus one, so a caller can tell a file over `max`), `stdin` (whether `-` is standard input),
--   `format_error` (the error type of UTF-16 text, default `usage_error`)
-- @treturn[1] string the text, its byte order mark dropped ("" for an empty file)
-- @treturn[2] nil
-- @treturn[2] seedance.Error `io_error` (cannot be read) or `format_error` (UTF-16 text)
function M.read(path, opts)
  local label = opts.label or path
  local text, err
  if path == "-" and opts.stdin then
    text, err = io.stdin:read(opts.max and opts.max + 1 or "*a")
  else
    local f, oerr = io.open(path, "rb")
    if not f then
      return nil, errors.new{ type = "io_error", retryable = false,
        message = string.format("cannot read %s (%s)", label, reason(oerr)) }
    end
    text, err = f:read(opts.max and opts.max + 1 or "*a")
    f:close()
  end
  if text == nil and err ~= nil then
    return nil, errors.new{ type = "io_error", retryable = false,
      message = string.format("cannot read %s (%s)", label, reason(err)) }
  end
  text = text or ""   -- read(n) at the end of a file: nothing there
  if text:sub(1, 3) == M.BOM then text = text:sub(4) end
  local head = text:sub(1, 2)
  if head == "\255\254" or head == "\254\255" then
    return nil, errors.new{ type = opts.format_error or "usage_error", retryable = false,
      message = string.format("%s is UTF-16 text; save it as UTF-8", label) }
  end
  return text
end

return M
