-- Text a server sends reaches the terminal and standard output harmless: no
-- escape sequences or control bytes, an error stays one line, valid UTF-8 (and
-- valid JSON) whatever bytes came, and no Lua value printed as an address.
local cjson = require("cjson")
local core = require("seedance.core")
local gateway = require("helpers.gateway")
local cli = require("helpers.cli")

describe("text from the server, as the seedance command prints it #child", function()
  local evil = "bad \27]0;PWNED\7\27[2J\27[31mred\r\nsecond line"
  local gw = gateway.fixture{ cases = {
    { name = "submit", method = "POST", pattern = "^/v1/videos", status = 400,
      json = { error = { code = 400, type = "invalid_request_error", message = evil } } },
    gateway.poll_case("failed", { id = "task_evil", progress = 50, error = { code = 1, type = "x", message = evil } }),
    { name = "balance", method = "GET", pattern = "^/v1/balance",
      json = { success = true, remain_balance = 10, used_balance = { 1, 2 } } },
  } }
  local function env() return { SEEDANCE_BASE_URL = gw.url, SEEDANCE_API_KEY = "sk-adv" } end

  -- found: a server's message went out raw: ESC ]0; set the window title, ESC [2J cleared the
  -- screen, \r\n split the line
  it("reaches the terminal without escape sequences, and an error stays one line #found", function()
    for _, args in ipairs{ "generate --prompt x", "status task_evil", "wait task_evil" } do
      local _, out, err = cli.run(args, env())
      assert.is_nil((out .. err):find("\27", 1, true), args .. ": " .. ("%q"):format(out .. err))
      assert.is_nil((out .. err):find("\7", 1, true), args)
      local lines = select(2, err:gsub("seedance: ", ""))
      assert.is_true(lines <= 1 and not err:find("\nsecond line", 1, true), args .. ": " .. err)
    end
  end)

  -- found: `used: table: 0x55...` when used_balance was an array
  it("a balance that is not a number prints no Lua table address #found", function()
    local _, out = cli.run("balance", env())
    assert.is_nil(out:find("table: 0x", 1, true), out)
  end)

  it("prints valid UTF-8 (and valid JSON) whatever the server's strings hold #found #m-cli-output-utf8", function()
    gw:script{ cases = { { path = "/v1/balance", headers = { { "Content-Type", "application/json" } },
      body = '{"success":true,"remain_balance":5,"note":"caf\233 \255\254"}' } } }
    local code, text, err = cli.run("balance --json", env())
    assert.equals(0, code, err)
    assert.is_true(core.utf8_clean(text) == text, text)
    local obj = cjson.decode(text)
    assert.equals(5, obj.remain_balance)
    assert.equals("caf\239\191\189 \239\191\189\239\191\189", obj.note)
  end)
end)
