/*
 * fuzz_range.c: sd_content_range (src/range.h), the parser of the
 * Content-Range header the engine reads before it appends a 206 answer to a
 * partial file (src/engine_output.c).
 *
 * Properties: no crash or undefined behaviour on any bytes; an accepted range
 * has 0 <= first <= last, last < total (or an unknown total), every number at
 * most 2^53; it agrees with a plain reference reading of the grammar
 * ("bytes" in any case, one space, FIRST-LAST/TOTAL or FIRST-LAST/ and a star,
 * digits only, nothing else); and the canonical rendering of what was
 * accepted parses back to the same numbers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"

/* The reference: the grammar read the plainest way. */
static int reference(const char *s, size_t n, double *f, double *l, double *t) {
    size_t i = 0;
    double *out[3] = {f, l, t};
    int k;
    if (n < 6) return 0;
    for (i = 0; i < 5; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != "bytes"[i]) return 0;
    }
    if (s[5] != ' ') return 0;
    i = 6;
    for (k = 0; k < 3; k++) {
        size_t start = i;
        unsigned long long v = 0; /* at most 2^53 * 10 + 9 before the check stops it: no overflow */
        if (k == 2 && i < n && s[i] == '*' && i + 1 == n) {
            *t = -1;
            return *f <= *l;
        }
        while (i < n && s[i] >= '0' && s[i] <= '9' && v <= 9007199254740992ULL) v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 9007199254740992ULL) return 0;
        *out[k] = (double)v;
        if (k == 0 && (i >= n || s[i++] != '-')) return 0;
        if (k == 1 && (i >= n || s[i++] != '/')) return 0;
    }
    return i == n && *f <= *l && *l < *t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    long long first = -7, last = -7, total = -7;
    double rf = 0, rl = 0, rt = 0;
    int ok = sd_content_range(s, size, &first, &last, &total);
    int ref = reference(s, size, &rf, &rl, &rt);
    if (ok != ref) {
        fprintf(stderr, "parser says %d, reference says %d\n", ok, ref);
        abort();
    }
    if (ok) {
        char canon[96];
        long long f2, l2, t2;
        int n;
        if (first < 0 || first > last || last > SD_RANGE_MAX || (total != -1 && (total <= last || total > SD_RANGE_MAX)))
            abort();
        if ((double)first != rf || (double)last != rl || (double)total != rt) abort();
        if (total < 0) n = snprintf(canon, sizeof canon, "bytes %lld-%lld/*", first, last);
        else n = snprintf(canon, sizeof canon, "bytes %lld-%lld/%lld", first, last, total);
        if (!sd_content_range(canon, (size_t)n, &f2, &l2, &t2) || f2 != first || l2 != last || t2 != total) abort();
    }
    return 0;
}
