/*
 * compat.h: the one place where Lua 5.1 / 5.2 / 5.3 / 5.4 / LuaJIT differences live.
 * Every C file of the core includes this instead of calling version-specific API.
 */
#ifndef SD_COMPAT_H
#define SD_COMPAT_H

#include <lua.h>
#include <lauxlib.h>
#include <math.h>
#include <string.h>

#if LUA_VERSION_NUM < 502
/* Lua 5.1 and LuaJIT */
#define sd_rawlen(L, i) lua_objlen((L), (i))
#define sd_absindex(L, i) \
    (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
/* luaL_setfuncs with no upvalues is all the core needs */
static inline void sd_setfuncs(lua_State *L, const luaL_Reg *l) {
    for (; l->name != NULL; l++) {
        lua_pushcfunction(L, l->func);
        lua_setfield(L, -2, l->name);
    }
}
#define sd_newlib(L, l) (lua_newtable(L), sd_setfuncs((L), (l)))
#else
#define sd_rawlen(L, i) lua_rawlen((L), (i))
#define sd_absindex(L, i) lua_absindex((L), (i))
#define sd_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#define sd_newlib(L, l) luaL_newlib((L), (l))
#endif

/* The userdata at idx when its metatable is the registry's tname, else NULL (luaL_testudata of 5.2+). */
static inline void *sd_testudata(lua_State *L, int idx, const char *tname) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2)) p = NULL;
    lua_pop(L, 2);
    return p;
}

/* The string argument arg as a C string: raises a bad argument error when it holds a
 * NUL byte, which C would read as its end (a path "a.mp4\0x" would name "a.mp4"). */
static inline const char *sd_checkcstring(lua_State *L, int arg) {
    size_t len;
    const char *s = luaL_checklstring(L, arg, &len);
    if (strlen(s) != len) luaL_argerror(L, arg, "must not contain NUL bytes");
    return s;
}

/* Is the number at idx integral (5 and 5.0 both are)? Stores it in *out. */
static inline int sd_tointegral(lua_State *L, int idx, double *out) {
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx)) {
        *out = (double)lua_tointeger(L, idx);
        return 1;
    }
#endif
    {
        double d = (double)lua_tonumber(L, idx);
        *out = d;
        return isfinite(d) && floor(d) == d;
    }
}

/* Push a whole number that may pass 2^31 (ids, byte counts): an integer where
 * Lua has them, else a float (exact up to 2^53). */
#if LUA_VERSION_NUM >= 503
#define sd_pushbig(L, n) lua_pushinteger((L), (lua_Integer)(n))
#else
#define sd_pushbig(L, n) lua_pushnumber((L), (lua_Number)(n))
#endif

#endif
