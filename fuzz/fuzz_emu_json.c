/*
 * fuzz_emu_json.c: the emulator's JSON escaping of untrusted bytes
 * (emu_json_escape, emulator/escape.c), which every echo of request bytes
 * into an answer goes through (task ids, filenames, field names).
 *
 * Input: "<cap>\n<bytes>" (cap in decimal, at most 5 digits; without a '\n'
 * the cap is 2048, an error message's); the bytes up to the first NUL are
 * the string, in an allocation of exactly its size.
 *
 * Properties (abort() when one fails):
 * - the answer's length is what it returns, below cap, NUL-terminated;
 * - it is valid UTF-8 with no byte below 0x20 (src/utf8.c, itself fuzzed
 *   against the Unicode table by fuzz_utf8);
 * - read back as JSON string content (every escape a valid \" \\ or \uXXXX),
 *   it is the input with each byte that does not start well-formed UTF-8
 *   replaced by U+FFFD: the whole input when cap is at least 6 bytes per
 *   input byte plus one, else a prefix cut between characters, and cut only
 *   when the next one did not fit.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "utf8.h"

static void fail(const char *what, size_t at) {
    fprintf(stderr, "json escape: %s (at %zu)\n", what, at);
    abort();
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of the well-formed UTF-8 sequence at s[0..n), 0 when none starts there. */
static size_t seq_len(const char *s, size_t n) {
    size_t count, bad;
    for (size_t k = 1; k <= 4 && k <= n; k++)
        if (sd_utf8_count(s, k, &count, &bad) && count == 1) return k;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    const uint8_t *nl = memchr(data, '\n', n);
    size_t cap = 2048, count, bad;
    if (nl && nl - data <= 5) {
        cap = 0;
        for (const uint8_t *p = data; p < nl; p++) cap = cap * 10 + (*p >= '0' && *p <= '9' ? *p - '0' : 0);
        n -= (size_t)(nl + 1 - data);
        data = nl + 1;
    }
    size_t len = strnlen((const char *)data, n);
    char *src = malloc(len + 1), *dst = malloc(cap ? cap : 1);
    if (!src || !dst) abort();
    memcpy(src, data, len);
    src[len] = '\0';
    size_t w = emu_json_escape(dst, cap, src);
    if (cap == 0) {
        if (w != 0) fail("wrote into no room", 0);
        goto out;
    }
    if (w >= cap || dst[w] != '\0' || strlen(dst) != w) fail("length", w);
    if (!sd_utf8_count(dst, w, &count, &bad)) fail("not UTF-8", bad);
    /* read it back, walking the input alongside */
    size_t i = 0, o = 0;
    while (o < w) {
        unsigned char c = (unsigned char)dst[o];
        if (c < 0x20) fail("a raw control byte", o);
        if (c == '"') fail("a raw quote", o);
        if (c == '\\') {
            char e = o + 1 < w ? dst[o + 1] : 0;
            if (e == '"' || e == '\\') {
                if (src[i] != e) fail("an escaped byte the input did not hold", o);
                i++;
                o += 2;
                continue;
            }
            if (e != 'u' || o + 6 > w) fail("a bad escape", o);
            int v = 0;
            for (int k = 2; k < 6; k++) {
                int h = hexval(dst[o + k]);
                if (h < 0) fail("a bad \\u escape", o);
                v = v * 16 + h;
            }
            if (v == 0xFFFD) { /* a byte that starts no well-formed sequence */
                if (seq_len(src + i, len - i) != 0) fail("U+FFFD for a good character", i);
                i++;
            } else {
                if (v >= 0x20 || (unsigned char)src[i] != v) fail("a \\u escape for another byte", i);
                i++;
            }
            o += 6;
            continue;
        }
        size_t k = seq_len(dst + o, w - o);
        if (k == 0 || k > len - i || memcmp(dst + o, src + i, k) != 0) fail("a character the input did not hold", o);
        i += k;
        o += k;
    }
    if (i < len) { /* cut: only when the next unit did not fit */
        size_t k = seq_len(src + i, len - i);
        unsigned char c = (unsigned char)src[i];
        size_t need = k == 0 ? 6 : c == '"' || c == '\\' ? 2 : c < 0x20 ? 6 : k;
        if (cap >= 6 * len + 1) fail("cut with room for everything", i);
        if (w + need < cap) fail("cut though the next character fit", i);
    }
out:
    free(src);
    free(dst);
    return 0;
}
