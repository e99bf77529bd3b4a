/*
 * engine.h: the HTTP engine of seedance.core (libcurl multi, socket interface).
 */
#ifndef SD_ENGINE_H
#define SD_ENGINE_H

#include <lua.h>

/* Set core.engine (the constructor) in the module table at the top of the stack. */
void sd_engine_register(lua_State *L);

#endif
