/*
 * bench/lua_prof.c: a Lua 5.4 interpreter for profiling (make bench-tools
 * builds it as build/bench/lua-prof). Debian's /usr/bin/lua5.4 is stripped,
 * so perf, callgrind and massif see only addresses inside it; this one links
 * Debian's own liblua5.4.a (the same Lua 5.4 sources, with their symbols:
 * luaV_execute, luaC_step, singlestep, luaH_resize, ...) and exports the C
 * API (-Wl,-E) so C modules (seedance.core, cjson) load as under lua5.4.
 *
 *   build/bench/lua-prof SCRIPT [ARGS...]
 *
 * Like `lua5.4 SCRIPT ARGS...`: the standard libraries, LUA_PATH and
 * LUA_CPATH, the global `arg` (arg[0] the script, arg[-1] this program), an
 * error printed with its traceback and exit status 1. One more global,
 * valgrind_monitor(COMMAND), runs a valgrind gdbserver monitor command from
 * the script (under valgrind; nothing otherwise): a script takes massif's
 * `detailed_snapshot FILE` at the moment it measures (bench/hold.lua).
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <valgrind/valgrind.h>

/* valgrind_monitor(command) -> true when running under valgrind */
static int monitor(lua_State *L) {
    const char *cmd = luaL_checkstring(L, 1);
    if (RUNNING_ON_VALGRIND) VALGRIND_MONITOR_COMMAND(cmd);
    lua_pushboolean(L, RUNNING_ON_VALGRIND ? 1 : 0);
    return 1;
}

static int traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

int main(int argc, char **argv) {
    lua_State *L;
    int i, status;
    if (argc < 2) {
        fprintf(stderr, "usage: lua-prof SCRIPT [ARGS...]\n");
        return 2;
    }
    L = luaL_newstate();
    if (L == NULL) return 1;
    luaL_openlibs(L);
    lua_pushcfunction(L, monitor);
    lua_setglobal(L, "valgrind_monitor");
    lua_createtable(L, argc, 2);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, traceback);
    status = luaL_loadfile(L, argv[1]);
    if (status == LUA_OK) {
        for (i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
        status = lua_pcall(L, argc - 2, 0, 1);
    }
    if (status != LUA_OK) fprintf(stderr, "lua-prof: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
