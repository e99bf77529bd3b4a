-- The command's parser (lua-argparse): a declared parser per subcommand,
-- help made from it, every mistake on the command line a usage error (exit 2)
-- that sends nothing.
local cli = require("helpers.cli")
local core = require("seedance.core")
local parser = require("seedance.cli.parser")
local request = require("seedance.cli.request")
local exit = require("seedance.cli.exit")

local ID = "task_01M8KXCEGT13GWE6Y1Y5Z7S7BQ"

describe("the seedance command's parser #child", function()
  local emu, env = cli.emulator({ speed = 200 }, { SEEDANCE_API_KEY = "sk-parser" })

  -- Run a command that must be refused (exit 2) before anything is sent.
  local function usage_error(args)
    return cli.refused(emu, args, 2, env)
  end

  it("refuses an unknown flag on every subcommand, suggesting the right one", function()
    for _, args in ipairs{ "wait " .. ID .. " --ouptut f.mp4", "download " .. ID .. " --ouptut f.mp4",
                           "generate --prompt x --ouptut f.mp4" } do
      local err = usage_error(args)
      assert.matches("unknown option '%-%-ouptut' %(did you mean '%-%-output'%?%)", err)
      assert.matches("Usage: seedance %a+", err)
    end
    for _, args in ipairs{ "status " .. ID .. " --bogus", "balance --bogus", "validate x.json --bogus",
                           "version --bogus" } do
      assert.matches("unknown option '%-%-bogus'", usage_error(args))
    end
  end)

  it("refuses a flag without its value, a value that is not a number, and stray or missing arguments", function()
    assert.matches("option '%-%-prompt' requires an argument", usage_error("generate --prompt"))
    assert.matches("requires an argument", usage_error("wait " .. ID .. " -o"))
    assert.matches("%-%-timeout must be a number of seconds above 0, got 'soon'", usage_error("balance --timeout soon"))
    assert.matches("%-%-wait%-timeout must be a number of seconds above 0, got '0'",
      usage_error("wait " .. ID .. " --wait-timeout 0"))
    assert.matches("%-%-duration must be a whole number, got '5%.5'", usage_error("generate --prompt x --duration 5.5"))
    assert.matches("too many arguments", usage_error("status " .. ID .. " " .. ID))
    assert.matches("missing argument 'ID'", usage_error("wait"))
    assert.matches("unknown command 'frobnicate'", usage_error("frobnicate"))
    assert.matches("download needs %-o FILE", usage_error("download " .. ID))
  end)

  it("takes a value that begins with a dash as the value: a negative number, a prompt #m-cli-dash-values", function()
    local args = assert(parser.parse{ "generate", "--duration", "-5", "--prompt", "-a dash", "--seed", "-1" })
    local req = assert(request.build(args))
    assert.equals(-5, req.duration)
    assert.equals("-a dash", req.prompt)
    assert.equals(-1, req.seed)
    -- so the validator, not the parser, has the last word on it (exit 3 naming the field, nothing sent)
    local before = emu:stats().requests
    local code, _, err = cli.run("generate --prompt x --duration -5", env)
    assert.equals(3, code, err)
    assert.matches("duration: must be between", err)
    assert.equals(before, emu:stats().requests)
    -- an option after an option still means its value is missing
    assert.matches("option '%-%-prompt' requires an argument", usage_error("generate --prompt -o x.mp4"))
  end)

  it("with --json, every usage error is one JSON object on standard output #m-cli-json-usage-errors", function()
    for _, args in ipairs{ "genrate --json", "generate --json --prompt x stray", "balance --json --timeout soon",
                           "download --json " .. ID } do
      local code, out, err = cli.run(args, env)
      assert.equals(2, code, args .. ": " .. err)
      local ok, obj = pcall(require("cjson").decode, out)
      assert.is_true(ok and type(obj) == "table", args .. ": stdout was " .. ("%q"):format(out))
      assert.equals("usage_error", obj.error.type, args)
      assert.is_nil(out:find("\n.", 1), out)
    end
  end)

  -- found: parser errors (a missing id, a flag without its value) printed text on stderr and nothing on stdout
  it("with --json, a usage error still prints one JSON object on standard output #found", function()
    for _, args in ipairs{ "status --json", "generate --json --prompt x --duration", "wait --json --ouptut f x" } do
      local code, out, err = cli.run(args, env)
      assert.equals(2, code, err)
      local obj = require("cjson").decode(out ~= "" and out or "null")
      assert.is_table(obj, args .. ": stdout was " .. ("%q"):format(out))
      assert.equals("usage_error", obj.error and obj.error.type)
    end
  end)

  -- found: `--seed -1` was "unknown option '-1' (did you mean one of these: '-h' '-o' '-q' '-v'?)";
  -- only --seed=-1 worked
  it("--seed -1, the documented lowest seed, is taken as a value #found", function()
    local code, _, err = cli.run("generate --prompt x --seed -1 -q -o " .. cli.q("/nonexistent-adv/x.mp4"), env)
    assert.is_nil(err:find("unknown option", 1, true), err)
    assert.equals(10, code, err)   -- the missing folder, found before paying
  end)

  it("misspelled commands and flags are usage errors on every subcommand, nothing sent", function()
    for _, args in ipairs{ "genrate --prompt x", "generate --promt x", "generate --prompt x extra",
                           "wait --ouptut f.mp4 task_x", "download task_x -0 f.mp4", "status task_x --jsn",
                           "balance --verbose=2", "validate", "-o x", "help nope" } do
      usage_error(args)
    end
  end)

  it("malformed task ids never reach the service: exit 2, one line of valid UTF-8", function()
    local ids = { "../../etc/passwd", "task_x/../balance", "task_x?y=1", "\255task", string.rep("a", 5000), "" }
    for _, id in ipairs(ids) do
      for _, sub in ipairs{ "status", "wait -o /tmp/adv-never.mp4", "download -o /tmp/adv-never.mp4" } do
        local err = usage_error(sub .. " -- " .. cli.q(id))
        assert.matches("^seedance: [^\n]+\n$", err)
        assert.is_nil(err:find("\255", 1, true))
      end
    end
  end)

  it("--last-frame is an input image, --save-last-frame the result's last frame", function()
    local req = assert(request.build(assert(parser.parse{ "generate", "--prompt", "x", "--last-frame", "end.png" })))
    assert.equals("last_frame", req.image_with_roles[1].role)
    assert.is_true(core.is_file(req.image_with_roles[1].url))
    assert.equals("end.png", req.image_with_roles[1].url.path)
    assert.is_nil(req.return_last_frame)
    local args = assert(parser.parse{ "generate", "--prompt", "x", "--save-last-frame", "end.png" })
    req = assert(request.build(args))
    assert.is_nil(req.image_with_roles)
    assert.is_true(req.return_last_frame)
    assert.equals("end.png", args.save_last_frame)
    -- the old spelling (a bare --last-frame meaning "download the last frame") is refused
    assert.matches("option '%-%-last%-frame' requires an argument",
      usage_error("generate --prompt x --return-last-frame --last-frame"))
  end)

  it("generates help from the parser: every request flag, every exit code", function()
    local code, out = cli.run("generate --help")
    assert.equals(0, code)
    for _, f in ipairs(request.flags()) do
      assert.truthy(out:find("\n   " .. f.name, 1, true), f.name .. " missing from help")
    end
    for _, row in ipairs(exit.CODES) do
      assert.truthy(out:find(string.format("%3d %s", row[1], row[3]), 1, true), row[3] .. " missing from help")
    end
    for _, flag in ipairs{ "--base-url", "--api-key-file", "--allow-insecure-http", "--proxy", "--timeout",
                           "--verbose", "--journal", "--save-last-frame", "--output" } do
      assert.truthy(out:find(flag, 1, true), flag)
    end
  end)

  -- found: a command's help named its argument otherwise than its usage line
  it("each command's help names its arguments as its usage line does #found #m-cli-help-argument-names", function()
    for args, name in pairs{ ["status"] = "ID", ["wait"] = "ID", ["download"] = "ID", ["validate"] = "FILE.json",
                             ["help"] = "COMMAND" } do
      local code, out = cli.run(args .. " --help")
      assert.equals(0, code)
      local usage = out:match("^(.-)\n\n")
      assert.truthy(usage:find(" %[?" .. name:gsub("%p", "%%%0") .. "%]?$"), args .. ": " .. usage)
      assert.matches("\nArguments:\n   " .. name:gsub("%p", "%%%0") .. " +%u", out)
    end
    -- and the parsed value keeps its name
    assert.equals(ID, assert(parser.parse{ "status", ID }).id)
    assert.equals("req.json", assert(parser.parse{ "validate", "req.json" }).file)
    assert.equals("wait", assert(parser.parse{ "help", "wait" }).topic)
    assert.equals("zsh", assert(parser.parse{ "completion", "zsh" }).shell)
  end)
end)

