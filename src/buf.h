/*
 * buf.h: a growable byte buffer with a hard cap, owned by C. Used for
 * response bodies and headers that libcurl callbacks fill without Lua.
 */
#ifndef SD_BUF_H
#define SD_BUF_H

#include <stddef.h>

typedef struct sd_buf {
    char *data;   /* bytes, NUL-terminated when non-NULL; owned */
    size_t len;   /* bytes in use (not counting the NUL) */
    size_t cap;   /* bytes allocated */
    size_t limit; /* most bytes the buffer may hold; 0 = no limit */
} sd_buf;

/* Set up an empty buffer that will hold at most limit bytes (0 = no limit). */
void sd_buf_init(sd_buf *b, size_t limit);

/* Append n bytes. Returns 0, or -1 when the limit would be passed (nothing is
 * appended), or -2 when memory ran out. */
int sd_buf_add(sd_buf *b, const void *p, size_t n);

/* Forget the contents, keeping the memory for reuse. */
void sd_buf_reset(sd_buf *b);

/* Release the memory; the buffer is empty and reusable afterwards. */
void sd_buf_free(sd_buf *b);

#endif
