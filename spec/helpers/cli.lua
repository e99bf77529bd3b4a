--- Run the seedance command as a user runs it (`lua bin/seedance ...`) for the CLI specs:
-- to the end, in the background (to send it a signal), or on a pseudo-terminal.
--
--     local cli = require("helpers.cli")
--     local code, out, err = cli.run("generate --prompt x", { SEEDANCE_BASE_URL = emu.url })
--     local job = cli.start("wait " .. id .. " -o f.mp4", env)   -- job.pid; job:finish() -> code, out, err
--     local code, screen = cli.pty("generate --prompt x -o f.mp4", env)  -- through `script`
--
-- The child sees none of the caller's SEEDANCE_* variables, only `env`, and this
-- run's package paths and interpreter (util.LUA). Nor does it read the config
-- file of the user running the specs: XDG_CONFIG_HOME names a folder that
-- does not exist unless `env` names one (or SEEDANCE_CONFIG). Waits are bounded.
local util = require("helpers.util")

local process = require("helpers.process")

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

--- The shell command that runs `seedance ARGS` with `env` (a table; false unsets a variable).
function M.command(args, env)
  local parts = { "env" }
  for _, v in ipairs(VARS) do parts[#parts + 1] = "-u " .. v end
  parts[#parts + 1] = "LUA_PATH=" .. q(package.path)
  parts[#parts + 1] = "LUA_CPATH=" .. q(package.cpath)
  if not (env and env.XDG_CONFIG_HOME ~= nil) then parts[#parts + 1] = "XDG_CONFIG_HOME=" .. q(M.NO_CONFIG) end
  for k, v in pairs(env or {}) do
    if v ~= false then parts[#parts + 1] = k .. "=" .. q(v) end
  end
  parts[#parts + 1] = util.LUA .. " bin/seedance " .. args
  return table.concat(parts, " ")
end

--- Run to the end: exit code, standard output, standard error.
function M.run(args, env, stdin)
  local out, err = os.tmpname(), os.tmpname()
  local _, _, code = util.run(M.command(args, env) .. " >" .. q(out) .. " 2>" .. q(err)
    .. " <" .. (stdin and q(stdin) or "/dev/null"))
  local o, e = M.slurp(out), M.slurp(err)
  os.remove(out)
  os.remove(err)
  return code, o, e
end

local Job = {}
Job.__index = Job

--- Start in the background, with SIGINT and SIGTERM at their defaults (a
-- shell's background job would otherwise inherit SIGINT ignored).
-- @return a job: `pid`, `out` and `err` (file names), `:stderr()`, `:signal(name)`, `:finish()`
function M.start(args, env)
  local out, err = os.tmpname(), os.tmpname()
  local cmd = string.format("env --default-signal=INT,TERM %s >%s 2>%s </dev/null & echo $!; wait $!; "
    .. "echo \"exit=$?\"", M.command(args, env), q(out), q(err))
  local shell = assert(io.popen(cmd, "r"))
  local pid = shell:read("*l")
  return setmetatable({ pid = pid, shell = shell, out = out, err = err }, Job)
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
