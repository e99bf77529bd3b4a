-- Result (media) URLs a task answer names: fetched only over https, or plain
-- http on this machine; never anything link-local (cloud metadata) in any
-- spelling, nor after a redirect, nor through a proxy; the key never goes to
-- a media host.
local core = require("seedance.core")
local engine = require("helpers.engine")
local gateway = require("helpers.gateway")
local util = require("helpers.util")

local OPTS = { api_key = "sk-adversary-0123456789abcdefXYZ", time_scale = 1, max_backoff = 0.02, max_retries = 2 }

local cleanup = util.cleanup()

describe("result URLs #c", function()
  local gw = gateway.fixture({ listeners = { "api", "media" } }, { each = true })

  -- Download task_A of a gateway whose polls name `url` as its video; nothing may stand at the target.
  local function download_from(url, over)
    gw:script{ cases = { gateway.poll_case("completed", { url = { url } }) } }
    local task = util.client_for(gw.urls.api, OPTS, over):task("task_A")
    assert(task:wait())
    local target = util.tmpfile("media.mp4")
    local path, err = task:download(target)
    assert.is_nil(util.size_of(target))
    return path, err
  end

  it("never fetches plain http from another host, nor anything link-local #found #m-media-http-loopback-only", function()
    for _, url in ipairs{ "http://169.254.169.254/latest/meta-data/iam", "http://10.0.0.1/v.mp4",
                          "http://[fd00::1]/v.mp4", "http://[fe80::1%25eth0]/v.mp4", "ftp://127.0.0.1/v.mp4",
                          "https://169.254.169.254/v.mp4" } do
      local path, err = download_from(url)
      assert.is_nil(path, url)
      assert.equals("unsafe_url", err.type, url)
      assert.is_false(err.retryable)
    end
  end)

  it("keeps link-local refused with allow_insecure_media #found", function()
    local path, err = download_from("http://169.254.169.254/latest/", { allow_insecure_media = true })
    assert.is_nil(path)
    assert.equals("unsafe_url", err.type)
  end)

  it("refuses link-local media URLs in every numeric spelling, on the URL or at connect time", function()
    for _, url in ipairs{ "https://2852039166/x", "https://0251.0376.0251.0376/x", "https://0xa9.0xfe.0xa9.0xfe/x",
                          "https://169.254.43518/x", "https://[::ffff:a9fe:a9fe]/x", "https://[FE80::1%25lo]/x",
                          "https://[::ffff:169.254.169.254]/x" } do
      local path, err = download_from(url, { allow_insecure_media = true })
      assert.is_nil(path, url)
      assert.equals("unsafe_url", err.type, url)
    end
  end)

  it("refuses a redirect to a link-local address at connect time, and sends no key to the media host #found #m-authorization-api-only", function()
    gw:script{ cases = {
      gateway.poll_case("completed", { url = { "{{base:media}}/v.mp4" } }),
      { listener = "media", path = "/v.mp4", status = 302, headers = { { "Location", "http://169.254.169.254/x" } } },
    } }
    local task = util.client_for(gw.urls.api, OPTS):task("task_A")
    assert(task:wait())
    local path, err = task:download(util.tmpfile("redir.mp4"))
    assert.is_nil(path)
    assert.equals("unsafe_url", err.type)
    assert.matches("169.254.169.254", err.message, 1, true)
    for _, r in ipairs(gw:requests{ listener = "media" }) do assert.is_nil(r:header("authorization")) end
  end)

  -- found: behind a proxy the link-local guard saw only the proxy's address: a redirect to
  -- 169.254.169.254 (or to plain http on another host) was followed and its body saved as the video
  it("does not follow a media redirect to cloud metadata through a proxy #found #m-media-redirect-checked", function()
    gw:script{ cases = {
      { method = "GET", pattern = "/v1/tasks/", json = gateway.task_json("completed", { url = "http://127.0.0.1:9/v.mp4" }) },
      { pattern = "127\\.0\\.0\\.1:9/v\\.mp4", status = 302,
        headers = { { "Location", "http://169.254.169.254/latest/meta-data/iam" } } },
      { pattern = "169\\.254\\.169\\.254", body = "AKIA-METADATA-CREDENTIALS" },
    } }
    local task = util.client_for("http://127.0.0.1:9", OPTS, { proxy = gw.url }):task("task_A")
    assert(task:wait())
    local target = util.tmpfile("via-proxy.mp4")
    local path, err = task:download(target)
    os.remove(target)
    assert.is_nil(path, "the metadata answer was saved as the video")
    assert.equals("unsafe_url", err.type)
    assert.equals(0, #gw:requests{ case = 3 })
  end)

  -- found: the same, a redirect from a loopback media URL to plain http on another host (TEST-NET)
  it("does not follow a media redirect to plain http on another host (through a proxy) #found #m-media-redirect-checked", function()
    gw:script{ cases = {
      { method = "GET", pattern = "/v1/tasks/", json = gateway.task_json("completed", { url = "http://127.0.0.1:9/v.mp4" }) },
      { pattern = "127\\.0\\.0\\.1:9/v\\.mp4", status = 302, headers = { { "Location", "http://203.0.113.7/v.mp4" } } },
      { pattern = "203\\.0\\.113\\.7", body = "a video anyone on the path could have swapped" },
    } }
    local task = util.client_for("http://127.0.0.1:9", OPTS, { proxy = gw.url }):task("task_A")
    assert(task:wait())
    local target = util.tmpfile("plain.mp4")
    local path = task:download(target)
    os.remove(target)
    assert.is_nil(path)
    assert.equals(0, #gw:requests{ case = 3 })
  end)

  it("guards the engine on the address it connects to, before any packet #found #m-guard-link-local-connect", function()
    local eng = cleanup(core.engine())
    local r = engine.fetch(eng, { url = "http://169.254.169.254/latest/meta-data/", guard_link_local = true,
                                  connect_timeout = 5 }, 3)
    assert.is_false(r.ok)
    assert.equals("denied", r.kind)
  end)

  it("refuses a media redirect from https down to plain http", function()
    local certs = cleanup(require("helpers.tls").make())
    local tgw = cleanup(gateway.start{ listeners = { { name = "api" }, { name = "media", tls = certs.server } }, cases = {} })
    local media = tgw.urls.media:gsub("^http:", "https:"):gsub("127%.0%.0%.1", "localhost")
    tgw:script{ cases = {
      { listener = "api", method = "GET", pattern = "^/v1/tasks/",
        json = gateway.task_json("completed", { url = media .. "/v.mp4" }) },
      { listener = "media", path = "/v.mp4", status = 302, headers = { { "Location", tgw.urls.api .. "/plain.mp4" } } },
      { listener = "api", path = "/plain.mp4", body = "downgraded" },
    } }
    local task = util.client_for(tgw.urls.api, OPTS, { ca_file = certs.ca }):task("task_A")
    assert(task:wait())
    local path = task:download(util.tmpfile("down.mp4"))
    assert.is_nil(path)
    assert.equals(0, #tgw:requests{ path = "/plain.mp4" })
  end)
end)
