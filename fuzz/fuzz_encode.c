/*
 * fuzz_encode.c: sd_validate_json, the validator writing a valid request's
 * JSON text in its own walk (src/validate_json.c), against lua-cjson.
 *
 * The bytes drive a generator of requests that are mostly valid, so that the
 * writer runs: for each key of the field table (validate_fields.h) it is
 * absent, a value of its type (enum words, prompts and URLs of fuzz bytes:
 * control bytes, quotes, backslashes, UTF-8 and broken UTF-8, long repeats
 * past the writer's first buffer; edge integers and floats; lists of 0 to 4
 * items, items of every shape; seedance.file markers), or a value of another
 * type; then a few keys from the bytes.
 *
 * Properties checked on every input (abort() when one fails):
 * - sd_validate_json never raises (except a memory error, when the input
 *   turns on an allocation limit); its problems are sd_validate's, and it
 *   leaves exactly one value (the list or the text) or none;
 * - for a valid request it writes the text exactly when the request holds no
 *   seedance.file marker and no string that is not UTF-8 (it declined
 *   otherwise); an invalid request gets no text;
 * - the text is valid JSON by a strict RFC 8259 reading written here (no raw
 *   control byte, valid UTF-8, nothing after the value), an object;
 * - lua-cjson decodes it to the request itself (raw values, 5.0 equal to 5),
 *   and to what lua-cjson's own text of the request decodes to;
 * - nothing leaks (LeakSanitizer, at lua_close).
 * It needs lua-cjson installed for the Lua it links (Debian's lua-cjson).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "utf8.h"
#include "alloc.h"
#include "validate.h"
#include "validate_fields.h"

#define MAX_REPEAT 6000 /* bytes of a repeated string: past the writer's 1024-byte first buffer */

typedef struct {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t rd(reader *r) {
    if (r->n == 0) return 0;
    r->n--;
    return *r->p++;
}

/* Push the next n (a byte) bytes of the input as a string. */
static void push_bytes(lua_State *L, reader *r) {
    size_t n = rd(r);
    if (n > r->n) n = r->n;
    lua_pushlstring(L, (const char *)r->p, n);
    r->p += n;
    r->n -= n;
}

/* Push one of list (NULL-terminated), picked by a byte. */
static void push_word(lua_State *L, reader *r, const char *const *list) {
    int n = 0;
    while (list[n]) n++;
    lua_pushstring(L, list[rd(r) % n]);
}

static const char *const MODELS[] = {"doubao-seedance-2.0", "doubao-seedance-2.0-fast",
                                     "doubao-seedance-2.0-face", "doubao-seedance-2.0-fast-face", NULL};
static const char *const SIZES[] = {"16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive", "16x9", NULL};
static const char *const RESOLUTIONS[] = {"480p", "720p", "1080p", NULL};
static const char *const ROLES[] = {"first_frame", "last_frame", "reference_image", "reference_image", NULL};
static const char *const PROMPTS[] = {"a cat", "\xe5\xb0\x8f\xe7\x8c\xab\xe5\xaf\xb9\xe7\x9d\x80",
                                      "q\"b\\s/\n\t\x01\x1f\x7f caf\xc3\xa9 \xf0\x9f\x98\x80", "", "   ",
                                      "\xe2\x80\xa8\xe2\x80\xa9", "\xff", NULL};
static const char *const URL_HEADS[] = {"https://e.x/", "http://h/", "asset://a", "HTTPS://X/", "ftp://x/", "",
                                        NULL};
static const double FLOATS[] = {5.0, 4.0, 15.0, -0.0, 0.5, 5.5, -1.0, 4294967295.0, 4294967296.0, 1e308, 1e-320};
static const lua_Integer INTS[] = {5, 4, 15, 16, 3, -1, 0, 42, 4294967295LL, 4294967296LL, INT64_MAX, INT64_MIN};

static void push_marker(lua_State *L) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "cat.png");
    lua_setfield(L, -2, "path");
    luaL_setmetatable(L, SD_FILE_MT);
}

/* A string from the input: a word of list, fuzz bytes, or a repeat past the first buffer. */
static void push_text(lua_State *L, reader *r, const char *const *list) {
    uint8_t k = rd(r);
    if (k % 4 == 3) push_bytes(L, r);
    else push_word(L, r, list);
    if (k >= 0xF0) { /* repeat it */
        size_t len, times;
        const char *s = lua_tolstring(L, -1, &len);
        luaL_Buffer b;
        if (len == 0) return;
        times = MAX_REPEAT / len + 1;
        luaL_buffinit(L, &b);
        for (size_t i = 0; i < times; i++) luaL_addlstring(&b, s, len);
        luaL_pushresult(&b);
        lua_remove(L, -2);
    }
}

