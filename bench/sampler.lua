-- A sampling profiler of Lua code, for bench/profile.lua: runs a script with
-- a count hook (every PERIOD Lua VM instructions, in the main thread and in
-- every coroutine: coroutine.create and coroutine.wrap are wrapped to set it,
-- since debug.sethook's Lua function is per thread) and counts, per Lua
-- function, the samples taken in it (self) and with it anywhere on the stack
-- (inclusive).
-- Time spent in C functions (the engine, cjson) is not sampled: callgrind
-- and perf see that side.
--
--   lua5.4 bench/sampler.lua OUT PERIOD SCRIPT [ARGS...]
--
-- OUT gets one line per function: self, inclusive, name (tab-separated), and
-- one per source line where samples landed: count, -1, "line SOURCE:LINE";
-- written when the script returns or calls os.exit.
local out, period, script = arg[1], tonumber(arg[2]), arg[3]
assert(out and period and script, "usage: sampler.lua OUT PERIOD SCRIPT [ARGS...]")

local self_n, incl_n, line_n, total = {}, {}, {}, 0
local getinfo = debug.getinfo
local names = {}

local function key(info)
  local k = info.short_src .. ":" .. info.linedefined
  if not names[k] then names[k] = k .. (info.name and (" " .. info.name) or "") end
  return k
end

-- Each sample sets the next one a random count away (PERIOD/2 .. 3*PERIOD/2): a
-- fixed count aliases with loops that repeat a similar number of instructions
-- (a worker's cycle per task) and would land on the same few lines each time.
local seen = {}
local sethook, random = debug.sethook, math.random
local lo, span = math.max(1, math.floor(period / 2)), math.max(1, period)
local hook
function hook()
  sethook(hook, "", lo + random(0, span))
  total = total + 1
  local info = getinfo(2, "Snl")
  if not info then return end
  local k = key(info)
  self_n[k] = (self_n[k] or 0) + 1
  local at = info.short_src .. ":" .. info.currentline
  line_n[at] = (line_n[at] or 0) + 1
  local level, mark = 2, total
  while info do
    k = key(info)
    if seen[k] ~= mark then
      seen[k] = mark
      incl_n[k] = (incl_n[k] or 0) + 1
    end
    level = level + 1
    info = getinfo(level, "Sn")
  end
end

local function dump()
  debug.sethook()
  local f = assert(io.open(out, "w"))
  f:write(string.format("%d\t%d\t(total samples)\n", total, total))
  for k, n in pairs(incl_n) do f:write(string.format("%d\t%d\t%s\n", self_n[k] or 0, n, names[k])) end
  for at, n in pairs(line_n) do f:write(string.format("%d\t-1\tline %s\n", n, at)) end
  f:close()
end

local exit = os.exit
os.exit = function(...) dump(); return exit(...) end -- luacheck: ignore 122

-- the script sees its own arg table
local args = { [0] = script }
for i = 4, #arg do args[i - 3] = arg[i] end
arg = args -- luacheck: ignore 121
local create = coroutine.create
coroutine.create = function(f) -- luacheck: ignore 122
  local co = create(f)
  debug.sethook(co, hook, "", period)
  return co
end
coroutine.wrap = function(f) -- luacheck: ignore 122
  local co = coroutine.create(f)
  return function(...)
    local r = table.pack(coroutine.resume(co, ...))
    if not r[1] then error(r[2], 2) end
    return table.unpack(r, 2, r.n)
  end
end
local chunk = assert(loadfile(script))
debug.sethook(hook, "", period)
chunk(table.unpack(args))
dump()
