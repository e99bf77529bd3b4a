/*
 * fuzz_utf8.c: sd_utf8_count against a reference decoder.
 *
 * The reference follows the Unicode Standard's table of well-formed byte
 * sequences (chapter 3, table 3-7) literally, range by range, where
 * src/utf8.c decodes the code point and then rejects overlongs, surrogates
 * and values past U+10FFFF. Both must agree on every input: valid or not,
 * the code point count, and the offset of the first ill-formed sequence.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "utf8.h"

/* Byte ranges of one well-formed sequence shape (table 3-7). */
typedef struct {
    int len;               /* bytes in the sequence */
    uint8_t lo[4], hi[4];  /* allowed range of each byte */
} shape;

static const shape SHAPES[] = {
    {1, {0x00}, {0x7F}},
    {2, {0xC2, 0x80}, {0xDF, 0xBF}},
    {3, {0xE0, 0xA0, 0x80}, {0xE0, 0xBF, 0xBF}},
    {3, {0xE1, 0x80, 0x80}, {0xEC, 0xBF, 0xBF}},
    {3, {0xED, 0x80, 0x80}, {0xED, 0x9F, 0xBF}},
    {3, {0xEE, 0x80, 0x80}, {0xEF, 0xBF, 0xBF}},
    {4, {0xF0, 0x90, 0x80, 0x80}, {0xF0, 0xBF, 0xBF, 0xBF}},
    {4, {0xF1, 0x80, 0x80, 0x80}, {0xF3, 0xBF, 0xBF, 0xBF}},
    {4, {0xF4, 0x80, 0x80, 0x80}, {0xF4, 0x8F, 0xBF, 0xBF}},
};

/* Length of the well-formed sequence at s[i..n), or 0 when none starts there. */
static int ref_sequence(const uint8_t *s, size_t i, size_t n) {
    for (size_t k = 0; k < sizeof SHAPES / sizeof SHAPES[0]; k++) {
        const shape *sh = &SHAPES[k];
        int ok = (size_t)sh->len <= n - i;
        for (int j = 0; ok && j < sh->len; j++) ok = s[i + j] >= sh->lo[j] && s[i + j] <= sh->hi[j];
        if (ok) return sh->len;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t i = 0, ref_count = 0, count = 12345, bad = 12345;
    int ref_ok = 1, ok;
    while (i < size) {
        int len = ref_sequence(data, i, size);
        if (len == 0) {
            ref_ok = 0;
            break;
        }
        i += (size_t)len;
        ref_count++;
    }
    ok = sd_utf8_count((const char *)data, size, &count, &bad);
    if (ok != ref_ok) {
        fprintf(stderr, "utf8: sd_utf8_count says %s, the reference %s\n", ok ? "valid" : "invalid",
                ref_ok ? "valid" : "invalid");
        abort();
    }
    if (ok && count != ref_count) {
        fprintf(stderr, "utf8: %zu code points, the reference counts %zu\n", count, ref_count);
        abort();
    }
    if (!ok && bad != i) {
        fprintf(stderr, "utf8: first bad byte at %zu, the reference says %zu\n", bad, i);
        abort();
    }
    return 0;
}
