/*
 * engine_redis.c: the Lua face of the engine's Redis connections (src/redis.c):
 * eng:redis_open{...}, eng:redis(handle, argv), eng:redis_close(handle), and
 * each finished command as next() hands it over. Like a transfer, a command's
 * result comes back through next() with its id: nothing here waits.
 *
 * A handle is a number (the engine's id of the connection); the engine owns
 * the connection and frees it with itself, so a handle that was never closed
 * leaks nothing past the engine. redis_close on a closed handle is a no-op.
 */
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "engine_int.h"
#include "engine_lua.h"

#ifdef SD_HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif

/* Most arguments of one command. */
#define SD_REDIS_MAX_ARGS 64

/* Deepest nesting of a reply pushed to Lua. */
#define SD_REDIS_MAX_DEPTH 8

/* t[key] as a string or NULL (raises for another type); the value stays on the stack. */
static const char *sd_ropt(lua_State *L, const char *key) {
    lua_getfield(L, 2, key);
    if (lua_isnil(L, -1)) return NULL;
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, 2, lua_pushfstring(L, "field '%s' must be a string, got %s", key, luaL_typename(L, -1)));
    return lua_tostring(L, -1);
}

/* eng:redis_open{ host, port, user, password, tls, ca_file, timeout } -> handle, or nil, message. */
static int sd_engine_redis_open_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_redis_opts o;
    char err[300];
    double port = 0, timeout = 10;
    long long id;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    memset(&o, 0, sizeof o);
    o.host = sd_ropt(L, "host");
    if (o.host == NULL) luaL_argerror(L, 2, "field 'host' must be a string, got nil");
    lua_getfield(L, 2, "port");
    if (lua_type(L, -1) != LUA_TNUMBER || !sd_tointegral(L, -1, &port) || port < 1 || port > 65535)
        luaL_argerror(L, 2, "field 'port' must be an integer from 1 to 65535");
    o.port = (int)port;
    o.user = sd_ropt(L, "user");
    o.password = sd_ropt(L, "password");
    o.ca_file = sd_ropt(L, "ca_file");
    lua_getfield(L, 2, "tls");
    o.tls = lua_toboolean(L, -1);
    lua_getfield(L, 2, "timeout");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0))
            luaL_argerror(L, 2, "field 'timeout' must be a number of seconds > 0");
        timeout = (double)lua_tonumber(L, -1);
    }
    o.timeout_ms = timeout > 86400 ? 86400000L : (long)(timeout * 1000 + 0.5);
    id = sd_engine_redis_open(e, &o, err, sizeof err);
    if (id < 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    sd_pushbig(L, id);
    return 1;
}

/* eng:redis(handle, { "CMD", "arg", ... }) -> id: the command is queued (and sent when it can be). */
static int sd_engine_redis_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    sd_redis *c = sd_engine_redis_find(e, sd_arg_id(L, 2));
    const char *argv[SD_REDIS_MAX_ARGS];
    size_t lens[SD_REDIS_MAX_ARGS], n, i;
    long long id;
    if (c == NULL) return luaL_error(L, "attempt to use a closed redis connection");
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    n = sd_rawlen(L, 3);
    luaL_argcheck(L, n >= 1 && n <= SD_REDIS_MAX_ARGS, 3, "a command of 1 to 64 strings expected");
    luaL_checkstack(L, (int)n + 2, "too many arguments");
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, 3, (int)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            luaL_argerror(L, 3, lua_pushfstring(L, "argument %d must be a string, got %s", (int)i + 1,
                                                luaL_typename(L, -1)));
        argv[i] = lua_tolstring(L, -1, &lens[i]); /* anchored on the stack */
    }
    id = sd_engine_new_id(e);
    if (sd_redis_command(c, id, (int)n, argv, lens) != 0) return luaL_error(L, "not enough memory");
    sd_pushbig(L, id);
    return 1;
}

/* eng:redis_close(handle) -> whether it was open. */
static int sd_engine_redis_close_l(lua_State *L) {
    sd_engine *e = sd_check_engine(L);
    lua_pushboolean(L, sd_engine_redis_close(e, sd_arg_id(L, 2)));
    return 1;
}

