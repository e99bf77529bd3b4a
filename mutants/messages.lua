-- mutants/messages.lua: mutations of the command's messages that name the fix (issue 24; spec/cli/messages_spec.lua
-- holds every message; mutants/catalogue.lua says how a row reads).
return {
  { name = "cli-msg-flag-no-value",
    promise = "a flag that takes no value followed by one (--generate-audio yes) is named, with the fix",
    file = "lua/seedance/cli/usage.lua",
    from = [[
  if before and parser.is_option(before) and not parser.takes_value(before) and before:sub(1, 2) == "--" then
]],
    to = [[
  if false then
]] },
  { name = "cli-msg-unquoted-value",
    promise = "a stray word after an option's value (--prompt a cat) says to quote the value",
    file = "lua/seedance/cli/usage.lua",
    from = [[
  if before and before2 and parser.takes_value(before2) and not before2:find("=", 1, true) then
]],
    to = [[
  if false then
]] },
  { name = "cli-msg-one-dash",
    promise = "a long option with one dash (-prompt, -output) is refused naming the option meant, never read as -o utput",
    file = "lua/seedance/cli.lua",
    from = [[
  if one_dash then args, perr = nil, one_dash end
]],
    to = [[
  if false then args, perr = nil, one_dash end
]] },
  { name = "cli-msg-option-position",
    promise = "a command's option before the command (seedance -v balance) is said to belong after it, with the line",
    file = "lua/seedance/cli/usage.lua",
    from = [[
    if at and first and first < at then
]],
    to = [[
    if false then
]] },
  { name = "cli-msg-key-advice",
    promise = "an unknown option that another API's request key names (--aspect-ratio) gets the validator's advice",
    file = "lua/seedance/cli/usage.lua",
    from = [[
    local advice = (name == "seedance generate" or name == "seedance") and M.key_advice(unknown)
]],
    to = [[
    local advice = nil
]] },
  { name = "cli-msg-json-line-column",
    promise = "a request file that is not JSON is named by line and column, with the fix",
    file = "lua/seedance/cli/request.lua",
    from = [[
    why = name .. ":" .. M.json_problem(body, jerr)
]],
    to = [[
    why = name .. " is not a JSON object: " .. jerr
]] },
  { name = "cli-msg-repeated-option",
    promise = "an option given twice (-o a -o b) is refused, never the last silently taken",
    file = "lua/seedance/cli/parser.lua",
    from = [[
  return cmd:option(names, ...):overwrite(false)
]],
    to = [[
  return cmd:option(names, ...)
]] },
  { name = "cli-msg-existing-output",
    promise = "an output file that exists is refused before paying (--force replaces it)",
    file = "lua/seedance/cli/request.lua",
    from = [[
  for _, out in ipairs(force and {} or list) do
]],
    to = [[
  for _, out in ipairs({}) do
]] },
  { name = "cli-msg-key-source",
    promise = "a refused key (401, 403) names where the key came from",
    file = "lua/seedance/cli/hints.lua",
    from = [[
  elseif (err.type == "authentication_error" or err.type == "permission_error") and settings then
]],
    to = [[
  elseif false then
]] },
  { name = "cli-msg-task-prefix",
    promise = "a task id without its task_ prefix that is not found gets the id meant",
    file = "lua/seedance/cli/hints.lua",
    from = [[
    elseif not id:match("^task_") then
]],
    to = [[
    elseif false then
]] },
  { name = "cli-msg-connect-hint",
    promise = "a refused connection asks whether the service (or proxy) at the address, and where it came from, runs",
    file = "lua/seedance/cli/hints.lua",
    from = [[
    local hint = settings and not_running(message, settings)
]],
    to = [[
    local hint = nil
]] },
  { name = "cli-msg-validate-json",
    promise = "validate --json prints one JSON object, the result or the error",
    file = "lua/seedance/cli/commands.lua",
    from = [[
function M.validate(ctx, args)
  ctx.json = args.json
]],
    to = [[
function M.validate(ctx, args)
]] },
  { name = "cli-msg-service-later",
    promise = "a rate limit or failing service, retried, says to run the command again later",
    file = "lua/seedance/cli/hints.lua",
    from = [[
  elseif err.type == "rate_limit_error" or (err.status and err.status >= 500) then
]],
    to = [[
  elseif false then
]] },
  { name = "cli-msg-other-command",
    promise = "an option another command takes (status --prompt, seedance --prompt x) names the commands that take "
      .. "it, never the request-key advice that names the option typed",
    file = "lua/seedance/cli/usage.lua",
    from = [[
    local other = M.other_command(unknown, name, argv)
]],
    to = [[
    local other = nil
]] },
  { name = "cli-msg-key-advice-scope",
    promise = "the request-key advice (use --image) is given on generate only, whose flags it names",
    file = "lua/seedance/cli/usage.lua",
    from = [[
    local advice = (name == "seedance generate" or name == "seedance") and M.key_advice(unknown)
]],
    to = [[
    local advice = M.key_advice(unknown)
]] },
  { name = "cli-msg-short-equals",
    promise = "a short option written with '=' (-o=v.mp4) is refused with how to write it, never a file named =v.mp4",
    file = "lua/seedance/cli.lua",
    from = [[
  local one_dash = usage.one_dash(attached) or usage.short_equals(attached)
]],
    to = [[
  local one_dash = usage.one_dash(attached)
]] },
  { name = "cli-msg-empty-path",
    promise = "an empty file flag (-o '', --image '', validate '') is a usage error naming the flag and what to "
      .. "name, never an internal error or a file named ''",
    file = "lua/seedance/cli/parser.lua",
    from = [[
    if s == "" then
      return nil, string.format("%s is empty (a shell variable that is not set?); %s", label, what)
]],
    to = [[
    if false then
      return nil, string.format("%s is empty (a shell variable that is not set?); %s", label, what)
]] },
  { name = "cli-msg-missing-argument",
    promise = "a missing request file (validate) or shell (completion) says what to type",
    edits = {
      { file = "lua/seedance/cli/usage.lua", from = [[
  if msg == "missing argument 'FILE.json'" then
]], to = [[
  if false then
]] },
      { file = "lua/seedance/cli/usage.lua", from = [[
  if msg == "missing argument 'SHELL'" then
]], to = [[
  if false then
]] },
    } },
  { name = "cli-msg-task-id-case",
    promise = "a task id typed with TASK_ in capitals that is not found gets the lower-case id, not task_TASK_...",
    file = "lua/seedance/cli/hints.lua",
    from = [[
    if id:match("^[Tt][Aa][Ss][Kk]_") and not id:match("^task_") then
]],
    to = [[
    if false then
]] },
  { name = "cli-msg-task-id-inner",
    promise = "a malformed task id says what an id looks like, and one found inside a URL or blanks is offered",
    file = "lua/seedance/cli/commands.lua",
    from = [[
  return nil, settings.usage("%s; %s", tostring(task):match("%((.*)%)$") or tostring(task),
    inner and inner ~= id and string.format("did you mean %s?", inner)
      or "give the id as `seedance generate` printed it (task_...)")
]],
    to = [[
  return nil, settings.usage("%s", tostring(task):match("%((.*)%)$") or tostring(task))
]] },
  { name = "cli-msg-help-word",
    promise = "help written as a word after a command (seedance generate help) says to write --help",
    file = "lua/seedance/cli/usage.lua",
    from = [[
  if word == "help" and name then
]],
    to = [[
  if false then
]] },
}
