/*
 * engine_lua.h: what the engine's Lua-facing files share: engine.c (the
 * engine, its generic transfers), engine_fields.c (its argument tables'
 * fields), engine_api.c (a client's profile, its API calls),
 * engine_api_watch.c (its watches), engine_api_answer.c (a clean answer's
 * values) and engine_redis.c (its Redis methods: the hand-over of a finished
 * Redis command by next()).
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

/* engine_fields.c: the fields of an argument table t (arg: its position, for the error). */
/* Raise "bad argument #arg (field 'key' must be <what>, got <type>)" about the value at the top. */
int sd_field_error(lua_State *L, int arg, const char *key, const char *what);
/* Push t[key] and return it as a string without NULs (any bytes with len), or NULL when nil and not
 * required (a required one missing raises); the value stays on the stack, anchored. */
const char *sd_opt_string(lua_State *L, int t, const char *key, int arg, int required, size_t *len);
/* t[key] as a number >= 0 (def when nil); popped. */
double sd_opt_number(lua_State *L, int t, const char *key, int arg, double def);
/* t[key] as timeout seconds >= 0, math.huge (no limit) as 0, libcurl's "none" (0 when nil); popped. */
double sd_opt_seconds(lua_State *L, int t, const char *key, int arg);
/* t[key] as an integral number >= 0 (def when nil); popped. */
double sd_opt_count(lua_State *L, int t, const char *key, int arg, double def);
/* t[key] as a boolean (false when nil); popped. */
int sd_opt_bool(lua_State *L, int t, const char *key, int arg);
/* Seconds (float) to milliseconds for libcurl, rounded up, capped at LONG_MAX. */
long sd_ms(double s);

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
