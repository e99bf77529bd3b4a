/*
 * engine_fields.c: the fields of a table an engine method takes (core.engine{...}, eng:add{...},
 * eng:job{...}), read and checked before anything is allocated: a wrong type raises Lua's "bad
 * argument" error naming the field. Declared in engine_lua.h.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "compat.h"
#include "engine_lua.h"

/* Raise "bad argument #arg to 'fn' (field 'key' must be <what>, got <type>)"
 * about the value at the top of the stack. */
int sd_field_error(lua_State *L, int arg, const char *key, const char *what) {
    const char *msg = lua_pushfstring(L, "field '%s' must be %s, got %s", key, what, luaL_typename(L, -1));
    return luaL_argerror(L, arg, msg);
}

/* Push t[key] and return it as a string without NULs, or NULL when it is nil
 * (or required and missing: raises). The value stays on the stack, anchored. */
const char *sd_opt_string(lua_State *L, int t, const char *key, int arg, int required, size_t *len) {
    size_t n;
    const char *s;
    lua_getfield(L, t, key);
    if (lua_isnil(L, -1) && !required) {
        if (len) *len = 0;
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING) sd_field_error(L, arg, key, "a string");
    s = lua_tolstring(L, -1, &n);
    if (len != NULL) *len = n;
    else if (strlen(s) != n) luaL_argerror(L, arg, lua_pushfstring(L, "field '%s' must not contain NUL", key));
    return s;
}

/* t[key] as a number >= 0 (def when nil); pops it. */
double sd_opt_number(lua_State *L, int t, const char *key, int arg, double def) {
    double d;
    lua_getfield(L, t, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TNUMBER) sd_field_error(L, arg, key, "a number");
    d = (double)lua_tonumber(L, -1);
    if (!(d >= 0) || isinf(d)) sd_field_error(L, arg, key, "a number >= 0");
    lua_pop(L, 1);
    return d;
}

/* t[key] as seconds for a timeout: a number >= 0, where math.huge (no limit, as the library's deadlines
 * take it) is 0, libcurl's "none" (0 when nil); pops it. */
double sd_opt_seconds(lua_State *L, int t, const char *key, int arg) {
    double d;
    lua_getfield(L, t, key);
    if (lua_type(L, -1) == LUA_TNUMBER && isinf((double)lua_tonumber(L, -1)) && lua_tonumber(L, -1) > 0) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pop(L, 1);
    d = sd_opt_number(L, t, key, arg, 0);
    return d;
}

/* t[key] as an integral number >= 0 (def when nil); pops it. */
double sd_opt_count(lua_State *L, int t, const char *key, int arg, double def) {
    double d = 0;
    lua_getfield(L, t, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TNUMBER || !sd_tointegral(L, -1, &d) || d < 0 || d > 9007199254740992.0)
        sd_field_error(L, arg, key, "an integer >= 0");
    lua_pop(L, 1);
    return d;
}

/* t[key] as a boolean (false when nil); pops it. */
int sd_opt_bool(lua_State *L, int t, const char *key, int arg) {
    int v;
    lua_getfield(L, t, key);
    if (lua_isnil(L, -1)) v = 0;
    else if (lua_type(L, -1) == LUA_TBOOLEAN) v = lua_toboolean(L, -1);
    else return sd_field_error(L, arg, key, "a boolean");
    lua_pop(L, 1);
    return v;
}

/* Seconds (float) to milliseconds for libcurl, rounded up, capped. */
long sd_ms(double s) {
    double ms = ceil(s * 1000.0);
    return ms > (double)LONG_MAX ? LONG_MAX : (long)ms;
}
