-- What the command prints, piece by piece: one line without control
-- characters whatever a server sent, values that are not numbers printed
-- sanely, user info masked with or without a scheme, the library's Lua advice
-- in the command's words, the resume command, standard output that failed,
-- and option values that begin with a dash.
local output = require("seedance.cli.output")
local parser = require("seedance.cli.parser")
local util = require("helpers.util")

describe("seedance.cli.output #c #compat", function()
  it("line: one line, no escape or control character, valid UTF-8 #m-cli-one-line-no-escapes", function()
    local s = output.line("bad \27]0;PWNED\7\27[2J\27[31mred\r\nsecond\tline \194\155x \255")
    assert.is_nil(s:find("[%c]"), ("%q"):format(s))
    assert.is_nil(s:find("\194\155", 1, true))
    assert.truthy(s:find("second line", 1, true))
    assert.equals("caf\195\169 \228\184\173", output.line("caf\195\169 \228\184\173"))   -- text stays text
  end)

  it("value: numbers as numbers, anything else said to be no number, never a table address", function()
    assert.equals("999873", output.value(999873.0))
    assert.equals("12.5", output.value("12.5"))
    assert.equals("unknown", output.value(nil))
    assert.equals("[1,2] (not a number)", output.value({ 1, 2 }))
    assert.equals("lots (not a number)", output.value("lots"))
    assert.equals("?[31mx (not a number)", output.value("\27[31mx"))
    assert.is_nil(output.value({ a = { b = string.rep("x", 200) } }):find("table: ", 1, true))
    assert.is_true(#output.value({ string.rep("x", 200) }) < 80)
  end)

  it("masked: user info hidden with or without a scheme, the rest kept #m-cli-masked-without-scheme", function()
    assert.equals("***@bad host:1", output.masked("user:hunter2@bad host:1"))
    assert.equals("http://***@h:3128", output.masked("http://u:pw@h:3128"))
    assert.equals("socks5://***@h", output.masked("socks5://a@b:c@h"))
    assert.equals("http://h/p@q", output.masked("http://h/p@q"))          -- an @ in the path is no user info
    assert.equals("https://xcompute.us", output.masked("https://xcompute.us"))
  end)

  it("resume_command: runnable words, a value that looks like a flag attached, a proxy's password masked", function()
    local cmd = output.resume_command("task_1", { output = "-dash.mp4", save_last_frame = "a b.png",
      proxy = "http://me:hunter2@proxy:3128", allow_insecure_http = true })
    assert.equals("seedance wait task_1 --output=-dash.mp4 --save-last-frame 'a b.png' "
      .. "--allow-insecure-http --proxy 'http://***@proxy:3128'", cmd)
  end)

  it("advice: every piece of the library's Lua advice has the command's words, and is still the library's", function()
    local sources = {}
    for _, dir in ipairs{ "src", "lua/seedance" } do
      local p = io.popen("cat " .. dir .. "/*.c " .. dir .. "/*.lua 2>/dev/null")
      sources[#sources + 1] = p:read("*a")
      p:close()
    end
    local all = table.concat(sources)
    for _, pair in ipairs(output.ADVICE) do
      assert.truthy(all:find(pair[1], 1, true), "no longer in the library: " .. pair[1])
      local said = output.advice("x: " .. pair[1] .. " y")
      for _, lua_word in ipairs{ "seedance.file", "allow_insecure", "= true", "ca_file" } do
        assert.is_nil(said:find(lua_word, 1, true), said)
      end
    end
  end)

  it("checked: a stream that failed is not taken for one that worked", function()
    local full = assert(io.open("/dev/full", "w"))
    local c = output.checked(full)
    c:write("task_1\n")
    local ok, why = c:flush()
    full:close()
    assert.is_nil(ok)
    assert.matches("No space left", why)
    local good = output.checked(assert(io.open(util.tmpfile("checked.txt"), "w")))
    assert.is_true(good:write("x"):flush())
  end)
end)

describe("seedance.cli.parser: a value that begins with a dash", function()
  it("is attached to its option unless it is one of the options", function()
    parser.new({})
    local cases = {
      { { "generate", "--seed", "-1" }, { "generate", "--seed=-1" } },
      { { "generate", "--prompt", "-a dash" }, { "generate", "--prompt=-a dash" } },
      { { "generate", "-o", "-x.mp4" }, { "generate", "-o-x.mp4" } },
      { { "generate", "--prompt", "-o", "f" }, { "generate", "--prompt", "-o", "f" } },      -- -o is an option
      { { "generate", "--prompt", "--json" }, { "generate", "--prompt", "--json" } },
      { { "generate", "--prompt", "-vv" }, { "generate", "--prompt", "-vv" } },            -- -v run together
      { { "generate", "--json", "-1" }, { "generate", "--json", "-1" } },                  -- a flag takes none
      { { "wait", "--", "--seed", "-1" }, { "wait", "--", "--seed", "-1" } },              -- after --, words
    }
    for _, c in ipairs(cases) do
      assert.same(c[2], parser.attach_values(c[1]))
    end
  end)
end)
