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
  { name = "moderation-kind",
    promise = "a refusal or failure for sensitive content is kind = \"moderation\", never retried",
    file = "lua/seedance/errors.lua",
    from = [[
    err.kind, err.input, err.retryable = "moderation", input, false
]],
    to = [[
    err.input = input
]] },
  { name = "moderation-input",
    promise = "a moderation error names the input the service names (image_urls[2], prompt, output, audio)",
    file = "lua/seedance/errors.lua",
    from = [[
  local path = message:match("image_with_roles%[%d+%]") or message:match("image_urls%[%d+%]")
    or message:match("video_urls%[%d+%]") or message:match("audio_urls%[%d+%]")
]],
    to = [[
  local path = nil
]] },
  { name = "moderation-not-insensitive",
    promise = "'case-insensitive' is no word of a moderation verdict",
    file = "lua/seedance/errors.lua",
    from = [[
    if text:sub(s - 2, s - 1) ~= "in" then return true end
]],
    to = [[
    if true then return true end
]] },
  { name = "moderation-no-rate-limit",
    promise = "a rate limit (429) or timeout (408) that names moderation is no verdict: retried as it is",
    file = "lua/seedance/http.lua",
    from = [[
  local verdict = e and r.status ~= 408 and r.status ~= 429
]],
    to = [[
  local verdict = e
]] },
}
