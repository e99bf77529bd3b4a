/*
 * fuzz_json.c: the library's JSON (src/json.c: core.json_decode,
 * core.json_encode), run under a comma locale (de_DE.UTF-8 when the machine
 * has it, as a host may set one) to show that no locale reaches it.
 *
 * Properties checked on every input (abort() when one fails):
 * - decoding arbitrary bytes never raises: a value, or nil and a message
 *   ending "at character N" with N inside the text (+1);
 * - a decoded value that encodes (no NaN or infinity) encodes to text that
 *   decodes again to the same value (numbers to 14 significant digits, as
 *   they are written; objects compared key by key, whatever their order);
 * - that text is strict enough JSON by a reading written here: no raw control
 *   byte or DEL, and outside strings only structure, literals and numbers
 *   made of [-+.0-9eE] (never a comma inside a number);
 * - nothing leaks (LeakSanitizer, at lua_close).
 */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "json.h"

static lua_State *L;

/* The core's json functions in a table at global "json". */
static void setup(void) {
    if (L != NULL) return;
    if (setlocale(LC_ALL, "de_DE.UTF-8") == NULL) setlocale(LC_ALL, "de_DE.utf8");
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    sd_json_register(L);
    lua_setglobal(L, "json");
    /* same(a, b): equal values, numbers to the 14 significant digits they are written with */
    if (luaL_dostring(L, "function same(a, b)\n"
                         "  if type(a) ~= type(b) then return false end\n"
                         "  if type(a) == 'number' then return string.format('%.14g', a) == string.format('%.14g', b) end\n"
                         "  if type(a) ~= 'table' then return a == b end\n"
                         "  for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
                         "  for k in pairs(b) do if a[k] == nil then return false end end\n"
                         "  return true\n"
                         "end") != 0)
        abort();
}

/* Call json.<fn>(value at top), popping it: pushes two results. */
static void call(const char *fn) {
    lua_getglobal(L, "json");
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 2, 0) != 0) {
        fprintf(stderr, "json.%s raised: %s\n", fn, lua_tostring(L, -1));
        abort();
    }
}

/* Strict enough: no raw control byte or DEL anywhere, and outside strings numbers hold only [-+.0-9eE]. */
static void check_text(const char *s, size_t n) {
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            fprintf(stderr, "raw control byte %u at %zu\n", c, i);
            abort();
        }
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (!strchr("{}[]:,-+.0123456789eEtruefalsn", c)) {
            fprintf(stderr, "unexpected byte '%c' outside strings at %zu: %.*s\n", c, i, (int)n, s);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int top;
    setup();
    top = lua_gettop(L);
    lua_pushlstring(L, (const char *)data, size);
    call("json_decode");
    if (lua_isnil(L, -2)) {
        const char *msg = lua_tostring(L, -1);
        const char *at = msg ? strstr(msg, " at character ") : NULL;
        long pos = at ? strtol(at + 14, NULL, 10) : -1;
        if (at == NULL || pos < 1 || (size_t)pos > size + 1) {
            fprintf(stderr, "bad decode message: %s\n", msg ? msg : "(none)");
            abort();
        }
        lua_settop(L, top);
        return 0;
    }
    lua_pop(L, 1);          /* the decoded value v, at top + 1 */
    lua_pushvalue(L, -1);
    call("json_encode");
    if (!lua_isnil(L, -2)) {
        size_t n1;
        const char *t1;
        lua_pop(L, 1);
        t1 = lua_tolstring(L, -1, &n1);
        check_text(t1, n1);
        call("json_decode");  /* decode(encode(v)) */
        if (lua_isnil(L, -2)) {
            fprintf(stderr, "its own text does not decode: %s\n", lua_tostring(L, -1));
            abort();
        }
        lua_pop(L, 1);
        lua_getglobal(L, "same");
        lua_pushvalue(L, top + 1);
        lua_pushvalue(L, -3);
        if (lua_pcall(L, 2, 1, 0) != 0 || !lua_toboolean(L, -1)) {
            fprintf(stderr, "decode(encode(v)) is not v for input %.*s\n", (int)size, (const char *)data);
            abort();
        }
    }
    lua_settop(L, top);
    lua_gc(L, LUA_GCCOLLECT, 0);
    return 0;
}
