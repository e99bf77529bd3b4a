-- TLS end to end (issue 17, item 1): the client against a real TLS terminator,
-- nghttpx (Debian's nghttp2-proxy), with a throwaway CA given as ca_file.
-- Whole generations with their downloads over HTTPS; untrusted and wrong-host
-- certificates refused at once, before any request is sent; connections reused
-- (TLS handshakes counted at nghttpx).
local seedance = require("seedance")
local curl = require("helpers.curl")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local nghttpx = require("helpers.nghttpx")
local tls = require("helpers.tls")
local util = require("helpers.util")
local read_file = util.read_file

local KEY = "sk-tls-spec-0123456789abcdef"
local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat", duration = 5 }
-- the engine's connections per host (src/engine.c: max_host_connections), libcurl's pool per host
local POOL = 32

local OPTS = { api_key = KEY, wait_timeout = 6000 } -- on the service clock: 30 s of wall clock

describe("TLS through nghttpx #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }
  local certs
  setup(function() certs = tls.make() end)
  teardown(function() certs:remove() end)

  for _, h2 in ipairs{ true, false } do
    local proto = h2 and "HTTP/2" or "HTTP/1.1"
    it("generates, waits and downloads over HTTPS with the test CA as ca_file (" .. proto .. ") #m-tls-ca-file", function()
      local stack = nghttpx.in_front_of(emu, { tls = certs.server, http2 = h2 })
      local out = util.tmpfile("tls.mp4")
      -- one finally per test: busted keeps only the last one given
      finally(function()
        stack:stop()
        os.remove(out)
      end)
      local before = emu:stats()
      local c = util.client_for(stack.url, OPTS, { ca_file = certs.ca })
      local task = assert(c:generate(REQ))
      assert(task:wait())
      -- the result URL is nghttpx's too: the client meets one HTTPS address and no other
      assert.equals(stack.url .. "/media/" .. task.id .. ".mp4", task.video_url)
      assert.equals(out, (assert(task:download(out))))
      assert.is_true(util.is_mp4(out))
      local after = emu:stats()
      assert.equals(1, after.media_requests - before.media_requests)
      assert.equals(before.media_with_authorization, after.media_with_authorization)
      assert.equals(curl.http("GET", emu.url .. "/media/" .. task.id .. ".mp4").body, read_file(out))

      -- every request the emulator answered came through nghttpx, over TLS, in the protocol offered
      local seen = stack.gw:requests()
      local logged = stack.ng:wait_requests(#seen)
      assert.equals(#seen, #logged)
      local paths = {}
      for _, r in ipairs(logged) do
        assert.matches("^TLSv1%.[23]$", r.tls)
        assert.equals(proto, r.protocol)
        assert.equals(200, r.status)
        paths[r.method .. " " .. r.path:gsub("task_%w+", "ID")] = true
      end
      assert.is_true(paths["POST /v1/videos/generations"])
      assert.is_true(paths["GET /v1/tasks/ID"])
      assert.is_true(paths["GET /media/ID.mp4"])
      for _, r in ipairs(seen) do
        assert.matches("nghttpx", r:header("via") or "")
        assert.equals("https", r:header("x-forwarded-proto"))
        if r.path:find("^/media/") then
          assert.is_nil(r:header("authorization"))
        else
          assert.equals("Bearer " .. KEY, r:header("authorization"))
        end
      end
    end)
  end

  -- a balance call against nghttpx serving `cert`; the error, the retries and what nghttpx saw
  local function balance_against(cert, over)
    local ng = nghttpx.start{ backend = emu.url, tls = cert, log_level = "INFO" }
    finally(function() ng:stop() end)
    local retries = 0
    local bal, err = util.client_for(ng.url, OPTS, { max_retries = 4, on_retry = function() retries = retries + 1 end },
      over):balance()
    assert.is_nil(bal)
    local hs = ng:wait_handshakes(1)
    return err, retries, hs, ng:requests()
  end

  local function assert_tls_error(err, retries)
    assert.equals("tls_error", err.type)
    assert.is_false(err.retryable)
    assert.matches("TLS", err.message)
    assert.matches("TLS", tostring(err))
    assert.is_nil(tostring(err):find(KEY, 1, true))
    assert.equals(0, retries)
  end

  it("refuses a certificate the CA did not sign: tls_error at once, nothing sent", function()
    local err, retries, hs, requests = balance_against(certs.self_signed, { ca_file = certs.ca })
    assert_tls_error(err, retries)
    assert.matches("certificate", err.message)
    -- one connection, its handshake failed at the client's alert; no request reached nghttpx
    assert.same({ accepted = 1, completed = 0, failed = 1, resumed = 0 }, hs)
    assert.equals(0, #requests)
  end)

  it("refuses the test CA's certificate without ca_file (the system's CAs do not trust it)", function()
    local err, retries, hs, requests = balance_against(certs.server)
    assert_tls_error(err, retries)
    assert.equals(1, hs.accepted)
    assert.equals(0, #requests)
  end)

  it("refuses a certificate for another host name: tls_error at once, the key never sent", function()
    local err, retries, hs, requests = balance_against(certs.wrong_host, { ca_file = certs.ca })
    assert_tls_error(err, retries)
    -- libcurl's own words about the name, not only our hint
    assert.matches("target host name '127.0.0.1'", err.message, 1, true)
    assert.equals(1, hs.accepted)
    assert.equals(0, #requests)
  end)

  it("reuses connections: 1,000 polls from 50 coroutines cost at most the pool's size in handshakes #m-tls-connection-reuse", function()
    -- HTTP/1.1 only, where each request in flight needs a connection of its own (HTTP/2: http2_spec)
    local ng = nghttpx.start{ backend = emu.url, tls = certs.server, http2 = false, log_level = "INFO" }
    finally(function() ng:stop() end)
    local c = util.client_for(ng.url, OPTS, { ca_file = certs.ca })
    local before = emu:stats()
    local failures = 0
    seedance.run(function()
      local workers = {}
      for w = 1, 50 do
        workers[w] = seedance.spawn(function()
          local task = assert(c:generate(REQ))
          for _ = 1, 20 do
            if not task:refresh() then failures = failures + 1 end
          end
        end)
      end
      for _, w in ipairs(workers) do w:wait() end
    end)
    assert.equals(0, failures)
    assert.equals(1000, emu:stats().polls - before.polls)
    local logged = ng:wait_requests(1050)
    assert.equals(1050, #logged)
    local hs = ng:handshakes()
    assert.equals(0, hs.failed)
    assert.is_true(hs.completed >= 1)
    assert.is_true(hs.completed <= POOL, hs.completed .. " TLS handshakes for 1,000 polls")
    -- each handshake is one connection, and the requests came on those
    assert.equals(hs.completed, #ng:connections())
  end)

  describe("against the gateway's TLS listener", function()
    -- a balance call against a gateway serving `cert`: the balance or the error, and how many
    -- connections it accepted
    local function try(cert, over)
      local gw = gateway.start{ tls = cert,
        cases = { { path = "/v1/balance", json = { success = true, remain_balance = 1 } } } }
      local bal, err = util.client_for(gw.url:gsub("^http:", "https:"), OPTS, over):balance()
      local conns = #gw:connections()
      gw:stop()
      return bal, err, conns
    end

    it("verifies with ca_file #found", function()
      local bal = try(certs.server, { ca_file = certs.ca })
      assert.equals(1, bal.remain_balance)
    end)

    it("gives tls_error at once, never retried, for an untrusted certificate #found #m-tls-not-retried #m-tls-verify-on", function()
      local bal, err, conns = try(certs.self_signed, { ca_file = certs.ca, max_retries = 4 })
      assert.is_nil(bal)
      assert.equals("tls_error", err.type)
      assert.is_false(err.retryable)
      assert.matches("TLS", err.message)
      assert.equals(1, conns)
    end)

    it("gives tls_error at once for a certificate of another host name #found #m-tls-not-retried #m-tls-verify-on", function()
      local bal, err, conns = try(certs.wrong_host, { ca_file = certs.ca, max_retries = 4 })
      assert.is_nil(bal)
      assert.equals("tls_error", err.type)
      assert.matches("host name", err.message)
      assert.equals(1, conns)
    end)
  end)
end)
