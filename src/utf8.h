/* utf8.h: strict UTF-8 decoding helpers shared by the validator and the emulator. */
#ifndef SD_UTF8_H
#define SD_UTF8_H

#include <stddef.h>

/*
 * Count the Unicode code points of s[0..len). Returns 1 and stores the count
 * in *count when s is valid UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF); returns 0 and stores the byte offset of the first invalid
 * byte in *bad otherwise.
 */
int sd_utf8_count(const char *s, size_t len, size_t *count, size_t *bad);

/* The value of the 4 hex digits at s (a JSON \uXXXX escape's; s has 4 bytes), or -1. */
long sd_hex4(const unsigned char *s);

#endif
