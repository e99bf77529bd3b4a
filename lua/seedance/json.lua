--- JSON read and written the same under any locale: the service's answers,
-- journal records, request files and bodies, the command's `--json` output.
-- The C core's own reader and writer (src/json.c), not lua-cjson, whose
-- numbers follow the process's LC_NUMERIC (and cache it when it is loaded), so
-- a host that sets a comma locale after `require("seedance")` would make
-- `{"code":200,...}` unreadable. What it reads and writes is lua-cjson 2.1's:
-- numbers decode as floats, `null` is `json.null` (lua-cjson's `cjson.null`
-- is the same value), a table with keys 1..n is an array, an empty one an object.
-- @module seedance.json
-- @local

local core = require("seedance.core")

local M = {}

--- Decode JSON text. Never raises on the text.
-- @function decode
-- @tparam string text
-- @return[1] the value
-- @treturn[2] nil
-- @treturn[2] string why the text is not JSON ("... at character N")
M.decode = core.json_decode

--- Encode a value as JSON text. Never raises on the value.
-- @function encode
-- @param value
-- @treturn[1] string
-- @treturn[2] nil
-- @treturn[2] string why it cannot be written (a function, NaN, a too sparse array, too deep)
M.encode = core.json_encode

--- The value JSON's `null` decodes to (a NULL light userdata, as `cjson.null`).
M.null = core.json_null

return M
