-- The config file ($XDG_CONFIG_HOME/seedance/config, SEEDANCE_CONFIG) and
-- `seedance config`: flags beat environment variables beat the file beat the
-- defaults; the key never lives in the file, and a key file others can read
-- is refused; a wrong line is one line naming the file, the line and the fix
-- (exit 2) before anything is sent.
local cjson = require("cjson")
local cli = require("helpers.cli")
local emulator = require("helpers.emulator")
local process = require("helpers.process")

local q = cli.q

describe("the config file #child", function()
  local emu, dead, dir, conf, keyfile
  setup(function()
    dir = process.tmpdir("config")
    process.write(dir .. "/keys", "sk-config-file\nsk-config-env\n")
    emu = emulator.start{ speed = 200, keys = dir .. "/keys" }
    dead = "http://127.0.0.1:" .. process.free_port()   -- nothing listens there
    assert(os.execute("mkdir -p " .. q(dir .. "/xdg/seedance")))
    conf = dir .. "/xdg/seedance/config"
    keyfile = dir .. "/key"
    process.write(keyfile, "sk-config-file\n")
    assert(os.execute("chmod 600 " .. q(keyfile)))
  end)
  teardown(function()
    emu:stop()
    process.remove_dir(dir)
  end)

  local function write_config(lines)
    process.write(conf, table.concat(lines, "\n") .. "\n")
  end

  -- Run with the config folder; `env` adds variables (false unsets).
  local function run(args, env)
    local e = { XDG_CONFIG_HOME = dir .. "/xdg", SEEDANCE_TIME_SCALE = "0.005" }
    for k, v in pairs(env or {}) do e[k] = v end
    return cli.run(args, e)
  end

  -- `seedance config --json`: the settings, each { value, source }.
  local function settings(args, env)
    local code, out, err = run("config --json " .. (args or ""), env)
    assert.equals(0, code, err)
    return cjson.decode(out)
  end

  -- A command that must be refused with one line and exit 2, nothing sent: that line.
  local function refused_line(args, env)
    local e = { XDG_CONFIG_HOME = dir .. "/xdg", SEEDANCE_TIME_SCALE = "0.005" }
    for k, v in pairs(env or {}) do e[k] = v end
    local err = cli.refused(emu, args, 2, e)
    assert.matches("^seedance: [^\n]+\n$", err)
    return err:match("^seedance: (.-)\n$")
  end

  it("flags beat environment variables beat the file beat the defaults #m-cli-config-precedence", function()
    write_config{ "# settings", "base_url = " .. emu.url, "api_key_file = ../../key", "timeout = 30",
                  "wait_timeout = 600", "model = doubao-seedance-2.0-fast", "resolution = '720p'" }
    -- the file alone: its base URL and its key file (the emulator takes only the keys it lists)
    local code, out, err = run("balance")
    local _
    assert.equals(0, code, err)
    assert.matches("^remaining: ", out)
    local s = settings()
    assert.same({ value = emu.url, source = conf .. ":2" }, s.settings.base_url)
    assert.same({ value = "********", source = "api_key_file " .. dir .. "/xdg/seedance/../../key (" .. conf .. ":3)" },
      s.settings.api_key)
    assert.same({ value = 30, source = conf .. ":4" }, s.settings.timeout)
    assert.same({ value = 600, source = conf .. ":5" }, s.settings.wait_timeout)
    assert.same({ value = "doubao-seedance-2.0-fast", source = conf .. ":6" }, s.settings.model)
    assert.same({ value = "720p", source = conf .. ":7" }, s.settings.resolution)
    assert.same({ path = conf, exists = true }, s.config_file)
    -- a variable beats the file: the file's base URL is dead, the variable's answers
    write_config{ "base_url = " .. dead, "api_key_file = " .. keyfile }
    code, _, err = run("balance", { SEEDANCE_BASE_URL = emu.url })
    assert.equals(0, code, err)
    assert.equals("SEEDANCE_BASE_URL", settings(nil, { SEEDANCE_BASE_URL = emu.url }).settings.base_url.source)
    -- a flag beats the variable
    code, _, err = run("balance --base-url " .. emu.url, { SEEDANCE_BASE_URL = dead })
    assert.equals(0, code, err)
    local f = settings("--base-url " .. emu.url .. " --timeout 5", { SEEDANCE_BASE_URL = dead })
    assert.equals("--base-url", f.settings.base_url.source)
    assert.same({ value = 5, source = "--timeout" }, f.settings.timeout)
    -- and with no file, the defaults
    local d = settings(nil, { XDG_CONFIG_HOME = dir .. "/none" })
    assert.same({ value = "https://xcompute.us", source = "default" }, d.settings.base_url)
    assert.same({ value = 60, source = "default" }, d.settings.timeout)
    assert.same({ value = 1800, source = "default" }, d.settings.wait_timeout)
    assert.same({ value = "doubao-seedance-2.0", source = "default" }, d.settings.model)
    assert.same({ path = dir .. "/none/seedance/config", exists = false }, d.config_file)
  end)

  it("the key from SEEDANCE_API_KEY beats the file's api_key_file, which beats nothing #m-cli-config-key-file", function()
    local other = dir .. "/other.key"
    process.write(other, "sk-not-listed\n")
    assert(os.execute("chmod 600 " .. q(other)))
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. other }
    assert.equals("SEEDANCE_API_KEY", settings(nil, { SEEDANCE_API_KEY = "sk-config-env" }).settings.api_key.source)
    -- the variable's key is sent (the emulator lists it, not the file's)
    local code, _, err = run("balance", { SEEDANCE_API_KEY = "sk-config-env" })
    assert.equals(0, code, err)
    -- without it, the file's key is, and a refusal says where it came from
    code, _, err = run("balance", { SEEDANCE_API_KEY = false })
    assert.equals(4, code, err)
    assert.equals(("seedance: authentication_error (HTTP 401): authentication failed: invalid API key; the key came "
      .. "from api_key_file %s (%s:2): check it\n"):format(other, conf), err)
  end)

  -- With a config file whose model (the fast one) and resolution (1080p) do not go together,
  -- `generate --prompt x` is an invalid request (exit 3): its standard error.
  local function refused_by_defaults()
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. keyfile, "model = doubao-seedance-2.0-fast",
                  "resolution = 1080p" }
    local code, _, err = run("generate --prompt x")
    assert.equals(3, code, err)
    return err
  end

  it("the file's model and resolution are the request's defaults; a flag or the request file beats them #m-cli-config-request-defaults", function()
    -- both reach the request: the validator says 1080p is not for the fast model, before any request
    local before = emu:stats().requests
    local err = refused_by_defaults()
    local code, _
    assert.matches("resolution: 1080p is available only on doubao%-seedance%-2%.0 and doubao%-seedance%-2%.0%-face, "
      .. "not on doubao%-seedance%-2%.0%-fast", err)
    assert.equals(before, emu:stats().requests)
    -- a flag wins
    code, _, err = run("generate --prompt x --model doubao-seedance-2.0")
    assert.equals(0, code, err)
    -- and so does the request file
    process.write(dir .. "/req.json", '{"model":"doubao-seedance-2.0-face","prompt":"x"}')
    code, _, err = run("generate --request " .. q(dir .. "/req.json"))
    assert.equals(0, code, err)
    code, _, err = run("generate --prompt x --resolution 720p")
    assert.equals(0, code, err)
  end)

  it("#found a request refused for the file's model or resolution names its line and the flag that overrides it #m-cli-config-default-named #m-cli-config-default-used", function()
    local before = emu:stats().requests
    local err = refused_by_defaults()
    local code, _
    assert.equals(("seedance: validation_error: invalid request: 1 problem (first: resolution: 1080p is available only "
      .. "on doubao-seedance-2.0 and doubao-seedance-2.0-face, not on doubao-seedance-2.0-fast); model "
      .. "doubao-seedance-2.0-fast comes from the config file (%s:3): pass --model to override it; resolution 1080p "
      .. "comes from the config file (%s:4): pass --resolution to override it\n"):format(conf, conf), err)
    -- the flag's value is the user's own: only the file's other key is named
    code, _, err = run("generate --prompt x --resolution 1080p")
    assert.equals(3, code, err)
    assert.truthy(err:find("; model doubao-seedance-2.0-fast comes from the config file (" .. conf .. ":3): pass "
      .. "--model to override it\n", 1, true), err)
    assert.is_nil(err:find("resolution 1080p comes from", 1, true), err)
    -- a request file that names both takes neither from the file: nothing is said of it
    process.write(dir .. "/fast.json", '{"model":"doubao-seedance-2.0-fast","prompt":"x","resolution":"1080p"}')
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. keyfile, "model = doubao-seedance-2.0",
                  "resolution = 720p" }
    code, _, err = run("generate --request " .. q(dir .. "/fast.json"))
    assert.equals(3, code, err)
    assert.is_nil(err:find("config file", 1, true), err)
    assert.equals(before, emu:stats().requests)
  end)

  it("the file's wait_timeout bounds a wait, and the message names it", function()
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. keyfile, "wait_timeout = 0.2" }
    local code, _, err = run("generate --prompt x -q --wait", { SEEDANCE_TIME_SCALE = "1" })
    assert.equals(12, code, err)
    assert.matches("still %a+ after 0%.2 s %(wait_timeout, " .. conf:gsub("%p", "%%%0") .. ":3%)", err)
  end)

  it("refuses a key in the file, with the fix #m-cli-config-no-key", function()
    for _, name in ipairs{ "api_key", "API_KEY", "token" } do
      write_config{ "base_url = " .. emu.url, name .. " = sk-config-secret" }
      local line = refused_line("balance")
      assert.equals(conf .. ":2: " .. name .. ": the API key never lives in the config file; put it in a file only "
        .. "you can read (chmod 600 FILE) and name that file here with api_key_file = FILE, or set SEEDANCE_API_KEY",
        line)
      assert.is_nil(line:find("sk-config-secret", 1, true))
    end
  end)

  it("refuses a key file others can read, naming chmod 600, as ssh does; its owner alone may #m-cli-config-key-mode", function()
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. keyfile }
    for _, mode in ipairs{ "644", "640", "604" } do
      assert(os.execute("chmod " .. mode .. " " .. q(keyfile)))
      local line = refused_line("generate --prompt x -o " .. q(dir .. "/v.mp4"))
      assert.equals(("api_key_file %s (%s:2) is readable by others (mode 0%s); a key file must be yours alone, as ssh "
        .. "requires of a private key: run chmod 600 %s"):format(keyfile, conf, mode, keyfile), line)
    end
    for _, mode in ipairs{ "600", "400" } do
      assert(os.execute("chmod " .. mode .. " " .. q(keyfile)))
      local code, _, err = run("balance")
      assert.equals(0, code, mode .. ": " .. err)
    end
    assert(os.execute("chmod 600 " .. q(keyfile)))
  end)

  it("an unknown key, a bad value, a line that is no setting: one line naming the file and line, nothing sent #m-cli-config-unknown-key #m-cli-config-bad-value", function()
    local cases = {
      { "base-url = " .. emu.url, "unknown key 'base-url' (did you mean base_url?); the keys are base_url, "
        .. "api_key_file, proxy, ca_file, model, resolution, timeout, wait_timeout" },
      { "colour = blue", "unknown key 'colour'; the keys are base_url, api_key_file, proxy, ca_file, model, "
        .. "resolution, timeout, wait_timeout" },
      { "timeout = soon", "timeout must be a number of seconds above 0, got 'soon'" },
      { "wait_timeout = 30 # seconds", "wait_timeout must be a number of seconds above 0, got '30 # seconds' (a # "
        .. "starts a comment only at the start of a line)" },
      { "model = doubao-seedance-2", "model: unknown model string \"doubao-seedance-2\" (to use a model this client "
        .. "does not know, describe it: seedance.models.add(name, { like = \"doubao-seedance-2.0\", ... }) in Lua, "
        .. "--model-rules FILE.json for the command); did you mean doubao-seedance-2.0?" },
      { "resolution = 4k", "resolution: must be one of 480p, 720p, 1080p, got string \"4k\"" },
      { "base_url = http://10.1.2.3:8080", "base_url 'http://10.1.2.3:8080' is plain http to 10.1.2.3, which is "
        .. "not this machine: the key would cross the network in clear text; use https, or pass "
        .. "--allow-insecure-http" },
      { "proxy = ftp://proxy", "proxy 'ftp://proxy' is not a proxy URL; write it as http://HOST:PORT (or "
        .. "socks5://HOST:PORT)" },
      { "timeout 30", "expected key = value, got 'timeout 30'" },
      { "timeout =", "timeout has no value; give one, or delete the line" },
      { "model = doubao-seedance-2.0\nmodel = doubao-seedance-2.0-fast", "model is given twice (first on line 2); "
        .. "keep one", 3 },
    }
    for _, c in ipairs(cases) do
      write_config{ "# a comment", c[1] }
      local want = conf .. ":" .. (c[3] or 2) .. ": " .. c[2]
      assert.equals(want, refused_line("balance"))
      assert.equals(want, refused_line("generate --prompt x -o " .. q(dir .. "/v.mp4")))
      assert.equals(want, refused_line("config"))
    end
    -- the commands that talk to no service do not read it
    local code, out, err = run("validate --json -", {}, nil)
    assert.equals(3, code, err)
    assert.matches('"type":"validation_error"', out)
    code = run("version")
    assert.equals(0, code)
  end)

  it("#found a value with a comment after it, an unclosed quote, a [section], a variable's name: the line says why #m-cli-config-comment-note #m-cli-config-quote #m-cli-config-hints", function()
    local KEYS = "the keys are base_url, api_key_file, proxy, ca_file, model, resolution, timeout, wait_timeout"
    local cases = {
      { "model = doubao-seedance-2.0 # the fast one", "model: unknown model string \"doubao-seedance-2.0 # the fast "
        .. "one\"; the models are doubao-seedance-2.0, doubao-seedance-2.0-fast, doubao-seedance-2.0-face, "
        .. "doubao-seedance-2.0-fast-face; to use a model this client does not know, describe it: "
        .. "seedance.models.add(name, { like = \"doubao-seedance-2.0\", ... }) in Lua, --model-rules FILE.json for the "
        .. "command (a # starts a comment only at the start of a line)" },
      { "base_url = " .. emu.url .. " # the emulator", "base_url '" .. emu.url .. " # the emulator' is not a URL (Bad "
        .. "fragment); write it in full, e.g. https://xcompute.us or http://127.0.0.1:8080 (a # starts a comment only "
        .. "at the start of a line)" },
      { 'model = "doubao-seedance-2.0', "the value of model opens a quote (\") it does not close; close it at the end "
        .. "of the line, or remove it" },
      { "resolution = '", "the value of resolution opens a quote (') it does not close; close it at the end of the "
        .. "line, or remove it" },
      { "[seedance]", "expected key = value, got '[seedance]' (the file has no [sections]: only key = value lines)" },
      { "timeout \239\188\157 30", "expected key = value, got 'timeout \239\188\157 30' (write = as ASCII, not the "
        .. "full-width \239\188\157)" },
      { "SEEDANCE_BASE_URL = " .. emu.url, "unknown key 'SEEDANCE_BASE_URL' (did you mean base_url?); " .. KEYS },
      { "export SEEDANCE_BASE_URL=" .. emu.url, "unknown key 'export SEEDANCE_BASE_URL' (did you mean base_url?); "
        .. KEYS },
    }
    for _, c in ipairs(cases) do
      write_config{ "# a comment", c[1] }
      assert.equals(conf .. ":2: " .. c[2], refused_line("balance"))
    end
    -- a no-break space (text copied from a web page) is a blank
    write_config{ "timeout\194\160=\194\16030\194\160" }
    assert.same({ value = 30, source = conf .. ":1" }, settings().settings.timeout)
    -- a path: the file it names is not there, and the line says why
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. keyfile .. " # mine" }
    local code, _, err = run("balance", { SEEDANCE_API_KEY = false })
    assert.equals(10, code, err)
    assert.equals(("seedance: io_error: cannot read api_key_file %s # mine (%s:2) (No such file or directory) (a # "
      .. "starts a comment only at the start of a line)\n"):format(keyfile, conf), err)
  end)

  it("#found a key file that is a folder is said to be one, not told to be chmod 600 #m-cli-config-key-folder", function()
    assert(os.execute("mkdir -p " .. q(dir .. "/keydir") .. " && chmod 755 " .. q(dir .. "/keydir")))
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. dir .. "/keydir" }
    local before = emu:stats().requests
    local code, out, err = run("balance", { SEEDANCE_API_KEY = false })
    assert.equals(10, code, err)
    assert.equals("", out)
    assert.equals(("seedance: io_error: cannot read api_key_file %s/keydir (%s:2) (Is a directory)\n"):format(dir,
      conf), err)
    assert.equals(before, emu:stats().requests)
  end)

  it("#found seedance config: a key file the variable's key overrides is marked unused; ca_file's source is its line #m-cli-config-unused-key-file #m-cli-config-ca-source", function()
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. keyfile, "ca_file = " .. keyfile }
    local s = settings(nil, { SEEDANCE_API_KEY = "sk-config-env" })
    assert.same({ value = keyfile, source = conf .. ":2 (not used: SEEDANCE_API_KEY is set)" },
      s.settings.api_key_file)
    assert.same({ value = "********", source = "SEEDANCE_API_KEY" }, s.settings.api_key)
    assert.same({ value = keyfile, source = conf .. ":3" }, s.settings.ca_file)
    -- without the variable, the file's key file is the one in effect
    s = settings(nil, { SEEDANCE_API_KEY = false })
    assert.same({ value = keyfile, source = conf .. ":2" }, s.settings.api_key_file)
    -- a CA file that is a folder is named as the file names it
    write_config{ "base_url = " .. emu.url, "ca_file = " .. dir }
    assert.equals(("ca_file %s (%s:2): cannot read it (is a directory); name a CA bundle (PEM)"):format(dir, conf),
      refused_line("balance"))
  end)

  it("SEEDANCE_CONFIG names the file, which must exist; a folder is said to be one", function()
    write_config{ "base_url = " .. dead }
    process.write(dir .. "/other", "base_url = " .. emu.url .. "\napi_key_file = " .. keyfile .. "\n")
    local code, _, err = run("balance", { SEEDANCE_CONFIG = dir .. "/other" })
    assert.equals(0, code, err)
    assert.equals(dir .. "/other:1", settings(nil, { SEEDANCE_CONFIG = dir .. "/other" }).settings.base_url.source)
    assert.equals("SEEDANCE_CONFIG names " .. dir .. "/missing, which does not exist; create it, or unset "
      .. "SEEDANCE_CONFIG", refused_line("balance", { SEEDANCE_CONFIG = dir .. "/missing" }))
    assert.equals("cannot read the config file " .. dir .. " (Is a directory)", refused_line("balance",
      { SEEDANCE_CONFIG = dir }))
  end)

  it("seedance config prints each setting and where it came from, the key masked #m-cli-config-command", function()
    write_config{ "base_url = " .. emu.url, "api_key_file = " .. keyfile, "timeout = 30" }
    local code, out, err = run("config --proxy http://user:pw@127.0.0.1:3128", { SEEDANCE_BASE_URL = false })
    assert.equals(0, code, err)
    assert.equals("", err)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.same({
      ("%-13s %s"):format("config file", conf),
      ("%-13s %-32s %s"):format("base_url", emu.url, conf .. ":1"),
      ("%-13s %-32s %s"):format("api_key", "********", "api_key_file " .. keyfile .. " (" .. conf .. ":2)"),
      ("%-13s %-32s %s"):format("api_key_file", keyfile, conf .. ":2"),
      ("%-13s %-32s %s"):format("proxy", "http://***@127.0.0.1:3128", "--proxy"),
      ("%-13s %-32s %s"):format("ca_file", "libcurl's CA bundle", "default"),
      ("%-13s %-32s %s"):format("model", "doubao-seedance-2.0", "default"),
      ("%-13s %-32s %s"):format("resolution", "the service's default (480p)", "default"),
      ("%-13s %-32s %s"):format("timeout", "30", conf .. ":3"),
      ("%-13s %-32s %s"):format("wait_timeout", "1800", "default"),
    }, lines)
    assert.is_nil(out:find("sk-config-file", 1, true))
    code, out = run("config --json", { SEEDANCE_API_KEY = "sk-config-env" })
    assert.equals(0, code)
    assert.is_nil(out:find("sk-config-env", 1, true))
    assert.same({ value = "********", source = "SEEDANCE_API_KEY" }, cjson.decode(out).settings.api_key)
  end)
end)
