-- Specs for the host's locale: a host that sets LC_NUMERIC to a comma locale
-- (os.setlocale("de_DE.UTF-8"), or os.setlocale("") with LANG set, as GTK and
-- lgi hosts do) after require("seedance") changes no number the library reads
-- or writes: service answers, the journal, Retry-After, options from the
-- environment, request bodies it writes itself, its messages and the command's
-- figures. Lua 5.1's tonumber("1.5") is nil under such a locale: #compat.
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local process = require("helpers.process")
local util = require("helpers.util")

local REQ = { model = "doubao-seedance-2.0", prompt = "a paper boat on a river", duration = 5 }

-- Set a locale whose decimal point is a comma, as a host does, for the rest of the spec; the
-- C locale comes back at its end. Raises when this machine has none (.ci/install-deps makes one).
local function comma_locale()
  local name
  for _, try in ipairs{ "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE" } do
    name = os.setlocale(try)
    if name then break end
  end
  assert(name, "no comma locale on this machine: run sh .ci/install-deps test (it makes de_DE.UTF-8)")
  finally(function() os.setlocale("C") end)
  -- (LuaJIT formats its numbers itself, with a dot whatever the locale; the C library's strtod and printf
  -- follow it there too)
  if not rawget(_G, "jit") then
    assert.equals(",", string.format("%.1f", 0.5):sub(2, 2), "the locale's decimal point is not a comma")
  end
  return name
end

-- fn(...) in the C locale, the host's put back after: the spec helpers (lua-cjson) read the emulator's
-- and the gateway's JSON, and lua-cjson is what a host's locale breaks.
local function in_c(fn, ...)
  local host = os.setlocale(nil)
  os.setlocale("C")
  local r = { fn(...) }
  os.setlocale(host)
  return (table.unpack or unpack)(r) -- luacheck: ignore 113
end

