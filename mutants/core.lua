-- mutants/core.lua: mutations of the core promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "cli-sigxfsz-ignored",
    promise = "a file size limit is a file error naming the task, not death by SIGXFSZ",
    file = "src/signals.c",
    from = [[
        sigaction(SIGXFSZ, &sa, NULL);
]],
    to = [[
        (void)sa;
]] },
  { name = "core-strings-nul",
    promise = "the core refuses a string argument holding a NUL byte where C reads it as a C string",
    file = "src/compat.h",
    from = [[
    if (strlen(s) != len) luaL_argerror(L, arg, "must not contain NUL bytes");
]],
    to = [[
    (void)len;
]] },
  { name = "signal-sleep-returns",
    promise = "core.sleep ends early once a trapped signal came",
    file = "src/core.c",
    from = [[
    sd_sleep((double)luaL_checknumber(L, 1), sd_signal_caught);
]],
    to = [[
    sd_sleep((double)luaL_checknumber(L, 1), NULL);
]] },
}
