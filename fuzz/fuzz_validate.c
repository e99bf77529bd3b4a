/*
 * fuzz_validate.c: sd_validate on Lua tables built from the fuzz bytes.
 *
 * The bytes are a small program for a stack machine that builds values in a
 * fresh lua_State: nested tables, keys from the request's key set and
 * arbitrary strings, values of every Lua type (numbers at the edges, long and
 * invalid UTF-8 strings, functions, userdata, threads, light userdata,
 * seedance.file markers), cycles, and metatables whose every metamethod
 * raises. Slot 1 always holds the request table.
 *
 * Properties checked on every input (abort() when one fails):
 * - sd_validate never raises, except a memory error while an allocation
 *   limit is on (some inputs turn one on), and never calls a metamethod;
 * - its answer is a sequence of { field = string, message = string } tables,
 *   at most SD_MAX_PROBLEMS + 1 long, and the count it returns matches;
 * - validating the same table twice gives the same answer;
 * - sd_validate_problems gives the same list, and pushes nothing for a valid
 *   request;
 * - nothing leaks (LeakSanitizer, at lua_close).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "alloc.h"
#include "validate.h"
#include "validate_fields.h"

/* At most this many values on the machine's stack, tables remembered, ops run. */
#define MAX_STACK 48
#define MAX_TABLES 64
#define MAX_OPS 4096
#define MAX_STRING 20000

/* Reading the program. */
typedef struct {
    const uint8_t *p;
    size_t n;
} reader;

static int rd_byte(reader *r, uint8_t *b) {
    if (r->n == 0) return 0;
    *b = *r->p++;
    r->n--;
    return 1;
}

static uint8_t rd_u8(reader *r) {
    uint8_t b = 0;
    rd_byte(r, &b);
    return b;
}

/* Words the validator knows: request keys and item keys (from the field lists of
 * validate_fields.h), advice keys, enum values, URLs. */
/* A string with its length (some hold NUL bytes). */
typedef struct {
    const char *s;
    size_t len;
} word;
#define W(lit) {lit, sizeof(lit) - 1}
#define W_FIELD(name, type, rank, when, check, media, doc) W(#name),
#define W_ITEM(name) W(#name),
static const word WORDS[] = {
    SD_REQUEST_FIELDS(W_FIELD) SD_ROLE_ITEM_FIELDS(W_ITEM) SD_TOOL_ITEM_FIELDS(W_ITEM)
    W("aspect_ratio"), W("audio"), W("camera_fixed"), W("image"), W("images"), W("image_url"),
    W("video"), W("videos"), W("video_url"), W("audio_url"), W("first_frame"), W("last_frame"),
    W("reference_image"), W("ratio"), W("quality"), W("length"), W("seconds"),
    W("doubao-seedance-2.0"), W("doubao-seedance-2.0-fast"), W("doubao-seedance-2.0-face"),
    W("doubao-seedance-2.0-fast-face"), W("doubao-seedance-1.5-pro"), W("16:9"), W("9:16"),
    W("1:1"), W("4:3"), W("3:4"), W("21:9"), W("adaptive"), W("480p"), W("720p"), W("1080p"),
    W("web_search"), W("https://example.com/cat.png"), W("http://h/a.mp4"), W("HTTPS://X"),
    W("http://"), W("https:///x"), W("asset://abc-1.2_3"), W("asset://"), W("asset://a b"),
    W("file:///tmp/x.png"), W("/tmp/x.png"), W("./x.png"), W("data:image/png;base64,AAAA"),
    W("ftp://x/y"), W(""), W(" "), W("\t\n"), W("first"), W("modle"), W("promt"),
    W("\xe5\xb0\x8f\xe7\x8c\xab"), W("\xff\xfe"), W("\xed\xa0\x80"), W("\xc0\x80"), W("a\0b"),
    W("1080P"), W("720")
};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

/* Numbers at the edges of the validator's ranges and of the number types. */
static const double FLOATS[] = {0.0, -0.0, 0.5, 3.999, 4.0, 5.0, 5.5, 15.0, 15.0000001, 16.0, -1.0,
                                -1.5, 4294967295.0, 4294967296.0, 9007199254740993.0, 1e308, -1e308,
                                1e-320, 720.0, 1080.0};

static const lua_Integer INTS[] = {0, 1, 2, 3, 4, 5, 9, 10, 15, 16, -1, -2, 720, 1080,
                                   4294967295LL, 4294967296LL, 2147483647LL, 2147483648LL,
                                   INT64_MAX, INT64_MIN};

/* A metamethod that must never run: the validator uses raw access only. */
static int hostile(lua_State *L) {
    return luaL_error(L, "fuzz: the validator called a metamethod");
}

