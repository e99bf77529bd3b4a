/*
 * buf.c: the growable, capped byte buffer of buf.h.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void sd_buf_init(sd_buf *b, size_t limit) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

int sd_buf_add(sd_buf *b, const void *p, size_t n) {
    size_t need;
    if (n == 0) return 0;
    if (b->limit > 0 && (n > b->limit || b->len > b->limit - n)) return -1;
    if (n > (size_t)-1 - b->len - 1) return -2;
    need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *d;
        while (cap < need) cap = cap > (size_t)-1 / 2 ? need : cap * 2;
        d = realloc(b->data, cap);
        if (d == NULL) return -2;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void sd_buf_reset(sd_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void sd_buf_free(sd_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