#ifdef SD_HAVE_HIREDIS
/* Push a reply as a Lua value: a string (status, string, a nested error), an integer, false (nil), a list. */
static void sd_push_reply(lua_State *L, const redisReply *r, int depth) {
    size_t i;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        sd_pushbig(L, r->integer);
        break;
    case REDIS_REPLY_ARRAY:
        if (depth >= SD_REDIS_MAX_DEPTH) {
            lua_pushboolean(L, 0);
            break;
        }
        luaL_checkstack(L, 4, "reply too deep");
        lua_createtable(L, r->elements > 1 << 20 ? 0 : (int)r->elements, 0);
        for (i = 0; i < r->elements; i++) {
            sd_push_reply(L, r->element[i], depth + 1);
            lua_rawseti(L, -2, (int)i + 1);
        }
        break;
    case REDIS_REPLY_NIL:
        lua_pushboolean(L, 0);
        break;
    default: /* string, status, error */
        lua_pushlstring(L, r->str ? r->str : "", r->len);
        break;
    }
}
#endif

/* Push the result table of a finished command. */
void sd_push_redis(lua_State *L, const sd_redis_result *r) {
    lua_createtable(L, 0, 5);
    sd_pushbig(L, r->id);
    lua_setfield(L, -2, "id");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "redis");
#ifdef SD_HAVE_HIREDIS
    if (r->ok && r->reply->type == REDIS_REPLY_ERROR) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "ok");
        lua_pushliteral(L, "reply");
        lua_setfield(L, -2, "kind");
        lua_pushlstring(L, r->reply->str ? r->reply->str : "", r->reply->len);
        lua_setfield(L, -2, "error");
        return;
    }
    if (r->ok) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "ok");
        sd_push_reply(L, r->reply, 0);
        lua_setfield(L, -2, "reply");
        return;
    }
#endif
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "ok");
    lua_pushstring(L, r->kind ? r->kind : "closed");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, r->error);
    lua_setfield(L, -2, "error");
}

/* __gc of the box holding a result while its table is built (a memory error frees it). */
static int sd_rbox_gc(lua_State *L) {
    sd_redis_result **box = (sd_redis_result **)lua_touserdata(L, 1);
    if (box != NULL) {
        sd_redis_result_free(*box);
        *box = NULL;
    }
    return 0;
}

int sd_engine_next_redis(lua_State *L, sd_engine *e) {
    sd_redis_result **box;
    if (e->redis == NULL) return 0;
    box = (sd_redis_result **)lua_newuserdata(L, sizeof *box);
    *box = NULL;
    luaL_getmetatable(L, "seedance.redis_result");
    lua_setmetatable(L, -2);
    *box = sd_engine_redis_take(e);
    if (*box == NULL) {
        lua_pop(L, 1);
        return 0;
    }
    sd_push_redis(L, *box);
    sd_redis_result_free(*box);
    *box = NULL;
    lua_remove(L, -2);
    return 1;
}

/* core.redis_features() -> whether redis:// journals work, whether rediss:// (TLS) does. */
static int sd_redis_features_l(lua_State *L) {
    lua_pushboolean(L, sd_redis_available());
    lua_pushboolean(L, sd_redis_tls_available());
    return 2;
}

/* core.process() -> this machine's name, this process's id: a worker's name in a shared journal. */
static int sd_process_l(lua_State *L) {
    char host[256];
    sd_host_name(host, sizeof host);
    lua_pushstring(L, host);
    lua_pushinteger(L, (lua_Integer)sd_process_id());
    return 2;
}

const luaL_Reg sd_engine_redis_methods[] = {
    {"redis_open", sd_engine_redis_open_l},
    {"redis", sd_engine_redis_l},
    {"redis_close", sd_engine_redis_close_l},
    {NULL, NULL}};

void sd_engine_redis_register(lua_State *L) {
    if (luaL_newmetatable(L, "seedance.redis_result")) {
        lua_pushcfunction(L, sd_rbox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, sd_redis_features_l);
    lua_setfield(L, -2, "redis_features");
    lua_pushcfunction(L, sd_process_l);
    lua_setfield(L, -2, "process");
}
