/*
 * text.c: tolerant text for what servers send (core.utf8_clean, core.json_repair).
 * A service message with a bad byte, or a JSON body whose string ends in half
 * of a UTF-16 surrogate pair, is repaired (U+FFFD for what cannot be read)
 * rather than rejected whole: only a string's content is bad, not the answer.
 */
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "text.h"
#include "utf8.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char SD_FFFD[] = "\xEF\xBF\xBD";

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
static size_t sd_utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && s[1] >= 0x90) return 0; /* past U+10FFFF */
        return 4;
    }
    return 0;
}

/* Append s[0..n) to b with every invalid byte replaced by U+FFFD. */
static void sd_add_clean(luaL_Buffer *b, const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t k = sd_utf8_seq(s + i, n - i);
        if (k == 0) {
            luaL_addlstring(b, SD_FFFD, 3);
            i++;
        } else {
            luaL_addlstring(b, (const char *)s + i, k);
            i += k;
        }
    }
}

/* core.utf8_clean(s) -> s itself when it is valid UTF-8, else a copy with each bad byte replaced by U+FFFD. */
static int sd_core_utf8_clean(lua_State *L) {
    size_t n, i = 0;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    while (i < n) {
        size_t k = sd_utf8_seq(s + i, n - i);
        if (k == 0) break;
        i += k;
    }
    if (i == n) {
        lua_settop(L, 1);
        return 1;
    }
    luaL_buffinit(L, &b);
    sd_add_clean(&b, s, n);
    luaL_pushresult(&b);
    return 1;
}

/*
 * core.json_repair(s) -> JSON text whose strings a strict decoder accepts:
 * inside strings, a \u escape of half a surrogate pair without its other half
 * becomes \uFFFD, a byte that is not UTF-8 becomes U+FFFD, and a raw control
 * byte becomes its \u00XX escape. Everything outside strings is copied as it
 * is (a body that is not JSON stays not JSON).
 */
static int sd_core_json_repair(lua_State *L) {
    size_t n, i = 0;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
    int in_string = 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    while (i < n) {
        unsigned char c = s[i];
        if (!in_string) {
            if (c == '"') in_string = 1;
            luaL_addchar(&b, (char)c);
            i++;
        } else if (c == '"') {
            in_string = 0;
            luaL_addchar(&b, '"');
            i++;
        } else if (c == '\\' && i + 1 < n && s[i + 1] == 'u' && i + 6 <= n && sd_hex4(s + i + 2) >= 0) {
            long u = sd_hex4(s + i + 2);
            if (u >= 0xD800 && u <= 0xDBFF && i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u' &&
                sd_hex4(s + i + 8) >= 0xDC00 && sd_hex4(s + i + 8) <= 0xDFFF) {
                luaL_addlstring(&b, (const char *)s + i, 12); /* a whole pair */
                i += 12;
            } else if (u >= 0xD800 && u <= 0xDFFF) {
                luaL_addlstring(&b, "\\uFFFD", 6); /* half a pair */
                i += 6;
            } else {
                luaL_addlstring(&b, (const char *)s + i, 6);
                i += 6;
            }
        } else if (c == '\\' && i + 1 < n) {
            luaL_addlstring(&b, (const char *)s + i, 2); /* any other escape, kept as sent */
            i += 2;
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
            luaL_addlstring(&b, esc, 6);
            i++;
        } else {
            size_t k = sd_utf8_seq(s + i, n - i);
            if (k == 0) {
                luaL_addlstring(&b, SD_FFFD, 3);
                i++;
            } else {
                luaL_addlstring(&b, (const char *)s + i, k);
                i += k;
            }
        }
    }
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg sd_text_funcs[] = {
    {"utf8_clean", sd_core_utf8_clean},
    {"json_repair", sd_core_json_repair},
    {NULL, NULL}};

void sd_text_register(lua_State *L) {
    sd_setfuncs(L, sd_text_funcs);
}
