-- seedance.urls: where requests may go, decided on the URL as libcurl parses it. No network.
local urls = require("seedance.urls")

-- check_base refuses every URL of the list (no settings, a reason in words).
local function refuses_base(list)
  for _, u in ipairs(list) do
    local p, err = urls.check_base(u, false)
    assert.is_nil(p, u)
    assert.is_string(err)
  end
end

describe("seedance.urls #c", function()
  describe("check_base", function()
    it("takes https anywhere and http to loopback, without a trailing slash", function()
      assert.equals("https://xcompute.us", urls.check_base("https://xcompute.us/", false).url)
      assert.equals("http://127.0.0.1:8080", urls.check_base("http://127.1:8080", false).url)
      assert.equals("http://[::1]:8080", urls.check_base("http://[::1]:8080/", false).url)
      assert.truthy(urls.check_base("http://localhost:9", false))
    end)
    it("refuses user info, other schemes, link-local hosts and plain http elsewhere #m-base-url-http-loopback-only", function()
      refuses_base{ "http://localhost:80@evil.example", "ftp://127.0.0.1", "http://169.254.1.1",
                    "https://[fe80::1]/", "http://10.0.0.1", "http://127.0.0.1.nip.io", "127.0.0.1:80" }
    end)
    it("refuses a query, a fragment, or an empty URL #m-base-url-query", function()
      refuses_base{ "http://127.0.0.1:8080/?x=1", "https://xcompute.us#top", "" }
    end)
    it("never quotes a password in its messages, with or without a scheme #m-url-message-masks-userinfo", function()
      for _, u in ipairs{ "http://user:hunter2@10.0.0.1", "user:hunter2@bad host:1", "ftp://u:hunter2@x/" } do
        local _, err = urls.check_base(u, false)
        assert.is_nil(err:find("hunter2", 1, true), err)
      end
      assert.equals("***@bad host:1", urls.redact("user:hunter2@bad host:1"))
      assert.equals("http://***@h/x?y@z", urls.redact("http://u:p@h/x?y@z"))
      assert.equals("https://h/a@b", urls.redact("https://h/a@b"))
    end)
    it("lets allow_insecure_http reach other hosts over http, never link-local ones", function()
      assert.truthy(urls.check_base("http://10.0.0.1", true))
      assert.is_nil(urls.check_base("http://169.254.169.254", true))
    end)
  end)

  describe("check_media", function()
    it("takes https anywhere but link-local, and http to loopback", function()
      assert.truthy(urls.check_media("https://cdn.example/v.mp4", false))
      assert.truthy(urls.check_media("http://127.0.0.1:8080/media/a.mp4", false))
    end)
    it("refuses link-local addresses in every spelling, whatever the scheme or option #m-media-link-local", function()
      for _, u in ipairs{ "http://169.254.169.254/latest/", "https://169.254.169.254/", "http://[fe80::1]/",
                          "https://[FE80::1%25eth0]/", "http://[::ffff:169.254.169.254]/",
                          "http://0xa9.0xfe.0xa9.0xfe/" } do
        assert.is_nil(urls.check_media(u, true), u)
        assert.is_nil(urls.check_media(u, false), u)
      end
    end)
    it("refuses plain http to other hosts unless allow_insecure_media #m-media-http-loopback-only", function()
      assert.is_nil(urls.check_media("http://10.0.0.1/v.mp4", false))
      assert.truthy(urls.check_media("http://10.0.0.1/v.mp4", true))
    end)
    it("refuses what is not an http(s) URL", function()
      for _, u in ipairs{ "file:///etc/passwd", "ftp://127.0.0.1/x", "", "not a url", 42, false } do
        assert.is_nil(urls.check_media(u, true))
      end
    end)
  end)

  it("knows the loopback spellings libcurl normalizes to", function()
    local function host(u) return urls.parse(u).host end
    assert.is_true(urls.is_loopback(host("http://2130706433/")))
    assert.is_true(urls.is_loopback(host("http://0x7f.1/")))
    assert.is_false(urls.is_loopback(host("http://127.0.0.1.nip.io/")))
  end)

  it("percent-encodes path segments and keeps task ids to a safe alphabet", function()
    assert.equals("..%2F..%2Fv1%2Fbalance", urls.encode_segment("../../v1/balance"))
    assert.is_true(urls.task_id_ok("task_01KMCGF6BQGN3X28H3KSR50X5T"))
    assert.is_false(urls.task_id_ok("../x"))
    assert.is_false(urls.task_id_ok({}))
  end)
end)
