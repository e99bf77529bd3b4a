--- The shell and file helpers every spec helper shares (quote, read, write, run, ok,
-- alive, sleep, temporary folders), and background servers for specs (nghttpx,
-- tinyproxy, a recording relay): start one under a watchdog, learn its pid, stop
-- it with a bounded wait.
--
--     local process = require("helpers.process")
--     local port = process.free_port()
--     local p = process.spawn{ argv = { "nghttpx", ... }, log = path, lifetime = 120 }
--     p:running()
--     p:stop()          -- SIGTERM, SIGKILL after 5 s; true when it exited 0
--
-- The command runs under coreutils' `timeout` (the watchdog: SIGTERM after
-- `lifetime` seconds, SIGKILL 2 s later), as the child of a shell that waits for
-- it and prints its exit status, so it is reaped at once and stop() learns the
-- status on every Lua. A process a spec forgot to stop is killed when its handle
-- is collected, or at the latest by the watchdog.
-- Works on Lua 5.1 to 5.4 and LuaJIT (io.popen and os.execute only).
local M = {}

--- The working folder busted started in (absolute).
M.CWD = (function()
  local p = assert(io.popen("pwd"))
  local dir = p:read("*l")
  p:close()
  return dir
end)()

--- A path made absolute against the working folder busted started in.
-- @tparam string path
-- @treturn string
function M.absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return M.CWD .. "/" .. path
end

--- The repository's root folder, absolute (whatever the working folder).
M.ROOT = M.absolute(debug.getinfo(1, "S").source:match("^@(.*)/spec/helpers/process%.lua$") or ".")

--- A string quoted for the shell.
-- @tparam any s
-- @treturn string
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- The whole content of a file, or nil when it cannot be read.
-- @tparam string path
-- @treturn string|nil
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- The whole content of a file ("" when it cannot be read).
-- @tparam string path
-- @treturn string
function M.read(path)
  return M.read_file(path) or ""
end

--- Write a file whole.
-- @tparam string path
-- @tparam string data
-- @treturn string the path
function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path
end

--- Whether a shell command exited 0 (os.execute gives true on success from Lua 5.2 on,
-- 0 on Lua 5.1 and LuaJIT).
-- @tparam string cmd
-- @treturn boolean
function M.ok(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end
local sh_ok = M.ok

--- Run a shell command: true when it exited 0, its output (stdout and stderr),
-- and its exit code. The same on Lua 5.1, where close() does not report the status.
-- @tparam string cmd
-- @treturn boolean
-- @treturn string
-- @treturn number
function M.run(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__exit=$?\""))
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("__exit=(%d+)%s*$"))
  out = out:gsub("__exit=%d+%s*$", "")
  return code == 0, out, code
end

--- Whether a process is alive: a zombie is not (an orphan waits for PID 1 to
-- reap it, which in a container may take seconds).
-- @tparam string|number pid
-- @treturn boolean
function M.alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if f then
    local stat = f:read("*a") or ""
    f:close()
    return stat:match("%) (%a)") ~= "Z"
  end
  local self_stat = io.open("/proc/self/stat", "r")
  if self_stat then self_stat:close() return false end -- /proc works, and the pid is gone
  return sh_ok("kill -0 " .. pid .. " 2>/dev/null")
end

--- Sleep (the sleep command: fractions of a second work).
-- @tparam number s seconds
function M.sleep(s)
  os.execute("sleep " .. s)
end

--- A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot take port 0:
-- callers retry on another port when the bind fails).
-- @treturn number
function M.free_port()
  local p = assert(io.popen("/usr/bin/python3 -c 'import socket; s = socket.socket(); "
    .. "s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])' 2>&1"))
  local out = p:read("*a")
  p:close()
  return assert(tonumber(out:match("^(%d+)")), "no free port: " .. out)
end

--- A fresh temporary folder (removed by `remove_dir`).
-- @tparam string tag part of its name
-- @treturn string its path
function M.tmpdir(tag)
  local stem = os.tmpname()
  os.remove(stem)
  local dir = stem .. "-seedance-" .. tag
  assert(sh_ok("mkdir -p " .. M.quote(dir)))
  return dir
end

--- Remove a folder and everything in it.
-- @tparam string dir
function M.remove_dir(dir)
  if dir then os.execute("rm -rf " .. M.quote(dir)) end
end

