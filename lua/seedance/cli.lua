--- The `seedance` command line.
-- Subcommands: generate, status, wait, download, validate, balance, version.
-- The API key comes from SEEDANCE_API_KEY and is never printed.
-- @module seedance.cli

local cjson = require("cjson.safe")
local core = require("seedance.core")
local seedance = require("seedance")
local progress = require("seedance.progress")

local M = {}

--- Exit codes, one per kind of failure (listed by `seedance --help`).
M.EXIT = {
  ok = 0, failure = 1, usage = 2, validation = 3, authentication = 4, payment = 5,
  rate_limit = 6, server = 7, network = 8, task_failed = 9, io = 10, expired = 11, timeout = 12,
}

local EXIT_BY_TYPE = {
  validation_error = "validation", invalid_request_error = "validation",
  authentication_error = "authentication", permission_error = "authentication",
  payment_required = "payment", rate_limit_error = "rate_limit",
  server_error = "server", bad_gateway = "server", service_unavailable = "server", gateway_timeout = "server",
  network_error = "network", timeout_error = "timeout", task_failed = "task_failed",
  expired = "expired", io_error = "io",
}

--- The exit code for an error object.
-- @tparam seedance.Error err
-- @treturn integer
function M.exit_code(err)
  return M.EXIT[EXIT_BY_TYPE[err and err.type] or "failure"]
end

local EXIT_HELP = [[
exit codes:
  0 ok               1 other failure     2 usage
  3 validation       4 authentication    5 payment required
  6 rate limited     7 server error      8 network error
  9 task failed     10 file error       11 result expired
 12 timed out
]]

