-- The fuzz harnesses (fuzz/parsers.lua, fuzz/answers.lua) over their committed
-- seeds, and the cases the fuzzers found, each run as a regression: no
-- network, the answers harness fakes the engine's results.
local util = require("helpers.util")

-- Run fuzz/answers.lua (the fuzz_answers harness: fake answers from a text input, the client's
-- calls against them, the properties checked) on input, in fresh copies of the Lua modules so
-- its stubs never reach other specs.
local function run_answers(input)
  local function unload_seedance()
    for name in pairs(package.loaded) do
      if (name == "seedance" or name:match("^seedance%.")) and name ~= "seedance.core" then
        package.loaded[name] = nil
      end
    end
  end
  local saved = {}
  for name, m in pairs(package.loaded) do saved[name] = m end
  unload_seedance()
  local ok, err = pcall(function() dofile(util.ROOT .. "/fuzz/answers.lua")(input) end)
  unload_seedance()
  for name, m in pairs(saved) do package.loaded[name] = m end
  return ok, err
end

-- Every seed of a corpus folder through run(input); how many there were.
local function each_seed(corpus, run)
  local dir = util.ROOT .. "/fuzz/corpus/" .. corpus
  local p = assert(io.popen("ls '" .. dir .. "'"))
  local n = 0
  for name in p:lines() do
    local ok, err = run((assert(util.read_file(dir .. "/" .. name))))
    assert(ok, name .. ": " .. tostring(err))
    n = n + 1
  end
  p:close()
  return n
end

describe("the fuzz harnesses #c", function()
  -- fuzz_parsers found a result URL whose host is not UTF-8: libcurl parsed it but could not
  -- give its host back (IDNA), and check_media raised on the missing host
  it("every committed fuzz_parsers seed passes the harness #found", function()
    local run = dofile(util.ROOT .. "/fuzz/parsers.lua")
    assert.is_true(each_seed("parsers", function(input) return pcall(run, input) end) >= 10)
  end)

  it("every committed fuzz_answers seed passes the harness #found", function()
    assert.is_true(each_seed("answers", run_answers) >= 10)
  end)

  -- fuzz_answers: a 200 submit answer without a task id whose body echoed the key put the key into
  -- the error's message (a body excerpt made outside the HTTP layer's masking)
  it("masks the key in an error quoting a body that echoes it #found #m-key-masked-every-call", function()
    local ok, err = run_answers("generate\n200\nContent-Type: application/json\n\n"
      .. '{"error":{"message":"bad key sk-fuzz-secret-0123456789"}}')
    assert(ok, err)
  end)

  -- fuzz_answers: an ETag holding a CR ("a\rb") was saved beside the .part file and sent back as
  -- "If-Range: a\rb"; the engine refuses such a header line, so task:download raised
  it("a download survives an ETag with a control byte #found", function()
    local ok, err = run_answers("download\n200\nContent-Length: 100\nETag: \"a\rb\"\n\nshort\n===\n"
      .. "200\nContent-Length: 5\n\nshort")
    assert(ok, err)
  end)
end)
