/*
 * validate_report.c: recording the validator's problems. The list is made at
 * the first problem, and a field's path ("image_with_roles[2].role") and the
 * rendering of a wrong value are built only when a problem is recorded, so a
 * valid request costs none of this.
 */
#include <stdarg.h>
#include <stdio.h>

#include "platform.h"
#include "validate_int.h"

/* Render a path: key, key[index] or key[index].sub. */
static void render_path(char *out, size_t cap, const sd_path *at) {
    if (at->index == 0) snprintf(out, cap, "%s", at->key);
    else if (at->sub == NULL) snprintf(out, cap, "%s[%ld]", at->key, at->index);
    else snprintf(out, cap, "%s[%ld].%s", at->key, at->index, at->sub);
}

/* Record one problem at `at`; fmt and its arguments as lua_pushfstring takes them. */
void sd_problem(sd_vctx *v, const sd_path *at, const char *fmt, ...) {
    lua_State *L = v->L;
    char field[192];
    va_list ap;
    v->count++;
    v->json = NULL; /* an invalid request's JSON text is not written */
    if (v->count > SD_MAX_PROBLEMS) return; /* counted only: the closing entry sums these up */
    if (lua_isnil(L, v->list)) {
        lua_newtable(L);
        lua_replace(L, v->list);
    }
    render_path(field, sizeof field, at);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, field);
    lua_setfield(L, -2, "field");
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_setfield(L, -2, "message");
    lua_rawseti(L, v->list, v->count);
}

/* Describe the value at idx for a message: a type plus a short rendering. */
void sd_describe(lua_State *L, int idx, char *out, size_t cap) {
    switch (lua_type(L, idx)) {
    case LUA_TNIL: snprintf(out, cap, "nil"); break;
    case LUA_TBOOLEAN: snprintf(out, cap, "boolean %s", lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNUMBER: { /* written the same under any locale ("5.5", never "5,5") */
        char n[40];
        sd_format_double(n, sizeof n, "%.14g", (double)lua_tonumber(L, idx));
        snprintf(out, cap, "number %s", n);
        break;
    }
    case LUA_TSTRING: {
        size_t len, n = 0, i;
        const char *s = lua_tolstring(L, idx, &len);
        size_t room = cap > 24 ? cap - 24 : 0, shown = len < 40 ? len : 40;
        if (shown > room) shown = room;
        while (shown < len && shown > 0 && ((unsigned char)s[shown] & 0xC0) == 0x80) shown--;
        n += (size_t)snprintf(out, cap, "string \"");
        for (i = 0; i < shown && n + 5 < cap; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == 0x7F) n += (size_t)snprintf(out + n, cap - n, "\\x%02X", c);
            else out[n++] = (char)c;
        }
        snprintf(out + n, cap - n, "%s\"", shown < len ? "..." : "");
        break;
    }
    case LUA_TLIGHTUSERDATA:
        snprintf(out, cap, "%s", lua_touserdata(L, idx) == NULL ? "null" : "light userdata");
        break;
    default: snprintf(out, cap, "%s", lua_typename(L, lua_type(L, idx))); break;
    }
}

/* Record "must be X, got <value>" for the value at idx. */
void sd_wrong_type(sd_vctx *v, const sd_path *at, int idx, const char *expected) {
    char got[96];
    sd_describe(v->L, idx, got, sizeof got);
    sd_problem(v, at, "must be %s, got %s", expected, got);
}

/* Render a table key for a path: strings as they are (cut short), others in brackets. */
void sd_key_name(lua_State *L, int idx, char *out, size_t cap) {
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        snprintf(out, cap, "%.*s%s", (int)(len < 48 ? len : 48), s, len > 48 ? "..." : "");
    } else if (lua_type(L, idx) == LUA_TNUMBER) { /* the same under any locale ("[1.5]", never "[1,5]") */
        char n[40];
        sd_format_double(n, sizeof n, "%.17g", (double)lua_tonumber(L, idx));
        snprintf(out, cap, "[%s]", n);
    } else {
        snprintf(out, cap, "[%s]", lua_typename(L, lua_type(L, idx)));
    }
}

/* Is the value at idx a seedance.file(path) marker? */
int sd_is_file(lua_State *L, int idx) {
    int yes = 0;
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, SD_FILE_MT);
    yes = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return yes;
}
