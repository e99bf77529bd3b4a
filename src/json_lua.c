/*
 * json_lua.c: Lua values from JSON text (json_lua.h), read by json.c: the
 * decimal point of the process locale plays no part.
 */
#include <stdlib.h>

#include "compat.h"
#include "json_lua.h"

/* Push string s decoded (a short one through a buffer on the C stack). */
static void sd_push_str(lua_State *L, const sd_json_str *s) {
    char small[512];
    char *out;
    size_t max, n;
    if (!(s->flags & (SD_JSON_ESCAPED | SD_JSON_REPAIRED))) {
        lua_pushlstring(L, s->raw, s->len);
        return;
    }
    max = SD_JSON_DECODED_MAX(s->len);
    /* a long one is decoded into a userdata, which the collector frees even if the push raises */
    out = max <= sizeof small ? small : (char *)lua_newuserdata(L, max);
    n = sd_json_decode(s, out);
    lua_pushlstring(L, out, n);
    if (out != small) lua_remove(L, -2);
}

int sd_json_push(lua_State *L, sd_json *j) {
    sd_json_str s;
    double d;
    int r;
    lua_Integer i = 0;
    luaL_checkstack(L, 4, "JSON nested too deep");
    switch (sd_json_peek(j)) {
    case SD_JSON_OBJECT:
        if (!sd_json_enter(j)) return 0;
        lua_newtable(L);
        while ((r = sd_json_member(j, &s)) == 1) {
            sd_push_str(L, &s);
            if (!sd_json_push(L, j)) {
                lua_pop(L, 2);
                return 0;
            }
            lua_rawset(L, -3);
        }
        if (r < 0) lua_pop(L, 1);
        return r == 0;
    case SD_JSON_ARRAY:
        if (!sd_json_enter(j)) return 0;
        lua_newtable(L);
        while ((r = sd_json_element(j)) == 1) {
            if (!sd_json_push(L, j)) {
                lua_pop(L, 1);
                return 0;
            }
            lua_rawseti(L, -2, (int)++i);
        }
        if (r < 0) lua_pop(L, 1);
        return r == 0;
    case SD_JSON_STRING:
        if (!sd_json_string(j, &s)) return 0;
        sd_push_str(L, &s);
        return 1;
    case SD_JSON_NUMBER:
        if (!sd_json_number(j, &d)) return 0;
        lua_pushnumber(L, (lua_Number)d);
        return 1;
    case SD_JSON_TRUE:
    case SD_JSON_FALSE:
        r = sd_json_peek(j) == SD_JSON_TRUE;
        if (!sd_json_literal(j)) return 0;
        lua_pushboolean(L, r);
        return 1;
    case SD_JSON_NULL:
        if (!sd_json_literal(j)) return 0;
        lua_pushlightuserdata(L, NULL);
        return 1;
    case SD_JSON_END: break;
    }
    return 0;
}

/*
 * core.json_decode(text) -> value | nil, "not JSON": one JSON value (RFC 8259,
 * nesting at most 64 deep), read without the process locale. Strings are
 * repaired as core.json_repair repairs them (half a surrogate pair and each
 * byte that is not UTF-8 become U+FFFD); null is lua-cjson's null.
 */
static int sd_core_json_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    sd_json j;
    sd_json_init(&j, s, n);
    lua_settop(L, 1);
    if (sd_json_push(L, &j) && sd_json_done(&j)) return 1;
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_pushliteral(L, "not JSON");
    return 2;
}

static const luaL_Reg sd_json_funcs[] = {
    {"json_decode", sd_core_json_decode},
    {NULL, NULL}};

void sd_json_register(lua_State *L) {
    sd_setfuncs(L, sd_json_funcs);
}
