-- Specs for what `seedance batch FILE` reads and checks before paying
-- (lua/seedance/cli/batch_input.lua): the JSON lines of FILE, the -o and
-- --save-last-frame patterns, and the outputs' folders. No request is sent:
-- every case here stops at a check or runs --dry-run without a key.
local cjson = require("cjson")
local cli = require("helpers.cli")
local process = require("helpers.process")
local util = require("helpers.util")

local q = cli.q

describe("seedance batch's input #child", function()
  local dir
  before_each(function() dir = util.tmpdir() end)
  after_each(function() process.remove_dir(dir) end)

  local function file_of(text)
    local path = dir .. "/reqs.jsonl"
    process.write(path, text)
    return path
  end

  it("#found takes -o patterns that write the line number as a whole number, and refuses %c, floats and %q #m-batch-pattern-whole-number", function()
    local file = file_of('{"prompt":"a"}\n{"prompt":"b"}\n')
    for _, ok in ipairs{ "%03d.mp4", "%d.mp4", "%s.mp4", "%x.mp4", "%d%%.mp4", "%%%d.mp4", "%-4d.mp4" } do
      local code, out, err = cli.run("batch " .. q(file) .. " --dry-run -o " .. q(dir .. "/" .. ok))
      assert.equals(0, code, ok .. ": " .. err)
      assert.matches("nothing was sent", out)
    end
    for bad, why in pairs{ ["%c.mp4"] = "%%c does not write a whole number", ["%5.1f.mp4"] = "%%5.1f does not",
                           ["%q.mp4"] = "%%q does not", ["%d-%d.mp4"] = "once", ["x.mp4"] = "once",
                           ["%%d.mp4"] = "once" } do
      local code, _, err = cli.run("batch " .. q(file) .. " --dry-run -o " .. q(dir .. "/" .. bad))
      assert.equals(2, code, bad)
      assert.matches("give a printf pattern that takes each item's line number once, as a whole number", err, nil, true)
      assert.matches(why, err)
    end
    local code = cli.run("batch " .. q(file) .. " --dry-run -o " .. q(dir .. "/%d.mp4") .. " --save-last-frame "
      .. q(dir .. "/%c.png"))
    assert.equals(2, code)
  end)

  it("#found lists every problem at once: lines that are not JSON objects and the other lines' invalid fields, in line order #m-batch-every-problem-at-once", function()
    local file = file_of('{"prompt":"fine"}\n{"prompt":"long","duration":99}\nnot json\n[]\n{"prompt":"x"} {"prompt":"y"}\n'
      .. '{"prompt":"big","model":"doubao-seedance-2.0-fast","resolution":"1080p"}\n')
    local code, out = cli.run("batch --json " .. q(file))
    assert.equals(3, code)
    local e = cjson.decode(out).error
    local fields = {}
    for i, p in ipairs(e.errors) do fields[i] = p.field end
    assert.same({ "line 2: duration", "line 3", "line 4", "line 5", "line 6: resolution" }, fields)
    assert.matches("^not a JSON object: column 1: expected a value", e.errors[2].message)
    assert.equals("not a JSON object: a JSON array", e.errors[3].message)
    assert.matches("^not a JSON object: column 16: expected the end of the line, found '{'", e.errors[4].message)
  end)

  it("#found refuses a line that is an empty JSON array, not taking it for an empty object #m-batch-line-array", function()
    local file = file_of('{"prompt":"fine"}\n[]\n')
    local code, _, err = cli.run("batch " .. q(file) .. " --dry-run")
    assert.equals(3, code)
    assert.matches("line 2: not a JSON object: a JSON array", err, nil, true)
  end)

  it("#found says a missing output folder once, for all the lines it holds #m-batch-folder-once", function()
    local lines = {}
    for i = 1, 30 do lines[i] = cjson.encode{ prompt = "clip " .. i } end
    local file = file_of(table.concat(lines, "\n") .. "\n")
    local code, _, err = cli.run("batch " .. q(file) .. " --dry-run -o " .. q(dir .. "/missing/%02d.mp4"))
    assert.equals(10, code)
    assert.matches("1 problem in 1 line", err)
    assert.matches("line 1: .*/missing/01.mp4: its folder .*missing does not exist .*%(and the same for the "
      .. "outputs of 29 more lines%)", err)
    assert.is_nil(err:find("line 2:", 1, true))
  end)

  it("reads CRLF lines, a byte order mark, blank and whitespace-only lines and a last line without a newline, each item known by its line", function()
    local file = file_of('\239\187\191{"prompt":"a"}\r\n\r\n \t \r\n{"prompt":"b","duration":4}\r\n{"prompt":"c"}')
    local code, out, err = cli.run("batch --json " .. q(file) .. " --dry-run -o " .. q(dir .. "/%d.mp4"))
    assert.equals(0, code, err)
    local plan = cjson.decode(out)
    assert.same({ 3, 14 }, { plan.items, plan.seconds })
    local _
    code, _, err = cli.run("batch " .. q(file) .. " --dry-run --duration 99")
    assert.equals(3, code)
    assert.matches("line 1: duration", err)
    assert.matches("line 5: duration", err)
    assert.is_nil(err:find("line 4: duration", 1, true)) -- its own duration, 4, overrides the flag
  end)
end)