local COMMON_HELP = [[
environment:
  SEEDANCE_API_KEY     the API key (never printed)
  SEEDANCE_BASE_URL    the service (default https://xcompute.us); point it at seedance-emulator
  SEEDANCE_TIME_SCALE  multiply pauses (for a time-scaled emulator, e.g. 0.01 for --speed 100)
]]

local USAGE = [[
usage: seedance <command> [options]

commands:
  generate    submit a generation (flags or --request FILE.json), optionally wait and download
  status ID   show a task's state
  wait ID     wait for a task to end, optionally download it (-o FILE)
  download ID -o FILE   download a completed task's video
  validate FILE.json    check a request file against the service's rules (no network)
  balance     show the account's balance
  version     print the version

`seedance <command> --help` describes each command.

]] .. COMMON_HELP .. "\n" .. EXIT_HELP

local HELP = {}

HELP.generate = [[
usage: seedance generate [request flags] [--wait] [-o FILE] [--json]

request flags (each maps to the request key of the same name):
  --request FILE.json        start from a request file (flags override its keys)
  --model NAME               doubao-seedance-2.0 (default), -fast, -face, -fast-face
  --prompt TEXT              what to generate (required for text-to-video)
  --duration SECONDS         4 to 15
  --size RATIO               16:9, 9:16, 1:1, 4:3, 3:4, 21:9, adaptive
  --resolution RES           480p, 720p, 1080p
  --seed N                   -1 .. 4294967295
  --generate-audio           add generated sound
  --return-last-frame        also return the last frame (for chaining clips)
  --web-search               add the web_search tool
  --image PATH|URL           a reference image (repeatable); local files are uploaded
  --first-frame PATH|URL     image_with_roles first_frame
  --last-frame PATH|URL      image_with_roles last_frame
  --reference-image PATH|URL image_with_roles reference_image (repeatable)
  --video URL                a reference video (repeatable)
  --audio URL                a reference audio (repeatable)

other options:
  --wait                     wait for the task to end (implied by -o)
  -o, --output FILE          download the video to FILE (implies --wait)
  --timeout SECONDS          deadline for waiting (default 1800)
  --no-validate              skip client-side checks (for a service newer than this client)
  --json                     print machine-readable JSON instead of text
  --quiet                    no progress output

]] .. COMMON_HELP .. "\n" .. EXIT_HELP

HELP.status = "usage: seedance status ID [--json]\nShows a task's status, progress and result URLs.\n\n"
  .. COMMON_HELP .. "\n" .. EXIT_HELP
HELP.wait = "usage: seedance wait ID [-o FILE] [--timeout SECONDS] [--json] [--quiet]\n"
  .. "Waits for the task to end; with -o downloads its video.\n\n" .. COMMON_HELP .. "\n" .. EXIT_HELP
HELP.download = "usage: seedance download ID -o FILE [--last-frame] [--json] [--quiet]\n"
  .. "Downloads a completed task's video (or its last frame), resuming a cut download.\n\n"
  .. COMMON_HELP .. "\n" .. EXIT_HELP
HELP.validate = "usage: seedance validate FILE.json\n"
  .. "Checks the request in FILE.json (- for standard input) and lists every problem. No network.\n\n"
  .. EXIT_HELP
HELP.balance = "usage: seedance balance [--json]\nShows the account's balance.\n\n" .. COMMON_HELP .. "\n" .. EXIT_HELP

-- Flags of `generate` that take a value, by kind.
local VALUE_FLAGS = {
  ["--model"] = "model", ["--prompt"] = "prompt", ["--duration"] = "duration", ["--size"] = "size",
  ["--resolution"] = "resolution", ["--seed"] = "seed",
}
local NUMBER_KEYS = { duration = true, seed = true }
local BOOL_FLAGS = {
  ["--generate-audio"] = "generate_audio", ["--return-last-frame"] = "return_last_frame",
}

-- Parse argv into { positional = {...}, flags... }; returns nil, message on a usage error.
local function parse(args, takes_value)
  local o = { positional = {}, lists = {} }
  local i = 1
  while i <= #args do
    local a = args[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    if name == "-o" then name = "--output" end
    if takes_value[name] then
      local v = inline
      if v == nil then
        i = i + 1
        v = args[i]
      end
      if v == nil then return nil, name .. " needs a value" end
      if takes_value[name] == "list" then
        o.lists[name] = o.lists[name] or {}
        table.insert(o.lists[name], v)
      else
        o[name] = v
      end
    elseif name:sub(1, 2) == "--" then
      o[name] = true
    elseif name:sub(1, 1) == "-" and #name > 1 then
      return nil, "unknown option " .. name
    else
      table.insert(o.positional, a)
    end
    i = i + 1
  end
  return o
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  return s
end

-- A URL stays a URL; anything else is a local file to upload.
local function image_ref(v)
  if v:match("^https?://") or v:match("^asset://") then return v end
  return seedance.file(v)
end

-- Build the request table from flags (and --request FILE).
local function build_request(o)
  local req = {}
  if o["--request"] then
    local text, err = read_file(o["--request"])
    if not text then return nil, "cannot read " .. o["--request"] .. ": " .. tostring(err), M.EXIT.io end
    local obj, jerr = cjson.decode(text)
    if type(obj) ~= "table" then
      return nil, o["--request"] .. " is not a JSON object" .. (jerr and (": " .. jerr) or ""), M.EXIT.validation
    end
    req = obj
  end
  for flag, key in pairs(VALUE_FLAGS) do
    local v = o[flag]
    if v ~= nil then
      if NUMBER_KEYS[key] then
        local n = tonumber(v)
        if not n then return nil, flag .. " must be a number, got '" .. v .. "'", M.EXIT.usage end
        v = n
      end
      req[key] = v
    end
  end
  for flag, key in pairs(BOOL_FLAGS) do
    if o[flag] then req[key] = true end
  end
  if o["--web-search"] then req.tools = { { type = "web_search" } } end
  local L = o.lists
  if L["--image"] then
    req.image_urls = {}
    for _, v in ipairs(L["--image"]) do table.insert(req.image_urls, image_ref(v)) end
  end
  local roles = {}
  if o["--first-frame"] then table.insert(roles, { url = image_ref(o["--first-frame"]), role = "first_frame" }) end
  if o["--last-frame"] then table.insert(roles, { url = image_ref(o["--last-frame"]), role = "last_frame" }) end
  for _, v in ipairs(L["--reference-image"] or {}) do
    table.insert(roles, { url = image_ref(v), role = "reference_image" })
  end
  if #roles > 0 then req.image_with_roles = roles end
  if L["--video"] then req.video_urls = L["--video"] end
  if L["--audio"] then req.audio_urls = L["--audio"] end
  if req.model == nil then req.model = "doubao-seedance-2.0" end
  return req
end

-- The client for a command, from the environment.
local function make_client(o)
  return seedance.new{ validate = not o["--no-validate"] }
end

-- A copy of v whose strings are valid UTF-8 (bad bytes replaced): what the
-- command prints is always valid UTF-8 (and valid JSON), whatever the server sent.
local function clean(v, depth)
  depth = depth or 0
  if type(v) == "string" then return core.utf8_clean(v) end
  if type(v) ~= "table" or depth > 32 then return v end
  local out = {}
  for k, x in pairs(v) do out[clean(k, depth + 1)] = clean(x, depth + 1) end
  return out
end

-- A task as a plain table for --json output.
local function task_json(t)
  return clean{
    id = t.id, status = t.status, progress = t.progress, video_url = t.video_url,
    last_frame_url = t.last_frame_url, expires_at = t.expires_at, error = t.error,
    estimated_time = t.estimated_time,
  }
end

-- Report an error: text to stderr (or JSON to stdout) and its exit code.
local function report(ctx, err)
  if ctx.json then
    ctx.out:write(cjson.encode(clean{ error = { type = err.type, message = err.message, status = err.status,
      errors = err.errors, task_id = err.task_id } }), "\n")
  else
    ctx.err:write("seedance: ", core.utf8_clean(tostring(err)), "\n")
  end
  return M.exit_code(err)
end

-- Wait for a task with a progress display, then download when asked.
local function finish_task(ctx, task, o)
  local show = progress.new(ctx.err, { quiet = o["--quiet"] or ctx.json, tty = ctx.tty,
                                       time_scale = task.client.settings.time_scale })
  local timeout = tonumber(o["--timeout"] or "")
  local ok, err = task:wait{ timeout = timeout, on_progress = function(t) show:task(t) end }
  show:done()
  if not ok then return report(ctx, err) end
  local path
  if o["--output"] then
    path, err = task:download(o["--output"], {
      source = o["--last-frame"] and "last_frame" or "video",
      on_progress = function(done, total) show:bytes(done, total) end,
    })
    show:done()
    if not path then return report(ctx, err) end
  end
  if ctx.json then
    local j = task_json(task)
    j.output = path
    ctx.out:write(cjson.encode(j), "\n")
  else
    ctx.out:write(string.format("task %s completed\n", task.id))
    if task.video_url then ctx.out:write("video: ", task.video_url, "\n") end
    if task.last_frame_url then ctx.out:write("last frame: ", task.last_frame_url, "\n") end
    if path then ctx.out:write("saved: ", path, "\n") end
  end
  return M.EXIT.ok
end

local COMMANDS = {}

function COMMANDS.generate(ctx, args)
  local takes = { ["--request"] = 1, ["--output"] = 1, ["--timeout"] = 1, ["--image"] = "list",
    ["--first-frame"] = 1, ["--last-frame"] = 1, ["--reference-image"] = "list", ["--video"] = "list",
    ["--audio"] = "list" }
  for f in pairs(VALUE_FLAGS) do takes[f] = 1 end
  local o, perr = parse(args, takes)
  if not o then ctx.err:write("seedance generate: ", perr, "\n"); return M.EXIT.usage end
  local known = { ["--wait"] = true, ["--json"] = true, ["--quiet"] = true, ["--no-validate"] = true,
    ["--web-search"] = true, ["--help"] = true }
  for f in pairs(BOOL_FLAGS) do known[f] = true end
  for k, v in pairs(o) do
    if v == true and not known[k] then
      ctx.err:write("seedance generate: unknown option ", k, "\n")
      return M.EXIT.usage
    end
  end
  if #o.positional > 0 then
    ctx.err:write("seedance generate: unexpected argument '", o.positional[1], "'\n"); return M.EXIT.usage
  end
  ctx.json = o["--json"]
  local req, rerr, code = build_request(o)
  if not req then ctx.err:write("seedance generate: ", rerr, "\n"); return code end
  local client = make_client(o)
  local task, err = client:generate(req)
  if not task then return report(ctx, err) end
  if not ctx.json then ctx.err:write("submitted task ", task.id, "\n") end
  if not (o["--wait"] or o["--output"]) then
    if ctx.json then ctx.out:write(cjson.encode(task_json(task)), "\n") else ctx.out:write(task.id, "\n") end
    return M.EXIT.ok
  end
  return finish_task(ctx, task, o)
end

-- status / wait / download share their shape: one task id plus options.
local function task_command(name, needs_output)
  return function(ctx, args)
    local o, perr = parse(args, { ["--output"] = 1, ["--timeout"] = 1 })
    if not o then ctx.err:write("seedance ", name, ": ", perr, "\n"); return M.EXIT.usage end
    ctx.json = o["--json"]
    local id = o.positional[1]
    if not id then ctx.err:write("seedance ", name, ": missing task ID\n"); return M.EXIT.usage end
    if needs_output and not o["--output"] then
      ctx.err:write("seedance ", name, ": missing -o FILE\n"); return M.EXIT.usage
    end
    local task = make_client(o):task(id)
    if name == "status" then
      local ok, err = task:refresh()
      if not ok then return report(ctx, err) end
      if ctx.json then
        ctx.out:write(cjson.encode(task_json(task)), "\n")
      else
        ctx.out:write(string.format("%s  %s  %s%%\n", task.id, tostring(task.status),
          tostring(task.progress or 0)))
        if task.video_url then ctx.out:write("video: ", task.video_url, "\n") end
        if task.last_frame_url then ctx.out:write("last frame: ", task.last_frame_url, "\n") end
        if task.error then ctx.out:write("error: ", tostring(task.error.message), "\n") end
      end
      return M.EXIT.ok
    end
    return finish_task(ctx, task, o)
  end
end
COMMANDS.status = task_command("status", false)
COMMANDS.wait = task_command("wait", false)
COMMANDS.download = task_command("download", true)

function COMMANDS.balance(ctx, args)
  ctx.json = args[1] == "--json"
  local bal, err = make_client({}):balance()
  if not bal then return report(ctx, err) end
  bal = clean(bal)
  if ctx.json then
    ctx.out:write(cjson.encode(bal), "\n")
  else
    local remain = bal.remain_balance
    ctx.out:write("remaining: ", (remain == -1 or bal.unlimited_quota == true) and "unlimited" or tostring(remain),
      "\nused: ", tostring(bal.used_balance), "\n")
  end
  return M.EXIT.ok
end

function COMMANDS.validate(ctx, args)
  local path = args[1]
  if not path then ctx.err:write("seedance validate: missing FILE.json\n"); return M.EXIT.usage end
  local text, err
  if path == "-" then text = io.stdin:read("*a") else text, err = read_file(path) end
  if not text then ctx.err:write("seedance validate: ", tostring(err), "\n"); return M.EXIT.io end
  local request, jerr = cjson.decode(text)
  if type(request) ~= "table" then
    ctx.err:write("seedance validate: ", path, " is not a JSON object", jerr and (": " .. jerr) or "", "\n")
    return M.EXIT.validation
  end
  local ok, verr = seedance.validate(request)
  if ok then ctx.out:write(path, ": valid\n"); return M.EXIT.ok end
  ctx.err:write(path, ": ", tostring(verr), "\n")
  return M.EXIT.validation
end

function COMMANDS.version(ctx)
  ctx.out:write("seedance ", seedance._VERSION, "\n")
  return M.EXIT.ok
end

--- Run the command line.
-- @tparam table argv the arguments (as in the global `arg`)
-- @tparam[opt] file out where normal output goes (default io.stdout)
-- @tparam[opt] file errout where errors and progress go (default io.stderr)
-- @treturn integer the exit code
function M.main(argv, out, errout)
  local ctx = { out = out or io.stdout, err = errout or io.stderr }
  ctx.tty = errout == nil and core.isatty(2)
  local args = {}
  for i = 1, #argv do args[i] = argv[i] end
  local cmd = table.remove(args, 1)
  if cmd == nil or cmd == "--help" or cmd == "-h" or cmd == "help" then
    if cmd == "help" and args[1] and HELP[args[1]] then ctx.out:write(HELP[args[1]]); return M.EXIT.ok end
    ctx.out:write(USAGE)
    return cmd == nil and M.EXIT.usage or M.EXIT.ok
  end
  if cmd == "--version" then cmd = "version" end
  local fn = COMMANDS[cmd]
  if not fn then
    ctx.err:write("seedance: unknown command '", cmd, "'\n\n", USAGE)
    return M.EXIT.usage
  end
  for _, a in ipairs(args) do
    if a == "--help" or a == "-h" then ctx.out:write(HELP[cmd] or USAGE); return M.EXIT.ok end
  end
  return fn(ctx, args)
end

return M
