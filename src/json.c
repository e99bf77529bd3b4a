/*
 * json.c: core.json_decode, core.json_encode, core.json_null. JSON that a
 * host's locale cannot touch: lua-cjson reads numbers with the C library's
 * strtod and caches the decimal point when it is loaded, so a host that calls
 * os.setlocale("de_DE.UTF-8") after require("seedance") made `{"code":200,`
 * read as the number 200 followed by nothing (the comma taken for a decimal
 * point). Here numbers are read and written through platform.h's
 * sd_strtod and sd_format_double ("C" rules always), and nothing reads or
 * changes the process's locale.
 *
 * What it reads and writes is lua-cjson 2.1's, so every answer, journal and
 * request body reads as it did: numbers decode as floats (NaN, Infinity and
 * hex numbers are read as strtod reads them, and refused when written);
 * strings keep raw bytes, and an escape of half a UTF-16 surrogate pair is an
 * error (the caller repairs such a body: core.json_repair); null is a NULL
 * light userdata (cjson.null is the same value); nesting stops at 1000; a
 * table whose keys are 1..n (with at most as many holes as items, or up to
 * 10) is an array, an empty one an object; numbers are written with %.14g
 * (a Lua integer in full), "/" as "\/", DEL and control bytes as \u00XX.
 *
 * Memory: decoding builds its strings with luaL_Buffer and holds no C memory,
 * so a memory error raised by Lua leaks nothing; encoding writes into a C
 * buffer owned by a userdata whose __gc frees it, for the same reason.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compat.h"
#include "json.h"
#include "platform.h"
#include "utf8.h"

#define SD_JSON_BUF_MT "seedance.jsonbuf"

/* ---- decoding ---------------------------------------------------------------- */

typedef struct sd_jdec {
    lua_State *L;
    const char *s;   /* the text */
    const char *p;   /* where reading stands */
    const char *end; /* one past the last byte (a NUL stands there) */
    int depth;       /* objects and arrays open */
    char *err;       /* the message, on failure */
    size_t errlen;
} sd_jdec;

/* Record a failure at the current position; returns 0. */
static int sd_jfail(sd_jdec *d, const char *what) {
    snprintf(d->err, d->errlen, "%s at character %d", what, (int)(d->p - d->s) + 1);
    return 0;
}

static int sd_jword(const sd_jdec *d, const char *w);

/* lua-cjson's name of the token at the current position (its messages name what they found so). */
static const char *sd_jtoken(const sd_jdec *d) {
    if (d->p >= d->end) return "T_END";
    switch (*d->p) {
    case '{': return "T_OBJ_BEGIN";
    case '}': return "T_OBJ_END";
    case '[': return "T_ARR_BEGIN";
    case ']': return "T_ARR_END";
    case ',': return "T_COMMA";
    case ':': return "T_COLON";
    case '"': return "T_STRING";
    default: break;
    }
    if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9')) return "T_NUMBER";
    if (sd_jword(d, "true") || sd_jword(d, "false")) return "T_BOOLEAN";
    if (sd_jword(d, "null")) return "T_NULL";
    return "invalid token";
}

/* "Expected <what> but found <the token here>" at the current position; returns 0. */
static int sd_jexpected(sd_jdec *d, const char *what) {
    char msg[96];
    snprintf(msg, sizeof msg, "Expected %s but found %s", what, sd_jtoken(d));
    return sd_jfail(d, msg);
}

static void sd_jspace(sd_jdec *d) {
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r')) d->p++;
}

/* Whether the text at p starts with the literal word w (case-sensitive). */
static int sd_jword(const sd_jdec *d, const char *w) {
    size_t n = strlen(w);
    return (size_t)(d->end - d->p) >= n && memcmp(d->p, w, n) == 0;
}

