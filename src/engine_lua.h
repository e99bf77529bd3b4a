/*
 * engine_lua.h: what engine.c (the engine's Lua face) shares with
 * engine_redis.c (its Redis methods): the engine check, the Redis methods and
 * the hand-over of a finished Redis command by next().
 */
#ifndef SD_ENGINE_LUA_H
#define SD_ENGINE_LUA_H

#include <lauxlib.h>
#include <lua.h>

#include "engine_int.h"

/* The open engine at argument 1; raises on a closed one. */
sd_engine *sd_check_engine(lua_State *L);

/* redis_open, redis, redis_close (engine_redis.c), added to the engine's methods. */
extern const luaL_Reg sd_engine_redis_methods[];

/* Push the oldest finished Redis command as next() gives it: 1, or 0 (nothing pushed) when none. */
int sd_engine_next_redis(lua_State *L, sd_engine *e);

/* Set core.redis_features in the module table at the top of the stack. */
void sd_engine_redis_register(lua_State *L);

#endif
