/*
 * validate.h: the request validator (API.md sections 1 and 5), walking a Lua
 * request table directly. Shared by seedance.core and the emulator, so the
 * rules live in one place.
 */
#ifndef SD_VALIDATE_H
#define SD_VALIDATE_H

#include <lua.h>

/* Registry name of the metatable that marks seedance.file(path) values. */
#define SD_FILE_MT "seedance.file"

/* At most this many problems are listed; the rest are summed up in one entry. */
#define SD_MAX_PROBLEMS 100

/*
 * Validate the request table at idx. Pushes a list (a Lua sequence) of
 * { field = "image_with_roles[2].role", message = "..." } tables, empty when
 * the request is valid, and returns the number of entries. Never raises on
 * request content (no metamethod is called); only a memory error can raise.
 * The caller checks that idx holds a table.
 */
int sd_validate(lua_State *L, int idx);

#endif
