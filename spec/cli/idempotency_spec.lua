-- The command and a submit whose every answer was lost (the service made and
-- billed the task, the network ate the answers): it exits 8 naming the
-- Idempotency-Key and the exact command that picks the task up
-- (`--idempotency-key KEY`), and that command pays nothing more.
local cjson = require("cjson")
local emulator = require("helpers.emulator")
local gateway = require("helpers.gateway")
local cli = require("helpers.cli")

local run_printed = cli.run_printed

describe("the seedance command when every answer to its submit is lost #child #found", function()
  local emu, gw, env
  setup(function()
    emu = emulator.start{ speed = 200 }
    gw = gateway.start{ upstream = emu.url }
    env = { SEEDANCE_BASE_URL = gw.url, SEEDANCE_API_KEY = "sk-lost", SEEDANCE_TIME_SCALE = "0.005" }
  end)
  teardown(function()
    gw:stop()
    emu:stop()
  end)
  local function lose_every_submit()
    gw:reset()
    gw:script{ upstream = emu.url, cases = {
      { name = "lost", method = "POST", path = "/v1/videos/generations", forward = true, drop = true, times = 100 } } }
  end

  it("exits 8 with the key and the exact command that picks the task up; that command pays nothing more "
    .. "#m-cli-unanswered-resume", function()
    lose_every_submit()
    local before = emu:stats().tasks_created
    local code, out, err = cli.run("generate --prompt 'a lost heron' --duration 5", env)
    assert.equals(8, code, err)
    assert.equals("", out)
    assert.equals(before + 1, emu:stats().tasks_created) -- made and billed; no answer came back
    local key = gw:requests{ case = "lost" }[1]:header("idempotency-key")
    assert.truthy(err:find("the service may have made (and billed) the task: an answer to its submit was lost; its "
      .. "Idempotency-Key is " .. key, 1, true), err)
    local resume = err:match("pick the task up without paying again with: (seedance generate [^\n]*)")
    assert.equals("seedance generate --prompt 'a lost heron' --duration 5 --idempotency-key " .. key, resume)
    gw:script{ upstream = emu.url }
    local c2, o2, e2 = run_printed(resume, env)
    assert.equals(0, c2, e2)
    assert.matches("^task_%w+\n$", o2)
    assert.equals(before + 1, emu:stats().tasks_created)
  end)

  it("with --json the error object carries idempotency_key and resume #m-cli-unanswered-resume", function()
    lose_every_submit()
    local code, out, err = cli.run("generate --prompt 'a lost heron' --json --idempotency-key my-key-1", env)
    assert.equals(8, code, err)
    local e = cjson.decode(out).error
    assert.equals("network_error", e.type)
    assert.equals("my-key-1", e.idempotency_key)
    assert.equals("seedance generate --prompt 'a lost heron' --json --idempotency-key my-key-1", e.resume)
    for _, r in ipairs(gw:requests{ case = "lost" }) do assert.equals("my-key-1", r:header("idempotency-key")) end
  end)

  it("refuses an --idempotency-key that is no header token (exit 2, nothing sent)", function()
    gw:reset()
    local code, _, err = cli.run("generate --prompt x --idempotency-key 'a b'", env)
    assert.equals(2, code, err)
    assert.matches("%-%-idempotency%-key must be 1 to 128 letters", err)
    assert.equals(0, #gw:requests())
  end)
end)
