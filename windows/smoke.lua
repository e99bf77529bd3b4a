-- windows/smoke.lua: the Windows build's smoke suite, plain Lua (no busted).
-- Run by windows/smoke.sh under Wine against the Linux emulator on loopback:
-- make windows-smoke with build/windows/dist's lua.exe, make windows-dist-smoke
-- from the unpacked zip, once with its Lua 5.4 folder and once with its
-- LuaJIT folder beside a LuaJIT host's luajit.exe and lua51.dll.
--
--   LUA.exe windows/smoke.lua OUT_DIR DIST_DIR [EXE]   (SEEDANCE_BASE_URL, SEEDANCE_API_KEY set)
--
-- DIST_DIR holds the interpreter EXE (default lua.exe) and what seedance
-- needs beside it; the seedance command is checked when DIST_DIR holds it
-- (seedance.lua: the Lua 5.4 folder does, the LuaJIT one does not).
--
-- Each check prints "ok <name>" or "FAIL <name>: <why>"; the exit status is 0
-- only when all passed. It covers the platform layer (clock, random bytes,
-- files, locks, replace, sockets), validate, generate + wait + download (and a
-- second download over the first), run/spawn, step(0) from a frame loop, a
-- journal re-run in a second process, and the seedance command.
--
-- The journal check starts this file again as a child:
--   LUA.exe windows/smoke.lua --journal-child JOURNAL   prints "task <id>"
local seedance = require("seedance")
local core = require("seedance.core")
local files = require("seedance.files")
local cjson = require("cjson")

