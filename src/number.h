/*
 * number.h: numbers for the library's Lua, read and written without the
 * process's locale (core.tonumber, core.format_number; src/number.c).
 */
#ifndef SD_NUMBER_H
#define SD_NUMBER_H

#include <lua.h>

/* Set core.tonumber and core.format_number in the module table at the top. */
void sd_number_register(lua_State *L);

#endif
