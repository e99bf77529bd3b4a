/* utf8.c: strict UTF-8 validation and code point counting. */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

/* The high bit of each byte of a 64-bit word: set in a word that holds a non-ASCII byte. */
#define HIGH_BITS 0x8080808080808080ULL

int sd_utf8_count(const char *str, size_t len, size_t *count, size_t *bad) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, n = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t need;
        unsigned cp, min;
        if (c < 0x80) {
            uint64_t w;
            /* ASCII runs (most prompts): eight bytes at a time */
            while (len - i >= 8 && (memcpy(&w, s + i, 8), (w & HIGH_BITS) == 0)) { i += 8; n += 8; }
            if (i < len && s[i] < 0x80) { i++; n++; }
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; cp = c & 0x07; min = 0x10000; }
        else goto invalid;
        if (len - i <= need) goto invalid;
        for (size_t k = 1; k <= need; k++) {
            unsigned cc = s[i + k];
            if ((cc & 0xC0) != 0x80) goto invalid;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto invalid;
        i += need + 1;
        n++;
    }
    *count = n;
    return 1;
invalid:
    *bad = i;
    return 0;
}

long sd_hex4(const unsigned char *s) {
    long v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}
