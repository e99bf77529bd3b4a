-- mutants/request.lua: mutations of the request promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "empty-lists-arrays",
    promise = "every list field is sent as a JSON array, whatever its length",
    file = "lua/seedance/request.lua",
    from = [[
      copy[k] = next(list) == nil and EMPTY or list
]],
    to = [[
      copy[k] = list
]] },
}
