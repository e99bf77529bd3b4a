-- mutants/packaging.lua: mutations of the packaging promises: the rocks, what they install, and
-- README's install block (mutants/catalogue.lua says how a row reads). Their specs run make rock,
-- so the mutated tree is a git checkout (git = true), and installs take a while (timeout).
return {
  { name = "rock-install-declares-provided",
    promise = "make rock-install declares the dependencies the Lua already loads as provided, so README's "
      .. "block installs on the first try on Debian (no server asked, nothing reported missing)",
    git = true, timeout = 300,
    file = "mk/rock-install.sh",
    from = [[
    if [ -n "$conf" ] && mkdir -p "$(dirname "$conf")" 2>/dev/null && \
]],
    to = [[
    if false && \
]] },
  { name = "rock-fetches-what-does-not-load",
    promise = "make rock-install leaves to LuaRocks' rocks servers a dependency the Lua cannot load",
    git = true, timeout = 300,
    file = "mk/rock-install.sh",
    from = [[
    if [ "$state" != loads ]; then fetch="$fetch $name"; continue; fi
]],
    to = [[
]] },
  { name = "rockspec-declares-deps",
    promise = "the rock declares lua-cjson and argparse, so a rocks server's install brings them",
    git = true, timeout = 300,
    file = "seedance-scm-1.rockspec",
    from = [[
   "lua-cjson",
   "argparse",   -- the seedance command's parser (Debian: lua-argparse)
]],
    to = [[
]] },
  { name = "rock-carries-docs-examples-types",
    promise = "the installed rock carries the HTML reference, the examples and the LuaLS types",
    git = true, timeout = 300,
    file = "seedance-scm-1.rockspec",
    from = [[
   copy_directories = { "docs", "examples", "types" },
]],
    to = [[
]] },
  { name = "rock-packs-reference",
    promise = "make rock writes the HTML reference with LDoc and packs it into the source rock",
    git = true, timeout = 300,
    file = "mk/rock.mk",
    from = [[
	{ git ls-files -z --cached --others --exclude-standard; find docs -type f -print0; } | \
]],
    to = [[
	{ git ls-files -z --cached --others --exclude-standard; } | \
]] },
  { name = "emulator-rock-own-doc",
    promise = "the emulator rock's documentation is emulator/README.md, not seedance's README",
    git = true, timeout = 300,
    file = "mk/rock.mk",
    from = [[
	cp emulator/README.md "$(EMU_DOC)/README.md"
]],
    to = [[
	cp README.md "$(EMU_DOC)/README.md"
]] },
}