/* Append code point u as UTF-8. */
static void sd_jutf8(luaL_Buffer *b, unsigned long u) {
    char out[4];
    size_t n;
    if (u < 0x80) {
        out[0] = (char)u;
        n = 1;
    } else if (u < 0x800) {
        out[0] = (char)(0xC0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3F));
        n = 2;
    } else if (u < 0x10000) {
        out[0] = (char)(0xE0 | (u >> 12));
        out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        out[2] = (char)(0x80 | (u & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (u >> 18));
        out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
        out[3] = (char)(0x80 | (u & 0x3F));
        n = 4;
    }
    luaL_addlstring(b, out, n);
}

/* A string (d->p at its opening quote): pushes it; 1, or 0 on failure. */
static int sd_jstring(sd_jdec *d) {
    const char *q = ++d->p;
    luaL_Buffer b;
    /* most strings hold no escape: pushed as they are */
    while (q < d->end && *q != '"' && *q != '\\' && *q != '\0') q++;
    if (q < d->end && *q == '"') {
        lua_pushlstring(d->L, d->p, (size_t)(q - d->p));
        d->p = q + 1;
        return 1;
    }
    luaL_buffinit(d->L, &b);
    for (;;) {
        char c;
        if (d->p >= d->end || *d->p == '\0') {
            luaL_pushresult(&b);
            lua_pop(d->L, 1);
            return sd_jfail(d, "Expected value but found unexpected end of string");
        }
        c = *d->p;
        if (c == '"') {
            d->p++;
            luaL_pushresult(&b);
            return 1;
        }
        if (c != '\\') {
            luaL_addchar(&b, c);
            d->p++;
            continue;
        }
        if (d->end - d->p < 2) {
            luaL_pushresult(&b);
            lua_pop(d->L, 1);
            return sd_jfail(d, "Expected value but found unexpected end of string");
        }
        c = d->p[1];
        switch (c) {
        case '"': case '\\': case '/': luaL_addchar(&b, c); d->p += 2; continue;
        case 'b': luaL_addchar(&b, '\b'); d->p += 2; continue;
        case 'f': luaL_addchar(&b, '\f'); d->p += 2; continue;
        case 'n': luaL_addchar(&b, '\n'); d->p += 2; continue;
        case 'r': luaL_addchar(&b, '\r'); d->p += 2; continue;
        case 't': luaL_addchar(&b, '\t'); d->p += 2; continue;
        case 'u': {
            long u = d->end - d->p >= 6 ? sd_hex4((const unsigned char *)d->p + 2) : -1, lo;
            if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF)) goto bad_unicode;
            if (u >= 0xD800 && u <= 0xDBFF) { /* a pair: its low half must follow */
                if (d->end - d->p < 12 || d->p[6] != '\\' || d->p[7] != 'u') goto bad_unicode;
                lo = sd_hex4((const unsigned char *)d->p + 8);
                if (lo < 0xDC00 || lo > 0xDFFF) goto bad_unicode;
                sd_jutf8(&b, 0x10000 + (((unsigned long)u - 0xD800) << 10) + ((unsigned long)lo - 0xDC00));
                d->p += 12;
            } else {
                sd_jutf8(&b, (unsigned long)u);
                d->p += 6;
            }
            continue;
        }
        default:
            luaL_pushresult(&b);
            lua_pop(d->L, 1);
            return sd_jfail(d, "Expected value but found invalid escape code");
        }
    bad_unicode:
        luaL_pushresult(&b);
        lua_pop(d->L, 1);
        return sd_jfail(d, "Expected value but found invalid unicode escape code");
    }
}

