/*
 * core.c: module glue for seedance.core. Exports luaopen_seedance_core only;
 * lua/seedance/init.lua builds the friendly API on top of this table.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "engine.h"
#include "fs.h"
#include "json.h"
#include "number.h"
#include "platform.h"
#include "signals.h"
#include "text.h"
#include "url.h"
#include "validate.h"
#include "validate_models.h"


/* core.validate(request) -> true | nil, problems. Raises only if request is not a table. */
static int sd_core_validate(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (sd_validate_problems(L, 1) == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/*
 * core.validate_encode(request) -> true, json | true | nil, problems: the
 * validator's walk, writing the JSON text of a valid request as it goes
 * (src/validate_json.c). A valid request holding a seedance.file marker gets
 * true alone: its text is for the caller to write once the file is uploaded.
 * Raises only if request is not a table.
 */
static int sd_core_validate_encode(lua_State *L) {
    int wrote, n;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    n = sd_validate_json(L, 1, &wrote);
    if (n > 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    if (!wrote) return 1;
    lua_insert(L, -2);
    return 2;
}

/*
 * core.encode_request(request) -> json | nil: the same text without the
 * problems: nil for a request that is not valid or holds a seedance.file
 * marker (the caller encodes those another way). Raises only if request is
 * not a table.
 */
static int sd_core_encode_request(lua_State *L) {
    int wrote;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (sd_validate_json(L, 1, &wrote) > 0 || !wrote) lua_pushnil(L);
    return 1;
}

/* core.now() -> seconds on a monotonic clock (for deadlines and timers). */
static int sd_core_now(lua_State *L) {
    lua_pushnumber(L, (lua_Number)sd_clock_us() / 1e6);
    return 1;
}

/* core.sleep(seconds): pause the whole thread (used only when nothing is in flight);
 * returns early once a trapped signal has arrived (see signals.c). */
static int sd_core_sleep(lua_State *L) {
    sd_sleep((double)luaL_checknumber(L, 1), sd_signal_caught);
    return 0;
}

/* core.isatty(fd) -> whether fd (1 = stdout, 2 = stderr) is a terminal. */
static int sd_core_isatty(lua_State *L) {
    lua_pushboolean(L, sd_isatty((int)luaL_checkinteger(L, 1)));
    return 1;
}

/* core.terminal_width(fd) -> columns of the terminal at fd, or nil when it is none or does not say. */
static int sd_core_terminal_width(lua_State *L) {
    int w = sd_terminal_width((int)luaL_checkinteger(L, 1));
    if (w > 0) lua_pushinteger(L, w);
    else lua_pushnil(L);
    return 1;
}

/* core.hash(s) -> 16 hex digits of the 64-bit FNV-1a hash of s (request identity, not security). */
static int sd_core_hash(lua_State *L) {
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    unsigned long long h = 14695981039346656037ULL;
    char out[17];
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, sizeof out, "%016llx", h);
    lua_pushlstring(L, out, 16);
    return 1;
}

/* core.file(path) -> a marker telling the client to upload the file at path. */
static int sd_core_file(lua_State *L) {
    luaL_argcheck(L, *sd_checkcstring(L, 1) != '\0', 1, "path must not be empty");
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "path");
    luaL_getmetatable(L, SD_FILE_MT);
    lua_setmetatable(L, -2);
    return 1;
}

/* core.is_file(v) -> whether v was made by core.file. */
static int sd_core_is_file(lua_State *L) {
    int yes = 0;
    if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, SD_FILE_MT);
        yes = lua_rawequal(L, -1, -2);
    }
    lua_pushboolean(L, yes);
    return 1;
}

/* __tostring of file markers: seedance.file("cat.png"). */
static int sd_file_tostring(lua_State *L) {
    lua_pushliteral(L, "path");
    lua_rawget(L, 1);
    lua_pushfstring(L, "seedance.file(\"%s\")", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    return 1;
}

static const luaL_Reg sd_core_funcs[] = {
    {"validate", sd_core_validate},
    {"validate_encode", sd_core_validate_encode},
    {"encode_request", sd_core_encode_request},
    {"request_fields", sd_request_fields},
    {"file", sd_core_file},
    {"is_file", sd_core_is_file},
    {"now", sd_core_now},
    {"sleep", sd_core_sleep},
    {"isatty", sd_core_isatty},
    {"terminal_width", sd_core_terminal_width},
    {"hash", sd_core_hash},
    {NULL, NULL}};

int luaopen_seedance_core(lua_State *L) {
    if (luaL_newmetatable(L, SD_FILE_MT)) {
        lua_pushcfunction(L, sd_file_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "seedance.file");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    sd_newlib(L, sd_core_funcs);
    sd_models_register(L);
    sd_engine_register(L);
    sd_fs_register(L);
    sd_json_register(L);
    sd_number_register(L);
    sd_text_register(L);
    sd_url_register(L);
    sd_signal_register(L);
    return 1;
}