--- Run a shell command in the background under io.popen, as `CMD & echo $!; wait $!; echo
-- "exit=$?"`: the shell prints its pid, waits for it and prints its exit status (128 + N for signal
-- N; close() does not tell on Lua 5.1), so it is reaped at once. Sets `self.shell` and `self.pid`.
-- A process whose owner is collected while it runs (a spec that forgot to stop it) is killed
-- first: its guard, made after the pipe, is finalized before it, so the pipe's close, which waits
-- for the shell, never waits for the process's own lifetime.
-- @tparam table self the owner
-- @tparam string cmd the shell command (its redirections included)
-- @return self
function M.background(self, cmd)
  self.shell = assert(io.popen(cmd .. " & echo $!; wait $!; echo \"exit=$?\"", "r"))
  local pid = self.shell:read("*l")
  local state = { running = true }
  local function reap()
    if state.running then os.execute("kill " .. pid .. " 2>/dev/null") end
  end
  self.pid, self.exit_ok, self.exit_code, self.running_state = pid, nil, nil, state
  -- Lua 5.2+ finalize tables; 5.1 and LuaJIT only userdata (newproxy)
  if newproxy then
    self.guard = newproxy(true)
    getmetatable(self.guard).__gc = reap
  else
    self.guard = setmetatable({}, { __gc = reap })
  end
  return self
end

--- Stop a background process (idempotent): SIGTERM, SIGKILL after 5 seconds (to its process group
-- when `group`), then its exit status.
-- @tparam table self the owner (`M.background`)
-- @tparam[opt] boolean group
-- @treturn boolean true when it exited with status 0
-- @treturn[opt] number its exit status (128 + N after signal N)
function M.stop_background(self, group)
  if not self.shell then return self.exit_ok, self.exit_code end
  os.execute("kill " .. self.pid .. " 2>/dev/null")
  for _ = 1, 500 do
    if not M.alive(self.pid) then break end
    M.sleep(0.01)
  end
  if M.alive(self.pid) then os.execute("kill -9 " .. (group and "-- -" or "") .. self.pid .. " 2>/dev/null") end
  local code = tonumber((self.shell:read("*a") or ""):match("exit=(%d+)"))
  self.shell:close()
  self.shell = nil
  self.running_state.running = false
  self.exit_ok, self.exit_code = code == 0, code
  return self.exit_ok, self.exit_code
end

--- A `log()` method for owners that keep their log in the file named by field `field` while they
-- run, and in `stopped_log` once stopped.
-- @tparam string field
-- @treturn function
function M.log_reader(field)
  return function(self) return self.stopped_log or M.read(self[field]) end
end

--- Wind up an owner of background processes and a folder (idempotent: once its folder `dir` is
-- gone, nothing): stop the processes in the fields named by `procs`, keep its log in `stopped_log`
-- (from the file named by field `log_field`) and, for each `keep` entry, what that method gives
-- now, then remove its folder.
-- @tparam table self
-- @tparam table procs field names
-- @tparam string log_field
-- @tparam[opt] table keep `{ field = method name }`
function M.wind_up(self, procs, log_field, keep)
  if not self.dir then return end
  for _, f in ipairs(procs) do
    if self[f] then self[f]:stop() end
  end
  self.stopped_log = M.read(self[log_field])
  for field, method in pairs(keep or {}) do self[field] = self[method](self) end
  M.remove_dir(self.dir)
  self.dir = nil
end

local Proc = {}
Proc.__index = Proc

--- Start a command in the background.
-- @tparam table opts `argv` (list: the program and its arguments), `log` (path for its stdout and
--   stderr; default /dev/null), `lifetime` (seconds before the watchdog ends it; default 120)
-- @return the process: `pid`, `running()`, `stop()`
function M.spawn(opts)
  local args = {}
  for i, a in ipairs(opts.argv) do args[i] = M.quote(a) end
  -- the shell's own stderr goes nowhere: it would print "Terminated" when the command ends by SIGTERM
  return M.background(setmetatable({}, Proc), string.format("exec 2>/dev/null; timeout -k 2 %d %s >%s 2>&1 </dev/null",
    opts.lifetime or 120, table.concat(args, " "), M.quote(opts.log or "/dev/null")))
end

--- Whether the process is still running.
-- @treturn boolean
function Proc:running()
  return self.shell ~= nil and M.alive(self.pid)
end

--- Wait until ready() is true, at most limit seconds (default 10), while the process runs.
-- @tparam function ready called with no argument, every 10 ms
-- @tparam[opt] number limit seconds
-- @treturn boolean whether ready() became true
function Proc:wait_for(ready, limit)
  local deadline = os.time() + (limit or 10) + 1
  repeat
    if ready() then return true end
    if not M.alive(self.pid) then return ready() and true or false end
    M.sleep(0.01)
  until os.time() > deadline
  return false
end

--- Stop the process (idempotent): SIGTERM, SIGKILL (to its process group) after 5 seconds.
-- @treturn boolean true when it exited with status 0
-- @treturn[opt] number its exit status (128 + N after signal N)
function Proc:stop()
  -- timeout leads its own process group: the group goes, the command with it
  return M.stop_background(self, true)
end

return M