/* A number (d->p at its first character): pushes it as a float; 1, or 0. */
static int sd_jnumber(sd_jdec *d) {
    const char *q = d->p;
    char *stop = NULL;
    double v;
    /* whole numbers of up to 15 digits (most of what a service sends) exactly, without strtod */
    int neg = *q == '-';
    if (neg) q++;
    if (q < d->end && *q >= '0' && *q <= '9' && !(*q == '0' && q + 1 < d->end && (q[1] == 'x' || q[1] == 'X'))) {
        const char *r = q;
        double whole = 0;
        while (r < d->end && *r >= '0' && *r <= '9' && r - q < 15) whole = whole * 10 + (*r++ - '0');
        if (r >= d->end || !(*r == '.' || *r == 'e' || *r == 'E' || (*r >= '0' && *r <= '9') || *r == 'x' ||
                             *r == 'X')) {
            lua_pushnumber(d->L, (lua_Number)(neg ? -whole : whole));
            d->p = r;
            return 1;
        }
    }
    v = sd_strtod(d->p, &stop);
    if (stop == NULL || stop == d->p || stop > d->end) {
        /* a word that is no number (nul, Infinite) is an invalid token, as lua-cjson says */
        if (*d->p != '-' && (*d->p < '0' || *d->p > '9')) return sd_jexpected(d, "value");
        return sd_jfail(d, "Expected value but found invalid number");
    }
    d->p = stop;
    lua_pushnumber(d->L, (lua_Number)v);
    return 1;
}

static int sd_jvalue(sd_jdec *d);

/* An object (d->p at '{'): pushes a table; 1, or 0. */
static int sd_jobject(sd_jdec *d) {
    lua_newtable(d->L);
    d->p++;
    sd_jspace(d);
    if (d->p < d->end && *d->p == '}') {
        d->p++;
        return 1;
    }
    for (;;) {
        if (d->p >= d->end || *d->p != '"') return sd_jexpected(d, "object key string");
        if (!sd_jstring(d)) return 0;
        sd_jspace(d);
        if (d->p >= d->end || *d->p != ':') {
            lua_pop(d->L, 1);
            return sd_jexpected(d, "colon");
        }
        d->p++;
        if (!sd_jvalue(d)) {
            lua_pop(d->L, 1);
            return 0;
        }
        lua_rawset(d->L, -3);
        sd_jspace(d);
        if (d->p < d->end && *d->p == ',') {
            d->p++;
            sd_jspace(d);
            continue;
        }
        if (d->p < d->end && *d->p == '}') {
            d->p++;
            return 1;
        }
        return sd_jexpected(d, "comma or object end");
    }
}

/* An array (d->p at '['): pushes a table; 1, or 0. */
static int sd_jarray(sd_jdec *d) {
    int i = 1;
    lua_newtable(d->L);
    d->p++;
    sd_jspace(d);
    if (d->p < d->end && *d->p == ']') {
        d->p++;
        return 1;
    }
    for (;;) {
        if (!sd_jvalue(d)) return 0;
        lua_rawseti(d->L, -2, i++);
        sd_jspace(d);
        if (d->p < d->end && *d->p == ',') {
            d->p++;
            continue;
        }
        if (d->p < d->end && *d->p == ']') {
            d->p++;
            return 1;
        }
        return sd_jexpected(d, "comma or array end");
    }
}

/* Any value: pushes it; 1, or 0 with nothing left pushed by it. */
static int sd_jvalue(sd_jdec *d) {
    int ok;
    sd_jspace(d);
    if (d->p >= d->end) return sd_jexpected(d, "value");
    switch (*d->p) {
    case '{':
    case '[':
        if (++d->depth > SD_JSON_MAX_DEPTH) return sd_jfail(d, "Found too many nested data structures");
        if (!lua_checkstack(d->L, 4)) return sd_jfail(d, "Found too many nested data structures");
        ok = *d->p == '{' ? sd_jobject(d) : sd_jarray(d);
        d->depth--;
        if (!ok) lua_pop(d->L, 1);
        return ok;
    case '"':
        return sd_jstring(d);
    case 't':
        if (!sd_jword(d, "true")) break;
        d->p += 4;
        lua_pushboolean(d->L, 1);
        return 1;
    case 'f':
        if (!sd_jword(d, "false")) break;
        d->p += 5;
        lua_pushboolean(d->L, 0);
        return 1;
    case 'n':
        if (sd_jword(d, "null")) {
            d->p += 4;
            lua_pushlightuserdata(d->L, NULL);
            return 1;
        }
        return sd_jnumber(d); /* nan, as strtod reads it */
    default:
        if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9') || *d->p == 'N' || *d->p == 'I' || *d->p == 'i')
            return sd_jnumber(d);
        break;
    }
    return sd_jexpected(d, "value");
}

