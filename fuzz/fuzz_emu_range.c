/*
 * fuzz_emu_range.c: the emulator's Range parser (emu_range_parse,
 * emulator/parse.c) against a reference written another way.
 *
 * Input: "<size>\n<Range value>" (the size in decimal, at most 15 digits;
 * without a '\n' the size is 4666, a fixture's, and the whole input is the
 * value; a size line with nothing after it is a request with no Range). The
 * value is copied into an allocation of exactly its length plus the NUL, so
 * a read past it is caught.
 *
 * Properties (abort() when one fails):
 * - the answer is EMU_RANGE_OK, _NONE or _BAD, the reference's;
 * - on OK, 0 <= first <= last < size, and first/last are the reference's
 *   (strtoll over spans already checked to be digits, saturating at
 *   LLONG_MAX, the suffix form counted from the end, a last past the end
 *   clamped).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* A span of digits as a number, saturating (strtoll gives LLONG_MAX on overflow). */
static long long number(const char *s, size_t n) {
    char buf[64];
    if (n >= sizeof buf) return LLONG_MAX; /* more than 63 digits: surely past LLONG_MAX, unless zeros lead */
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    return strtoll(buf, NULL, 10);
}

/* Leading zeros do not make a number bigger. */
static long long digits_value(const char *s, size_t n) {
    while (n > 1 && *s == '0') s++, n--;
    return number(s, n);
}

static int ref_range(const char *h, long long size, long long *first, long long *last) {
    const char *spec, *dash;
    size_t a_len, b_len;
    if (!h) return EMU_RANGE_NONE;
    if (strlen(h) < 6) return EMU_RANGE_NONE;
    for (int i = 0; i < 5; i++)
        if (tolower((unsigned char)h[i]) != "bytes"[i]) return EMU_RANGE_NONE;
    if (h[5] != '=') return EMU_RANGE_NONE;
    spec = h + 6;
    if (strchr(spec, ',')) return EMU_RANGE_NONE;
    dash = strchr(spec, '-');
    if (!dash) return EMU_RANGE_BAD;
    a_len = (size_t)(dash - spec);
    b_len = strlen(dash + 1);
    if (strspn(spec, "0123456789") != a_len || strspn(dash + 1, "0123456789") != b_len) return EMU_RANGE_BAD;
    if (a_len == 0) { /* suffix */
        long long n;
        if (b_len == 0) return EMU_RANGE_BAD;
        n = digits_value(dash + 1, b_len);
        if (n == 0 || size <= 0) return EMU_RANGE_BAD;
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return EMU_RANGE_OK;
    }
    long long a = digits_value(spec, a_len), b = b_len ? digits_value(dash + 1, b_len) : LLONG_MAX;
    if (a > b || a >= size) return EMU_RANGE_BAD;
    *first = a;
    *last = b < size ? b : size - 1;
    return EMU_RANGE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    const uint8_t *nl = memchr(data, '\n', n);
    long long size = 4666, first = -7, last = -7, rf = -9, rl = -9;
    char *h = NULL;
    if (nl && nl - data <= 15) {
        size = 0;
        for (const uint8_t *p = data; p < nl; p++) size = size * 10 + (isdigit(*p) ? *p - '0' : 0);
        n -= (size_t)(nl + 1 - data);
        data = nl + 1;
    }
    if (n > 0 || !nl) {
        h = malloc(n + 1);
        if (!h) return 0;
        memcpy(h, data, n);
        h[n] = '\0';
    }
    int got = emu_range_parse(h, size, &first, &last), want = ref_range(h, size, &rf, &rl);
    if (got != want) {
        fprintf(stderr, "range: size %lld, '%s': %d, the reference %d\n", size, h ? h : "(none)", got, want);
        abort();
    }
    if (got == EMU_RANGE_OK && (first < 0 || first > last || last >= size || first != rf || last != rl)) {
        fprintf(stderr, "range: size %lld, '%s': %lld-%lld, the reference %lld-%lld\n", size, h, first, last, rf,
                rl);
        abort();
    }
    free(h);
    return 0;
}
