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
  if req.model == nil then req.model = defaults.model or M.DEFAULTS.model end
]],
    to = [[
  if req.model == nil then req.model = M.DEFAULTS.model end
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
}
