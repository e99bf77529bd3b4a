-- The progress estimate behind task:progress_at, read every frame by a HUD and
-- every redraw by the command's bar: pure, with the clock readings the spec
-- gives (no waiting).
local estimate = require("seedance.estimate")

-- Readings at each of `times`, in order.
local function readings(e, times)
  local out = {}
  for i, t in ipairs(times) do out[i] = (e:at(t)) end
  return out
end

describe("seedance.estimate", function()
  it("gives the ETA in wall time: the service's estimate times the time scale #m-estimate-eta-wall-time", function()
    local e = estimate.new(100, 0.05)
    e:observe(100, "pending", 0, 60)
    local p, eta = e:at(100)
    assert.equals(0, p)
    assert.equals(3, eta)                      -- 60 service seconds at speed 20: 3 wall seconds
    p, eta = e:at(101)
    assert.near(2, eta, 1e-9)
    assert.near(100 / 3, p, 1e-9)              -- a third of the way
    local real = estimate.new(0, 1)
    real:observe(0, "pending", 0, 600)
    assert.equals(600, select(2, real:at(0)))
  end)

  it("goes by the progress rate once it has one #m-estimate-moves-between-polls", function()
    local e = estimate.new(0, 1)
    e:observe(0, "processing", 10, 600)
    e:observe(10, "processing", 20, 600)
    local p, eta = e:at(10)
    assert.equals(20, p)
    assert.near(80, eta, 1e-9)                 -- 1 % a second, 80 % to go (the estimate said 590 s)
    p, eta = e:at(30)                          -- no answer for 20 s: the rate says 40 %
    assert.near(40, p, 1e-9)
    assert.near(60, eta, 1e-9)
    -- a poll that changes nothing does not restart the rate's clock
    e:observe(35, "processing", 20, 600)
    assert.near(45, (e:at(35)), 1e-9)
  end)

  it("goes by created for a task met by its id, never for one it saw submitted #m-estimate-created-only-met", function()
    local wall = 1700000000
    local met = estimate.new(500, 1, true)
    met:observe(500, "processing", 0, 100, wall - 40, wall)
    assert.near(60, select(2, met:at(500)), 1e-9)   -- running for 40 s already, by its created time
    assert.near(40, (met:at(500)), 1e-9)
    local seen = estimate.new(500, 1, false)
    -- a wall clock an hour ahead of the service's says nothing about a task this handle saw begin
    seen:observe(501, "processing", 0, 100, wall - 3600, wall)
    assert.near(99, select(2, seen:at(501)), 1e-9)
    assert.near(1, (seen:at(501)), 1e-9)
    -- created within the slack of what was seen is not believed either (whole seconds, two clocks)
    local close = estimate.new(500, 1, true)
    close:observe(510, "processing", 0, 100, wall - 11, wall)
    assert.near(10, (close:at(510)), 1e-9)
  end)

  it("#found follows the pace reported when the service's estimate is shorter than the task, or missing #m-estimate-pace #m-estimate-pace-known-start #m-estimate-pace-agree", function()
    -- estimated_time 30 s for a task of 60 s: the estimate alone says 99 % at 30 s and stays there
    -- half the task; the report of 40 % at 25 s says the pace is 1.6 % a second
    local e = estimate.new(0, 1)
    e:observe(0, "pending", 0, 30)
    e:observe(25, "processing", 40, 30)
    local p, eta = e:at(30)
    assert.near(48, p, 1e-9)
    assert.near(52 / 1.6, eta, 1e-9)
    assert.near(88, (e:at(55)), 1e-9)
    -- a report the estimate agrees with (20 % at 21 s of 100 s): the estimate goes on
    local agreed = estimate.new(0, 1)
    agreed:observe(0, "pending", 0, 100)
    agreed:observe(21, "processing", 20, 100)
    assert.near(30, (agreed:at(30)), 1e-9)
    assert.near(70, select(2, agreed:at(30)), 1e-9)
    -- no estimate at all: the pace of the one report, with an ETA
    local none = estimate.new(0, 1)
    none:observe(10, "processing", 20, nil)
    assert.near(30, (none:at(15)), 1e-9)
    assert.near(35, select(2, none:at(15)), 1e-9)
    -- a task met by its id, begun who knows when: its first report is no pace
    local met = estimate.new(500, 1, true)
    met:observe(500.01, "processing", 44, 60)
    assert.equals(44, (met:at(501)))
    -- unless its created time says when it began (40 s before)
    local wall = 1700000000
    local known = estimate.new(500, 1, true)
    known:observe(500, "processing", 40, 30, wall - 40, wall)
    assert.near(45, (known:at(505)), 1e-9)
  end)

  it("never goes past 99 % before the task completes #m-estimate-cap-99", function()
    local e = estimate.new(0, 1)
    e:observe(0, "processing", 0, 100)
    assert.equals(99, (e:at(1000)))            -- far past the estimate
    assert.is_nil(select(2, e:at(1000)))       -- and no made-up ETA
    local r = estimate.new(0, 1)
    r:observe(0, "processing", 10, 600)
    r:observe(10, "processing", 20, 600)
    assert.equals(99, (r:at(500)))             -- the rate runs out before the answers do
    assert.is_nil(select(2, r:at(500)))
    local said = estimate.new(0, 1)
    said:observe(0, "processing", 100, 600)    -- a service saying 100 % while still processing
    assert.equals(99, (said:at(0)))
    for _, status in ipairs{ "submitted", "pending", "queued", "running" } do
      local u = estimate.new(0, 1)
      u:observe(0, status, 150, 1)
      assert.is_true(u:at(1e6) <= 99, status)
    end
  end)

  it("never runs backwards: not on a slower rate, a lower report, an earlier clock or a failure #m-estimate-monotonic", function()
    -- the estimate said 10 s (the task takes far longer): 99 % by then, then reports at 20 % and 40 %
    -- give a rate that predicts much less; the reading stays
    local e = estimate.new(0, 1)
    e:observe(0, "pending", 0, 10)
    assert.equals(50, (e:at(5)))
    assert.equals(99, (e:at(50)))
    e:observe(60, "processing", 20, 10)
    e:observe(80, "processing", 40, 10)
    assert.equals(99, (e:at(80)))
    local s = estimate.new(0, 1)
    s:observe(0, "processing", 30, 100)
    s:observe(10, "processing", 50, 100)
    local before = s:at(12)
    s:observe(12, "processing", 35, 100)       -- an answer lower than the last
    assert.is_true(s:at(12) >= before)
    assert.is_true(s:at(11) >= before)         -- a reading for an earlier time
    s:observe(13, "failed", 50, 100)
    assert.is_true(s:at(13) >= before)         -- a failed task stays where it stood
    local xs = readings(s, { 14, 20, 2, 1000 })
    for i = 2, #xs do assert.is_true(xs[i] >= xs[i - 1]) end
  end)

  it("is 100 % with no ETA once the task completed, whatever came before #m-estimate-complete-100", function()
    local e = estimate.new(0, 1)
    e:observe(0, "processing", 40, 100)
    e:observe(10, "completed", 40, 100)        -- completed says 100 % whatever its progress field
    local p, eta = e:at(10)
    assert.equals(100, p)
    assert.is_nil(eta)
    assert.equals(100, (e:at(0)))
    local early = estimate.new(0, 1)
    early:observe(0, "completed", nil, nil)
    assert.equals(100, (early:at(0)))
  end)

  it("gives no ETA once the task has ended #m-estimate-no-eta-after-end", function()
    for _, status in ipairs{ "failed", "cancelled", "completed" } do
      local e = estimate.new(0, 1)
      e:observe(0, "processing", 40, 100)
      e:observe(5, "processing", 45, 100)
      e:observe(6, status, 50, 100)
      assert.is_nil(select(2, e:at(7)), status)
    end
  end)

  it("reads answers of any shape: no raise, a number in [0, 100]", function()
    for _, v in ipairs{ "x", 0 / 0, -5, 1e300, -1 / 0, true, {} } do
      local e = estimate.new(0, 1)
      e:observe(0, "processing", v, v)
      local p = e:at(1)
      assert.is_true(p >= 0 and p <= 99, tostring(v))
    end
    local n = estimate.new(0, 1)
    assert.equals(0, (n:at(5)))                -- nothing heard yet
    assert.is_nil(select(2, n:at(5)))
  end)

  it("costs no allocation per reading #compat #m-estimate-no-allocation", function()
    -- 10,000 readings: a table each would be hundreds of KB. LuaJIT's compiler keeps its traces
    -- on the heap it counts (measured with it off), and its count still wanders by a few KB.
    local jit = rawget(_G, "jit")
    if jit then jit.off() end
    local e = estimate.new(0, 1)
    e:observe(0, "processing", 10, 600)
    e:observe(10, "processing", 20, 600)
    e:at(11)
    collectgarbage("collect")
    collectgarbage("stop")
    local before = collectgarbage("count")
    for i = 1, 10000 do e:at(11 + i / 1000) end
    local after = collectgarbage("count")
    collectgarbage("restart")
    if jit then jit.on() end
    assert.is_true(after - before < 32, ("%.1f KB for 10,000 readings"):format(after - before))
  end)
end)
