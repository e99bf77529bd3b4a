/*
 * validate_json.c: the JSON text (RFC 8259) of a valid request, written by
 * the validator's walk as it checks each field: validate.c writes each key,
 * and each check writes the value it has just checked, from what it read
 * (no second lua_tolstring, no second look at the table). What is written:
 *   strings     '"' and '\\' escaped, control bytes as \b \f \n \r \t or
 *               \u00XX, valid UTF-8 passed through as it is; a string that
 *               is not valid UTF-8 (a URL: the validator checks the prompt's)
 *               is declined; enum values are written from their word lists
 *   integers    duration and seed, whole and in range once checked, as
 *               decimal integers (no snprintf; never a fraction or exponent)
 *   booleans    true, false
 *   lists       JSON arrays, empty ones too ([]): of URL strings, of
 *               {"url":...,"role":...} and of {"type":...} objects
 * A seedance.file marker is declined: no text, and the caller encodes the
 * request another way (after uploading the file). Keys are written in check
 * order; nothing else can reach the writer, as only a valid request's text is
 * kept.
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"
#include "validate_int.h"

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

void sd_json_begin(sd_vctx *v, sd_json *j, int slot) {
    v->json = j;
    j->base = j->first;
    j->p = j->first; /* each key starts with a comma: the first becomes the opening brace */
    j->end = j->first + SD_JSON_STACK;
    j->slot = slot;
}

int sd_json_grow(sd_vctx *v, size_t n) {
    sd_json *j = v->json;
    size_t used = (size_t)(j->p - j->base), cap = (size_t)(j->end - j->base), want = cap * 2;
    char *b;
    if (n > SIZE_MAX / 4 - used) { /* no Lua string could be this long: the caller falls back */
        sd_json_decline(v);
        return 0;
    }
    if (want < used + n) want = used + n;
    b = (char *)lua_newuserdata(v->L, want); /* may raise a memory error: nothing to free */
    memcpy(b, j->base, used);
    lua_replace(v->L, j->slot); /* the previous userdata, if any, is garbage now */
    j->base = b;
    j->p = b + used;
    j->end = b + want;
    return 1;
}

/*
 * A nonzero word when one of w's bytes needs more than a copy: a control
 * byte (below 0x20), '"' or '\\', or (with high = HIGH) a byte of a multibyte
 * UTF-8 sequence. (w - 0x20..) & ~w has a byte's top bit set for a byte below
 * 0x20 (the word's answer is exact, not each byte's); x ^ c.. has a zero byte
 * where x holds c.
 */
static inline uint64_t special(uint64_t w, uint64_t high) {
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    return (((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) | ((b - ONES) & ~b) | (w & high)) & HIGH;
}

/* The escape of a control byte, '"' or '\\' at out; its length. */
static size_t escape(unsigned char c, char *out) {
    static const char hex[] = "0123456789abcdef";
    static const char two[] = "\0\0\0\0\0\0\0\0btn\0fr"; /* \b \t \n \f \r by byte value */
    out[0] = '\\';
    if (c == '"' || c == '\\') { out[1] = (char)c; return 2; }
    if (c < sizeof two - 1 && two[c]) { out[1] = two[c]; return 2; }
    out[1] = 'u';
    out[2] = '0';
    out[3] = '0';
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
}

/* s[i..len) from the first byte that may need more than a copy, one byte at a time, and the closing quote. */
static void text_slow(sd_vctx *v, const char *s, size_t i, size_t len, int utf8) {
    char *p;
    if (!sd_json_room(v, 6 * (len - i) + 1)) return;
    p = v->json->p;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 && !utf8) {
            size_t count, bad;
            if (!sd_utf8_count(s + i, len - i, &count, &bad)) { /* s[0..i) is ASCII */
                sd_json_decline(v);
                return;
            }
            utf8 = 1;
        }
        if (c < 0x20 || c == '"' || c == '\\') p += escape(c, p);
        else *p++ = (char)c;
    }
    *p++ = '"';
    v->json->p = p;
}

void sd_json_text(sd_vctx *v, const char *s, size_t len, int utf8) {
    const uint64_t high = utf8 ? 0 : HIGH;
    size_t i = 0;
    uint64_t w;
    char *p;
    if (!SD_WRITING(v) || !sd_json_room(v, len + 2)) return;
    p = v->json->p;
    *p++ = '"';
    if (len >= 8) { /* eight plain bytes at a time (most prompts and URLs are plain ASCII) */
        for (; len - i > 8; i += 8, p += 8) {
            memcpy(&w, s + i, 8);
            if (special(w, high)) goto slow;
            memcpy(p, &w, 8);
        }
        memcpy(&w, s + len - 8, 8); /* the last eight, overlapping bytes already copied as they are */
        if (special(w, high)) goto slow;
        memcpy(p - (i + 8 - len), &w, 8);
        p += len - i;
        *p++ = '"';
        v->json->p = p;
        return;
    }
slow:
    v->json->p = p;
    text_slow(v, s, i, len, utf8);
}

void sd_json_integer(sd_vctx *v, double d) {
    char digits[24], *q = digits + sizeof digits;
    unsigned long long u;
    if (!SD_WRITING(v)) return; /* first: d is out of range when the check found a problem */
    u = (unsigned long long)(d < 0 ? -d : d); /* a valid duration or seed: -1 .. 2^32-1 */
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (d < 0) *--q = '-';
    sd_json_put(v, q, (size_t)(digits + sizeof digits - q));
}

void sd_json_decline(sd_vctx *v) {
    v->json = NULL;
    v->declined = 1;
}

int sd_json_finish(sd_vctx *v) {
    sd_json *j = v->json;
    if (!SD_WRITING(v) || !sd_json_room(v, 2)) return 0;
    if (j->p == j->base) *j->p++ = '{'; /* no key: {} */
    j->base[0] = '{';
    *j->p++ = '}';
    lua_pushlstring(v->L, j->base, (size_t)(j->p - j->base));
    return 1;
}
