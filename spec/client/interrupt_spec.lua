-- Ctrl-C (SIGINT) in a plain Lua script run by the standalone interpreter,
-- inside seedance.map, seedance.chain or seedance.run: the script ends with an
-- `interrupted` error that lists every task paid for (its id and
-- Idempotency-Key) and says that a re-run with the journal resumes, never a
-- traceback from the library's internals; the re-run pays for nothing twice.
local emulator = require("helpers.emulator")
local process = require("helpers.process")
local child = require("helpers.child")
local cli = require("helpers.cli")
local util = require("helpers.util")

local q = process.quote

-- Start `lua script` in the background with SIGINT at its default (as a terminal's script has it).
local function start(script, env)
  local vars = {}
  for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. q(v) end
  return cli.background(("%s %s timeout --foreground -s KILL 60 %s %s"):format(child.paths(),
    table.concat(vars, " "), util.LUA, q(script)))
end

local function finish(job)
  return job:finish()
end

-- One SIGINT, to `timeout`, which passes it on to the script (a second would kill it: the
-- interpreter restores the default action after the first, as a terminal user expects).
local function interrupt(job)
  os.execute("kill -INT " .. job.pid .. " 2>/dev/null")
end

local SCRIPT = [[
local seedance = require("seedance")
local c = seedance.new{ api_key = "sk-int", base_url = os.getenv("URL"), time_scale = 0.05,
                        journal = os.getenv("JOURNAL") ~= "" and os.getenv("JOURNAL") or nil }
local reqs = {}
for i = 1, 6 do reqs[i] = { model = "doubao-seedance-2.0", prompt = "interrupted " .. i } end
local how = os.getenv("HOW")
if how == "map" then
  local _, stats = seedance.map(c, reqs, { concurrency = 3 })
  print("finished", stats.done)
elseif how == "chain" then
  local clips, err = seedance.chain(c, { reqs[1], reqs[2] })
  print("finished", #clips, err)
else
  seedance.run(function()
    local a = seedance.spawn(function() return c:generate(reqs[1]):wait() end)
    local b = seedance.spawn(function() return c:generate(reqs[2]):wait() end)
    a:wait(); b:wait()
  end)
  print("finished")
end
]]

describe("Ctrl-C in a plain Lua script #child", function()
  local emu, dir, script
  setup(function()
    emu = emulator.start{ speed = 20, task_seconds = 200 } -- 10 s of wall time per task
    dir = util.tmpdir()
    script = dir .. "/script.lua"
    process.write(script, SCRIPT)
  end)
  teardown(function()
    emu:stop()
    process.remove_dir(dir)
  end)

  for _, how in ipairs{ "map", "chain", "run" } do
    it("inside seedance." .. how .. ": an interrupted error naming every paid task and how to resume, no traceback #child #m-interrupt-error #m-interrupt-through-protect #compat", function()
      local journal = dir .. "/" .. how .. ".journal"
      local before = emu:stats().tasks_created
      local want = how == "map" and 3 or how == "chain" and 1 or 2
      local job = start(script, { URL = emu.url, JOURNAL = journal, HOW = how })
      local paid = false
      for _ = 1, 500 do
        if emu:stats().tasks_created - before >= want and emu:stats().polls > 0 then paid = true; break end
        process.sleep(0.02)
      end
      assert.is_true(paid, "the script paid for no task")
      process.sleep(0.3)
      interrupt(job)
      local code, out, err = finish(job)
      assert.equals(1, code, err)
      assert.is_nil(out:find("finished", 1, true))
      assert.matches("interrupted: Ctrl%-C %(SIGINT%): %d+ tasks? paid for keeps? running on the service", err)
      local n = 0
      for id in err:gmatch("(task_%w+) %(Idempotency%-Key %x+%)") do n = n + 1; assert.truthy(id) end
      assert.equals(emu:stats().tasks_created - before, n, err)
      assert.matches("run the script again with the same journal to resume", err, nil, true)
      if _VERSION ~= "Lua 5.1" and not rawget(_G, "jit") then
        assert.is_nil(err:find("traceback", 1, true), err)
        assert.is_nil(err:find("scheduler.lua", 1, true), err)
      end
      -- and the journal re-attaches: a re-run (interrupted again at once) pays for none of them again
      local created = emu:stats().tasks_created
      local again = start(script, { URL = emu.url, JOURNAL = journal, HOW = how })
      for _ = 1, 100 do
        if emu:stats().polls > 0 and process.alive(again.pid) then break end
        process.sleep(0.02)
      end
      process.sleep(0.5)
      interrupt(again)
      finish(again)
      assert.is_true(emu:stats().tasks_created - created <= (how == "map" and 3 or 0),
        "the re-run paid again for what the first run paid for")
    end)
  end
end)
