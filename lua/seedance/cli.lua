--- The `seedance` command line.
-- `seedance validate FILE.json` checks a request file without any network.
-- @module seedance.cli

local seedance = require("seedance")

local M = {}

--- Exit codes, one per kind of failure.
M.EXIT = {
  ok = 0, usage = 2, validation = 3, authentication = 4, payment = 5,
  rate_limit = 6, server = 7, network = 8, task_failed = 9, io = 10,
}

local USAGE = [[
usage: seedance <command> [options]

commands:
  validate FILE.json   check a request file against the service's rules (no network)
  version              print the version

exit codes:
  0 ok, 2 usage, 3 validation error, 10 file error
]]

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

local function cmd_validate(args, out, errout)
  if args[1] == "--help" or args[1] == "-h" then
    out:write("usage: seedance validate FILE.json\n",
      "Checks the request in FILE.json (use - for standard input) and lists every problem.\n")
    return M.EXIT.ok
  end
  local path = args[1]
  if not path then
    errout:write("seedance validate: missing FILE.json\n")
    return M.EXIT.usage
  end
  local text, err
  if path == "-" then text = io.stdin:read("a") else text, err = read_file(path) end
  if not text then
    errout:write("seedance validate: ", tostring(err), "\n")
    return M.EXIT.io
  end
  local cjson = require("cjson.safe")
  local request, jerr = cjson.decode(text)
  if type(request) ~= "table" then
    errout:write("seedance validate: ", path, " is not a JSON object",
      jerr and (": " .. jerr) or "", "\n")
    return M.EXIT.validation
  end
  local ok, verr = seedance.validate(request)
  if ok then
    out:write(path, ": valid\n")
    return M.EXIT.ok
  end
  errout:write(path, ": ", tostring(verr), "\n")
  return M.EXIT.validation
end

--- Run the command line.
-- @tparam table argv the arguments (as in the global `arg`)
-- @tparam[opt] file out where normal output goes (default io.stdout)
-- @tparam[opt] file errout where errors go (default io.stderr)
-- @treturn integer the exit code
function M.main(argv, out, errout)
  out, errout = out or io.stdout, errout or io.stderr
  local args = {}
  for i = 1, #argv do args[i] = argv[i] end
  local cmd = table.remove(args, 1)
  if cmd == nil or cmd == "--help" or cmd == "-h" or cmd == "help" then
    out:write(USAGE)
    return cmd == nil and M.EXIT.usage or M.EXIT.ok
  elseif cmd == "version" or cmd == "--version" then
    out:write("seedance ", seedance._VERSION, "\n")
    return M.EXIT.ok
  elseif cmd == "validate" then
    return cmd_validate(args, out, errout)
  end
  errout:write("seedance: unknown command '", cmd, "'\n", USAGE)
  return M.EXIT.usage
end

return M
