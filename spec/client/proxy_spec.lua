-- A real proxy (issue 17, item 3): tinyproxy on loopback, with a relay in front
-- that keeps every byte the proxy receives. The `proxy` option, the
-- https_proxy / no_proxy variables (libcurl reads them when no proxy is set;
-- a Lua child gets them, since a running process cannot change its own
-- environment), CONNECT tunnels for https through nghttpx's TLS frontend, and
-- for https the proxy never sees the key, the prompt or a path.
local seedance = require("seedance")
local emulator = require("helpers.emulator")
local nghttpx = require("helpers.nghttpx")
local proxy = require("helpers.proxy")
local tls = require("helpers.tls")
local child = require("helpers.child")
local util = require("helpers.util")

local KEY = "sk-proxy-spec-0123456789abcdef"
local PROMPT = "a paper boat under the bridge"
local REQ = { model = "doubao-seedance-2.0", prompt = PROMPT, duration = 5 }

-- A balance call (or, with full, a generation, its wait and download) in a Lua child
-- whose environment holds only the proxy variables in `env`. `opts.proxy` is the option.
local CHILD = [[
local seedance = require("seedance")
local o = { api_key = os.getenv("SPEC_KEY"), base_url = os.getenv("SPEC_URL"), ca_file = os.getenv("SPEC_CA"),
            max_retries = 0, time_scale = 0.005, wait_timeout = 6000 } -- on the service clock: 30 s of wall clock
o.proxy = os.getenv("SPEC_PROXY_OPTION")
local c = seedance.new(o)
if os.getenv("SPEC_FULL") then
  local task, err = c:generate{ model = "doubao-seedance-2.0", prompt = "a paper boat", duration = 5 }
  if task then task, err = task:wait() end
  local path
  if task then path, err = task:download(os.getenv("SPEC_OUT")) end
  print(path and ("downloaded " .. task.video_url) or ("error " .. tostring(err)))
else
  local bal, err = c:balance()
  print(bal and ("balance " .. tostring(bal.remain_balance)) or ("error " .. tostring(err)))
end
]]

