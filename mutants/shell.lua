-- mutants/shell.lua: mutations of what the command gives a shell user besides running: the completion
-- scripts and the manual page (mutants/catalogue.lua says how a row reads).
return {
  { name = "cli-completion-values",
    promise = "the completion scripts complete the values of --model, --resolution and --size (the validator's)",
    file = "lua/seedance/cli/parser.lua",
    from = [[
      if complete and f.values then el:choices(f.values) end
]],
    to = [[
      if false and complete and f.values then el:choices(f.values) end
]] },
  { name = "cli-completion-shell",
    promise = "seedance completion bash prints a script bash loads",
    file = "lua/seedance/cli/parser.lua",
    from = [[
    local script = p:get_bash_complete():gsub('\n(    if %[%[ "%$cur" = %-%* %]%]; then)', function(options)
]],
    to = [[
    local script = p:get_zsh_complete():gsub('\n(    if %[%[ "%$cur" = %-%* %]%]; then)', function(options)
]] },
  { name = "man-every-command",
    promise = "the manual page lists every subcommand the root parser has, with its options",
    file = "mk/man.lua",
    from = [[
    for _, e in ipairs(section[2]) do commands[#commands + 1] = e end
]],
    to = [[
    for i, e in ipairs(section[2]) do if i > 1 then commands[#commands + 1] = e end end
]] },
  { name = "man-leading-dot",
    promise = "a README line starting with . or ' is text in the manual page, not a request (groff -ww clean)",
    file = "mk/man.lua",
    from = [[
  if s:match("^[.']") then return "\\&" .. s end
]],
    to = [[
  if false then return "\\&" .. s end
]] },
  { name = "man-non-ascii",
    promise = "non-ASCII text is written as groff's \\[uXXXX], so no preprocessor is needed (groff -ww clean)",
    file = "mk/man.lua",
    from = [[
  return (s:gsub("[\192-\247][\128-\191]*", function(ch)
]],
    to = [[
  return (s:gsub("^NEVER$", function(ch)
]] },
  { name = "man-backslash",
    promise = "a backslash in README text is a backslash in the manual page",
    file = "mk/man.lua",
    from = [[
  s = s:gsub("\\", "\\e")
]],
    to = [[
]] },
  { name = "man-install",
    promise = "make install-man puts the page into MANDIR/man1 (PREFIX/share/man), where man finds it",
    file = "Makefile",
    from = [[
	install -m 644 $(MAN_PAGE) "$(DESTDIR)$(MANDIR)/man1/seedance.1"
]],
    to = [[
	install -m 644 $(MAN_PAGE) "$(DESTDIR)$(MANDIR)/seedance.1"
]] },
  { name = "man-in-rock",
    promise = "the source rock carries the manual page in docs/, installed with the rock's reference",
    git = true, timeout = 300,
    file = "mk/rock.mk",
    from = [[
	        --transform 's|^$(MAN_PAGE)$$|docs/seedance.1|' --transform 's|^|$(ROCK_NAME)/|S' -czf $(ROCK_TGZ)
]],
    to = [[
	        --transform 's|^$(MAN_PAGE)$$|build/man/seedance.1|' --transform 's|^|$(ROCK_NAME)/|S' -czf $(ROCK_TGZ)
]] },
  { name = "cli-completion-arguments",
    promise = "the bash and fish scripts complete the shell of `seedance completion` and the command of `seedance help`",
    file = "lua/seedance/cli/parser.lua",
    from = [[
  local values = { { "completion", M.SHELLS }, { "help", names } }
]],
    to = [[
  local values = {}
]] },
  { name = "man-for-readers",
    promise = "the manual page's DESCRIPTION leaves out README's sentences for the maintainer (spec and source files) "
      .. "and about the page itself",
    file = "mk/man.lua",
    from = [[
    local text = #para > 0 and for_readers(table.concat(para, " ")) or ""
]],
    to = [[
    local text = table.concat(para, " ")
]] },
  { name = "man-environment",
    promise = "help and the manual page list XDG_CONFIG_HOME and the proxy variables among the environment",
    file = "lua/seedance/cli/parser.lua",
    from = [[
  { "XDG_CONFIG_HOME", "where the config file is looked for (default ~/.config)" },
  { "https_proxy", "the proxy (http_proxy for http:// URLs, all_proxy for any); --proxy wins" },
  { "no_proxy", "hosts reached directly, not through a proxy (comma-separated; * for all)" },
]],
    to = [[
]] },
  { name = "cli-completion-colons",
    promise = "the bash and zsh scripts complete a value with a colon (--size 16:9)",
    edits = {
      { file = "lua/seedance/cli/parser.lua", from = [[
    return (p:get_zsh_complete():gsub(": :(%b())", function(list) return ": :" .. list:gsub(":", "\\:") end))
]], to = [[
    return p:get_zsh_complete()
]] },
      { file = "lua/seedance/cli/parser.lua", from = [[
    return (script:gsub("^_seedance%(%)", "_seedance_words()"):gsub("\n(complete %-F _seedance )",
      function(complete) return "\n" .. BASH_COLONS .. "\n" .. complete end))
]], to = [[
    return script
]] },
    } },
}