int sd_json_decode(lua_State *L, const char *text, size_t len, char *err, size_t errlen) {
    sd_jdec d;
    d.L = L;
    d.s = d.p = text;
    d.end = text + len;
    d.depth = 0;
    d.err = err;
    d.errlen = errlen;
    if (!lua_checkstack(L, 8)) return sd_jfail(&d, "Found too many nested data structures");
    if (!sd_jvalue(&d)) return 0;
    sd_jspace(&d);
    if (d.p < d.end) {
        lua_pop(L, 1);
        return sd_jexpected(&d, "the end");
    }
    return 1;
}

/* core.json_decode(text) -> value | nil, message. Never raises on content. */
static int sd_core_json_decode(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char err[160];
    lua_settop(L, 1);
    if (sd_json_decode(L, s, len, err, sizeof err)) return 1;
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

/* ---- encoding ---------------------------------------------------------------- */

/* Escapes of the bytes below 0x80 (NULL: written as is), lua-cjson's: control bytes and DEL as \u00XX,
 * the quote, the backslash and the slash escaped. */
static const char *const sd_jescapes[128] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    NULL, NULL, "\\\"", NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, "\\/",
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, "\\\\", NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, "\\u007f",
};

static const char *sd_jescape(unsigned char c) {
    return c < 128 ? sd_jescapes[c] : NULL;
}

typedef struct sd_jenc {
    lua_State *L;
    sd_buf *out;
    char *err;
    size_t errlen;
} sd_jenc;

/* Append bytes; 1, or 0 when memory ran out. */
static int sd_jput(sd_jenc *e, const char *p, size_t n) {
    if (sd_buf_add(e->out, p, n) == 0) return 1;
    snprintf(e->err, e->errlen, "not enough memory");
    return 0;
}

static int sd_jput_string(sd_jenc *e, const char *s, size_t n) {
    size_t i, from = 0;
    if (!sd_jput(e, "\"", 1)) return 0;
    for (i = 0; i < n; i++) {
        const char *esc = sd_jescape((unsigned char)s[i]);
        if (esc == NULL) continue;
        if (!sd_jput(e, s + from, i - from) || !sd_jput(e, esc, strlen(esc))) return 0;
        from = i + 1;
    }
    return sd_jput(e, s + from, n - from) && sd_jput(e, "\"", 1);
}

/* Append the number at idx; 1, or 0 (NaN and infinities are not JSON). */
static int sd_jput_number(sd_jenc *e, int idx) {
    char text[64];
    int n;
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(e->L, idx)) {
        n = snprintf(text, sizeof text, "%lld", (long long)lua_tointeger(e->L, idx));
        return sd_jput(e, text, (size_t)n);
    }
#endif
    {
        double d = (double)lua_tonumber(e->L, idx);
        if (!isfinite(d)) {
            snprintf(e->err, e->errlen, "Cannot serialise number: must not be NaN or Inf");
            return 0;
        }
        n = sd_format_double(text, sizeof text, "%.14g", d);
        if (n <= 0 || (size_t)n >= sizeof text) {
            snprintf(e->err, e->errlen, "Cannot serialise number");
            return 0;
        }
        return sd_jput(e, text, (size_t)n);
    }
}

/* The length of the table at idx as an array (lua-cjson's rule), 0 for an object, -1 for a too sparse one. */
static long long sd_jarray_length(lua_State *L, int idx) {
    long long max = 0, items = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        double k;
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER || !sd_tointegral(L, -1, &k) || k < 1 || k > 9007199254740992.0) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > (double)max) max = (long long)k;
        items++;
    }
    if (max > items * 2 && max > 10) return -1;
    return max;
}

static int sd_jput_value(sd_jenc *e, int idx, int depth);

