-- Shell completion (`seedance completion bash|zsh|fish`): the scripts lua-argparse
-- writes from the same parsers as --help, loaded into the real shells, which
-- then complete a subcommand and a model name (the values of --model,
-- --resolution and --size come from the validator's field table).
local cli = require("helpers.cli")
local child = require("helpers.child")
local parser = require("seedance.cli.parser")
local process = require("helpers.process")
local util = require("helpers.util")

local q = cli.q
local unpack = table.unpack or unpack

-- The completion script for a shell, written by the command into a file.
local function script(shell, path)
  local code, out, err = cli.run("completion " .. shell)
  assert.equals(0, code, err)
  assert.equals("", err)
  local f = assert(io.open(path, "wb"))
  f:write(out)
  f:close()
  return out
end

-- The values the validator lists for a field, as a fresh process (the command's) sees them: this one's
-- may hold models other specs added at run time (seedance.models).
local function values_of(field)
  local code = "for _, f in ipairs(require('seedance.core').request_fields()) do if f.name == '" .. field
    .. "' then print(table.concat(f.values, '\\n')) end end"
  local p = assert(io.popen(child.command(code)))
  local values = {}
  for line in p:lines() do values[#values + 1] = line end
  assert(p:close(), "the child listing " .. field .. "'s values failed")
  assert(#values > 0, "the validator lists no values for " .. field)
  return values
end

local function has(shell)
  return (util.run("command -v " .. shell .. " >/dev/null"))
end

describe("seedance completion #child", function()
  local dir
  setup(function() dir = util.tmpdir() end)
  teardown(function() process.remove_dir(dir) end)

  it("every subcommand of the parser is in the script, and an unknown shell is a usage error", function()
    local state = {}
    parser.new(state)
    local bash = script("bash", dir .. "/seedance.bash")
    for name in pairs(state.commands) do
      assert.truthy(bash:find("\n%s+" .. name:gsub("%p", "%%%0") .. "%)\n"), name .. " missing from the bash script")
    end
    local code, out, err = cli.run("completion tcsh")
    assert.equals(2, code)
    assert.equals("", out)
    assert.matches("argument 'SHELL' must be one of 'bash', 'zsh', 'fish'", err)
  end)

  -- bash's completer with the script sourced: the script's file, and complete(word, ...), which
  -- gives what _seedance puts in COMPREPLY for those words, one a line.
  local function bash_completer()
    local file = dir .. "/seedance.bash"
    script("bash", file)
    return file, function(...)
      local words = { ... }
      local quoted = {}
      for i, w in ipairs(words) do quoted[i] = q(w) end
      local ok, out = util.run("bash -c " .. q("source " .. q(file) .. " && COMP_WORDS=(" .. table.concat(quoted, " ")
        .. ") && COMP_CWORD=" .. (#words - 1) .. " && _seedance && printf '%s\\n' \"${COMPREPLY[@]}\""))
      assert(ok, out)
      return out
    end
  end

  it("bash: loads, completes a subcommand, a model name and a resolution #m-cli-completion-values #m-cli-completion-shell", function()
    local file, complete = bash_completer()
    local ok, out = util.run("bash -c " .. q("source <(cat " .. q(file) .. ") && complete -p seedance"))
    assert(ok, out)
    assert.matches("complete .*%-F _seedance seedance", out)
    assert.equals("generate\n", complete("seedance", "gen"))
    assert.equals("config\n", complete("seedance", "conf"))
    assert.equals(table.concat(values_of("model"), "\n") .. "\n", complete("seedance", "generate", "--model", ""))
    assert.equals("doubao-seedance-2.0-fast\ndoubao-seedance-2.0-fast-face\n",
      complete("seedance", "generate", "--model", "doubao-seedance-2.0-fast"))
    assert.equals("1080p\n", complete("seedance", "generate", "--prompt", "x", "--resolution", "10"))
    assert.equals("--save-last-frame\n", complete("seedance", "wait", "--save-l"))
  end)

  it("#found bash: completes the shell of `seedance completion` and the command of `seedance help` #m-cli-completion-arguments", function()
    local _, complete = bash_completer()
    local state = {}
    parser.new(state)
    local names = {}
    for name in pairs(state.commands) do names[#names + 1] = name end
    table.sort(names)
    assert.equals("bash\nzsh\nfish\n", complete("seedance", "completion", ""))
    assert.equals("zsh\n", complete("seedance", "completion", "z"))
    assert.equals(table.concat(names, "\n") .. "\n", complete("seedance", "help", ""))
    assert.equals("generate\n", complete("seedance", "help", "gen"))
    -- only right after the command: an option's value is still the option's
    assert.equals(table.concat(values_of("model"), "\n") .. "\n", complete("seedance", "generate", "--model", ""))
  end)

  it("#found bash: completes a value with a colon, which bash splits at the colon (--size 4: gave file names) #m-cli-completion-colons", function()
    local file = dir .. "/seedance.bash"
    script("bash", file)
    -- as bash calls it: COMP_WORDS split at the colon (COMP_WORDBREAKS), COMP_LINE and COMP_POINT as typed
    local function complete(line, words)
      local quoted = {}
      for i, w in ipairs(words) do quoted[i] = q(w) end
      local ok, out = util.run("bash -c " .. q("source " .. q(file) .. " && COMP_LINE=" .. q(line) .. " && COMP_POINT="
        .. #line .. " && COMP_WORDS=(" .. table.concat(quoted, " ") .. ") && COMP_CWORD=" .. (#words - 1)
        .. " && _seedance && printf '%s\\n' \"${COMPREPLY[@]}\""))
      assert(ok, out)
      return out
    end
    -- bash replaces what follows the colon: the reply is that part
    assert.equals("3\n", complete("seedance generate --size 4:", { "seedance", "generate", "--size", "4", ":", "" }))
    assert.equals("16\n", complete("seedance generate --size 9:1", { "seedance", "generate", "--size", "9", ":", "1" }))
    assert.equals("21:9\n", complete("seedance generate --size 21", { "seedance", "generate", "--size", "21" }))
    assert.equals("--model\n--model-rules\n", complete("seedance generate --prompt 'a: cat' --mo",
      { "seedance", "generate", "--prompt", "'a", ":", " cat'", "--mo" }))
  end)

  it("zsh: compinit takes it from fpath and completes a subcommand, a model name and a size on a terminal #m-cli-completion-values #m-cli-completion-colons", function()
    if not has("zsh") then
      pending("zsh is not installed (sh .ci/install-deps test installs it)")
      return
    end
    local fdir = dir .. "/zfunc"
    assert(os.execute("mkdir -p " .. q(fdir)))
    script("zsh", fdir .. "/_seedance")
    assert.is_true((util.run("zsh -n " .. q(fdir .. "/_seedance"))))
    local ok, out = util.run("zsh -fc " .. q("fpath=(" .. q(fdir) .. " $fpath); autoload -U compinit && compinit -u "
      .. "-D && print -r -- $_comps[seedance]"))
    assert(ok, out)
    assert.equals("_seedance\n", out)
    -- an interactive zsh on a pseudo-terminal (zsh/zpty) lists the choices of a line at TAB
    local harness = dir .. "/complete.zsh"
    local f = assert(io.open(harness, "wb"))
    f:write([=[
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; bindkey '^I' list-choices"
zpty -n -w z "$2"$'\t'
out=""
for i in {1..100}; do
  while zpty -r -t z chunk; do out+="$chunk"; done
  [[ $out == *"$3"* ]] && break
  sleep 0.1
done
zpty -d z
print -r -- "$out"
]=])
    f:close()
    local function choices(line, last)
      local zok, zout = util.run("zsh -f " .. q(harness) .. " " .. q(fdir) .. " " .. q(line) .. " " .. q(last))
      assert(zok, zout)
      return zout
    end
    local subs = choices("seedance gen", "Submit a generation")
    assert.matches("generate[%s%-]+Submit a generation", subs)
    local models = choices("seedance generate --model ", "doubao-seedance-2.0-fast-face")
    for _, m in ipairs(values_of("model")) do assert.truthy(models:find(m, 1, true), m .. " in " .. models) end
    -- #found: a value with a colon (16:9) broke _arguments ("parse error near `(16 )'") #m-cli-completion-colons
    local sizes = choices("seedance generate --size ", "adaptive")
    assert.is_nil(sizes:find("parse error", 1, true), sizes)
    for _, v in ipairs(values_of("size")) do assert.truthy(sizes:find(v, 1, true), v .. " in " .. sizes) end
  end)

  -- fish's completer with the script sourced: complete(line) gives the names `complete -C line`
  -- lists, sorted; nil (the test pending) where fish is not installed.
  local function fish_completer()
    if not has("fish") then
      pending("fish is not installed (sh .ci/install-deps test installs it)")
      return nil
    end
    local file = dir .. "/seedance.fish"
    script("fish", file)
    return function(line)
      local ok, out = util.run("fish --no-config -c " .. q("source " .. q(file) .. "; complete -C " .. q(line)))
      assert(ok, out)
      local names = {}
      for l in out:gmatch("[^\n]+") do names[#names + 1] = l:match("^[^\t]*") end
      table.sort(names)
      return names
    end
  end

  it("fish: complete -C lists a subcommand and the model names #m-cli-completion-values", function()
    local complete = fish_completer()
    if not complete then return end
    assert.same({ "generate" }, complete("seedance gen"))
    local want = { unpack(values_of("model")) }
    table.sort(want)
    assert.same(want, complete("seedance generate --model "))
    local sizes = { unpack(values_of("size")) }
    table.sort(sizes)
    assert.same(sizes, complete("seedance generate --size "))
  end)

  it("#found fish: completes the shell of `seedance completion` and the command of `seedance help` #m-cli-completion-arguments", function()
    local complete = fish_completer()
    if not complete then return end
    assert.same({ "bash", "fish", "zsh" }, complete("seedance completion "))
    local state = {}
    parser.new(state)
    local names = {}
    for name in pairs(state.commands) do names[#names + 1] = name end
    table.sort(names)
    assert.same(names, complete("seedance help "))
  end)
end)
