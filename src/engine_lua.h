/*
 * engine_lua.h: what the engine's Lua-facing files share: engine.c (the
 * engine, its generic transfers), engine_api.c (a client's profile, its API
 * calls), engine_api_watch.c (its watches), engine_api_answer.c (a clean answer's values) and engine_redis.c (its Redis methods: the hand-over of a
 * finished Redis command by next()).
 */
#ifndef SD_ENGINE_LUA_H
#define SD_ENGINE_LUA_H

#include <lauxlib.h>
#include <lua.h>

#include "engine_int.h"

#define SD_ENGINE_MT "seedance.engine"

/* The userdata: a box around the engine, NULL once closed. */
typedef struct sd_engine_box {
    sd_engine *e; /* the engine, or NULL when closed */
} sd_engine_box;

/* The open engine at argument 1; raises on a closed one. */
sd_engine *sd_check_engine(lua_State *L);

/* Push a table of the header lines in raw (lowercased names, trimmed values, repeats joined by LF). */
void sd_push_headers(lua_State *L, const sd_buf *raw);

/* Push the result table of a finished transfer (what eng:next() gives). */
void sd_push_result(lua_State *L, sd_transfer *t);

/* Push the result table of a finished file job. */
void sd_push_job(lua_State *L, const sd_job *j);

/* The methods of engine_api.c. */
int sd_engine_profile_l(lua_State *L);
int sd_engine_api_l(lua_State *L);
int sd_engine_pop_l(lua_State *L);
int sd_engine_take_l(lua_State *L);
int sd_engine_result_l(lua_State *L);
int sd_engine_watch_l(lua_State *L);
int sd_engine_event_l(lua_State *L);
int sd_engine_rearm_l(lua_State *L);
int sd_engine_seen_l(lua_State *L);
int sd_engine_watch_info_l(lua_State *L);
int sd_engine_park_l(lua_State *L);
int sd_engine_parked_l(lua_State *L);
int sd_engine_counts_l(lua_State *L);
int sd_engine_budget_l(lua_State *L);
int sd_engine_stats_l(lua_State *L);

/* Register the profile type and core.poll_delay in the module table at the top of the stack. */
void sd_api_register(lua_State *L);

/* Shared by engine_api.c and engine_api_watch.c (a watch's Lua face). */
/* The profile at argument i, which must belong to engine e (raises otherwise). */
sd_profile *sd_engine_profile(lua_State *L, sd_engine *e, int i);
/* An absolute deadline (core.now() seconds) at argument i as monotonic us, -1 for none. */
long long sd_opt_deadline(lua_State *L, int i);
/* The id at argument i (-1 when it cannot be one). */
long long sd_arg_id(lua_State *L, int i);

/* engine_api_answer.c: push a clean task answer's fields (15 values: true, status, seconds, the
 * service's clock, then the task's fields; 0 when the answer is not clean), or a clean submit's. */
int sd_push_task(lua_State *L, sd_transfer *t, const char *id, size_t id_len);
int sd_push_submit(lua_State *L, sd_transfer *t);

/* redis_open, redis, redis_close (engine_redis.c), added to the engine's methods. */
extern const luaL_Reg sd_engine_redis_methods[];

/* Push the result table of a finished Redis command (what next() and result() give). */
void sd_push_redis(lua_State *L, const sd_redis_result *r);

/* Push the oldest finished Redis command as next() gives it: 1, or 0 (nothing pushed) when none. */
int sd_engine_next_redis(lua_State *L, sd_engine *e);

/* Set core.redis_features in the module table at the top of the stack. */
void sd_engine_redis_register(lua_State *L);

#endif