/* A URL: a scheme and host, then fuzz bytes (or a file marker). */
static void push_url(lua_State *L, reader *r) {
    uint8_t k = rd(r);
    if (k % 16 == 0) {
        push_marker(L);
        return;
    }
    push_word(L, r, URL_HEADS);
    if (k % 3) push_bytes(L, r);
    else push_word(L, r, PROMPTS);
    lua_concat(L, 2);
}

/* A value of another type (or shape) than the key's. */
static void push_odd(lua_State *L, reader *r) {
    switch (rd(r) % 7) {
    case 0: lua_pushinteger(L, INTS[rd(r) % (sizeof INTS / sizeof INTS[0])]); break;
    case 1: lua_pushnumber(L, FLOATS[rd(r) % (sizeof FLOATS / sizeof FLOATS[0])]); break;
    case 2: lua_pushboolean(L, rd(r) & 1); break;
    case 3: push_bytes(L, r); break;
    case 4: push_marker(L); break;
    case 5: lua_createtable(L, 0, 1); lua_pushliteral(L, "x"); lua_setfield(L, -2, "nested"); break;
    default: lua_newtable(L); break;
    }
}

/* An item of a list field: a URL, or an object of roles or tools. */
static void push_item(lua_State *L, reader *r, int field) {
    uint8_t k = rd(r);
    if (field == SD_F_image_urls || field == SD_F_video_urls || field == SD_F_audio_urls) {
        push_url(L, r);
        return;
    }
    if (k % 11 == 0) { push_odd(L, r); return; }
    lua_newtable(L);
    if (field == SD_F_tools) {
        if (k % 5) lua_pushliteral(L, "web_search");
        else push_bytes(L, r);
        lua_setfield(L, -2, "type");
    } else {
        if (k % 7) { push_url(L, r); lua_setfield(L, -2, "url"); }
        if (k % 9) { push_word(L, r, ROLES); lua_setfield(L, -2, "role"); }
    }
    if (k % 13 == 0) { push_bytes(L, r); lua_setfield(L, -2, "extra"); }
}

/* The value of field: of its type (mostly), or odd. */
static void push_value(lua_State *L, reader *r, int field, uint8_t sel) {
    if (sel % 32 == 31) { push_odd(L, r); return; }
    switch (field) {
    case SD_F_model: push_word(L, r, MODELS); break;
    case SD_F_prompt: push_text(L, r, PROMPTS); break;
    case SD_F_size: push_word(L, r, SIZES); break;
    case SD_F_resolution: push_word(L, r, RESOLUTIONS); break;
    case SD_F_duration: case SD_F_seed: { /* mostly in range (4 .. 15, -1 .. 2^32-1), else an edge */
        uint8_t k = rd(r);
        lua_Integer in = field == SD_F_duration ? 4 + k % 12 : (lua_Integer)(k * 16843009LL) - 1;
        if (k % 4 == 0) lua_pushnumber(L, FLOATS[(k >> 2) % (sizeof FLOATS / sizeof FLOATS[0])]);
        else if (k % 4 == 1) lua_pushinteger(L, INTS[(k >> 2) % (sizeof INTS / sizeof INTS[0])]);
        else if (k % 4 == 2) lua_pushnumber(L, (lua_Number)in);
        else lua_pushinteger(L, in);
        break;
    }
    case SD_F_generate_audio: case SD_F_return_last_frame: lua_pushboolean(L, rd(r) & 1); break;
    default: { /* a list of 0 to 4 items, sometimes with a hole or a stray key */
        int n = rd(r) % 5;
        lua_createtable(L, n, 0);
        for (int i = 1; i <= n; i++) {
            push_item(L, r, field);
            lua_rawseti(L, -2, i + (sel % 23 == 0 && i == n));
        }
        if (sel % 29 == 0) { lua_pushboolean(L, 1); lua_setfield(L, -2, "x"); }
    }
    }
}