/* Push a metatable with every metamethod set to hostile(). */
static void push_hostile_mt(lua_State *L) {
    static const char *const events[] = {"__index", "__newindex", "__len", "__pairs", "__eq", "__lt",
                                         "__le", "__concat", "__call", "__tostring", "__name",
                                         "__add", "__unm", "__close", "__mode", NULL};
    lua_createtable(L, 0, 16);
    for (int i = 0; events[i]; i++) {
        if (strcmp(events[i], "__name") == 0) lua_pushliteral(L, "hostile");
        else if (strcmp(events[i], "__mode") == 0) lua_pushliteral(L, "");
        else lua_pushcfunction(L, hostile);
        lua_setfield(L, -2, events[i]);
    }
}

/* Run the program: build values on the Lua stack above slot 1 (the request). */
static void build(lua_State *L, reader *r) {
    int tables[MAX_TABLES]; /* registry refs of the tables made */
    int ntables = 0;
    if (!lua_checkstack(L, MAX_STACK + 40)) abort();
    lua_newtable(L); /* slot 1: the request */
    lua_pushvalue(L, 1);
    tables[ntables++] = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int ops = 0; ops < MAX_OPS; ops++) {
        uint8_t op;
        int top = lua_gettop(L);
        if (!rd_byte(r, &op)) break;
        switch (op % 18) {
        case 0: /* nil */
            if (top < MAX_STACK) lua_pushnil(L);
            break;
        case 1: /* boolean */
            if (top < MAX_STACK) lua_pushboolean(L, rd_u8(r) & 1);
            break;
        case 2: /* an edge integer */
            if (top < MAX_STACK) lua_pushinteger(L, INTS[rd_u8(r) % (sizeof INTS / sizeof INTS[0])]);
            break;
        case 3: { /* an edge float, or 8 raw bytes as a double (NaN, inf, subnormals) */
            uint8_t k = rd_u8(r);
            double d;
            if (top >= MAX_STACK) break;
            if (k < 128) {
                d = FLOATS[k % (sizeof FLOATS / sizeof FLOATS[0])];
            } else {
                uint8_t b[8] = {0};
                for (int i = 0; i < 8; i++) b[i] = rd_u8(r);
                memcpy(&d, b, sizeof d);
            }
            lua_pushnumber(L, d);
            break;
        }
        case 4: { /* a string of the next n bytes */
            size_t n = rd_u8(r);
            if (n > r->n) n = r->n;
            if (top < MAX_STACK) lua_pushlstring(L, (const char *)r->p, n);
            r->p += n;
            r->n -= n;
            break;
        }
        case 5: case 6: /* a known word */
            if (top < MAX_STACK) {
                uint8_t k = rd_u8(r);
                lua_pushlstring(L, WORDS[k % NWORDS].s, WORDS[k % NWORDS].len);
            }
            break;
        case 7: /* a new table */
            if (top < MAX_STACK) {
                lua_newtable(L);
                if (ntables < MAX_TABLES) {
                    lua_pushvalue(L, -1);
                    tables[ntables++] = luaL_ref(L, LUA_REGISTRYINDEX);
                }
            }
            break;
        case 8: case 9: case 10: { /* t[k] = v with t, k, v the top three (t below k below v) */
            if (top >= 4 && lua_type(L, -3) == LUA_TTABLE) {
                int kt = lua_type(L, -2);
                int nan = kt == LUA_TNUMBER && lua_tonumber(L, -2) != lua_tonumber(L, -2);
                if (kt != LUA_TNIL && !nan) lua_rawset(L, -3);
                else lua_pop(L, 2);
            } else if (top >= 2) {
                lua_pop(L, 1);
            }
            break;
        }
        case 11: { /* t[i] = v, i = #t + 1 or a byte */
            if (top >= 3 && lua_type(L, -2) == LUA_TTABLE) {
                uint8_t k = rd_u8(r);
                lua_Integer i = k < 200 ? (lua_Integer)lua_rawlen(L, -2) + 1 : (lua_Integer)(k - 200);
                lua_rawseti(L, -2, i);
            } else if (top >= 2) {
                lua_pop(L, 1);
            }
            break;
        }
        case 12: /* an earlier table (cycles, shared parts) */
            if (top < MAX_STACK) lua_rawgeti(L, LUA_REGISTRYINDEX, tables[rd_u8(r) % ntables]);
            break;
        case 13: /* a seedance.file marker */
            if (top < MAX_STACK) {
                lua_createtable(L, 0, 1);
                lua_pushliteral(L, "cat.png");
                lua_setfield(L, -2, "path");
                luaL_setmetatable(L, SD_FILE_MT);
            }
            break;
        case 14: { /* other types */
            uint8_t k = rd_u8(r);
            if (top >= MAX_STACK) break;
            switch (k % 5) {
            case 0: lua_pushcfunction(L, hostile); break;
            case 1: lua_newuserdata(L, 8); push_hostile_mt(L); lua_setmetatable(L, -2); break;
            case 2: lua_pushlightuserdata(L, NULL); break;
            case 3: lua_newthread(L); break;
            default: lua_pushlightuserdata(L, (void *)L); break;
            }
            break;
        }
        case 15: /* a hostile metatable on the table on top */
            if (top >= 2 && lua_type(L, -1) == LUA_TTABLE) {
                push_hostile_mt(L);
                lua_setmetatable(L, -2);
            }
            break;
        case 16: { /* repeat the string on top (long prompts) */
            uint8_t k = rd_u8(r);
            if (top >= 2 && lua_type(L, -1) == LUA_TSTRING) {
                size_t len;
                const char *s = lua_tolstring(L, -1, &len);
                size_t times = (size_t)k * 32 + 1;
                if (len == 0) break;
                if (len * times > MAX_STRING) times = MAX_STRING / len + 1;
                luaL_Buffer b;
                luaL_buffinit(L, &b);
                for (size_t i = 0; i < times; i++) luaL_addlstring(&b, s, len);
                luaL_pushresult(&b);
                lua_remove(L, -2);
            }
            break;
        }
        default: /* pop */
            if (top >= 2) lua_pop(L, 1);
            break;
        }
    }
    lua_settop(L, 1);
}