describe("the command's request flags and exit codes, in this process #c", function()
  it("takes the request flags from the validator's own field table, each setting its key", function()
    local flags = request.flags()
    local covered = {}
    for _, f in ipairs(flags) do covered[f.field] = true end
    for _, field in ipairs(core.request_fields()) do
      assert.is_true(covered[field.name], "no flag sets " .. field.name)
    end
    -- each flag, given alone, sets its own key (and no other, besides the default model)
    for _, f in ipairs(flags) do
      local argv = { "generate", f.name }
      if f.kind ~= "flag" then argv[3] = f.integer and "7" or "https://example.com/x.png" end
      local args = assert(parser.parse(argv))
      local req = assert(request.build(args))
      local v = req[f.field]
      assert.is_not_nil(v, f.name .. " did not set " .. f.field)
      if f.role then
        assert.same({ { url = "https://example.com/x.png", role = f.role } }, v)
      elseif f.kind == "list" then
        assert.same({ "https://example.com/x.png" }, v)
      elseif f.integer then
        assert.equals(7, v)
      end
      for k in pairs(req) do
        assert.is_true(k == f.field or k == "model", f.name .. " also set " .. k)
      end
    end
  end)

  it("maps each error type to one exit code", function()
    local want = { usage_error = 2, validation_error = 3, invalid_request_error = 3, authentication_error = 4,
      permission_error = 4, payment_required = 5, rate_limit_error = 6, server_error = 7, bad_gateway = 7,
      service_unavailable = 7, gateway_timeout = 7, network_error = 8, tls_error = 8, task_failed = 9,
      io_error = 10, expired = 11, timeout_error = 12, callback_error = 1, something_new = 1 }
    for t, code in pairs(want) do assert.equals(code, exit.code{ type = t }, t) end
    assert.equals(130, exit.for_signal("INT"))
    assert.equals(143, exit.for_signal("TERM"))
  end)
end)
