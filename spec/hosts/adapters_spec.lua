-- The host adapters (seedance.adapters.luv, .copas, .cqueues): each drives a
-- generation and its download against the emulator from the host's own loop
-- while the host's own work keeps running on that loop, notices work spawned
-- later, and leaves nothing of its own in the loop after detach.
--
-- Each library is loaded for the running Lua; a block is pending only where
-- the library is not installed for it. Debian's lua-copas (plain Lua, copas
-- 1.1.7) is installed only for Lua 5.1 and 5.2 and lua-coxpcall up to 5.3:
-- where `require` does not find them, they are loaded from those folders.
local emulator = require("helpers.emulator")
local util = require("helpers.util")
local seedance = require("seedance")

local MEDIA_RATE = 20000    -- bytes a second: the 4.6 KB clip takes a few hundred ms to arrive

local function try_require(name)
  local ok, mod = pcall(require, name)
  if ok then return mod end
  return nil, mod
end

-- copas and coxpcall are plain Lua: take Debian's copy for another version
-- when none is installed for this one.
local function load_copas()
  if not try_require("socket") then return nil, "LuaSocket is not installed for " .. _VERSION end
  for _, name in ipairs{ "coxpcall", "copas" } do
    if not try_require(name) then
      for _, v in ipairs{ "5.3", "5.2", "5.1" } do
        local chunk = loadfile("/usr/share/lua/" .. v .. "/" .. name .. ".lua")
        if chunk then
          package.preload[name] = chunk
          break
        end
      end
    end
  end
  return try_require("copas")
end

-- One job as a host would start it: generate, wait, download; `phase` says
-- where it stands, for the host's ticks to record.
local function job_body(client, path, state)
  return function()
    state.phase = "submit"
    local task = assert(client:generate{ model = "doubao-seedance-2.0", prompt = "a lantern on a lake" })
    state.phase = "wait"
    assert(task:wait())
    state.phase = "download"
    local saved = assert(task:download(path))
    state.phase = "done"
    return saved
  end
end

-- The host's tick: count it under the job's phase.
local function tick(state)
  state.ticks[state.phase] = (state.ticks[state.phase] or 0) + 1
end

local function new_state()
  return { phase = "before", ticks = {} }
end

-- The job succeeded and the video is in place.
local function assert_saved(job, path)
  assert.is_true(job.done, "the job did not finish")
  assert(job.ok, tostring(job.error))
  assert.equal(path, (job:wait()))
  assert.is_true(util.is_mp4(path))
end

-- And the host ticked while the task was waited on and while the clip was downloading.
local function assert_job(job, path, state)
  assert_saved(job, path)
  assert.is_true((state.ticks.wait or 0) > 0, "no host tick while the task was waited on")
  assert.is_true((state.ticks.download or 0) > 0, "no host tick while the clip downloaded")
end

-- Two servers that never answer, each behind a client with short timeouts
-- and no retries: libcurl gives up on each inside a step the timer started,
-- closing a socket the adapter was watching. On the first (a listening
-- socket nobody accepts from) the request is taken and no answer comes: the
-- socket was watched for reading. On the second the listening socket's
-- queue is full, so the connection never completes: it was watched for writing.
local function stalled_clients()
  local socket = require("socket")
  local answer = assert(socket.bind("127.0.0.1", 0))
  local connect = assert(socket.bind("127.0.0.1", 0, 0))
  local fillers = {}
  for i = 1, 4 do
    fillers[i] = socket.tcp()
    fillers[i]:settimeout(0)
    fillers[i]:connect("127.0.0.1", (select(2, connect:getsockname())))
  end
  local clients = {}
  for i, server in ipairs{ answer, connect } do
    clients[i] = util.client_for("http://127.0.0.1:" .. select(2, server:getsockname()),
                                 { timeout = 0.3, connect_timeout = 0.3, max_retries = 0 })
  end
  return clients, function()
    answer:close()
    connect:close()
    for _, f in ipairs(fillers) do f:close() end
  end
end

