-- make bench-profile PROFILE=b1|b2|b3: where B1's CPU, B2's memory and B3's
-- slow steps go, measured on the benchmarks' own workloads with the
-- symbol-carrying builds of mk/bench.mk (build/bench/lua-prof, its libcurl,
-- build/bench/prof/seedance/core.so, build/bench/peer_c-prof).
--
--   lua5.4 bench/profile.lua b1|b2|b3 [quick]
--
-- b1: callgrind instructions per task of seedance and of the C peer, by area
--     (Lua VM, tables, GC, C API, libcurl, malloc, seedance's C core, cjson)
--     and by function, as the difference of two sizes (start-up cancels);
--     perf's CPU samples (kernel included); the Lua functions that run most
--     (bench/sampler.lua).
-- b2: massif's heap at the end of bench/hold.lua (map and wait) at two sizes:
--     bytes per task by the function that allocated them, malloc's overhead;
--     and the Lua functions that run most while 10,000 tasks are put in flight.
-- b3: bench/frame.lua with the collector as left, stopped, generational and
--     incremental, each step's engine time (libcurl) and Lua time apart;
--     perf of the frame loop.
-- The report goes to stdout and to build/bench/profile-<b>.txt.
package.path = "bench/?.lua;spec/?.lua;" .. package.path
local common = require("common")
local emulator = require("helpers.emulator")

local stop_emulators = common.track_emulators(emulator)

local which, QUICK = arg[1], arg[2] == "quick"
assert(which == "b1" or which == "b2" or which == "b3", "usage: profile.lua b1|b2|b3 [quick]")

local LUA_PROF, PEER_PROF = "build/bench/lua-prof", "build/bench/peer_c-prof"
local LIB = "/usr/lib/x86_64-linux-gnu"
local OUT = "build/bench"
-- Lua modules from the tree; the core built against lua-prof's own libcurl
local here = io.popen("pwd"):read("*l")
local ENV = string.format("LUA_PATH='%s/lua/?.lua;%s/lua/?/init.lua;;' LUA_CPATH='%s/build/bench/prof/?.so;;'",
  here, here, here)
os.execute("mkdir -p " .. OUT)

local report = {}
local function say(fmt, ...)
  local line = string.format(fmt, ...)
  report[#report + 1] = line
  io.stdout:write(line, "\n")
  io.stdout:flush()
end

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

local function commas(n)
  local s = string.format("%.0f", n)
  local neg = s:sub(1, 1) == "-"
  if neg then s = s:sub(2) end
  s = s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return (neg and "-" or "") .. s
end

local function sorted_keys(t, by)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return by(a) > by(b) end)
  return keys
end

-- ---- who owns a symbol -------------------------------------------------------

local LUA_PARTS = {
  ["lvm.o"] = "Lua VM (lvm)", ["ltable.o"] = "Lua tables (ltable)", ["lgc.o"] = "Lua GC (lgc)",
  ["lstring.o"] = "Lua strings (lstring)", ["ldo.o"] = "Lua calls, coroutines (ldo)", ["lapi.o"] = "Lua C API (lapi)",
  ["lfunc.o"] = "Lua closures (lfunc)", ["lmem.o"] = "Lua allocation (lmem, l_alloc)",
  ["lauxlib.o"] = "Lua allocation (lmem, l_alloc)", ["lstate.o"] = "Lua states, threads (lstate)",
  ["lobject.o"] = "Lua objects (lobject)", ["ltm.o"] = "Lua metamethods (ltm)",
  ["lstrlib.o"] = "Lua string library", ["ltablib.o"] = "Lua table library", ["lbaselib.o"] = "Lua base library",
  ["lcorolib.o"] = "Lua coroutine library", ["ldebug.o"] = "Lua debug (ldebug)",
}
-- A symbol without the compiler's clone suffixes (.isra.0, .constprop.0, .part.0, .cold).
local function base_name(fn)
  return (fn:gsub("%.isra%.%d+", ""):gsub("%.constprop%.%d+", ""):gsub("%.part%.%d+", ""):gsub("%.cold$", ""))
end
local owner = {}
for line in sh("nm -A " .. LIB .. "/liblua5.4.a 2>/dev/null"):gmatch("[^\n]+") do
  local obj, name = line:match(":([%w_]+%.o):%x+ [TtWw] ([%w_.]+)")
  if obj then
    name = base_name(name)
    if not owner[name] then owner[name] = LUA_PARTS[obj] or ("Lua other (" .. obj:gsub("%.o$", "") .. ")") end
  end
end
for line in sh("nm " .. LIB .. "/libcurl.a 2>/dev/null"):gmatch("[^\n]+") do
  local name = line:match("^%x+ [TtWw] ([%w_.]+)")
  if name and not owner[base_name(name)] then owner[base_name(name)] = "libcurl" end
end

-- The area of a function, from its name and the object callgrind names.
local function area(fn, obj)
  local base = base_name(fn)
  if obj:find("core%.so") then return "seedance C core (core.so)" end
  if obj:find("libcjson") then return "cJSON (the C peer's JSON)" end
  if obj:find("cjson") then return "lua-cjson" end
  if obj:find("lua%-prof") or obj:find("peer_c") then return owner[base] or ("program: " .. base) end
  if obj:find("libc%.so") then
    if fn:find("malloc") or fn:find("free") or fn:find("realloc") or fn:find("calloc") or fn:find("consolidate")
      or fn:find("tcache") then return "libc malloc/free" end
    return "libc other (memcpy, strings, stdio)"
  end
  if obj:find("ld%-linux") then return "dynamic linker (start-up)" end
  return "other: " .. (obj:match("([^/]+)$") or obj)
end

-- ---- callgrind -------------------------------------------------------------

-- callgrind_annotate's per-function lines: { [fn] = { ir, obj } } and the program total.
local function annotate(file, inclusive)
  local text = sh(string.format("callgrind_annotate --threshold=100 %s %s 2>/dev/null",
    inclusive and "--inclusive=yes" or "", file))
  local fns = {}
  local total = tonumber((text:match("([%d,]+)%s+%(100%.0%%%)%s+PROGRAM TOTALS") or ""):gsub(",", ""), 10)
  for line in text:gmatch("[^\n]+") do
    local ir, name, obj = line:match("^%s*([%d,]+)%s+%(%s*[%d.]+%%%)%s+(.-)%s+%[(.-)%]%s*$")
    if ir then
      local fn = (name:match(":([^:]+)$") or name):gsub("'%d+$", "")
      local e = fns[fn] or { ir = 0, obj = obj }
      -- recursion ('2, '3 ...) adds up in self counts; inclusive counts keep the outermost
      local v = tonumber((ir:gsub(",", "")), 10)
      e.ir = inclusive and math.max(e.ir, v) or e.ir + v
      fns[fn] = e
    end
  end
  return fns, total
end

-- A callgrind run: self and inclusive instructions by function, and the total.
local function callgrind(cmd)
  local file = os.tmpname()
  sh(string.format("%s valgrind --tool=callgrind --callgrind-out-file=%s %s >/dev/null 2>&1", ENV, file, cmd))
  local fns, total = annotate(file)
  local incl = annotate(file, true)
  os.remove(file)
  if not total then error("no callgrind result from: " .. cmd) end
  return fns, total, incl
end

-- Instructions per task by function (self and inclusive) and by area:
-- (run at n2 - run at n1) / (n2 - n1).
local function per_task(fmt, n1, n2)
  local a, ta, ia = callgrind(string.format(fmt, n1))
  local b, tb, ib = callgrind(string.format(fmt, n2))
  local fns, areas, incl = {}, {}, {}
  for fn, e in pairs(b) do
    local d = (e.ir - (a[fn] and a[fn].ir or 0)) / (n2 - n1)
    fns[fn] = { ir = d, area = area(fn, e.obj) }
    areas[fns[fn].area] = (areas[fns[fn].area] or 0) + d
  end
  for fn, e in pairs(ib) do incl[fn] = (e.ir - (ia[fn] and ia[fn].ir or 0)) / (n2 - n1) end
  return (tb - ta) / (n2 - n1), fns, areas, incl
end

-- Inclusive instructions per task of the entry points that exist in incl.
local ENTRY_POINTS = {
  { "luaC_step", "the Lua collector's incremental steps (all GC work)" },
  { "luaC_fullgc", "full collections (collectgarbage)" },
  { "curl_multi_socket_action", "libcurl's transfers (socket interface)" },
  { "curl_multi_add_handle", "libcurl: adding a transfer" },
  { "curl_multi_remove_handle", "libcurl: removing a transfer" },
  { "curl_multi_info_read", "libcurl: finished transfers" },
  { "curl_easy_reset", "libcurl: resetting a pooled handle" },
  { "curl_easy_setopt", "libcurl: options" },
  { "curl_easy_init", "libcurl: new handles" },
  { "curl_slist_append", "libcurl: header lists" },
  { "curl_easy_getinfo", "libcurl: getinfo" },
  { "poll", "poll(2) (the engine's wait)" },
  { "epoll_wait", "epoll_wait(2) (the C peer's wait)" },
  { "cJSON_ParseWithLength", "cJSON: parsing the answers" },
  { "cJSON_PrintUnformatted", "cJSON: the submit body" },
}
local function entry_points(incl, prefix_fns)
  for _, e in ipairs(ENTRY_POINTS) do
    if incl[e[1]] and incl[e[1]] >= 100 then say("    %9s  %-28s %s", commas(incl[e[1]]), e[1], e[2]) end
  end
  -- the C functions Lua calls (seedance.core's, named sd_*_l), by inclusive cost
  local keys = {}
  for fn, v in pairs(incl) do if prefix_fns and fn:match(prefix_fns) and v >= 100 then keys[#keys + 1] = fn end end
  table.sort(keys, function(x, y) return incl[x] > incl[y] end)
  for i = 1, math.min(12, #keys) do say("    %9s  %s", commas(incl[keys[i]]), keys[i]) end
end

-- ---- perf ------------------------------------------------------------------

local function perf(cmd, file, lines)
  sh(string.format("%s perf record -F 1999 -o %s -- %s >/dev/null 2>&1", ENV, file, cmd))
  local function top(opts, n)
    local out, k = {}, 0
    for line in sh(string.format("perf report -i %s --stdio %s -g none 2>/dev/null", file, opts)):gmatch("[^\n]+") do
      if line:match("^%s+[%d.]+%%") and k < n then
        k = k + 1
        out[#out + 1] = "    " .. line:gsub("^%s+", ""):gsub("%s+", " ")
      end
    end
    return out
  end
  for _, l in ipairs(lines) do
    say("  %s:", l[1])
    for _, line in ipairs(top(l[2], l[3])) do say("%s", line) end
  end
end

-- ---- the Lua sampler -------------------------------------------------------

local function lua_samples(cmd_tail, title, n)
  local file = os.tmpname()
  sh(string.format("%s %s bench/sampler.lua %s 1000 %s >/dev/null 2>&1", ENV, LUA_PROF, file, cmd_tail))
  local f = io.open(file, "r")
  local rows, lines, total = {}, {}, 0
  if f then
    for line in f:lines() do
      local s, i, name = line:match("^(%d+)\t(%-?%d+)\t(.*)$")
      if name == "(total samples)" then total = tonumber(s)
      elseif name and name:match("^line ") then lines[#lines + 1] = { n = tonumber(s), at = name:sub(6) }
      elseif name then rows[#rows + 1] = { self = tonumber(s), incl = tonumber(i), name = name } end
    end
    f:close()
  end
  os.remove(file)
  say("  %s: %d samples, one per 1,000 Lua VM instructions (C functions' own time is not sampled)", title, total)
  table.sort(rows, function(a, b) return a.self > b.self end)
  say("    self%%  incl%%  function (source:line where defined)")
  for i = 1, math.min(n, #rows) do
    local r = rows[i]
    say("    %5.1f  %5.1f  %s", r.self * 100 / total, r.incl * 100 / total, r.name)
  end
  table.sort(lines, function(a, b) return a.n > b.n end)
  say("  ... the source lines the samples landed on:")
  for i = 1, math.min(12, #lines) do say("    %5.1f  %s", lines[i].n * 100 / total, lines[i].at) end
  table.sort(rows, function(a, b) return a.incl > b.incl end)
  say("  ... by inclusive share (the callers the work runs under):")
  for i = 1, math.min(n, #rows) do
    local r = rows[i]
    say("    %5.1f  %5.1f  %s", r.self * 100 / total, r.incl * 100 / total, r.name)
  end
end

-- ---- B1 ----------------------------------------------------------------------

local function b1()
  local conc = 100
  local n1, n2 = QUICK and 250 or 500, QUICK and 750 or 1500
  local emu = emulator.start{ speed = 1000000, max_tasks = 1000000 }
  say("B1 fan-out (bench/fanout.lua vs bench/peer_c.c), %d at once, emulator --speed 1000000", conc)
  say("")
  say("callgrind: user-space instructions per task, (run at %d tasks - run at %d) / %d", n2, n1, n2 - n1)
  local sd, sd_fns, sd_areas, sd_incl = per_task(string.format("%s bench/fanout.lua %s %%d %d 0.000001", LUA_PROF,
    emu.url, conc), n1, n2)
  local c, c_fns, c_areas, c_incl = per_task(string.format("%s %s %%d %d", PEER_PROF, emu.url, conc), n1, n2)
  say("  seedance %s, C peer %s instructions/task: %.2fx", commas(sd), commas(c), sd / c)
  say("")
  say("  by area (instructions/task)          seedance     C peer   difference")
  local all = {}
  for k in pairs(sd_areas) do all[k] = true end
  for k in pairs(c_areas) do all[k] = true end
  for _, k in ipairs(sorted_keys(all, function(k) return math.abs(sd_areas[k] or 0) + math.abs(c_areas[k] or 0) end)) do
    local s, p = sd_areas[k] or 0, c_areas[k] or 0
    if math.abs(s) >= 500 or math.abs(p) >= 500 then
      say("  %-36s %9s  %9s  %10s", k, commas(s), commas(p), (s >= p and "+" or "") .. commas(s - p))
    end
  end
  say("")
  say("  seedance, inclusive instructions/task of entry points (seedance.core's Lua functions: sd_*_l):")
  entry_points(sd_incl, "^sd_.*_l$")
  say("  the C peer, the same:")
  entry_points(c_incl)
  say("")
  say("  seedance's top functions (self instructions/task, area):")
  for i, fn in ipairs(sorted_keys(sd_fns, function(k) return sd_fns[k].ir end)) do
    if i > 30 then break end
    say("    %8s  %-34s %s", commas(sd_fns[fn].ir), fn, sd_fns[fn].area)
  end
  say("")
  say("  the C peer's top functions (self instructions/task, area):")
  for i, fn in ipairs(sorted_keys(c_fns, function(k) return c_fns[k].ir end)) do
    if i > 15 then break end
    say("    %8s  %-34s %s", commas(c_fns[fn].ir), fn, c_fns[fn].area)
  end
  say("")
  local n = QUICK and 2000 or 5000
  say("perf (CPU samples at 1999 Hz, kernel included), seedance, %d tasks:", n)
  perf(string.format("%s bench/fanout.lua %s %d %d 0.000001", LUA_PROF, emu.url, n, conc), OUT .. "/perf-b1.data", {
    { "by object", "--no-children --sort dso", 8 },
    { "top functions (self)", "--no-children --sort dso,sym", 25 },
  })
  say("")
  say("Lua functions, seedance, %d tasks:", n)
  lua_samples(string.format("bench/fanout.lua %s %d %d 0.000001", emu.url, n, conc), "bench/fanout.lua", 25)
  emu:stop()
end

-- ---- B2 ----------------------------------------------------------------------

-- Massif's last snapshot of a run: { [site] = bytes }, heap bytes, malloc's extra bytes.
local ALLOC_FNS = { "l_alloc", "luaM_malloc_", "luaM_realloc_", "luaM_saferealloc_", "luaM_growaux_",
                    "luaM_shrinkvector_", "luaC_newobj", "luaS_createlngstrobj", "luaS_newudata" }
local function read(path)
  local f = io.open(path, "r")
  if not f then return "" end
  local text = f:read("*a")
  f:close()
  os.remove(path)
  return text
end
local function massif(cmd)
  local file, snap = os.tmpname(), os.tmpname()
  local fns = {}
  for _, f in ipairs(ALLOC_FNS) do fns[#fns + 1] = "--alloc-fn=" .. f end
  -- bench/hold.lua takes a detailed snapshot (into $SEEDANCE_BENCH_SNAPSHOT) when it measures
  sh(string.format("%s SEEDANCE_BENCH_SNAPSHOT=%s valgrind --tool=massif --massif-out-file=%s --max-snapshots=60 "
    .. "--threshold=0.2 --time-unit=B %s %s >/dev/null 2>&1", ENV, snap, file, table.concat(fns, " "), cmd))
  local text = read(file)
  local last = read(snap):match("snapshot=%d+\n(.*)$")
  assert(last and last:find("heap_tree=detailed"), "no massif snapshot from " .. cmd)
  local heap = tonumber(last:match("mem_heap_B=(%d+)"))
  local extra = tonumber(last:match("mem_heap_extra_B=(%d+)"))
  -- the largest heap of any snapshot (the peak while the tasks were being put in flight)
  local peak = 0
  for h, x in text:gmatch("mem_heap_B=(%d+)\nmem_heap_extra_B=(%d+)") do
    peak = math.max(peak, tonumber(h) + tonumber(x))
  end
  local sites = {}
  for line in last:gmatch("[^\n]+") do
    -- the top level's children: one space of indent
    local bytes, rest = line:match("^ n%d+: (%d+) (.*)$")
    if bytes then
      local name = rest:match("0x%x+: ([%w_.]+)") or rest:match("^in %d+ places") and "(many small sites)" or rest
      sites[name] = (sites[name] or 0) + tonumber(bytes)
    end
  end
  return sites, heap, extra, peak
end

local function b2_massif(mode, n1, n2)
  local runs = {}
  for i, n in ipairs{ n1, n2 } do
    local emu = emulator.start{ speed = 1, task_seconds = 100000, max_tasks = 1000000 }
    local sites, heap, extra, peak = massif(string.format("%s bench/hold.lua %s %d %s", LUA_PROF, emu.url, n, mode))
    emu:stop()
    runs[i] = { sites = sites, heap = heap, extra = extra, peak = peak }
  end
  local dn = n2 - n1
  local a, b = runs[1], runs[2]
  say("  %s: malloc'd heap %s B/task, malloc's own overhead %s B/task (massif, %d vs %d tasks)", mode,
    commas((b.heap - a.heap) / dn), commas((b.extra - a.extra) / dn), n1, n2)
  say("    (at its peak, while they were being put in flight: heap + overhead %s B/task; RSS keeps that peak)",
    commas((b.peak - a.peak) / dn))
  local diff = {}
  for k, v in pairs(b.sites) do diff[k] = (v - (a.sites[k] or 0)) / dn end
  for k, v in pairs(a.sites) do if not b.sites[k] then diff[k] = -v / dn end end
  for i, k in ipairs(sorted_keys(diff, function(k) return diff[k] end)) do
    if i > 14 or diff[k] < 8 then break end
    say("    %7s B/task  %s", commas(diff[k]), k)
  end
end

local function b2()
  local n1, n2 = QUICK and 200 or 500, QUICK and 800 or 2000
  say("B2 memory per task in flight (bench/hold.lua), emulator --speed 1 --task-seconds 100000")
  say("")
  say("massif: the heap at the measurement point (a detailed snapshot bench/hold.lua takes then), by the")
  say("function that allocated it (Lua's allocator functions folded in: luaH_new is a table, luaH_resize")
  say("its slots, lua_newthread a coroutine, luaD_reallocstack and luaE_extendCI its stack and call")
  say("frames, luaF_newLclosure a closure)")
  b2_massif("map", n1, n2)
  b2_massif("wait", n1, n2)
  say("")
  local n = QUICK and 2000 or 10000
  local emu = emulator.start{ speed = 1, task_seconds = 100000, max_tasks = 1000000 }
  say("Lua functions while %d tasks are put in flight (wait mode):", n)
  lua_samples(string.format("bench/hold.lua %s %d wait", emu.url, n), "bench/hold.lua", 20)
  emu:stop()
  say("")
  emu = emulator.start{ speed = 1, task_seconds = 100000, max_tasks = 1000000 }
  say("perf, the same (%d tasks, wait mode):", n)
  perf(string.format("%s bench/hold.lua %s %d wait", LUA_PROF, emu.url, n), OUT .. "/perf-b2.data", {
    { "top functions (self)", "--no-children --sort dso,sym", 20 },
  })
  emu:stop()
end

-- ---- B3 ----------------------------------------------------------------------

local function b3()
  local n = QUICK and 300 or 1000
  say("B3 step(0) at 60 Hz with %d generations in flight (bench/frame.lua ... split), emulator --speed 30", n)
  say("")
  say("  wall clock per step(0), and CPU time (os.clock) per step; the slowest 1%% of steps (wall) split into")
  say("  the engine's calls (engine:step, libcurl and file I/O; engine:next) and the rest (Lua, GC)")
  say("  GC mode   p50 ms  p99 ms  max ms  CPU p99  CPU max  steps  >1ms  >1ms with GC seen  cycles  "
    .. "slowest 1%%: engine + Lua ms")
  -- the last run writes its downloads to tmpfs: how much of a step is the disk's file creation
  local tmpfs = "/dev/shm/seedance-bench-frame"
  for _, run in ipairs{ { "default", OUT .. "/frame" }, { "stop", OUT .. "/frame" }, { "gen", OUT .. "/frame" },
                        { "inc", OUT .. "/frame" }, { "default", tmpfs, "tmpfs" } } do
    local gc, dir = run[1], run[2]
    local emu = emulator.start{ speed = 30, max_tasks = 1000000 }
    os.execute("mkdir -p " .. dir)
    local out = sh(string.format("%s lua5.4 bench/frame.lua %s %d %s %s %s split", ENV:gsub("build/bench/prof",
      "build"), emu.url, n, tostring(1 / 30), dir, gc))
    emu:stop()
    if dir == tmpfs then os.execute("rmdir " .. tmpfs) end
    local r = require("cjson").decode(out:match("({.-})%s*$") or "{}")
    gc = run[3] and (gc .. ", files on " .. run[3]) or gc
    if r.p99_ms then
      say("  %-8s %7.2f %7.2f %7.2f %8.2f %8.2f %6d %5d %18d %7d  %.2f + %.2f", gc, r.p50_ms, r.p99_ms, r.max_ms,
        r.cpu_p99_ms, r.cpu_max_ms, r.steps, r.slow_steps, r.slow_steps_with_gc, r.cycles, r.slowest_engine_ms,
        r.slowest_lua_ms)
    else
      say("  %-8s (no result)", gc)
    end
  end
  say("")
  local emu = emulator.start{ speed = 30, max_tasks = 1000000 }
  say("perf of the frame loop (lua-prof, collector as left), CPU samples at 1999 Hz:")
  perf(string.format("%s bench/frame.lua %s %d %s %s/frame", LUA_PROF, emu.url, n, tostring(1 / 30), OUT),
    OUT .. "/perf-b3.data", {
      { "by object", "--no-children --sort dso", 8 },
      { "top functions (self)", "--no-children --sort dso,sym", 25 },
    })
  emu:stop()
end

local t0 = os.time()
local ok, err = pcall(which == "b1" and b1 or which == "b2" and b2 or b3)
stop_emulators()
if not ok then say("profile %s failed: %s", which, tostring(err)) end
say("")
say("(%s, %d s)", os.date("!%Y-%m-%d %H:%M UTC"), os.time() - t0)
local f = assert(io.open(OUT .. "/profile-" .. which .. ".txt", "w"))
f:write(table.concat(report, "\n"), "\n")
f:close()
os.exit(ok and 0 or 1)