static int sd_jput_table(sd_jenc *e, int idx, int depth) {
    lua_State *L = e->L;
    long long n, i;
    int first = 1;
    if (depth > SD_JSON_MAX_DEPTH || !lua_checkstack(L, 6)) {
        snprintf(e->err, e->errlen, "Cannot serialise, excessive nesting (%d)", depth);
        return 0;
    }
    n = sd_jarray_length(L, idx);
    if (n < 0) {
        snprintf(e->err, e->errlen, "Cannot serialise table: excessively sparse array");
        return 0;
    }
    if (n > 0) {
        if (!sd_jput(e, "[", 1)) return 0;
        for (i = 1; i <= n; i++) {
            int ok;
            if (i > 1 && !sd_jput(e, ",", 1)) return 0;
            lua_rawgeti(L, idx, (int)i);
            ok = sd_jput_value(e, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
            if (!ok) return 0;
        }
        return sd_jput(e, "]", 1);
    }
    if (!sd_jput(e, "{", 1)) return 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int kt = lua_type(L, -2), ok;
        if (!first && !sd_jput(e, ",", 1)) ok = 0;
        else if (kt == LUA_TSTRING) {
            size_t len;
            const char *k = lua_tolstring(L, -2, &len);
            ok = sd_jput_string(e, k, len);
        } else if (kt == LUA_TNUMBER) {
            ok = sd_jput(e, "\"", 1) && sd_jput_number(e, lua_gettop(L) - 1) && sd_jput(e, "\"", 1);
        } else {
            snprintf(e->err, e->errlen, "Cannot serialise %s: table key must be a number or string",
                     lua_typename(L, kt));
            ok = 0;
        }
        ok = ok && sd_jput(e, ":", 1) && sd_jput_value(e, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
        if (!ok) {
            lua_pop(L, 1);
            return 0;
        }
        first = 0;
    }
    return sd_jput(e, "}", 1);
}

static int sd_jput_value(sd_jenc *e, int idx, int depth) {
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return sd_jput(e, "null", 4);
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? sd_jput(e, "true", 4) : sd_jput(e, "false", 5);
    case LUA_TNUMBER:
        return sd_jput_number(e, idx);
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return sd_jput_string(e, s, len);
    }
    case LUA_TTABLE:
        return sd_jput_table(e, idx, depth);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) return sd_jput(e, "null", 4);
        /* fall through */
    default:
        snprintf(e->err, e->errlen, "Cannot serialise %s: type not supported", luaL_typename(L, idx));
        return 0;
    }
}

/* __gc of the buffer box: frees what an encoding raised out of. */
static int sd_jbuf_gc(lua_State *L) {
    sd_buf *b = (sd_buf *)luaL_checkudata(L, 1, SD_JSON_BUF_MT);
    sd_buf_free(b);
    return 0;
}

/* core.json_encode(value) -> text | nil, message. Never raises on content. */
static int sd_core_json_encode(lua_State *L) {
    char err[160];
    sd_jenc e;
    sd_buf *b;
    int ok;
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    b = (sd_buf *)lua_newuserdata(L, sizeof *b);
    sd_buf_init(b, 0);
    luaL_getmetatable(L, SD_JSON_BUF_MT);
    lua_setmetatable(L, -2);
    e.L = L;
    e.out = b;
    e.err = err;
    e.errlen = sizeof err;
    err[0] = '\0';
    ok = sd_jput_value(&e, 1, 1);
    if (!ok) {
        sd_buf_free(b);
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushlstring(L, b->data ? b->data : "", b->len);
    sd_buf_free(b);
    return 1;
}

static const luaL_Reg sd_json_funcs[] = {
    {"json_decode", sd_core_json_decode},
    {"json_encode", sd_core_json_encode},
    {NULL, NULL}};

void sd_json_register(lua_State *L) {
    if (luaL_newmetatable(L, SD_JSON_BUF_MT)) {
        lua_pushcfunction(L, sd_jbuf_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    sd_setfuncs(L, sd_json_funcs);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "json_null");
}