/* lua_pcall body: validate the request at 1; leaves the problem list and its count. */
static int run_validate(lua_State *L) {
    int n = sd_validate(L, 1);
    lua_pushinteger(L, n);
    return 2;
}

/* lua_pcall body: sd_validate_problems on the request at 1; its list (or nil) and count. */
static int run_problems(lua_State *L) {
    int top = lua_gettop(L), n = sd_validate_problems(L, 1);
    if (lua_gettop(L) != top + (n > 0)) abort(); /* pushes the list only when there are problems */
    if (n == 0) lua_pushnil(L);
    lua_pushinteger(L, n);
    return 2;
}

/* Check the shape of the problem list at idx against the returned count. */
static void check_list(lua_State *L, int idx, lua_Integer n) {
    if (n < 0 || n > SD_MAX_PROBLEMS + 1) abort();
    if ((lua_Integer)lua_rawlen(L, idx) != n) abort();
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        if (lua_type(L, -1) != LUA_TTABLE) abort();
        lua_getfield(L, -1, "field");
        lua_getfield(L, -2, "message");
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) abort();
        if (lua_rawlen(L, -1) == 0) abort();
        lua_pop(L, 3);
    }
}

/* Whether the problem lists at a and b hold the same fields and messages in order. */
static int same_lists(lua_State *L, int a, int b) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, a);
    if ((lua_Integer)lua_rawlen(L, b) != n) return 0;
    for (lua_Integer i = 1; i <= n; i++) {
        static const char *const keys[] = {"field", "message"};
        for (int k = 0; k < 2; k++) {
            int eq;
            lua_rawgeti(L, a, i);
            lua_getfield(L, -1, keys[k]);
            lua_rawgeti(L, b, i);
            lua_getfield(L, -1, keys[k]);
            eq = lua_rawequal(L, -1, -3);
            lua_pop(L, 4);
            if (!eq) return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    alloc_state a = {-1};
    reader r = {data, size};
    uint8_t mode = rd_u8(&r);
    lua_State *L = lua_newstate(fuzz_alloc, &a);
    int st;
    if (L == NULL) return 0;
    luaL_newmetatable(L, SD_FILE_MT);
    lua_pop(L, 1);
    build(L, &r);

    /* once without a limit: must succeed, twice the same */
    lua_pushcfunction(L, run_validate);
    lua_pushvalue(L, 1);
    st = lua_pcall(L, 1, 2, 0);
    if (st != LUA_OK) {
        fprintf(stderr, "sd_validate raised: %s\n", lua_tostring(L, -1));
        abort();
    }
    check_list(L, 2, lua_tointeger(L, 3));
    lua_pop(L, 1);
    lua_pushcfunction(L, run_validate);
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) abort();
    lua_pop(L, 1);
    if (!same_lists(L, 2, 3)) {
        fprintf(stderr, "sd_validate answered the same request differently\n");
        abort();
    }
    lua_settop(L, 2);
    /* sd_validate_problems: the same list, or nothing for a valid request */
    lua_pushcfunction(L, run_problems);
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) abort();
    if (lua_tointeger(L, -1) != (lua_Integer)lua_rawlen(L, 2)) abort();
    lua_pop(L, 1);
    if (lua_isnil(L, 3) ? lua_rawlen(L, 2) != 0 : !same_lists(L, 2, 3)) {
        fprintf(stderr, "sd_validate_problems and sd_validate disagree\n");
        abort();
    }
    lua_settop(L, 1);

    /* then, for some inputs, with memory running out after a few allocations */
    if (mode & 0x80) {
        lua_pushcfunction(L, run_validate);
        lua_pushvalue(L, 1);
        a.left = mode & 0x3F;
        st = lua_pcall(L, 1, 2, 0);
        a.left = -1;
        if (st != LUA_OK && st != LUA_ERRMEM) {
            fprintf(stderr, "sd_validate raised (status %d): %s\n", st, lua_tostring(L, -1));
            abort();
        }
    }
    lua_close(L);
    return 0;
}
