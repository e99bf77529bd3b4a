-- mutants/config.lua: mutations of the command's config file and `seedance config` (mutants/catalogue.lua
-- says how a row reads).
return {
  { name = "cli-config-precedence",
    promise = "SEEDANCE_BASE_URL beats the config file's base_url (flags beat variables beat the file)",
    file = "lua/seedance/cli/settings.lua",
    from = [[
  if base == nil then base, source = getenv("SEEDANCE_BASE_URL"), "SEEDANCE_BASE_URL" end
]],
    to = [[
  if base == nil and not file.base_url then base, source = getenv("SEEDANCE_BASE_URL"), "SEEDANCE_BASE_URL" end
]] },
  { name = "cli-config-key-file",
    promise = "SEEDANCE_API_KEY beats the config file's api_key_file, which is read only when no variable is set",
    file = "lua/seedance/cli/settings.lua",
    from = [[
  elseif key == nil and conf and conf.api_key_file then
]],
    to = [[
  elseif conf and conf.api_key_file then
]] },
  { name = "cli-config-request-defaults",
    promise = "the config file's model is the request's default (a flag or the request file beats it)",
    file = "lua/seedance/cli/request.lua",
    from = [[
    if req[name] == nil and defaults[name] ~= nil then req[name], used[name] = defaults[name], true end
]],
    to = [[
    if false then req[name], used[name] = defaults[name], true end
]] },
  { name = "cli-config-no-key",
    promise = "an API key written in the config file is refused with the fix (api_key_file, chmod 600)",
    file = "lua/seedance/cli/config.lua",
    from = [[
      if KEY_NAMES[normal(key)] then
]],
    to = [[
      if false then
]] },
  { name = "cli-config-key-mode",
    promise = "a key file named in the config file that others can read is refused (chmod 600), as ssh does",
    file = "lua/seedance/cli/settings.lua",
    from = [[
  if not mode or math.floor(mode / 4) % 2 == 0 and math.floor(mode / 32) % 2 == 0 then return nil end
]],
    to = [[
  if true then return nil end
]] },
  { name = "cli-config-unknown-key",
    promise = "an unknown key in the config file is one line naming the file, the line and the keys (exit 2)",
    file = "lua/seedance/cli/config.lua",
    from = [[
      if not KNOWN[key] then
]],
    to = [[
      if false then
]] },
  { name = "cli-config-bad-value",
    promise = "a bad value in the config file is one line naming the file and the line (exit 2), before any request",
    file = "lua/seedance/cli/settings.lua",
    from = [[
        if type(e.value) ~= "number" then
]],
    to = [[
        if false then
]] },
  { name = "cli-config-command",
    promise = "seedance config shows the key masked, never the key",
    file = "lua/seedance/cli/settings.lua",
    from = [[
  set("api_key", key and "********", key_source or "none: set SEEDANCE_API_KEY, or api_key_file in the config file")
]],
    to = [[
  set("api_key", key, key_source or "none: set SEEDANCE_API_KEY, or api_key_file in the config file")
]] },
  { name = "cli-config-comment-note",
    promise = "a config value refused with a '# ...' after it says that a # starts a comment only at a line's start",
    file = "lua/seedance/cli/config.lua",
    from = [[
  if tostring(value):find("%s#") then return " (a # starts a comment only at the start of a line)" end
]],
    to = [[
  if false then return "" end
]] },
  { name = "cli-config-quote",
    promise = "a config value that opens a quote it does not close is refused, naming the quote",
    file = "lua/seedance/cli/config.lua",
    from = [[
        if #value < 2 or value:sub(-1) ~= q then
]],
    to = [[
        if false then
]] },
  { name = "cli-config-hints",
    promise = "a [section] line, a key written as its variable (SEEDANCE_BASE_URL, export ...) and a full-width = are "
      .. "said to be that; a no-break space is a blank",
    edits = {
      { file = "lua/seedance/cli/config.lua", from = [[
        local why = line:match("^%s*%[.*%]%s*$") and " (the file has no [sections]: only key = value lines)"
]], to = [[
        local why = false and ""
]] },
      { file = "lua/seedance/cli/config.lua", from = [[
  return (k:lower():gsub("[%s%-]+", "_"):gsub("^export_", ""):gsub("^seedance_", ""))
]], to = [[
  return (k:lower():gsub("[%s%-]+", "_"))
]] },
      { file = "lua/seedance/cli/config.lua", from = [[
          or line:find("\239\188\157", 1, true) and " (write = as ASCII, not the full-width \239\188\157)"
]], to = [[
]] },
      { file = "lua/seedance/cli/config.lua", from = [[
    local line = raw:gsub("\r$", ""):gsub("\194\160", " ")
]], to = [[
    local line = raw:gsub("\r$", "")
]] },
    } },
  { name = "cli-config-key-folder",
    promise = "a key file named in the config file that is a folder is said to be one, not told to be chmod 600",
    file = "lua/seedance/cli/settings.lua",
    from = [[
    if st and st.type == "file" then
]],
    to = [[
    if st then
]] },
  { name = "cli-config-unused-key-file",
    promise = "seedance config marks the config file's api_key_file unused when SEEDANCE_API_KEY's key is in effect",
    file = "lua/seedance/cli/settings.lua",
    from = [[
  if not args.api_key_file and file.api_key_file and key_source == "SEEDANCE_API_KEY" then
]],
    to = [[
  if false then
]] },
  { name = "cli-config-ca-source",
    promise = "the config file's ca_file has FILE:LINE as its source, as every other setting from the file",
    file = "lua/seedance/cli/settings.lua",
    from = [[
    path, source = file.ca_file.path, file.ca_file.where
]],
    to = [[
    path, source = file.ca_file.path, "ca_file " .. file.ca_file.where
]] },
  { name = "cli-config-default-named",
    promise = "a request the validator refuses for a model or resolution the config file gave names the file's line "
      .. "and the flag that overrides it (never one the request did not take)",
    file = "lua/seedance/cli/hints.lua",
    from = [[
    if from then message = message .. "; " .. from end
]],
    to = [[
]] },
  { name = "cli-config-default-used",
    promise = "the config file's model or resolution is named in a refusal only when the request took it",
    file = "lua/seedance/cli/hints.lua",
    from = [[
    local value = settings.used[name] and settings.defaults[name]
]],
    to = [[
    local value = settings.defaults[name]
]] },
}
