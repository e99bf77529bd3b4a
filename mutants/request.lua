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
  { name = "images-from-field-table",
    promise = "the local images a request reads are found where the validator's field table says image URLs go (items' url too)",
    file = "src/validate_fields.h",
    from = [[
    X(image_with_roles, "array", 2, SD_IF_SET, sd_check_roles, "image.url",                         \
]],
    to = [[
    X(image_with_roles, "array", 2, SD_IF_SET, sd_check_roles, "image",                             \
]] },
}
