--- Numbers read and written by the library the same under any locale. Lua's
-- own `tostring` and `string.format` of a float follow the process's
-- LC_NUMERIC (a host's `os.setlocale("de_DE.UTF-8")` makes them write "1,5"),
-- and Lua 5.1's `tonumber("1.5")` is nil there; these never read it (C, with
-- the "C" locale's rules: src/number.c).
-- @module seedance.numbers
-- @local

local core = require("seedance.core")

local M = {}

--- A decimal number read from text ("1.5", "-2", "3e2", " 7 "), or nil (hex,
-- inf, nan and a comma for the decimal point are no number here). A number is returned as it is.
-- @function parse
-- @param s
-- @treturn number|nil
M.parse = core.tonumber

--- A number written with one floating-point conversion ("%.3g", "%.1f"), "1.5" never "1,5".
-- @function format
-- @tparam string fmt
-- @tparam number x
-- @treturn string
M.format = core.format_number

--- A number as text: whole numbers without a fraction, others with up to 14 significant digits.
-- @tparam number x
-- @treturn string
function M.text(x)
  if x == math.floor(x) and x > -2 ^ 53 and x < 2 ^ 53 then return core.format_number("%.0f", x) end
  return core.format_number("%.14g", x)
end

--- Any value as a message shows it: a number as `text` writes it (the same under any locale: a table
-- key 1.5 is "1.5", never "1,5"), anything else as `tostring` does.
-- @param v
-- @treturn string
function M.show(v)
  if type(v) == "number" then return M.text(v) end
  return tostring(v)
end

return M
