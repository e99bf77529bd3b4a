--- Run the seedance command as a user runs it (`lua bin/seedance ...`) for the CLI specs:
-- to the end, in the background (to send it a signal), or on a pseudo-terminal.
--
--     local cli = require("helpers.cli")
--     local code, out, err = cli.run("generate --prompt x", { SEEDANCE_BASE_URL = emu.url })
--     local job = cli.start("wait " .. id .. " -o f.mp4", env)   -- job.pid; job:finish() -> code, out, err
--     local code, screen = cli.pty("generate --prompt x -o f.mp4", env)  -- through `script`
--
-- The child sees none of the caller's SEEDANCE_* variables, only `env`, and this
-- run's package paths (absolute: helpers.child) and interpreter (util.LUA); it runs
-- bin/seedance by its absolute path, so any working folder works. Nor does it read the
-- config file of the user running the specs: XDG_CONFIG_HOME names a folder that does
-- not exist unless `env` names one (or SEEDANCE_CONFIG). Waits are bounded.
--
--     local emu, env = cli.emulator({ speed = 200 }, { SEEDANCE_API_KEY = "sk-mine" })  -- in a describe
local util = require("helpers.util")
local child = require("helpers.child")
local emulator = require("helpers.emulator")
local process = require("helpers.process")
local luassert = require("luassert")

local M = {}

local VARS = { "SEEDANCE_API_KEY", "SEEDANCE_BASE_URL", "SEEDANCE_TIME_SCALE", "SEEDANCE_LOG", "SEEDANCE_DEBUG",
               "SEEDANCE_CONFIG", "XDG_CONFIG_HOME" }

--- The XDG_CONFIG_HOME a run gets when `env` names none: no config file there.
M.NO_CONFIG = "/nonexistent/seedance-spec-config"

--- Quote a word for the shell.
M.q = process.quote
local q = M.q

--- Read a whole file ("" when absent).
M.slurp = process.read

--- The command itself: bin/seedance of this checkout, by its absolute path.
M.BIN = util.ROOT .. "/bin/seedance"

--- `env` with `over` applied (a false value unsets a variable).
M.with = util.merge

--- The environment of a command that talks to an emulator: its URL, a key, and the
-- time scale of its speed; `over` changes it.
-- @param emu an emulator from helpers.emulator
-- @tparam[opt] table over
-- @treturn table
function M.env(emu, over)
  return util.merge({ SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-cli-secret",
                      SEEDANCE_TIME_SCALE = tostring(1 / (emu.speed or 1)) }, over)
end

--- An emulator for the enclosing describe, and the environment of a command that talks to
-- it (`cli.env`, filled in when the emulator starts).
-- @tparam table opts the emulator's flags
-- @tparam[opt] table over changes to the environment
-- @return the emulator (helpers.emulator.fixture)
-- @treturn table the environment
function M.emulator(opts, over)
  local emu, env = emulator.fixture(opts), {}
  require("busted").setup(function()
    for k, v in pairs(M.env(emu, over)) do env[k] = v end
  end)
  return emu, env
end

