/*
 * number.c: core.tonumber and core.format_number, numbers read and written
 * by the library's Lua the same under any locale. Lua's own tostring and
 * string.format of a float follow the process's LC_NUMERIC (Lua 5.2 to 5.4
 * write "1,5" under a comma locale), and Lua 5.1's tonumber reads "1.5" as
 * nothing there; a host may set that locale at any time. These go through
 * platform.h's sd_strtod and sd_format_double, which never read it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "number.h"
#include "platform.h"

/* Whether s[0..len) is a decimal number: optional blanks, a sign, digits with an optional
 * fraction (at least one digit in all), an optional exponent, optional blanks. */
static int sd_decimal(const char *s, size_t len) {
    size_t i = 0, digits = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    if (i < len && (s[i] == '-' || s[i] == '+')) i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++, digits++;
    }
    if (digits == 0) return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+')) i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++, e++;
        if (e == 0) return 0;
    }
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i == len;
}

/* core.tonumber(s) -> number | nil: a decimal number ("1.5", "-2", "3e2", " 7 "), read the same
 * under any locale; nil for anything else (hex, inf, nan, a comma for the decimal point). */
static int sd_core_tonumber(lua_State *L) {
    size_t len;
    const char *s;
    char *end = NULL;
    double d;
    if (lua_type(L, 1) == LUA_TNUMBER) {
        lua_settop(L, 1);
        return 1;
    }
    s = lua_tolstring(L, 1, &len);
    if (s == NULL || lua_type(L, 1) != LUA_TSTRING || !sd_decimal(s, len)) {
        lua_pushnil(L);
        return 1;
    }
    d = sd_strtod(s, &end);
    if (end == s) lua_pushnil(L);
    else lua_pushnumber(L, (lua_Number)d);
    return 1;
}

/* Whether fmt is exactly one floating-point conversion: %[-+ 0#]*[0-9]*(.[0-9]*)?[eEfgG]. */
static int sd_float_format(const char *fmt) {
    const char *p = fmt;
    if (*p++ != '%') return 0;
    while (*p && strchr("-+ 0#", *p)) p++;
    while (*p >= '0' && *p <= '9') p++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (!*p || !strchr("eEfgG", *p)) return 0;
    return p[1] == '\0' && p - fmt < 16;
}

/* core.format_number(fmt, x) -> text: x written with fmt (one conversion: "%.3g", "%.1f") the same under any
 * locale ("1.5", never "1,5"). Raises on a format that is not one floating-point conversion. */
static int sd_core_format_number(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    double x = (double)luaL_checknumber(L, 2);
    char out[512];
    int n;
    luaL_argcheck(L, sd_float_format(fmt), 1, "one floating-point conversion expected (%g, %.1f, ...)");
    n = sd_format_double(out, sizeof out, fmt, x);
    if (n < 0) return luaL_error(L, "cannot format a number");
    lua_pushlstring(L, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
    return 1;
}

static const luaL_Reg sd_number_funcs[] = {
    {"tonumber", sd_core_tonumber},
    {"format_number", sd_core_format_number},
    {NULL, NULL}};

void sd_number_register(lua_State *L) {
    sd_setfuncs(L, sd_number_funcs);
}
