-- Specs for the seedance command, run as a user runs it (lua5.4 bin/seedance ...).
local emulator = require("helpers.emulator")
local util = require("helpers.util")
local cjson = require("cjson")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Run the command with env overrides; returns exit code, stdout, stderr.
local function seedance(args, env)
  local out, err = os.tmpname(), os.tmpname()
  local parts = { "env", "-u SEEDANCE_API_KEY -u SEEDANCE_BASE_URL",
                  "LUA_PATH=" .. q(package.path), "LUA_CPATH=" .. q(package.cpath) }
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. q(v) end
  parts[#parts + 1] = util.LUA .. " bin/seedance " .. args .. " >" .. q(out) .. " 2>" .. q(err) .. " </dev/null"
  local ok, _, code = os.execute(table.concat(parts, " "))
  local function slurp(p) local f = io.open(p, "rb"); local s = f:read("*a"); f:close(); os.remove(p); return s end
  if ok == true then code = 0 elseif type(ok) == "number" then code = ok / 256 end  -- Lua 5.1 gives a number
  return code, slurp(out), slurp(err)
end

local function write_json(text)
  local p = os.tmpname()
  local f = assert(io.open(p, "w"))
  f:write(text)
  f:close()
  return p
end

describe("the seedance command", function()
  local emu, env
  setup(function()
    emu = emulator.start{ speed = 200 }
    env = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-cli-secret", SEEDANCE_TIME_SCALE = "0.005" }
  end)
  teardown(function() emu:stop() end)

  it("validates a good request file", function()
    local code, out = seedance("validate spec/fixtures/scenario-09.json")
    assert.equals(0, code)
    assert.matches("valid", out)
  end)

  it("rejects a bad request file with exit code 3, naming the field", function()
    local p = write_json('{"model":"doubao-seedance-2.0","prompt":"x","image_with_roles":[{"url":"https://e.x/a.png","role":"middle"}]}')
    local code, _, err = seedance("validate " .. q(p))
    os.remove(p)
    assert.equals(3, code)
    assert.matches("image_with_roles%[1%]%.role", err)
  end)

  it("generates, waits and downloads with -o, printing plain progress lines off a terminal", function()
    local out = os.tmpname() .. ".mp4"
    local code, stdout, stderr = seedance("generate --prompt 'a paper boat' --resolution 720p --duration 5 -o " .. q(out), env)
    assert.equals(0, code, stderr)
    assert.matches("saved: " .. out:gsub("%p", "%%%0"), stdout)
    assert.matches("submitted task task_", stderr)
    assert.matches("processing", stderr)
    assert.matches("completed%s+100%%", stderr)
    assert.is_nil(stderr:find("\r", 1, true))
    local f = assert(io.open(out, "rb"))
    assert.equals("ftyp", f:read(8):sub(5, 8))
    f:close()
    os.remove(out)
    assert.is_nil((stdout .. stderr):find("sk-cli-secret", 1, true))
  end)

  it("prints machine-readable JSON with --json, and takes --request with flag overrides", function()
    local p = write_json('{"model":"doubao-seedance-2.0-fast","prompt":"from a file","duration":4}')
    local code, stdout = seedance("generate --request " .. q(p) .. " --duration 6 --return-last-frame --wait --json", env)
    os.remove(p)
    assert.equals(0, code)
    local j = cjson.decode(stdout)
    assert.equals("completed", j.status)
    assert.matches("^task_", j.id)
    assert.matches("^http", j.last_frame_url)
  end)

  it("uploads a local --image and shows status, waits and downloads by id", function()
    local png = os.tmpname() .. ".png"
    local f = assert(io.open(png, "wb"))
    f:write("\137PNG\r\n\26\n", string.rep("\0", 32))
    f:close()
    local code, id = seedance("generate --image " .. q(png) .. " --prompt 'from an image'", env)
    os.remove(png)
    assert.equals(0, code)
    id = id:match("(task_%w+)")
    assert.truthy(id)
    local c2, status = seedance("status " .. id, env)
    assert.equals(0, c2)
    assert.matches(id, status)
    local out = os.tmpname() .. ".mp4"
    local c3 = seedance("wait " .. id .. " -o " .. q(out), env)
    assert.equals(0, c3)
    local c4 = seedance("download " .. id .. " -o " .. q(out .. "2"), env)
    assert.equals(0, c4)
    os.remove(out)
    os.remove(out .. "2")
  end)

  it("shows the balance", function()
    local code, out = seedance("balance", env)
    assert.equals(0, code)
    assert.matches("remaining: %d+", out)
  end)

  it("exits with a distinct code per failure, never printing the key", function()
    local e401 = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-test-401" }
    local e402 = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-test-402" }
    assert.equals(4, (seedance("generate --prompt x", e401)))
    assert.equals(5, (seedance("generate --prompt x", e402)))
    assert.equals(3, (seedance("generate --duration 99 --prompt x", env)))
    local code, _, err = seedance("balance", { SEEDANCE_BASE_URL = "http://127.0.0.1:9", SEEDANCE_API_KEY = "k" })
    assert.equals(8, code)
    assert.matches("network_error", err)
    assert.equals(2, (seedance("generate --bogus", env)))
    assert.equals(2, (seedance("frobnicate", env)))
    local _, _, nokey = seedance("generate --prompt x", { SEEDANCE_BASE_URL = emu.url })
    assert.matches("SEEDANCE_API_KEY", nokey)
  end)

  it("exits 9 when the task fails", function()
    local failing = emulator.start{ speed = 200, fail_rate = 1 }
    finally(function() failing:stop() end)
    local code, _, err = seedance("generate --prompt x --wait",
      { SEEDANCE_BASE_URL = failing.url, SEEDANCE_API_KEY = "k", SEEDANCE_TIME_SCALE = "0.005" })
    failing:stop()
    assert.equals(9, code)
    assert.matches("task_failed", err)
  end)

  it("has --help on every subcommand, listing the exit codes", function()
    for _, cmd in ipairs{ "generate", "status", "wait", "download", "validate", "balance" } do
      local code, out = seedance(cmd .. " --help")
      assert.equals(0, code)
      assert.matches("usage: seedance " .. cmd, out)
      assert.matches("exit codes", out)
    end
    local code, out = seedance("--help")
    assert.equals(0, code)
    assert.matches("task failed", out)
  end)
end)
