/*
 * validate.h: the request validator (API.md sections 1 and 5), walking a Lua
 * request table directly. Shared by seedance.core and the emulator, so the
 * rules live in one place. The request's keys are one list, validate_fields.h.
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

/*
 * The same, but pushes the list only when there are problems: nothing is
 * pushed (and nothing allocated) for a valid request. Returns the count.
 */
int sd_validate_problems(lua_State *L, int idx);

/*
 * The same, and for a valid request also its JSON text, written in the same
 * walk (validate_json.c says what it writes): pushes the problem list when
 * there are problems; else pushes the text and sets *wrote to 1, or pushes
 * nothing and sets *wrote to 0 when the request holds a value the writer
 * declines (a seedance.file marker). Returns the problem count.
 */
int sd_validate_json(lua_State *L, int idx, int *wrote);

/*
 * core.request_fields() -> a new sequence, in documentation order, of
 * { name = "model", type = "string", doc = "..." }: one entry per request key
 * (validate_fields.h), its JSON type and a one-line description.
 */
int sd_request_fields(lua_State *L);

#endif
