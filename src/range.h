/*
 * range.h: pure parsing of a Content-Range answer header ("bytes 100-199/1000",
 * "bytes 100-199/" and a star for an unknown total). No Lua, no libcurl, no allocation, so fuzz/fuzz_range.c
 * drives exactly the code engine_output.c runs before it appends a 206 answer
 * to a partial file. Header-only (static inline), like header.h.
 */
#ifndef SD_RANGE_H
#define SD_RANGE_H

#include <stddef.h>

/* Largest byte position accepted: 2^53, far above any file and exact as a Lua number. */
#define SD_RANGE_MAX 9007199254740992LL

/* Read decimal digits at s[*i..n) into *out (at least one, at most SD_RANGE_MAX); 1, or 0. */
static inline int sd_range_number(const char *s, size_t n, size_t *i, long long *out) {
    long long v = 0;
    size_t start = *i;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        if (v > SD_RANGE_MAX) return 0;
        (*i)++;
    }
    *out = v;
    return *i > start;
}

/*
 * Parse s[0..n) as "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/" followed by
 * a star (unit "bytes" in any case, one space, digits only, nothing after).
 * Returns 1 with *first, *last and *total (-1 for the star) when it is one,
 * with FIRST <= LAST and LAST < TOTAL; 0 otherwise ("bytes * /N" answers of a
 * 416 are not ranges and give 0).
 */
static inline int sd_content_range(const char *s, size_t n, long long *first, long long *last, long long *total) {
    static const char unit[] = "bytes ";
    size_t i;
    for (i = 0; i < 6; i++) {
        char c = i < n ? s[i] : '\0';
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != unit[i]) return 0;
    }
    if (!sd_range_number(s, n, &i, first) || i >= n || s[i++] != '-') return 0;
    if (!sd_range_number(s, n, &i, last) || i >= n || s[i++] != '/') return 0;
    if (i < n && s[i] == '*') {
        i++;
        *total = -1;
    } else if (!sd_range_number(s, n, &i, total)) {
        return 0;
    }
    if (i != n || *first > *last) return 0;
    return *total < 0 || *last < *total;
}

#endif
