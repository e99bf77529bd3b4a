/*
 * text.h: tolerant text for what servers send (core.utf8_clean, core.json_repair).
 */
#ifndef SD_TEXT_H
#define SD_TEXT_H

#include <lua.h>

/* Set core.utf8_clean and core.json_repair in the module table at the top of the stack. */
void sd_text_register(lua_State *L);

#endif