local function run_child(base, ca, env, opts)
  opts = opts or {}
  local vars = { SPEC_KEY = KEY, SPEC_URL = base, SPEC_CA = ca, SPEC_PROXY_OPTION = opts.proxy,
                 SPEC_FULL = opts.out and "1", SPEC_OUT = opts.out }
  for _, k in ipairs{ "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                      "NO_PROXY" } do vars[k] = false end
  for k, v in pairs(env) do vars[k] = v end
  local _, out = child.lua(CHILD, { env = vars, limit = 60 })
  return out
end

-- Nothing that identifies the call in the bytes the proxy received.
local function assert_blind(captures)
  for _, cap in ipairs(captures) do
    assert.is_nil(cap:find(KEY, 1, true))
    assert.is_nil(cap:lower():find("authorization", 1, true))
    assert.is_nil(cap:lower():find("bearer", 1, true))
    assert.is_nil(cap:find(PROMPT, 1, true))
    assert.is_nil(cap:find("/v1/", 1, true))
  end
end

local cleanup = util.cleanup()

describe("through a real proxy (tinyproxy) #c", function()
  local emu = emulator.fixture{ speed = util.SPEED }
  local certs, stack, px
  setup(function()
    certs = tls.make()
    stack = nghttpx.in_front_of(emu, { tls = certs.server })
  end)
  teardown(function()
    stack:stop()
    certs:remove()
  end)
  before_each(function() px = proxy.start{ connect_ports = { stack.ng.port } } end)
  after_each(function() px:stop() end)

  local function tunnels_only(n)
    local target = "127.0.0.1:" .. stack.ng.port
    local reqs = px:requests()
    assert.equals(n, #reqs)
    for _, r in ipairs(reqs) do
      assert.equals("CONNECT", r.method)
      assert.equals(target, r.target)
    end
    local caps = px:captures()
    assert.equals(n, #caps)
    for _, cap in ipairs(caps) do
      assert.equals("CONNECT " .. target .. " HTTP/1.1\r\n", cap:sub(1, #target + 19))
    end
    assert_blind(caps)
  end

  it("the proxy option: generation, wait and download over one CONNECT tunnel; the proxy sees no key #m-proxy-option", function()
    local c = seedance.new{ api_key = KEY, base_url = stack.url, ca_file = certs.ca, proxy = px.url,
                            time_scale = 1 / util.SPEED, wait_timeout = 6000 }
    local task = assert(c:generate(REQ))
    assert(task:wait())
    local out = cleanup(util.tmpfile("proxy.mp4"))
    assert(task:download(out))
    assert.is_true(util.is_mp4(out))
    -- submit, polls and the download, all through the tunnel: nghttpx answered them
    local logged = stack.ng:wait_requests(3)
    assert.is_true(#logged >= 3)
    tunnels_only(1)
  end)

  it("sees everything on plain http (the capture is not blind; the client allows http to loopback only)", function()
    local c = seedance.new{ api_key = KEY, base_url = emu.url, proxy = px.url }
    assert(c:balance())
    local caps = px:captures()
    assert.equals(1, #caps)
    assert.matches("^GET " .. emu.url:gsub("%p", "%%%0") .. "/v1/balance HTTP/1%.1\r\n", caps[1])
    assert.truthy(caps[1]:find("Authorization: Bearer " .. KEY, 1, true))
  end)

  it("takes https_proxy from the environment, for API calls and the download #child #m-proxy-environment", function()
    local out = cleanup(util.tmpfile("proxy-env.mp4"))
    local said = run_child(stack.url, certs.ca, { https_proxy = px.url }, { out = out })
    assert.matches("^downloaded " .. stack.url:gsub("%p", "%%%0") .. "/media/", said)
    assert.is_true(util.is_mp4(out))
    tunnels_only(1)
  end)

  it("goes direct when no_proxy names the host (127.0.0.1), with the variable or the option #child", function()
    assert.matches("^balance ", run_child(stack.url, certs.ca, { https_proxy = px.url, no_proxy = "127.0.0.1" }))
    assert.matches("^balance ", run_child(stack.url, certs.ca, { no_proxy = "127.0.0.1" }, { proxy = px.url }))
    assert.equals(0, #px:captures())
    assert.equals(0, #px:requests())
  end)

  it("lets the proxy option win over https_proxy; proxy = \"\" turns proxies off #child #m-proxy-option", function()
    -- a dead proxy in the variable: the option's proxy is used
    assert.matches("^balance ", run_child(stack.url, certs.ca, { https_proxy = "http://127.0.0.1:1" },
      { proxy = px.url }))
    tunnels_only(1)
    -- the live proxy in the variable, and the option empty: direct
    assert.matches("^balance ", run_child(stack.url, certs.ca, { https_proxy = px.url }, { proxy = "" }))
    tunnels_only(1)
  end)

  it("verifies an https:// proxy against ca_file too, and refuses it with tls_error otherwise #m-proxy-ca-file", function()
    -- an HTTPS proxy: nghttpx in forward-proxy mode (TLS, test certificate) in front of tinyproxy
    local hp = cleanup(nghttpx.start{ backend = px.url, tls = certs.server, args = { "--http2-proxy" } })
    local c = seedance.new{ api_key = KEY, base_url = stack.url, ca_file = certs.ca, proxy = hp.url, max_retries = 0 }
    assert(c:balance())
    tunnels_only(1)
    -- the same proxy with the system's CAs only: refused at once, before any CONNECT
    local retries = 0
    local plain = seedance.new{ api_key = KEY, base_url = stack.url, proxy = hp.url, max_retries = 3,
                                on_retry = function() retries = retries + 1 end }
    local bal, err = plain:balance()
    assert.is_nil(bal)
    assert.equals("tls_error", err.type)
    assert.equals(0, retries)
    tunnels_only(1)
  end)

  it("reports a proxy that refuses the tunnel, naming the CONNECT and the proxy's answer", function()
    local strict = proxy.start{ connect_ports = { 443 } }
    finally(function() strict:stop() end)
    local c = seedance.new{ api_key = KEY, base_url = stack.url, ca_file = certs.ca, proxy = strict.url,
                            max_retries = 0 }
    local bal, err = c:balance()
    assert.is_nil(bal)
    assert.equals("network_error", err.type)
    assert.matches("CONNECT tunnel failed, response 403", err.message, 1, true)
    assert.is_nil(tostring(err):find(KEY, 1, true))
    assert.equals("CONNECT", strict:requests()[1].method)
    assert_blind(strict:captures())
  end)
end)
