-- HTTP/2 (issue 17, item 2): where the API host speaks h2 (nghttpx, ALPN h2), the
-- client's concurrent requests share one connection (libcurl multiplexing, with
-- CURLOPT_PIPEWAIT so a burst waits for the first connection instead of opening
-- one each); against the same host offering HTTP/1.1 only, the same work spreads
-- over several connections, at most the pool; a host that ends connections with
-- GOAWAY, or allows few streams at once, costs no request. bench/http2.lua
-- (make bench BENCH=b7) measures the cost.
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local nghttpx = require("helpers.nghttpx")
local tls = require("helpers.tls")
local util = require("helpers.util")

local KEY = "sk-h2-spec-0123456789abcdef"
local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat", duration = 5 }
local POOL = 32 -- src/engine.c: max_host_connections

local cleanup = util.cleanup()

describe("HTTP/2 through nghttpx #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }
  local certs
  setup(function() certs = tls.make() end)
  teardown(function() certs:remove() end)

  -- `workers` coroutines at once, each a generation polled `polls` times with refresh, then
  -- waited for; the requests the emulator answered, and the failures
  local function burst(url, workers, polls)
    -- wait_timeout on the service clock: 30 s of wall clock
    local c = util.client_for(url, { api_key = KEY, ca_file = certs.ca, wait_timeout = 6000 })
    local before = emu:stats().requests
    local failures = {}
    seedance.run(function()
      local list = {}
      for w = 1, workers do
        list[w] = seedance.spawn(function()
          local task, err = c:generate(REQ)
          if not task then
            failures[#failures + 1] = tostring(err)
            return
          end
          for _ = 1, polls do
            local ok, perr = task:refresh()
            if not ok then failures[#failures + 1] = tostring(perr) end
          end
          local _, werr = task:wait()
          if werr then failures[#failures + 1] = tostring(werr) end
        end)
      end
      for _, w in ipairs(list) do w:wait() end
    end)
    return emu:stats().requests - before, failures
  end

  it("runs 50 generations at once on one connection, every request a stream of it #m-h2-one-connection", function()
    local ng = cleanup(nghttpx.start{ backend = emu.url, tls = certs.server })
    local requests, failures = burst(ng.url, 50, 4)
    assert.same({}, failures)
    assert.is_true(requests >= 50 * 5, requests .. " requests") -- a submit and 4 polls each, at least
    local logged = ng:wait_requests(requests)
    assert.equals(requests, #logged)
    for _, r in ipairs(logged) do
      assert.equals("h2", r.alpn)
      assert.equals("HTTP/2", r.protocol)
    end
    local conns = ng:connections()
    assert.equals(1, #conns)
    assert.equals(requests, conns[1].requests)
  end)

  it("spreads the same work over several connections, at most the pool, where the host offers HTTP/1.1 only",
    function()
      local ng = cleanup(nghttpx.start{ backend = emu.url, tls = certs.server, http2 = false })
      local requests, failures = burst(ng.url, 50, 4)
      assert.same({}, failures)
      local logged = ng:wait_requests(requests)
      assert.equals(requests, #logged)
      for _, r in ipairs(logged) do assert.equals("HTTP/1.1", r.protocol) end
      local conns = #ng:connections()
      assert.is_true(conns > 1 and conns <= POOL, conns .. " connections")
    end)

  it("loses no request where the host allows 5 streams at once", function()
    local ng = cleanup(nghttpx.start{ backend = emu.url, tls = certs.server,
                              args = { "--frontend-http2-max-concurrent-streams=5" } })
    local requests, failures = burst(ng.url, 50, 4)
    assert.same({}, failures)
    assert.is_true(requests >= 50 * 5, requests .. " requests") -- a submit and 4 polls each, at least
    assert.equals(requests, #ng:wait_requests(requests))
  end)

  it("loses no request when the host ends each connection with GOAWAY after 100 streams", function()
    local ng = cleanup(nghttpx.start{ backend = emu.url, tls = certs.server, args = { "--frontend-max-requests=100" } })
    local requests, failures = burst(ng.url, 50, 10)
    assert.same({}, failures)
    local logged = ng:wait_requests(requests)
    assert.equals(requests, #logged)
    -- the host did end connections: none served even half of the requests
    local conns = ng:connections()
    assert.is_true(#conns >= 2, #conns .. " connections")
    for _, c in ipairs(conns) do
      assert.is_true(c.requests < requests / 2, c.requests .. " of " .. requests .. " requests on one connection")
    end
  end)
end)
