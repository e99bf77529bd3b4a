-- make bench: B1-B6 of issue 7 and B7 of issue 17, each against a fresh seedance-emulator on
-- loopback, with its peer measured in the same run. Prints one table (and
-- writes it to build/bench/table.md); a figure that misses its target says
-- MISSED.
--
--   lua5.4 bench/run.lua [quick]
--
-- quick: smaller sizes (B1 500/2000 tasks, B2 500/2000, B5 64 MiB, B7 1000), for a
-- first look; the figures in bench/RESULTS.md come from the full run.
package.path = "bench/?.lua;spec/?.lua;" .. package.path
local cjson = require("cjson")
local emulator = require("helpers.emulator")

local QUICK = arg[1] == "quick"
local LUA = "lua5.4"
local PY = "/usr/bin/python3"
local OUT = "build/bench"
os.execute("mkdir -p " .. OUT)

local rows = {}

local function log(fmt, ...) io.stderr:write(string.format(fmt, ...), "\n") end

-- Run a command; its stdout, and whether it exited 0.
local function run(cmd)
  local p = assert(io.popen("(" .. cmd .. "); echo \"__exit=$?\""))
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("__exit=(%d+)%s*$"))
  return (out:gsub("__exit=%d+%s*$", "")), code == 0
end

-- The last JSON line a benchmark script printed.
local function json_of(cmd)
  local out, ok = run(cmd)
  local last
  for line in out:gmatch("[^\n]+") do
    if line:match("^{") then last = line end
  end
  if not last then error("no result from: " .. cmd .. "\n" .. out) end
  local t = cjson.decode(last)
  t._ok = ok
  return t
end

