-- mutants/urls.lua: mutations of the urls promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "base-url-http-loopback-only",
    promise = "plain http base_url only to loopback (else the key crosses the network in clear text)",
    file = "lua/seedance/urls.lua",
    from = [[
  if p.scheme == "http" and not M.is_loopback(p.host) and not allow_insecure_http then
]],
    to = [[
  if false then
]] },
  { name = "base-url-query",
    promise = "a base URL with a query or a fragment is refused",
    file = "lua/seedance/urls.lua",
    from = [[
  if p.query or p.fragment then
]],
    to = [[
  if false then
]] },
  { name = "base-url-userinfo",
    promise = "base_url with user info is refused (the key would go to the host after '@')",
    file = "lua/seedance/urls.lua",
    from = [[
  if p.userinfo then
]],
    to = [[
  if false then
]] },
  { name = "media-http-loopback-only",
    promise = "result URLs are https, or plain http only to loopback",
    file = "lua/seedance/urls.lua",
    from = [[
  if p.scheme == "http" and not M.is_loopback(p.host) and not allow_insecure then
]],
    to = [[
  if false then
]] },
  { name = "media-link-local",
    promise = "result URLs never go to link-local addresses",
    file = "lua/seedance/urls.lua",
    from = [[
    return nil, string.format("result URL '%s' points at a link-local address (where cloud metadata lives)",
]],
    to = [[
    do return p end return nil, string.format("result URL '%s' points at a link-local address (where cloud metadata lives)",
]] },
  { name = "url-message-masks-userinfo",
    promise = "messages never quote a URL's user info (password)",
    file = "lua/seedance/urls.lua",
    from = [[
  if at then rest = "***" .. rest:sub(at) end
]],
    to = [[

]] },
}