-- Each stalled call ends with a timeout, and the adapter goes on: a call to
-- the emulator after them succeeds. A pause after each lets the loop wait a
-- while before any new socket could take the closed one's number.
local function stalls_then_call(stalled, client)
  return function()
    for _, c in ipairs(stalled) do
      local ok, err = c:balance()
      assert(not ok, "the stalled server answered")
      assert.equal("timeout_error", err.type)
      seedance.sleep(0.05)
    end
    return assert(client:balance())
  end
end

-- On `adapter`: two calls to servers that never answer each end with a timeout (libcurl closes the
-- sockets the host watched), and a call to `client`'s server after them succeeds. `drive(job)`
-- runs the host's loop until the job is done.
local function survives_stalls(adapter, client, drive)
  local stalled, close = stalled_clients()
  local job = adapter:spawn(stalls_then_call(stalled, client))
  drive(job)
  close()
  assert.is_true(job.done, "the job did not finish")
  assert(job.ok, tostring(job.error))
  adapter:detach()
end

describe("host adapters #c #compat", function()
  local emu = emulator.fixture{ speed = util.SPEED, media_rate = MEDIA_RATE }

  describe("seedance.adapters.luv", function()
    local uv = try_require("luv")
    local adapters = uv and require("seedance.adapters.luv")

    -- The handles alive on the loop (uv.walk), as a set.
    local function handles()
      local set = {}
      uv.walk(function(h) set[h] = true end)
      return set
    end

    -- Run the loop until it returns by itself, with an unreferenced guard
    -- timer that stops it after 60 s; true when it returned by itself.
    local function run_loop()
      local gave_up = false
      local guard = uv.new_timer()
      guard:start(60000, 0, function() gave_up = true; uv.stop() end)
      guard:unref()
      uv.run()
      guard:close()
      uv.run("nowait")
      return not gave_up
    end

    -- A test of the adapter: pending without luv; body(handles before) detaches what it attached,
    -- and then the loop holds no handle it did not hold before.
    local function luv_it(name, body)
      it(name, function()
        if not uv then return pending("luv is not installed for " .. _VERSION) end
        local before = handles()
        body(before)
        uv.run("nowait")
        assert.same(before, handles())
      end)
    end

    luv_it("generates and downloads on the loop while a host timer keeps ticking; stops by itself; "
      .. "detach leaves no handle", function()
      local adapter = adapters.attach(uv)
      local client = util.client_for(emu)
      local path, state = util.tmpfile("luv.mp4"), new_state()
      local job = adapter:spawn(job_body(client, path, state))
      local timer = uv.new_timer()
      timer:start(5, 5, function()
        tick(state)
        if job.done then timer:close() end
      end)
      -- uv.run returns only when the host's timer is closed and the adapter
      -- keeps nothing active (its prepare handle is unreferenced)
      assert.is_true(run_loop(), "the loop did not return by itself")
      assert_job(job, path, state)
      assert.is_true(adapter:steps() > 0)
      assert.is_true(adapter:steps() < 5000, "steps: " .. adapter:steps())    -- woken, not spinning

      adapter:detach()
      adapter:detach()
      os.remove(path)
    end)

    luv_it("goes on while a coroutine sleeps for ever (math.huge) until a host callback interrupts it: the adapter's "
      .. "timer is armed for a wait luv takes #found #m-timeout-drops-stale", function()
      local scheduler = require("seedance.scheduler")
      local adapter = adapters.attach(uv)
      local token, forever, brief = {}, nil, nil
      adapter:spawn(function()
        scheduler.sleep(math.huge, token) -- seedance.sleep(math.huge), ended by the host (interrupt)
        forever = true
      end)
      adapter:spawn(function()
        seedance.sleep(0.02)
        brief = true
      end)
      local later = uv.new_timer()
      later:start(100, 0, function()
        later:close()
        scheduler.interrupt(token)
      end)
      assert.is_true(run_loop(), "the loop did not return by itself")
      assert.is_true(brief)
      assert.is_true(forever)
      adapter:detach()
    end)

    luv_it("steps work spawned later from a host callback, with no wake()", function()
      local adapter = adapters.attach(uv)
      local client = util.client_for(emu)
      local job
      local later = uv.new_timer()
      later:start(20, 0, function()
        later:close()    -- the host's last handle: the prepare handle runs after timers, before the loop sleeps
        job = seedance.spawn(function() return assert(client:balance()) end)
      end)
      assert.is_true(run_loop(), "the loop did not return by itself")
      assert.truthy(job, "the host callback did not run")
      assert.is_true(job.done, "work spawned from a host callback was never stepped")
      assert(job.ok, tostring(job.error))
      adapter:detach()
    end)

    luv_it("detached mid-transfer, hands the work over to another adapter", function()
      local first = adapters.attach(uv)
      local client = util.client_for(emu)
      local path, state = util.tmpfile("luv-handover.mp4"), new_state()
      local job = first:spawn(job_body(client, path, state))
      local second
      local timer = uv.new_timer()
      timer:start(5, 5, function()
        tick(state)
        if state.phase == "download" and not second then
          first:detach()
          second = adapters.attach(uv)
        end
        if job.done then timer:close() end
      end)
      assert.is_true(run_loop(), "the loop did not return by itself")
      assert.truthy(second, "the download phase was never seen")
      assert_job(job, path, state)
      assert.is_true(second:steps() > 0)
      second:detach()
      os.remove(path)
    end)

    luv_it("goes on after libcurl closes watched sockets (read, write) on timeouts", function()
      survives_stalls(adapters.attach(uv), util.client_for(emu), function()
        assert.is_true(run_loop(), "the loop did not return by itself")
      end)
    end)

    luv_it("shares one driver between two attachments to the loop, detached one by one", function(before)
      local a = adapters.attach(uv)
      local n = 0
      for h in pairs(handles()) do if not before[h] then n = n + 1 end end
      local b = adapters.attach(uv)
      local m = 0
      for h in pairs(handles()) do if not before[h] then m = m + 1 end end
      assert.equal(n, m)                      -- the second attachment made no handle
      local client = util.client_for(emu)
      local p1, s1 = util.tmpfile("luv-a.mp4"), new_state()
      local p2, s2 = util.tmpfile("luv-b.mp4"), new_state()
      local j1 = a:spawn(job_body(client, p1, s1))
      local j2 = b:spawn(job_body(client, p2, s2))
      local timer = uv.new_timer()
      timer:start(5, 5, function()
        tick(s1)
        tick(s2)
        if s1.phase == "wait" then
          a:detach()
          a:detach()                          -- once more: b stays attached
        end
        if j1.done and j2.done then timer:close() end
      end)
      assert.is_true(run_loop(), "the loop did not return by itself")
      assert_job(j1, p1, s1)
      assert_job(j2, p2, s2)
      b:detach()
      os.remove(p1)
      os.remove(p2)
    end)
  end)

  describe("seedance.adapters.copas", function()
    local copas, why = load_copas()
    local socket = copas and require("socket")
    local adapters = copas and require("seedance.adapters.copas")

    -- A process that writes a line to 127.0.0.1:port every 5 ms until the
    -- connection closes (60 s at most): the host's own work arrives on a socket.
    local function start_ticker(port)
      assert(util.run(string.format("timeout 60 bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d; "
        .. "while echo tick >&3; do sleep 0.005; done' >/dev/null 2>&1 &", port)))
    end

    -- Record the read and write sets of every socket.select call.
    local last_sets
    local function spy_select()
      local real = socket.select
      socket.select = function(r, w, t)
        last_sets = { r = {}, w = {} }
        for i, x in ipairs(r or {}) do last_sets.r[i] = x end
        for i, x in ipairs(w or {}) do last_sets.w[i] = x end
        return real(r, w, t)
      end
      return function() socket.select = real end
    end

    -- How many objects in the last select's sets are not LuaSocket sockets
    -- (the adapter's stand-ins are tables).
    local function stand_ins()
      local n = 0
      for _, set in pairs(last_sets or {}) do
        for _, x in ipairs(set) do
          if type(x) ~= "userdata" then n = n + 1 end
        end
      end
      return n
    end

    -- The host's loop: copas 1.x has no timers, so each step waits at most
    -- until seedance's next deadline.
    local function loop_until(pred)
      local deadline = os.time() + 60
      while not pred() and os.time() < deadline do
        copas.step(math.min(seedance.timeout() or 0.5, 0.5))
      end
      return pred()
    end

    -- A test of the adapter: pending without copas; after body() (which detaches what it attached)
    -- copas takes a few steps to end the adapter's threads, then what body returned runs.
    local function copas_it(name, body)
      it(name, function()
        if not copas then return pending("copas is not installed for " .. _VERSION .. ": " .. tostring(why)) end
        local after = body()
        for _ = 1, 10 do copas.step(0) end
        if after then after() end
      end)
    end

    copas_it("generates and downloads from a copas thread while the host's copas thread keeps serving; "
      .. "detach leaves nothing in copas's sets", function()
      local restore = spy_select()
      local server = assert(socket.bind("127.0.0.1", 0))
      local port = select(2, server:getsockname())
      local adapter = adapters.attach(copas)
      local client = util.client_for(emu)
      local path, state = util.tmpfile("copas.mp4"), new_state()
      local job
      local served = false
      copas.addserver(server, function(conn)
        while not job.done do
          if not copas.receive(conn, "*l") then break end
          tick(state)
        end
        served = true
      end)
      job = adapter:spawn(job_body(client, path, state))
      start_ticker(port)
      local finished = loop_until(function() return job.done and served end)
      assert.is_true(finished, "the job or the host's thread did not finish")
      assert_job(job, path, state)
      assert.is_true(adapter:steps() > 0)
      assert.is_true(adapter:steps() < 5000, "steps: " .. adapter:steps())

      assert.is_true(stand_ins() > 0)        -- the engine's stand-in, at least
      adapter:detach()
      adapter:detach()
      server:close()
      return function()
        restore()
        assert.equal(0, stand_ins())
        os.remove(path)
      end
    end)

    copas_it("steps work spawned later by a host copas thread, with no wake()", function()
      local adapter = adapters.attach(copas)
      local client = util.client_for(emu)
      local job
      copas.addthread(function()
        job = seedance.spawn(function() return assert(client:balance()) end)
      end)
      -- the host steps copas without a timeout bound of its own
      local deadline = os.time() + 60
      while not (job and job.done) and os.time() < deadline do copas.step(seedance.timeout() or 5) end
      assert.truthy(job and job.done, "work spawned from a copas thread was never stepped")
      assert(job.ok, tostring(job.error))
      adapter:detach()
    end)

    copas_it("with copas 2+, meets seedance's deadlines under an unbounded copas.step()", function()
      if not copas.sleep then return pending(copas._VERSION .. " has no timers: the host bounds copas.step") end
      local adapter = adapters.attach(copas)
      local client = util.client_for(emu)
      local path, state = util.tmpfile("copas-timers.mp4"), new_state()
      local job = adapter:spawn(job_body(client, path, state))
      -- a guard that bounds each select at 60 s, so a missed deadline fails instead of hanging
      local guard = copas.addthread(function() copas.sleep(60) end)
      local deadline = os.time() + 60
      while not job.done and os.time() < deadline do copas.step() end
      copas.wakeup(guard)
      assert_saved(job, path)
      adapter:detach()
      os.remove(path)
    end)

    copas_it("goes on after libcurl closes watched sockets (read, write) on timeouts", function()
      survives_stalls(adapters.attach(copas), util.client_for(emu), function(job)
        assert.is_true(loop_until(function() return job.done end), "the job did not finish")
      end)
    end)

    copas_it("shares one driver between two attachments, detached one by one", function()
      local restore = spy_select()
      local a, b = adapters.attach(copas), adapters.attach(copas)
      for _ = 1, 3 do copas.step(0) end       -- copas 2+ starts threads at its next step
      assert.equal(1, stand_ins())            -- one engine stand-in, not two
      local client = util.client_for(emu)
      local p1, s1 = util.tmpfile("copas-a.mp4"), new_state()
      local p2, s2 = util.tmpfile("copas-b.mp4"), new_state()
      local j1 = a:spawn(job_body(client, p1, s1))
      local j2 = b:spawn(job_body(client, p2, s2))
      assert.is_true(loop_until(function() return s1.phase == "wait" end))
      a:detach()
      a:detach()                              -- once more: b stays attached
      local finished = loop_until(function()
        tick(s1)
        tick(s2)
        return j1.done and j2.done
      end)
      assert.is_true(finished, "the jobs did not finish")
      assert_job(j1, p1, s1)
      assert_job(j2, p2, s2)
      b:detach()
      return function()
        restore()
        assert.equal(0, stand_ins())
        os.remove(p1)
        os.remove(p2)
      end
    end)
  end)

  describe("seedance.adapters.cqueues", function()
    local cqueues, why = try_require("cqueues")
    local adapters = cqueues and require("seedance.adapters.cqueues")

    -- A test of the adapter: pending without cqueues; body gets a new controller.
    local function cqueues_it(name, body)
      it(name, function()
        if not cqueues then return pending("cqueues is not installed for " .. _VERSION .. ": " .. tostring(why)) end
        body(cqueues.new())
      end)
    end

    cqueues_it("generates and downloads from a cqueues coroutine while the host's coroutine keeps ticking; "
      .. "detach leaves the controller empty", function(cq)
      local adapter = adapters.attach(cq)
      local client = util.client_for(emu)
      local path, state = util.tmpfile("cqueues.mp4"), new_state()
      local job
      cq:wrap(function()
        job = adapter:spawn(job_body(client, path, state))
        while not job.done do
          cqueues.sleep(0.005)
          tick(state)
        end
        adapter:detach()
        adapter:detach()
      end)
      local ok, err = cq:loop(60)
      assert(ok, tostring(err))
      assert.is_true(cq:empty(), "the controller still has coroutines after 60 s")
      assert_job(job, path, state)
      assert.is_true(adapter:steps() > 0)
      assert.is_true(adapter:steps() < 5000, "steps: " .. adapter:steps())
      os.remove(path)
    end)

    cqueues_it("steps work spawned later by a host coroutine after wake()", function(cq)
      local adapter = adapters.attach(cq)
      local client = util.client_for(emu)
      local job
      cq:wrap(function()
        cqueues.sleep(0.02)              -- the driver is idle, waiting on its condition
        job = seedance.spawn(function() return assert(client:balance()) end)
        adapter:wake()
        local deadline = os.time() + 60
        while not job.done and os.time() < deadline do cqueues.sleep(0.005) end
        adapter:detach()
      end)
      local ok, err = cq:loop(60)
      assert(ok, tostring(err))
      assert.is_true(cq:empty())
      assert.is_true(job.done, "work spawned from a cqueues coroutine was never stepped")
      assert(job.ok, tostring(job.error))
    end)
    cqueues_it("goes on after libcurl closes watched sockets (read, write) on timeouts", function(cq)
      local adapter = adapters.attach(cq)
      local stalled, close = stalled_clients()
      local job
      cq:wrap(function()
        job = adapter:spawn(stalls_then_call(stalled, util.client_for(emu)))
        while not job.done do cqueues.sleep(0.005) end
        adapter:detach()
      end)
      local ok, err = cq:loop(60)
      close()
      assert(ok, tostring(err))
      assert.is_true(cq:empty())
      assert.is_true(job.done)
      assert(job.ok, tostring(job.error))
    end)

    cqueues_it("shares one driver on a controller; refuses a second controller", function(cq)
      local a = adapters.attach(cq)
      local b = adapters.attach(cq)
      assert.equal(1, cq:count())             -- one driver coroutine
      assert.has_error(function() adapters.attach(cqueues.new()) end,
        "seedance is already driven by an adapter on another cqueues controller")
      local client = util.client_for(emu)
      local job
      cq:wrap(function()
        job = b:spawn(function() return assert(client:balance()) end)
        a:detach()
        a:detach()                            -- once more: b stays attached
        while not job.done do cqueues.sleep(0.005) end
        b:detach()
      end)
      local ok, err = cq:loop(60)
      assert(ok, tostring(err))
      assert.is_true(cq:empty())
      assert(job.ok, tostring(job.error))
      -- with both detached, another controller may drive seedance
      local other = cqueues.new()
      adapters.attach(other):detach()
      assert(other:loop(5))
    end)
  end)
end)