/* Build the request in slot 1. */
static void build(lua_State *L, reader *r) {
    static const char *const names[] = {
#define FIELD_NAME(name, type, rank, when, check, media, doc) #name,
        SD_REQUEST_FIELDS(FIELD_NAME)
#undef FIELD_NAME
    };
    lua_newtable(L);
    for (int f = 0; f < SD_NFIELDS; f++) {
        uint8_t sel = rd(r);
        int list = f == SD_F_tools || f == SD_F_image_urls || f == SD_F_image_with_roles ||
                   f == SD_F_video_urls || f == SD_F_audio_urls;
        /* absent (a byte of 0, as when the input has run out, gives a valid scalar) */
        if (f == SD_F_model ? sel % 16 == 15 : list ? sel % 4 != 1 : sel % 3 == 2) continue;
        push_value(L, r, f, sel);
        lua_setfield(L, 1, names[f]);
    }
    for (int extra = rd(r) % 8; extra >= 6 && r->n > 0; extra--) { /* a key from the bytes */
        push_bytes(L, r);
        push_odd(L, r);
        if (lua_type(L, -2) == LUA_TSTRING) lua_rawset(L, 1);
        else lua_pop(L, 2);
    }
}

/* ---- a strict RFC 8259 reader: 1 and the end of the value, or 0 ---- */
static size_t ws(const char *s, size_t i, size_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

static int value(const char *s, size_t n, size_t *i, int depth);

static int string(const char *s, size_t n, size_t *i) {
    size_t j = *i + 1;
    if (*i >= n || s[*i] != '"') return 0;
    while (j < n && s[j] != '"') {
        unsigned char c = (unsigned char)s[j];
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (++j >= n) return 0;
            if (s[j] == 'u') {
                for (int k = 1; k <= 4; k++)
                    if (j + k >= n || !strchr("0123456789abcdefABCDEF", s[j + k]) || s[j + k] == 0) return 0;
                j += 4;
            } else if (!strchr("\"\\/bfnrt", s[j]) || s[j] == 0) {
                return 0;
            }
        }
        j++;
    }
    if (j >= n) return 0;
    *i = j + 1;
    return 1;
}

static int number(const char *s, size_t n, size_t *i) {
    size_t j = *i, d;
    if (j < n && s[j] == '-') j++;
    if (j < n && s[j] == '0') {
        j++;
    } else if (j < n && s[j] >= '1' && s[j] <= '9') {
        while (j < n && s[j] >= '0' && s[j] <= '9') j++;
    } else {
        return 0;
    }
    if (j < n && s[j] == '.') {
        for (d = ++j; j < n && s[j] >= '0' && s[j] <= '9'; j++) {}
        if (j == d) return 0;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        if (++j < n && (s[j] == '+' || s[j] == '-')) j++;
        for (d = j; j < n && s[j] >= '0' && s[j] <= '9'; j++) {}
        if (j == d) return 0;
    }
    *i = j;
    return 1;
}

static int members(const char *s, size_t n, size_t *i, int depth, char close) {
    *i = ws(s, *i + 1, n);
    if (*i < n && s[*i] == close) { (*i)++; return 1; }
    for (;;) {
        if (close == '}') {
            if (!string(s, n, i)) return 0;
            *i = ws(s, *i, n);
            if (*i >= n || s[*i] != ':') return 0;
            *i = ws(s, *i + 1, n);
        }
        if (!value(s, n, i, depth + 1)) return 0;
        *i = ws(s, *i, n);
        if (*i < n && s[*i] == ',') { *i = ws(s, *i + 1, n); continue; }
        if (*i < n && s[*i] == close) { (*i)++; return 1; }
        return 0;
    }
}

static int value(const char *s, size_t n, size_t *i, int depth) {
    if (depth > 32 || *i >= n) return 0;
    switch (s[*i]) {
    case '{': return members(s, n, i, depth, '}');
    case '[': return members(s, n, i, depth, ']');
    case '"': return string(s, n, i);
    case 't': if (n - *i >= 4 && memcmp(s + *i, "true", 4) == 0) { *i += 4; return 1; } return 0;
    case 'f': if (n - *i >= 5 && memcmp(s + *i, "false", 5) == 0) { *i += 5; return 1; } return 0;
    case 'n': if (n - *i >= 4 && memcmp(s + *i, "null", 4) == 0) { *i += 4; return 1; } return 0;
    default: return number(s, n, i);
    }
}

static int strict_json_object(const char *s, size_t n) {
    size_t i = ws(s, 0, n), count, bad;
    if (!sd_utf8_count(s, n, &count, &bad) || i >= n || s[i] != '{' || !value(s, n, &i, 0)) return 0;
    return ws(s, i, n) == n;
}

/* ---- comparing Lua values: raw, tables deep, numbers by value ---- */
static int same(lua_State *L, int a, int b, int depth) {
    int t = lua_type(L, a), ok = 1;
    size_t na = 0, nb = 0;
    if (t != lua_type(L, b)) return 0;
    if (t != LUA_TTABLE) return lua_rawequal(L, a, b);
    if (depth > 8) return 0;
    lua_pushnil(L);
    while (lua_next(L, a) != 0) {
        na++;
        lua_pushvalue(L, -2);
        lua_rawget(L, b);
        if (ok && !same(L, lua_gettop(L) - 1, lua_gettop(L), depth + 1)) ok = 0;
        lua_pop(L, 2);
    }
    lua_pushnil(L);
    while (lua_next(L, b) != 0) { nb++; lua_pop(L, 1); }
    return ok && na == nb;
}

