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
}