local REQUEST = { model = "doubao-seedance-2.0", prompt = "a paper boat on a river", duration = 5 }
-- Waits are in service seconds (SEEDANCE_TIME_SCALE shrinks them with the emulator's clock).
local WAIT = 3000

-- A Unix path from the driver as Windows sees it under Wine (drive Z: is /).
local function win(path)
  if path:sub(1, 1) == "/" then path = "Z:" .. path end
  return (path:gsub("/", "\\"))
end

local function new_client(extra)
  local opts = { time_scale = tonumber(os.getenv("SEEDANCE_TIME_SCALE") or "1") }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return seedance.new(opts)
end

if arg[1] == "--journal-child" then
  local client = new_client{ journal = arg[2] }
  local task, err = client:generate(REQUEST)
  if not task then io.stderr:write("child: ", tostring(err), "\n"); os.exit(1) end
  local ok, werr = task:wait{ timeout = WAIT }
  if not ok then io.stderr:write("child: ", tostring(werr), "\n"); os.exit(1) end
  print("task " .. task.id)
  client:close()
  os.exit(0)
end

local OUT = win(assert(arg[1], "usage: smoke.lua OUT_DIR DIST_DIR"))
local DIST = win(assert(arg[2], "usage: smoke.lua OUT_DIR DIST_DIR"))
local LUA_EXE = DIST .. "\\" .. (arg[3] or "lua.exe")
local SELF = arg[0]   -- this file, as the interpreter was given it
local BASE = assert(os.getenv("SEEDANCE_BASE_URL"), "SEEDANCE_BASE_URL unset")

local passed, failed = 0, 0

local function check(name, fn)
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
    print("ok   " .. name)
  else
    failed = failed + 1
    print("FAIL " .. name .. ": " .. tostring(err))
  end
  io.stdout:flush()
end

local function expect(cond, ...)
  if not cond then error(table.concat({ ... }, " "), 2) end
  return cond
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- A video as the emulator serves it: an MP4 ("ftyp" box first).
local function is_mp4(path)
  local s = read(path)
  return s ~= nil and #s > 1000 and s:sub(5, 8) == "ftyp", s and #s or "no file"
end

-- The emulator's counters, read with the core engine itself (GET /_emulator/stats).
local function stats()
  local eng = core.engine()
  eng:add{ method = "GET", url = BASE .. "/_emulator/stats" }
  local r
  for _ = 1, 500 do
    eng:step(20)
    r = eng:next()
    if r then break end
  end
  eng:close()
  assert(r and r.ok, "stats: " .. tostring(r and (r.error or r.status)))
  return cjson.decode(r.body)
end

-- Run a command through cmd.exe; its output and exit code.
local function run(cmd)
  local p = assert(io.popen('"' .. cmd .. ' 2>&1"', "r"))
  local out = p:read("*a")
  local a, b, c = p:close()
  local code = (type(a) == "number" and a) or (b == "exit" and c) or (a and 0) or 1
  return out, code
end

local jit = rawget(_G, "jit")
print("seedance " .. tostring(seedance._VERSION) .. " on " .. (jit and jit.version or _VERSION) ..
  ", emulator " .. BASE .. ", out " .. OUT)

check("platform: Windows Lua, random bytes, monotonic clock, sleep, tty", function()
  expect(package.config:sub(1, 1) == "\\", "not a Windows Lua")
  local a, b = core.random_hex(16), core.random_hex(16)
  expect(#a == 32 and a:match("^%x+$") and a ~= b, "random_hex:", a, b)
  local t0 = core.now()
  core.sleep(0.05)
  local dt = core.now() - t0
  expect(dt >= 0.04 and dt < 5, "sleep(0.05) took", dt)
  expect(type(core.isatty(1)) == "boolean", "isatty")
end)

check("files: stat, read, synced appends, remove, probe, dirname with backslashes", function()
  local p = OUT .. "\\append.txt"
  core.remove(p)
  expect(core.append_sync(p, "one\n") and core.append_sync(p, "two\n"), "append_sync")
  expect(core.read_file(p, 100) == "one\ntwo\n", "read_file:", tostring(core.read_file(p, 100)))
  local st = core.stat(p)
  expect(st and st.type == "file" and st.size == 8, "stat file:", st and st.type, st and st.size)
  expect(core.stat(OUT).type == "directory", "stat folder")
  local none, _, code = core.stat(OUT .. "\\missing")
  expect(none == nil and code == "ENOENT", "stat missing:", tostring(code))
  local _, _, dcode = core.read_file(OUT, 10)
  expect(dcode == "EISDIR", "read_file of a folder:", tostring(dcode))
  expect(core.probe_dir(OUT) and core.probe_dir(OUT .. "\\"), "probe_dir")
  expect(core.remove(p) and core.stat(p) == nil and core.remove(p), "remove twice")
  expect(files.dirname(OUT .. "\\x.mp4") == OUT, "dirname:", files.dirname(OUT .. "\\x.mp4"))
  expect(files.dirname("C:\\x.mp4") == "C:\\", "dirname of a drive root")
  expect(files.check_output(OUT .. "\\x.mp4"), "check_output")
  local bad, err = files.check_output(OUT .. "\\no-such-folder\\x.mp4")
  expect(bad == nil and tostring(err):find("does not exist", 1, true), "check_output missing folder:", tostring(err))
end)

check("files: replace over an existing file (os.rename refuses on Windows)", function()
  local a, b = OUT .. "\\replace-a", OUT .. "\\replace-b"
  write(a, "new")
  write(b, "old")
  expect(os.rename(a, b) == nil, "os.rename over a file worked: this check would prove nothing")
  expect(core.replace(a, b), "core.replace")
  expect(read(b) == "new" and core.stat(a) == nil, "after replace:", tostring(read(b)))
  local ok, _, code = core.replace(a, b)
  expect(ok == nil and code == "ENOENT", "replace of a missing file:", tostring(code))
  core.remove(b)
end)

check("files: one lock holder; the locked file stays readable and appendable", function()
  local p = OUT .. "\\lock.journal"
  core.remove(p)
  local l1 = assert(core.lock(p))
  local l2, msg, code = core.lock(p)
  expect(l2 == nil and code == "EWOULDBLOCK", "second lock:", tostring(msg), tostring(code))
  expect(core.append_sync(p, "record\n"), "append while locked")
  expect(core.read_file(p, 100) == "record\n", "read while locked")
  l1:unlock()
  l1:unlock()
  local l3 = assert(core.lock(p), "lock after unlock")
  l3:unlock()
  core.remove(p)
end)

check("validate", function()
  expect(seedance.validate(REQUEST) == true, "a valid request")
  local ok, err = seedance.validate{ model = "doubao-seedance-2.0", duration = 99 }
  expect(ok == nil and err.type == "validation_error", "an invalid request")
  local fields = {}
  for _, e in ipairs(err.errors) do fields[e.field] = true end
  expect(fields.prompt and fields.duration, "fields named:", tostring(err))
end)

check("generate, wait, download; a second download replaces the first", function()
  local client = new_client()
  local task = assert(client:generate(REQUEST))
  assert(task:wait{ timeout = WAIT })
  expect(task.status == "completed", "status", tostring(task.status))
  local path = OUT .. "\\one.mp4"
  expect(assert(task:download(path)) == path, "download path")
  expect(is_mp4(path), "not an MP4:", select(2, is_mp4(path)))
  expect(core.stat(path .. ".part") == nil and core.stat(path .. ".part.meta") == nil, "part files left")
  write(path, "stale")
  expect(assert(task:download(path)) == path, "second download")
  expect(is_mp4(path), "second download is not the video")
  client:close()
end)

check("run and spawn: two tasks at once", function()
  local client = new_client()
  local a, b = seedance.run(function()
    local function job(prompt)
      local req = { model = REQUEST.model, prompt = prompt, duration = 5 }
      local t = assert(client:generate(req))
      assert(t:wait{ timeout = WAIT })
      return t.id
    end
    local ha = seedance.spawn(job, "a red kite")
    local hb = seedance.spawn(job, "a blue kite")
    return ha:wait(), hb:wait()
  end)
  expect(type(a) == "string" and type(b) == "string" and a ~= b, "ids:", tostring(a), tostring(b))
  client:close()
end)

check("step(0) from a frame loop, with the engine's sockets and the task's progress_at", function()
  local client = new_client()
  local done, result, sockets_seen = false, nil, 0
  local path = OUT .. "\\frame-loop.mp4"
  local task, shown, readings = nil, 0, 0
  seedance.spawn(function()
    local t, err = client:generate(REQUEST)
    task = t
    local ok = t ~= nil
    if ok then ok, err = t:wait{ timeout = WAIT } end
    if ok then result, err = t:download(path) end
    result = result or ("failed: " .. tostring(err))
    done = true
  end)
  local deadline, frames = core.now() + 60, 0
  while not done and core.now() < deadline do
    seedance.step(0)
    for _, s in ipairs(seedance.sockets()) do
      expect(type(s[1]) == "number" and s[1] == math.floor(s[1]) and s[1] > 0, "socket", tostring(s[1]))
      expect(s[2] == "r" or s[2] == "w" or s[2] == "rw", "mode", tostring(s[2]))
      sockets_seen = sockets_seen + 1
    end
    if task then   -- what a HUD draws: never backwards, at most 99 before completion
      local p = task:progress_at()
      expect(p >= shown and (p <= 99 or task.status == "completed"), "progress_at", p, "after", shown)
      shown, readings = p, readings + 1
    end
    frames = frames + 1
    core.sleep(0.005)
  end
  expect(done and result == path, "job:", tostring(result))
  expect(sockets_seen > 0, "no socket was ever reported by sockets()")
  expect(frames > 1, "step(0) blocked until the end")
  expect(readings > 1 and task:progress_at() == 100, "progress_at at the end:", tostring(task and task:progress_at()))
  expect(is_mp4(path), "not an MP4")
  client:close()
end)

check("journal: a second process re-attaches instead of paying again", function()
  local journal = OUT .. "\\smoke.journal"
  core.remove(journal)
  local child = '"' .. LUA_EXE .. '" ' .. SELF .. ' --journal-child ' .. journal
  local before = stats().tasks_created
  local out1, code1 = run(child)
  local id1 = out1:match("task (%S+)")
  expect(code1 == 0 and id1, "first run:", out1)
  local out2, code2 = run(child)
  local id2 = out2:match("task (%S+)")
  expect(code2 == 0 and id2 == id1, "second run:", out2)
  expect(stats().tasks_created == before + 1, "tasks created:", stats().tasks_created - before)
  -- while this process holds it, the journal is refused to another client
  local holder = new_client{ journal = journal }
  local ok, err = pcall(new_client, { journal = journal })
  expect(not ok and tostring(err):find("cannot use journal", 1, true), "second holder:", tostring(err))
  holder:close()
end)

check("modules load from DIST_DIR: seedance, its core and cjson beside the interpreter", function()
  local here = DIST:lower() .. "\\"
  for _, name in ipairs{ "seedance", "seedance.core", "cjson" } do
    local found
    for template in (package.path .. ";" .. package.cpath):gmatch("[^;]+") do
      local file = template:gsub("%?", (name:gsub("%.", "\\")))
      local f = io.open(file, "rb")
      if f then f:close(); found = file; break end
    end
    expect(found and found:lower():sub(1, #here) == here, name, "loads from", tostring(found))
  end
end)

local COMMAND = DIST .. "\\seedance.lua"
if not read(COMMAND) then
  print("(the seedance command is not in " .. DIST .. ": its check is left out)")
else check("the seedance command", function()
  local cmd = '"' .. LUA_EXE .. '" "' .. COMMAND .. '"'
  local out, code = run(cmd .. " version")
  expect(code == 0 and out:find("seedance " .. seedance._VERSION, 1, true), "version:", out)
  local req = OUT .. "\\bad.json"
  write(req, '{"model": "doubao-seedance-2.0", "duration": 99}')
  out, code = run(cmd .. " validate " .. req)
  expect(code == 3 and out:find("duration", 1, true), "validate:", code, out)
  local path = OUT .. "\\command.mp4"
  out, code = run(cmd .. ' generate --prompt "a kite over a beach" -o ' .. path)
  expect(code == 0, "generate exit", code, out)
  expect(is_mp4(path), "generate -o: not an MP4:", out)
  -- files compared by identity (core.file_id): another spelling, another case, is the same file
  out, code = run(cmd .. " generate --prompt x -o " .. path .. " --save-last-frame " .. OUT .. "\\.\\COMMAND.MP4")
  expect(code == 2 and out:find("name the same file", 1, true), "one file named twice:", code, out)
end) end

print(string.format("windows smoke: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
