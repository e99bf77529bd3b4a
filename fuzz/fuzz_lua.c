/*
 * fuzz_lua.c: fuzz targets whose code under test and properties are Lua:
 * built once per script as fuzz_<SCRIPT>, it loads fuzz/<SCRIPT>.lua, which
 * returns run(input); an error raised by run is a crash.
 *
 * - answers (fuzz/answers.lua): what the server sends, through the Lua layer.
 *   The JSON of task answers, error bodies, Retry-After, Content-Range,
 *   Content-Length, ETag and status codes are all read by Lua code
 *   (lua/seedance/http.lua, task.lua, download.lua, client.lua), with
 *   the library's decoder reading the bodies. answers.lua gives the scheduler
 *   a fake engine (and transfer) serving a queue of fake answers decoded from
 *   the fuzz bytes, each handed to Lua whole, and drives the client's calls
 *   (submit, refresh, wait, download, upload, balance) against them, checking
 *   the properties listed there.
 * - parsers (fuzz/parsers.lua): the small readers of untrusted strings:
 *   Retry-After, URLs handed to the engine (seedance.urls on curl_url),
 *   core.json_repair and core.utf8_clean.
 *
 * The Lua interpreter is not instrumented, so libFuzzer would be blind to the
 * Lua branches; a line hook feeds "source:line" hits of the lua/seedance files
 * into libFuzzer's extra counters instead, so new Lua lines count as coverage.
 *
 * REPO (the repository root) and SCRIPT are set by mk/fuzz.mk. One lua_State
 * serves every input (loading the modules takes milliseconds): the scripts
 * make what they need per input, and the modules they use keep no state
 * between calls (answers.lua gives the scheduler its fake engine, transfer and
 * sleep, so no real engine is made).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#if !defined(REPO) || !defined(SCRIPT)
#error "build with -DREPO=\"/path/to/the/repository\" -DSCRIPT=\"answers\""
#endif

int luaopen_seedance_core(lua_State *L);

/* Lua line coverage, in the section libFuzzer reads as extra counters. */
#define COV_SIZE (1 << 16)
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t lua_cov[COV_SIZE];

/* Line hook: count a hit of (source, line) for the project's Lua files. */
static void line_hook(lua_State *L, lua_Debug *ar) {
    const char *s;
    uint32_t h = 2166136261u;
    if (!lua_getinfo(L, "S", ar)) return;
    s = ar->source;
    if (s == NULL || s[0] != '@' || strstr(s, "/lua/seedance/") == NULL) return;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    h ^= (uint32_t)ar->currentline * 2654435761u;
    lua_cov[h % COV_SIZE]++;
}

/* Message handler: the error with a traceback. */
static int traceback(lua_State *L) {
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

static lua_State *L;   /* the state every input runs in */
static int run_ref;    /* registry ref of the script's run(input) */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    L = luaL_newstate();
    if (L == NULL) abort();
    luaL_openlibs(L);
    /* package.path: the in-tree modules only; seedance.core from this binary */
    lua_getglobal(L, "package");
    lua_pushliteral(L, REPO "/lua/?.lua;" REPO "/lua/?/init.lua");
    lua_setfield(L, -2, "path");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_seedance_core);
    lua_setfield(L, -2, "seedance.core");
    lua_pop(L, 2);
    lua_sethook(L, line_hook, LUA_MASKLINE, 0);
    lua_pushcfunction(L, traceback);
    if (luaL_loadfile(L, REPO "/fuzz/" SCRIPT ".lua") != LUA_OK || lua_pcall(L, 0, 1, -2) != LUA_OK ||
        !lua_isfunction(L, -1)) {
        fprintf(stderr, "fuzz_" SCRIPT ": cannot load " SCRIPT ".lua: %s\n", lua_tostring(L, -1));
        abort();
    }
    run_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lua_pushcfunction(L, traceback);
    lua_rawgeti(L, LUA_REGISTRYINDEX, run_ref);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 0, -3) != LUA_OK) {
        fprintf(stderr, "fuzz_" SCRIPT ": a property failed:\n%s\n", lua_tostring(L, -1));
        abort();
    }
    lua_settop(L, 0);
    return 0;
}
