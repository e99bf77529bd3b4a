/*
 * engine_lua.h: what the engine's two Lua-facing files share: engine.c (the
 * engine, its generic transfers) and engine_api.c (a client's profile, its
 * API calls and watches).
 */
#ifndef SD_ENGINE_LUA_H
#define SD_ENGINE_LUA_H

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

#endif