--- The shell command that runs `seedance ARGS` with `env` (a table; false unsets a variable).
function M.command(args, env)
  local parts = { "env" }
  for _, v in ipairs(VARS) do parts[#parts + 1] = "-u " .. v end
  parts[#parts + 1] = child.paths()
  if not (env and env.XDG_CONFIG_HOME ~= nil) then parts[#parts + 1] = "XDG_CONFIG_HOME=" .. q(M.NO_CONFIG) end
  for k, v in pairs(env or {}) do
    if v ~= false then parts[#parts + 1] = k .. "=" .. q(v) end
  end
  parts[#parts + 1] = util.LUA .. " " .. q(M.BIN) .. " " .. args
  return table.concat(parts, " ")
end

--- Run to the end: exit code, standard output, standard error.
-- @tparam string args
-- @tparam[opt] table env
-- @tparam[opt] string|table opts a file for standard input, or a table: `stdin` (that file),
--   `cwd` (the folder it runs in), `prefix` (shell words before it: "ulimit -f 2;"),
--   `stdout` and `stderr` (redirections in its place: ">/dev/full", "2>&-"; then that output reads "")
function M.run(args, env, opts)
  if type(opts) ~= "table" then opts = { stdin = opts } end
  local out, err = os.tmpname(), os.tmpname()
  local cmd = (opts.prefix or "") .. (opts.cwd and ("cd " .. q(opts.cwd) .. " && ") or "") .. M.command(args, env)
  local _, _, code = util.run(cmd .. " " .. (opts.stdout or ">" .. q(out)) .. " " .. (opts.stderr or "2>" .. q(err))
    .. " <" .. (opts.stdin and q(opts.stdin) or "/dev/null"))
  local o, e = M.slurp(out), M.slurp(err)
  os.remove(out)
  os.remove(err)
  return code, o, e
end

--- Run a command that must be refused before anything is sent: exit code `code`,
-- nothing on standard output, the emulator's counters unchanged, no trace, no key.
-- @param emu the emulator `env` points at
-- @tparam string args
-- @tparam number code the exit code expected
-- @tparam table env
-- @treturn string its standard error
function M.refused(emu, args, code, env)
  local before = emu:stats()
  local got, out, err = M.run(args, env)
  local after = emu:stats()
  luassert.equals(code, got, args .. ": " .. err)
  luassert.equals("", out, args)
  for _, k in ipairs{ "tasks_created", "submits", "uploads", "requests" } do
    luassert.equals(before[k], after[k], args .. " changed " .. k)
  end
  luassert.is_nil(err:find("traceback", 1, true), err)
  luassert.is_nil(err:find("%.lua:%d"), err)
  if env and env.SEEDANCE_API_KEY then luassert.is_nil(err:find(env.SEEDANCE_API_KEY, 1, true), err) end
  return err
end

local Job = {}
Job.__index = Job

--- Run a command the command printed (`seedance ...`) as it is, through the shell, as a user pastes it:
-- exit code, standard output, standard error.
-- @tparam string command
-- @tparam[opt] table env
function M.run_printed(command, env)
  return M.run((command:gsub("^seedance ", "")), env)
end

--- Start a shell command in the background, with SIGINT and SIGTERM at their defaults (a
-- shell's background job would otherwise inherit SIGINT ignored), its output in files.
-- @tparam string cmd
-- @return a job: `pid`, `out` and `err` (file names), `:stderr()`, `:signal(name)`, `:finish()`
function M.background(cmd)
  local out, err = os.tmpname(), os.tmpname()
  local shell = assert(io.popen(string.format("env --default-signal=INT,TERM %s >%s 2>%s </dev/null & echo $!; "
    .. "wait $!; echo \"exit=$?\"", cmd, q(out), q(err)), "r"))
  local pid = shell:read("*l")
  return setmetatable({ pid = pid, shell = shell, out = out, err = err }, Job)
end

--- Start `seedance ARGS` in the background (`background`).
function M.start(args, env)
  return M.background(M.command(args, env))
end

--- What the job wrote to standard error so far.
function Job:stderr()
  return M.slurp(self.err)
end

--- Send a signal ("INT", "TERM").
function Job:signal(name)
  os.execute("kill -" .. name .. " " .. self.pid .. " 2>/dev/null")
end

--- Wait for the job to end (at most 60 s, then SIGKILL): exit code, stdout, stderr.
function Job:finish()
  for _ = 1, 3000 do
    if not util.run("kill -0 " .. self.pid .. " 2>/dev/null") then break end
    os.execute("sleep 0.02")
  end
  os.execute("kill -9 " .. self.pid .. " 2>/dev/null")
  local code = tonumber((self.shell:read("*a") or ""):match("exit=(%d+)"))
  self.shell:close()
  local o, e = M.slurp(self.out), M.slurp(self.err)
  os.remove(self.out)
  os.remove(self.err)
  return code, o, e
end

--- Start `generate --prompt PROMPT -o out`, send it SIGTERM once `bytes` of its video are in
-- out.part, and wait for it to end: exit code, standard output, standard error.
-- @tparam string prompt
-- @tparam string out the output file
-- @tparam number bytes
-- @tparam table env
function M.terminated_mid_download(prompt, out, bytes, env)
  local job = M.start("generate --prompt " .. q(prompt) .. " -o " .. q(out), env)
  assert(M.until_true(function() return (util.size_of(out .. ".part") or 0) >= bytes end),
    "the download did not reach " .. bytes .. " bytes")
  job:signal("TERM")
  return job:finish()
end

--- Wait until `pred()` holds, polling every 20 ms for at most `seconds` (default 30).
-- @treturn boolean whether it held
function M.until_true(pred, seconds)
  for _ = 1, math.floor((seconds or 30) / 0.02) do
    if pred() then return true end
    os.execute("sleep 0.02")
  end
  return pred() and true or false
end

--- Run on a pseudo-terminal (util-linux `script`): exit code and everything
-- the terminal received (standard output and error, with their \r and escapes).
function M.pty(args, env)
  local screen = os.tmpname()
  local _, _, code = util.run("script -qec " .. q(M.command(args, env)) .. " /dev/null >" .. q(screen)
    .. " </dev/null")
  local s = M.slurp(screen)
  os.remove(screen)
  return code, s
end

--- The frames a terminal drew: each text written after a "\r\27[K" (in order).
function M.frames(screen)
  local frames = {}
  for frame in (screen .. "\r\27[K"):gmatch("\r\27%[K(.-)%f[\r\n\27]") do
    if frame ~= "" then frames[#frames + 1] = frame end
  end
  return frames
end

return M
