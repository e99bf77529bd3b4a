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
  { name = "http-fixdate-days",
    promise = "an answer's Date in IMF-fixdate is read without curl_getdate, to the second curl_getdate gives",
    file = "src/url.c",
    from = [[
    return ((((long long)(year - 1970) * 365 + leap + cumulative[mon] + mday - 1) * 24 + hour) * 60 + min) * 60 +
]],
    to = [[
    return ((((long long)(year - 1970) * 365 + leap + cumulative[mon] + mday) * 24 + hour) * 60 + min) * 60 +
]] },
  { name = "http-fixdate-leap",
    promise = "the fast read of an HTTP date counts leap days as curl_getdate does (2000 was one, 2100 is not)",
    file = "src/url.c",
    from = [[
    leap = leap / 4 - leap / 100 + leap / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
]],
    to = [[
    leap = leap / 4 - (1969 / 4);
]] },
  { name = "http-fixdate-zone",
    promise = "a date in another form or zone than IMF-fixdate's GMT is curl_getdate's to read",
    file = "src/url.c",
    from = [[
        s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
]],
    to = [[
        s[22] != ':' || s[25] != ' ')
]] },
  { name = "kind-nofollow",
    promise = "core.kind reports a symbolic link as a link, never what it points to, unless asked to follow",
    file = "src/fs.c",
    from = [[
static int sd_core_kind(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    int follow = lua_toboolean(L, 2);
]],
    to = [[
static int sd_core_kind(lua_State *L) {
    const char *path = sd_checkcstring(L, 1);
    int follow = 1;
]] },
}
