-- mutants/errors.lua: mutations of the errors promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "callback-unprintable",
    promise = "a callback raising an unprintable object still comes back as callback_error",
    file = "lua/seedance/errors.lua",
    from = [[
  local ok, text = pcall(tostring, err) -- an object whose __tostring raises is still reported
]],
    to = [[
  local ok, text = true, tostring(err)
]] },
  { name = "timeout-nan-refused",
    promise = "a NaN timeout is a caller mistake, raised, never a deadline",
    timeout = 30,
    file = "lua/seedance/errors.lua",
    from = [[
  if type(v) ~= "number" or v ~= v then
]],
    to = [[
  if type(v) ~= "number" then
]] },
  { name = "error-types-one-table",
    promise = "retries, HTTP statuses and exit codes all read an error type's one row (seedance.error_types)",
    file = "lua/seedance/error_types.lua",
    from = [[
  { "bad_gateway", "upstream trouble (502)", status = 502, retryable = true, exit = 7 },
]],
    to = [[
  { "bad_gateway", "upstream trouble (502)", status = 502, exit = 7 },
]] },
}
