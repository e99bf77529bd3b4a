/*
 * url.h: URLs and HTTP dates as libcurl reads them (core.parse_url, core.getdate).
 */
#ifndef SD_URL_H
#define SD_URL_H

#include <lua.h>

/* Set core.parse_url and core.getdate in the module table at the top of the stack. */
void sd_url_register(lua_State *L);

#endif
