/*
 * json_lua.h: Lua values from the JSON reader of json.h (core.json_decode, and
 * the engine's result objects): tables for objects and arrays, numbers as
 * Lua floats, null as lua-cjson's null (a light userdata NULL), so a value
 * reads as lua-cjson would have read it.
 */
#ifndef SD_JSON_LUA_H
#define SD_JSON_LUA_H

#include <lua.h>

#include "json.h"

/* Push the next value of j; 1, or 0 (nothing pushed) when it is not JSON. */
int sd_json_push(lua_State *L, sd_json *j);

/* Set core.json_decode in the module table at the top of the stack. */
void sd_json_register(lua_State *L);

#endif
