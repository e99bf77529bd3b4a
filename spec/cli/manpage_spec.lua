-- The manual page seedance(1): written at build time (make man, mk/man.lua)
-- from the command's parsers and README's command section, rendered by groff
-- and man without a warning, listing every subcommand, option, environment
-- variable and exit code, installed by `make install-man` into a man folder.
local cli = require("helpers.cli")
local exit = require("seedance.cli.exit")
local parser = require("seedance.cli.parser")
local process = require("helpers.process")
local util = require("helpers.util")

local q = cli.q
local PAGE = "build/man/seedance.1"

-- Warnings groff gives for a page (all of them: -ww), on the default device and on a terminal.
-- Asserts that text holds the plain string s (message: what failed, s by default).
local function has(text, s, message)
  assert.truthy(text:find(s, 1, true), message or s)
end

local function groff_warnings(page)
  local _, a = util.run("groff -ww -z -man " .. q(page))
  local _, b = util.run("groff -ww -z -man -Tutf8 " .. q(page))
  return a .. b
end

-- The page as man renders it for an 80-column terminal, and what man said on standard error.
local function rendered(page)
  local errf = os.tmpname()
  local ok, out = util.run("MANWIDTH=80 MAN_KEEP_FORMATTING= man --warnings -l " .. q(page) .. " 2>" .. q(errf)
    .. " | col -b")
  local err = cli.slurp(errf)
  os.remove(errf)
  assert(ok, out)
  return out, err
end

-- The text of a section ("COMMANDS") of a rendered page.
local function section(text, name)
  return "\n" .. (text:match("\n" .. name .. "\n(.-)\n%u[%u ]+\n") or text:match("\n" .. name .. "\n(.*)$") or "")
end

describe("seedance(1) #child", function()
  local text, err
  setup(function()
    local ok, out = util.run("make -s --no-print-directory man")
    assert(ok, out)
    text, err = rendered(PAGE)
  end)

  it("renders with groff -ww and man -l without a warning", function()
    assert.equals("", groff_warnings(PAGE))
    assert.equals("", err)
    assert.matches("^SEEDANCE%(1%)", text)
  end)

  it("lists every subcommand of the parsers, each with every option of its usage line #m-man-every-command", function()
    local state = {}
    parser.new(state)
    local commands = section(text, "COMMANDS")
    local n = 0
    for name, cmd in pairs(state.commands) do
      n = n + 1
      local body = commands:match("\n   seedance " .. name .. "\n(.-)\n   seedance ") or commands:match("\n   seedance "
        .. name .. "\n(.*)$")
      assert.truthy(body, "no subsection for seedance " .. name)
      for opt in cmd:get_usage():gmatch("%[(%-%-?[%w%-]+)") do
        assert.truthy(body:find("\n       " .. opt:gsub("%p", "%%%0") .. "%f[^%w%-]"), opt .. " of seedance " .. name)
      end
      assert.truthy(section(text, "SYNOPSIS"):find("seedance " .. name, 1, true), name .. " in the synopsis")
    end
    assert.is_true(n >= 10)
  end)

  it("lists every environment variable, exit code and config key, and README's command section", function()
    local env = section(text, "ENVIRONMENT")
    for _, e in ipairs(parser.ENVIRONMENT) do has(env, "\n       " .. e[1] .. "\n", e[1]) end
    local codes = section(text, "EXIT STATUS")
    for _, row in ipairs(exit.CODES) do
      assert.matches("\n       " .. row[1] .. "%s+" .. row[3]:gsub("%p", "%%%0"), codes)
    end
    local files = section(text, "FILES")
    for _, key in ipairs(require("seedance.cli.config").KEYS) do has(files, key, key) end
    local description = section(text, "DESCRIPTION")
    has(description, "Checks before paying.")
    has(description, "seedance completion bash")
  end)

  it("#found its DESCRIPTION is for its reader: no spec or source file of the tree, no sentence about the page itself #m-man-for-readers", function()
    local description = section(text, "DESCRIPTION")
    for _, path in ipairs{ "spec/", "lua/seedance/", "mk/" } do
      assert.is_nil(description:find(path, 1, true), path .. " in\n" .. description)
    end
    assert.is_nil(description:find("says all of this section again", 1, true))
    -- the sentences around them stay whole
    has(description, "a 402 points at seedance balance.")
    has(description, "or, for the current bash only, source <(seedance completion bash).")
    assert.truthy(description:find("usage errors included).", 1, true))
  end)

  it("#found ENVIRONMENT names where the config file is looked for and the proxy variables libcurl reads #m-man-environment", function()
    local env = section(text, "ENVIRONMENT")
    for _, name in ipairs{ "XDG_CONFIG_HOME", "https_proxy", "no_proxy" } do
      has(env, "\n       " .. name .. "\n", name)
    end
  end)

  it("writes any README text as itself: a leading dot or quote, backslashes, non-ASCII, tables #m-man-leading-dot #m-man-non-ascii #m-man-backslash", function()
    local dir = process.tmpdir("man")
    local readme = dir .. "/README.md"
    process.write(readme, table.concat({
      "# x", "", "## The seedance command", "",
      "A path C:\\path\\to\\curl and café — naïve → … in text,", "", ".part files begin a line", "",
      "'quoted' begins one too", "", "| a | b |", "|---|---|", "| 1 | 2 |", "", "```sh", ".hidden \\n # é", "```", "",
      "- an item with `--flag\\x` in it", "", "## Next", "not in the page", "" }, "\n"))
    local page = dir .. "/seedance.1"
    local ok, out = util.run(require("helpers.child").paths() .. " " .. util.LUA .. " mk/man.lua " .. q(readme)
      .. " > " .. q(page))
    assert(ok, out)
    assert.equals("", groff_warnings(page))
    local t, e = rendered(page)
    assert.equals("", e)
    local d = section(t, "DESCRIPTION")
    for _, want in ipairs{ "C:\\path\\to\\curl", "café — naïve → …", ".part files begin a line",
                           "'quoted' begins one too", ".hidden \\n # é", "--flag\\x" } do
      has(d, want, want .. " in\n" .. d)
    end
    assert.is_nil(t:find("not in the page", 1, true))
    process.remove_dir(dir)
  end)

  it("make install-man puts it into PREFIX/share/man/man1, or MANDIR/man1, where man finds it #m-man-install", function()
    local dir = process.tmpdir("man-install")
    local ok, out = util.run("make -s --no-print-directory install-man PREFIX=" .. q(dir .. "/usr"))
    assert(ok, out)
    assert.equals(cli.slurp(PAGE), cli.slurp(dir .. "/usr/share/man/man1/seedance.1"))
    local wok, where = util.run("MANPATH=" .. q(dir .. "/usr/share/man") .. " man -w seedance")
    assert(wok, where)
    assert.equals(dir .. "/usr/share/man/man1/seedance.1\n", where)
    ok, out = util.run("make -s --no-print-directory install-man MANDIR=" .. q(dir .. "/man") .. " DESTDIR="
      .. q(dir .. "/dest"))
    assert(ok, out)
    assert.equals(cli.slurp(PAGE), cli.slurp(dir .. "/dest" .. dir .. "/man/man1/seedance.1"))
    process.remove_dir(dir)
  end)
end)