describe("the host's locale #found #compat #c", function()
  describe("JSON", function()
    it("reads the service's answers and writes numbers the same under a comma locale #c "
      .. "#m-json-locale-free #m-strtod-locale-free", function()
      comma_locale()
      local json = require("seedance.json")
      local obj = assert(json.decode('{"code":200,"data":{"progress":12.5,"created":1765001046,"x":[1.5e2,-0.25]}}'))
      assert.equals(200, obj.code)
      assert.equals(12.5, obj.data.progress)
      assert.equals(150, obj.data.x[1])
      assert.equals(-0.25, obj.data.x[2])
      assert.equals('[1.5,-0.25,1e+20]', json.encode{ 1.5, -0.25, 1e20 })
    end)

    it("writes what lua-cjson 2.1 writes and reads what it reads (C locale) #c", function()
      local cjson = require("cjson.safe")
      local json = require("seedance.json")
      for _, v in ipairs{ { 1.5, 5, 0.1, 1e300, -0.0, 2 ^ 40 }, "a/b\"\\\n\t\1\127\195\169", {}, { a = { b = { 1, {} } } },
                          { [1] = 1, [3] = 3 }, true, json.null, { x = json.null }, { [2.5] = "k" } } do
        assert.equals(cjson.encode(v), json.encode(v))
      end
      for _, text in ipairs{ '{"a":[1,2,{"b":null}],"c":"\\u00e9\\/\\ud83d\\ude00"}', ' 5 ', '[true,false]', '"x"' } do
        assert.same(cjson.decode(text), json.decode(text))
      end
      for _, bad in ipairs{ '"\\ud800"', "[1,", "", "5 x", '{"a" 1}', string.rep("[", 1001) .. string.rep("]", 1001) } do
        assert.is_nil(cjson.decode(bad))
        local v, err = json.decode(bad)
        assert.is_nil(v)
        assert.is_string(err)
      end
      -- its messages say what they expected and found, where, as lua-cjson's (the command turns them into
      -- line:column hints)
      for _, bad in ipairs{ '{"a":1,}', '[1,2,]', '{"a":1 "b":2}', '[1 2]', '{"a":1}}', '{a:1}', '[True]', '',
                            '{"a":', '"abc', 'nul', '[1.2.3]', '"\\x"' } do
        assert.equals(select(2, cjson.decode(bad)), select(2, json.decode(bad)), bad)
      end
      assert.is_nil((json.encode(0 / 0)))
      assert.is_nil((json.encode{ [1] = 1, [30] = 2 }))
      local cycle = {}
      cycle[1] = cycle
      assert.is_nil((json.encode(cycle)))
    end)
  end)

  describe("against the emulator", function()
    local emu = emulator.fixture{ speed = util.SPEED }

    it("after os.setlocale, two generates get their two tasks (one paid each), then wait, download and the "
      .. "balance work #m-json-locale-free", function()
      local c = util.client_for(emu)
      comma_locale()
      local before = in_c(emu.stats, emu).tasks_created
      local a = assert(c:generate(REQ))
      local b = assert(c:generate{ model = "doubao-seedance-2.0", prompt = "a second boat", duration = 5 })
      assert.are_not.equal(a.id, b.id)
      assert.equals(before + 2, in_c(emu.stats, emu).tasks_created)
      assert(a:wait())
      assert.is_number(a.expires_at)
      local path = util.tmpfile("locale.mp4")
      finally(function() os.remove(path) end)
      assert.equals(path, a:download(path))
      assert.is_true(util.is_mp4(path))
      local bal = assert(c:balance())
      assert.is_number(bal.remain_balance)
    end)

    it("re-opens a journal written under another locale, both ways, and pays nothing again "
      .. "#m-json-locale-free", function()
      local dir = util.tmpdir()
      finally(function() process.remove_dir(dir) end)
      local path = dir .. "/run.journal"
      local c = util.client_for(emu, { journal = path })
      assert(c:generate(REQ)) -- written in the C locale
      c:close()
      local before = in_c(emu.stats, emu).tasks_created
      comma_locale()
      c = util.client_for(emu, { journal = path })
      assert.is_true(assert(c:generate(REQ)).reattached)
      assert(c:generate{ model = "doubao-seedance-2.0", prompt = "written under a comma locale", duration = 5 })
      c:close()
      os.setlocale("C")
      c = util.client_for(emu, { journal = path })
      assert.is_true(assert(c:generate{ model = "doubao-seedance-2.0", prompt = "written under a comma locale",
                                        duration = 5 }).reattached)
      c:close()
      assert.equals(before + 1, in_c(emu.stats, emu).tasks_created)
    end)
  end)

  it("writes the body of a request it does not validate with a dot for the decimal point #m-json-locale-free", function()
    local gw = gateway.start{ cases = { { method = "POST", status = 400,
      json = { error = { code = 400, type = "invalid_request_error", message = "no" } } } } }
    finally(function() gw:stop() end)
    local c = seedance.new{ api_key = "sk-spec", base_url = gw.url, validate = false, max_retries = 0 }
    comma_locale()
    c:generate{ model = "doubao-seedance-2.0", prompt = "x", duration = 5, cfg_scale = 7.5 }
    local body = in_c(gw.requests, gw, { method = "POST" })[1].body
    assert.truthy(body:find('"cfg_scale":7.5', 1, true), body)
  end)

  it("reads a fractional Retry-After the same under a comma locale "
    .. "#m-retry-after-locale-free", function()
    local http = require("seedance.http")
    comma_locale()
    assert.equals(2, http.retry_after("1.5"))
    assert.equals(1, http.retry_after("0.25"))
    assert.equals(3, http.retry_after("3.0"))
  end)

  it("reads SEEDANCE_TIME_SCALE the same under a comma locale (a Lua child that sets it) #child "
    .. "#m-env-number-locale-free", function()
    local ok, out = util.run(("SEEDANCE_TIME_SCALE=0.05 %s %s -e %s 2>&1"):format(
      require("helpers.child").paths(), util.LUA, process.quote([[
        assert(os.setlocale("de_DE.UTF-8") or os.setlocale("de_DE.utf8"), "no de_DE locale")
        local c = require("seedance").new{ api_key = "k", base_url = "http://127.0.0.1:9" }
        io.write(require("seedance.numbers").format("%g", c.settings.time_scale))]])))
    assert.is_true(ok, out)
    assert.equals("0.05", out)
  end)

  it("writes its messages and the command's figures with a dot #m-validator-numbers-locale-free "
    .. "#m-cli-figures-locale-free", function()
    comma_locale()
    local _, err = seedance.validate{ model = "doubao-seedance-2.0", prompt = "x", duration = 5.5 }
    assert.truthy(tostring(err):find("got number 5.5", 1, true), tostring(err))
    local progress = require("seedance.progress")
    local output = require("seedance.cli.output")
    assert.equals("1.5 MiB", progress.bytes(1.5 * 1048576))
    assert.equals("0.3", output.number(0.3))
    assert.equals("1.25", require("seedance.numbers").text(1.25))
    assert.equals(1.5, core.tonumber("1.5"))
    assert.is_nil(core.tonumber("1,5"))
  end)

  it("names a table key that is a number with a dot in the validator's messages and a caller mistake's "
    .. "#c #m-validator-keys-locale-free #m-messages-keys-locale-free", function()
    comma_locale()
    local _, err = seedance.validate{ model = "doubao-seedance-2.0", prompt = "x", [1.5] = true,
                                      image_urls = { [2.5] = "https://example.com/a.png" } }
    local text = tostring(err)
    assert.truthy(text:find("[1.5]: unexpected key", 1, true), text)
    assert.truthy(text:find("has key [2.5]", 1, true), text)
    local ok, why = pcall(seedance.new, { [0.5] = 1 })
    assert.is_false(ok)
    assert.truthy(why:find("unknown option '0.5'", 1, true), why)
    ok, why = pcall(seedance.map, seedance.new{ api_key = "k", base_url = "http://127.0.0.1:9" }, { [1.5] = {} })
    assert.is_false(ok)
    assert.truthy(why:find("key 1.5 is not one of", 1, true), why)
    local dir = util.tmpdir()
    finally(function() -- (busted keeps one finally per test: the locale goes back here too)
      os.setlocale("C")
      process.remove_dir(dir)
    end)
    process.write(dir .. "/new.journal", '{"v":2.5,"type":"journal","format":"seedance-journal"}\n')
    ok, why = pcall(seedance.new, { api_key = "k", base_url = "http://127.0.0.1:9", journal = dir .. "/new.journal" })
    assert.is_false(ok)
    assert.truthy(why:find("journal version 2.5 is newer", 1, true), why)
  end)
end)