/* Does the value at idx hold a seedance.file marker or a string that is not UTF-8? */
static int has_declinable(lua_State *L, int idx, int depth) {
    int found = 0;
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len, count, bad;
        const char *s = lua_tolstring(L, idx, &len);
        return !sd_utf8_count(s, len, &count, &bad);
    }
    if (lua_type(L, idx) != LUA_TTABLE || depth > 4) return 0;
    if (lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        return 1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (!found) found = has_declinable(L, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
    return found;
}

/* lua_pcall bodies: sd_validate_json on the request at 1, with the stack checked; sd_validate. */
static int run_json(lua_State *L) {
    int wrote, top = lua_gettop(L), n = sd_validate_json(L, 1, &wrote);
    if (lua_gettop(L) != top + (n > 0 || wrote)) abort();
    if (n > 0 && wrote) abort();
    if (n == 0 && !wrote) lua_pushnil(L);
    lua_pushinteger(L, n);
    return 2;
}

static int run_validate(lua_State *L) {
    lua_pushinteger(L, sd_validate(L, 1));
    return 2;
}

/* cjson.decode(text at idx) on top, or abort. */
static void decode(lua_State *L, int idx) {
    lua_getfield(L, 2, "decode");
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "lua-cjson cannot decode: %s\n", lua_tostring(L, -1));
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    alloc_state a = {-1};
    reader r = {data, size};
    uint8_t mode = rd(&r);
    lua_State *L = lua_newstate(fuzz_alloc, &a);
    lua_Integer n;
    if (L == NULL) return 0;
    luaL_openlibs(L);
    luaL_newmetatable(L, SD_FILE_MT);
    lua_pop(L, 1);
    build(L, &r); /* slot 1 */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) { /* slot 2 */
        fprintf(stderr, "fuzz_encode needs lua-cjson: %s\n", lua_tostring(L, -1));
        abort();
    }

    lua_pushcfunction(L, run_json);
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
        fprintf(stderr, "sd_validate_json raised: %s\n", lua_tostring(L, -1));
        abort();
    }
    n = lua_tointeger(L, 4); /* slot 3: the problem list, the text or nil */
    lua_settop(L, 3);
    lua_pushcfunction(L, run_validate); /* the same problems as sd_validate */
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK || lua_tointeger(L, 5) != n) abort();
    if (n > 0 && !same(L, 3, 4, 0)) {
        fprintf(stderr, "sd_validate_json and sd_validate list different problems\n");
        abort();
    }
    lua_settop(L, 3);

    if (n == 0) {
        int declinable = has_declinable(L, 1, 0);
        if (lua_isnil(L, 3) != declinable) {
            fprintf(stderr, "valid request %s\n", declinable ? "with a marker or non-UTF-8 string written"
                                                             : "without a marker or non-UTF-8 string declined");
            abort();
        }
        if (!declinable) {
            size_t len;
            const char *text = lua_tolstring(L, 3, &len);
            if (!strict_json_object(text, len)) {
                fprintf(stderr, "not strict JSON: %.*s\n", (int)(len < 400 ? len : 400), text);
                abort();
            }
            decode(L, 3); /* 4: the text decoded */
            if (!same(L, 1, 4, 0)) {
                fprintf(stderr, "the text decodes to another request: %.*s\n", (int)(len < 400 ? len : 400), text);
                abort();
            }
            lua_getfield(L, 2, "encode"); /* 5: lua-cjson's own text, decoded */
            lua_pushvalue(L, 1);
            if (lua_pcall(L, 1, 1, 0) != LUA_OK) abort();
            decode(L, 5);
            if (!same(L, 4, 6, 0)) abort();
        }
    }
    lua_settop(L, 1);

    if (mode & 0x80) { /* memory running out after a few allocations: a memory error at most */
        int st;
        lua_pushcfunction(L, run_json);
        lua_pushvalue(L, 1);
        a.left = mode & 0x3F;
        st = lua_pcall(L, 1, 2, 0);
        a.left = -1;
        if (st != LUA_OK && st != LUA_ERRMEM) {
            fprintf(stderr, "sd_validate_json raised (status %d): %s\n", st, lua_tostring(L, -1));
            abort();
        }
    }
    lua_close(L);
    return 0;
}
