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
  { name = "json-locale-free",
    promise = "the library reads and writes JSON (answers, journal, request bodies, the command's --json) the same "
      .. "under any locale a host sets after require (not with lua-cjson, whose numbers follow LC_NUMERIC)",
    edits = {
      { file = "lua/seedance/json.lua",
        from = [[
M.decode = core.json_decode
]],
        to = [[
M.decode = require("cjson.safe").decode
]] },
      { file = "lua/seedance/json.lua",
        from = [[
M.encode = core.json_encode
]],
        to = [[
M.encode = require("cjson.safe").encode
]] },
    } },
  { name = "strtod-locale-free",
    promise = "the core reads a number in JSON with the C locale's rules (strtod_l), never the process's LC_NUMERIC",
    file = "src/platform_posix.c",
    from = [[
    return strtod_l(s, end, c);
]],
    to = [[
    return strtod(s, end);
]] },
  { name = "validator-numbers-locale-free",
    promise = "the validator writes the numbers of its messages with a dot under any locale",
    file = "src/validate_report.c",
    from = [[
        sd_format_double(n, sizeof n, "%.14g", (double)lua_tonumber(L, idx));
]],
    to = [[
        snprintf(n, sizeof n, "%.14g", (double)lua_tonumber(L, idx));
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
  { name = "validator-keys-locale-free",
    promise = "the validator names a table key that is a number the same under any locale ([1.5], never [1,5])",
    file = "src/validate_report.c",
    from = [[
        sd_format_double(n, sizeof n, "%.17g", (double)lua_tonumber(L, idx));
]],
    to = [[
        snprintf(n, sizeof n, "%.17g", (double)lua_tonumber(L, idx));
]] },
}