local function row(name, figure, peer, ratio, target, met)
  rows[#rows + 1] = { name, figure, peer or "", ratio or "", target, met and "met" or "MISSED" }
  log("  %s: %s | %s | %s | %s | %s", name, figure, peer or "", ratio or "", target, met and "met" or "MISSED")
end

local function stats_delta(emu, before)
  local s = emu:stats()
  return s.requests - (before and before.requests or 0), s
end

-- B1 ---------------------------------------------------------------------
local function b1()
  log("B1 fan-out")
  local conc = 100
  local emu = emulator.start{ speed = 1000000, max_tasks = 1000000 }
  -- wrk on the poll endpoint of a completed task, 32 connections (the pools' size)
  local id = (run(string.format("curl -s %s/v1/videos/generations -H 'Authorization: Bearer sk-bench' "
    .. "-d '{\"model\":\"doubao-seedance-2.0\",\"prompt\":\"wrk\"}'", emu.url))):match('"task_id":"([^"]+)"')
  local wrk_out = run(string.format("wrk -t2 -c32 -d5s -H 'Authorization: Bearer sk-bench' %s/v1/tasks/%s",
    emu.url, id))
  local wrk_rps = tonumber(wrk_out:match("Requests/sec:%s*([%d.]+)"))
  log("  wrk: %s req/s", tostring(wrk_rps))
  for _, n in ipairs(QUICK and { 500, 2000 } or { 2000, 10000 }) do
    local s0 = emu:stats()
    local sd = json_of(string.format("%s bench/fanout.lua %s %d %d 0.000001", LUA, emu.url, n, conc))
    local sd_req = stats_delta(emu, s0)
    s0 = emu:stats()
    local py = json_of(string.format("%s bench/fanout_aiohttp.py %s %d %d 0.000001", PY, emu.url, n, conc))
    local py_req = stats_delta(emu, s0)
    local sd_rps, py_rps = sd_req / sd.wall, py_req / py.wall
    log("  %d tasks: seedance %.0f tasks/s (%.0f req/s, cpu %.2f s, %d KiB), aiohttp %.0f tasks/s "
      .. "(%.0f req/s, cpu %.2f s, %d KiB)", n, sd.tasks_per_s, sd_rps, sd.cpu, sd.hwm_kib, py.tasks_per_s, py_rps,
      py.cpu, py.hwm_kib)
    local ratio = sd.tasks_per_s / py.tasks_per_s
    row(string.format("B1 fan-out %d tasks, %d at once: throughput", n, conc),
      string.format("%.0f tasks/s (%.2f s wall, %.2f s CPU, peak %.1f MiB, %.1f req/task)", sd.tasks_per_s, sd.wall,
        sd.cpu, sd.hwm_kib / 1024, sd_req / n),
      string.format("aiohttp %.0f tasks/s (%.2f s wall, %.2f s CPU, peak %.1f MiB)", py.tasks_per_s, py.wall, py.cpu,
        py.hwm_kib / 1024),
      string.format("%.2fx", ratio), ">= 3x aiohttp", sd._ok and py._ok and ratio >= 3)
    if wrk_rps then
      local share = sd_rps / wrk_rps
      row(string.format("B1 fan-out %d tasks: request rate", n), string.format("%.0f req/s", sd_rps),
        string.format("wrk %.0f req/s (GET task, 32 connections)", wrk_rps), string.format("%.0f%%", share * 100),
        ">= 60% of wrk", share >= 0.6)
    end
  end
  emu:stop()
end

-- B2 ---------------------------------------------------------------------
local function b2()
  log("B2 memory per task in flight")
  local sizes = QUICK and { 500, 2000 } or { 1000, 10000 }
  local rss = {}
  for i, n in ipairs(sizes) do
    local emu = emulator.start{ speed = 1, task_seconds = 100000, max_tasks = 1000000 }
    local r = json_of(string.format("%s bench/fanout.lua %s %d 0 1 hold", LUA, emu.url, n))
    emu:stop()
    rss[i] = r.rss_kib
    log("  %d tasks in flight: RSS %d KiB (Lua heap %.0f KiB), %d submitted", n, r.rss_kib, r.lua_kib, r.submitted)
  end
  local per = (rss[2] - rss[1]) * 1024 / (sizes[2] - sizes[1])
  row(string.format("B2 memory, RSS slope %d..%d tasks", sizes[1], sizes[2]), string.format("%.0f B/task", per),
    string.format("RSS %.1f / %.1f MiB", rss[1] / 1024, rss[2] / 1024), "", "<= 2 KiB/task", per <= 2048)
end

-- B3 ---------------------------------------------------------------------
local function b3()
  log("B3 frame budget")
  local emu = emulator.start{ speed = 30, max_tasks = 1000000 }
  local dir = OUT .. "/frame"
  os.execute("mkdir -p " .. dir)
  local r = json_of(string.format("%s bench/frame.lua %s 1000 %s %s", LUA, emu.url, tostring(1 / 30), dir))
  emu:stop()
  row("B3 step(0) at 60 Hz, 1,000 tasks in flight",
    string.format("p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d steps)", r.p50_ms, r.p99_ms, r.max_ms, r.steps), "", "",
    "p99 <= 1 ms, max <= 5 ms", r._ok and r.p99_ms <= 1 and r.max_ms <= 5)
end

-- B4 ---------------------------------------------------------------------
local function b4()
  log("B4 polling")
  local speed, n = 10, 60
  local res = {}
  for _, mode in ipairs{ "adaptive", "fixed" } do
    local emu = emulator.start{ speed = speed, max_tasks = 1000000 }
    res[mode] = json_of(string.format("%s bench/polling.lua %s %d %d %s", LUA, emu.url, n, speed, mode))
    emu:stop()
    log("  %s: %.1f polls/task, lag p50 %.2f s, p95 %.2f s", mode, res[mode].polls_per_task, res[mode].lag_p50_s,
      res[mode].lag_p95_s)
  end
  local a, f = res.adaptive, res.fixed
  local share = a.polls_per_task / f.polls_per_task
  row(string.format("B4 polling, %d tasks of 32-120 s (clock x%d)", n, speed),
    string.format("%.1f polls/task, lag p95 %.2f s (p50 %.2f s)", a.polls_per_task, a.lag_p95_s, a.lag_p50_s),
    string.format("every 1 s: %.1f polls/task, lag p95 %.2f s", f.polls_per_task, f.lag_p95_s),
    string.format("1/%.1f", 1 / share), "<= 1/5 of the requests, p95 lag <= 1 s",
    a._ok and f._ok and share <= 0.2 and a.lag_p95_s <= 1)
end

-- B5 ---------------------------------------------------------------------
local function b5()
  log("B5 download")
  local sizes = QUICK and { 16, 64 } or { 32, 256 }
  local results = {}
  for _, mib in ipairs(sizes) do
    local emu = emulator.start{ speed = 1000, video_bytes = mib * 1048576 }
    local file = OUT .. "/download.bin"
    local best_sd, best_curl, sd_hwm, curl_hwm = math.huge, math.huge, 0, 0
    for _ = 1, 2 do
      local r = json_of(string.format("%s bench/download.lua %s %s", LUA, emu.url, file))
      local video_url = r.video_url
      best_sd = math.min(best_sd, r.seconds)
      sd_hwm = math.max(sd_hwm, r.hwm_kib)
      os.remove(file)
      local out = run(string.format("/usr/bin/time -f 'rss=%%M' curl -s -o %s -w 'secs=%%{time_total}\\n' '%s' 2>&1",
        file, video_url))
      best_curl = math.min(best_curl, tonumber(out:match("secs=([%d.]+)")))
      curl_hwm = math.max(curl_hwm, tonumber(out:match("rss=(%d+)")))
      os.remove(file)
    end
    emu:stop()
    local bytes = mib * 1048576
    results[#results + 1] = { mib = mib, sd = bytes / best_sd / 1048576, curl = bytes / best_curl / 1048576,
                              sd_hwm = sd_hwm, curl_hwm = curl_hwm }
    log("  %d MiB: seedance %.0f MiB/s (peak %d KiB), curl %.0f MiB/s (peak %d KiB)", mib,
      bytes / best_sd / 1048576, sd_hwm, bytes / best_curl / 1048576, curl_hwm)
  end
  local big, small = results[#results], results[1]
  local ratio = big.sd / big.curl
  row(string.format("B5 download %d MiB", big.mib), string.format("%.0f MiB/s, peak RSS %.1f MiB", big.sd,
    big.sd_hwm / 1024), string.format("curl -o %.0f MiB/s, peak RSS %.1f MiB", big.curl, big.curl_hwm / 1024),
    string.format("%.2fx", ratio), ">= 0.9x curl", ratio >= 0.9)
  local growth = (big.sd_hwm - small.sd_hwm) / 1024
  row(string.format("B5 RSS, %d vs %d MiB file", small.mib, big.mib),
    string.format("peak %.1f -> %.1f MiB (%+.1f MiB)", small.sd_hwm / 1024, big.sd_hwm / 1024, growth), "", "",
    "flat in file size (< 1 MiB growth)", growth < 1)
end

-- B6 ---------------------------------------------------------------------
local function b6()
  log("B6 validate + encode")
  local r = json_of(string.format("%s bench/validate.lua callgrind", LUA))
  local ir = r.instructions
  row("B6 validate + cjson.encode, typical request", string.format("%d instructions/call (validate %d, "
    .. "cjson.encode %d), %.2f us/call", ir.both, ir.validate, ir.encode, r.us_per_call), "", "",
    string.format("<= %d instructions", r.target), ir.both <= r.target)
end

-- B7 ---------------------------------------------------------------------
local function b7()
  log("B7 HTTP/2 vs HTTP/1.1 over TLS")
  local nghttpx = require("helpers.nghttpx")
  local certs = require("helpers.tls").make()
  local n, conc, rounds = QUICK and 1000 or 5000, 100, 3
  local emu = emulator.start{ speed = 1000000, max_tasks = 1000000 }
  local res = { h2 = { cpu = math.huge, wall = math.huge, conns = 0, reqs = 0, ok = true },
                h1 = { cpu = math.huge, wall = math.huge, conns = 0, reqs = 0, ok = true } }
  local ng
  -- the loop through nghttpx offering h2 (then http/1.1), or offering http/1.1 only
  local function measure(mode)
    ng = nghttpx.start{ backend = emu.url, tls = certs.server, http2 = mode == "h2",
                        args = { "--backend-connections-per-host=64" } }
    local s0 = emu:stats()
    local r = json_of(string.format("%s bench/http2.lua %s %s %d %d", LUA, ng.url, certs.ca, n, conc))
    local reqs = stats_delta(emu, s0)
    ng:wait_requests(reqs)
    local conns = ng:connections()
    local protocols = {}
    for _, req in ipairs(ng:requests()) do protocols[req.protocol] = true end
    ng:stop()
    local m = res[mode]
    m.cpu, m.wall = math.min(m.cpu, r.cpu / n), math.min(m.wall, r.wall)
    m.conns, m.reqs = math.max(m.conns, #conns), reqs
    m.ok = m.ok and r._ok and r.failed == 0 and protocols[mode == "h2" and "HTTP/2" or "HTTP/1.1"]
      and next(protocols, next(protocols)) == nil
    log("  %s: %d tasks, %.0f us CPU/task, %.2f s wall, %d connections, %d requests", mode, r.done,
      r.cpu / n * 1e6, r.wall, #conns, reqs)
  end
  -- alternating; best of the rounds for time, the most connections any round used
  local done, err = pcall(function()
    for _ = 1, rounds do
      measure("h2")
      measure("h1")
    end
  end)
  -- stopped whatever happened: a server left running would hold this runner at exit
  if ng then ng:stop() end
  emu:stop()
  certs:remove()
  if not done then error(err, 0) end
  local h2, h1 = res.h2, res.h1
  local function figure(m)
    return string.format("%d connection%s, %.0f requests/connection, %.0f us CPU/task (%.0f tasks/s)", m.conns,
      m.conns == 1 and "" or "s", m.reqs / m.conns, m.cpu * 1e6, n / m.wall)
  end
  local ratio = h2.cpu / h1.cpu
  row(string.format("B7 HTTP/2 vs HTTP/1.1, TLS via nghttpx, %d tasks, %d at once", n, conc), "HTTP/2: " .. figure(h2),
    "HTTP/1.1: " .. figure(h1), string.format("%.2fx CPU", ratio), "HTTP/2 on 1 connection, CPU/task <= 1.1x HTTP/1.1",
    h2.ok and h1.ok and h2.conns == 1 and ratio <= 1.1)
end

local only = {}
for i = QUICK and 2 or 1, #arg do only[arg[i]] = true end
for _, b in ipairs{ { "b1", b1 }, { "b2", b2 }, { "b3", b3 }, { "b4", b4 }, { "b5", b5 }, { "b6", b6 },
                    { "b7", b7 } } do
  if next(only) == nil or only[b[1]] then
    local ok, err = pcall(b[2])
    if not ok then row(b[1]:upper() .. " (did not run)", tostring(err), "", "", "", false) end
  end
end

-- the table
local lines = {
  string.format("seedance benchmarks, %s, %s%s", os.date("!%Y-%m-%d %H:%M UTC"),
    (run("uname -m")):gsub("%s+$", ""), QUICK and " (quick sizes)" or ""),
  "",
  "| benchmark | seedance | peer | ratio | target | result |",
  "|---|---|---|---|---|---|",
}
for _, r in ipairs(rows) do lines[#lines + 1] = "| " .. table.concat(r, " | ") .. " |" end
local text = table.concat(lines, "\n") .. "\n"
io.stdout:write("\n", text)
local f = assert(io.open(OUT .. "/table.md", "w"))
f:write(text)
f:close()
