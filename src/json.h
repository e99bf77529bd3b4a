/*
 * json.h: JSON read and written without the process's locale (src/json.c):
 * what the library decodes (service answers, journal records, request files)
 * and encodes (journal records, request bodies the validator does not write,
 * the command's --json output). Numbers go through platform.h's
 * sd_strtod and sd_format_double, so a host's LC_NUMERIC (a comma for the
 * decimal point) changes nothing, whenever the host sets it.
 */
#ifndef SD_JSON_H
#define SD_JSON_H

#include <stddef.h>

#include <lua.h>

/* Nesting deeper than this is refused, decoding and encoding alike (lua-cjson's limit). */
#define SD_JSON_MAX_DEPTH 1000

/* Decode text[0..len) (text[len] must be a NUL, as Lua strings have) and push the value:
 * objects and arrays as tables, numbers as floats, null as a NULL light userdata.
 * Returns 1, or 0 with nothing pushed and a message in err. Raises only when Lua's
 * memory runs out (nothing C-owned is held then). */
int sd_json_decode(lua_State *L, const char *text, size_t len, char *err, size_t errlen);

/* Set core.json_decode, core.json_encode and core.json_null in the module table at the top. */
void sd_json_register(lua_State *L);

#endif
