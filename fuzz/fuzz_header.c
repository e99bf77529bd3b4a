/*
 * fuzz_header.c: the response head the server sends, as the engine parses it
 * (src/header.h, the same code sd_header_cb and sd_push_headers run), kept in
 * a capped sd_buf (src/buf.c) the way a transfer keeps it.
 *
 * The first byte picks the header buffer's cap (small caps make the "past
 * the cap" path common); the rest is cut into lines at '\n', each delivered
 * as libcurl delivers header lines: a status line resets the kept headers,
 * any other line is appended. Then every field of the kept bytes is read.
 *
 * Properties (abort() when one fails):
 * - a status line's code is what a plain reading of it gives (reference
 *   below), and lies in 0..9999;
 * - every field's spans lie inside the buffer; the name is not empty, holds
 *   no ':' or '\n', and does not start with SP/HT; the value holds no '\n',
 *   does not start with SP/HT and does not end with CR/SP/HT;
 * - the fields are exactly those a line-by-line reference parse finds;
 * - the buffer never passes its cap, and stays NUL-terminated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "header.h"

/* Reference status code: the digits after "HTTP/<version>" and the spaces
 * after it, read while the value is below 1000 (leading zeros do not count). */
static long ref_status(const char *s, size_t n) {
    const char *p = s + 5, *end = s + n;
    long c = 0;
    p = memchr(p, ' ', (size_t)(end - p));
    if (p == NULL) return 0;
    while (p < end && *p == ' ') p++;
    while (p < end && *p >= '0' && *p <= '9' && c < 1000) c = c * 10 + (*p++ - '0');
    return c;
}

/* Is c a space or a tab? */
static int blank(char c) {
    return c == ' ' || c == '\t';
}

/* Reference parse of one line (without its '\n'): 1 with name/value spans, or 0. */
static int ref_field(const char *line, size_t n, sd_header_field *f) {
    size_t colon = 0, vs, ve;
    while (colon < n && line[colon] != ':') colon++;
    if (colon == n || colon == 0 || blank(line[0])) return 0;
    vs = colon + 1;
    while (vs < n && blank(line[vs])) vs++;
    ve = n;
    while (ve > vs && (blank(line[ve - 1]) || line[ve - 1] == '\r')) ve--;
    f->name = line;
    f->name_len = colon;
    f->value = line + vs;
    f->value_len = ve - vs;
    return 1;
}

/* Check every field of buf[0..len) against the invariants and the reference. */
static void check_fields(const char *buf, size_t len) {
    const char *p = buf, *end = buf ? buf + len : NULL;
    const char *line = buf;
    sd_header_field f, want;
    while (sd_header_next(&p, end, &f)) {
        const char *nl;
        if (f.name < buf || f.name + f.name_len > end || f.value < buf || f.value + f.value_len > end) abort();
        if (f.name_len == 0 || blank(f.name[0])) abort();
        if (memchr(f.name, ':', f.name_len) || memchr(f.name, '\n', f.name_len)) abort();
        if (memchr(f.value, '\n', f.value_len)) abort();
        if (f.value_len > 0 && (blank(f.value[0]) || blank(f.value[f.value_len - 1]) ||
                                f.value[f.value_len - 1] == '\r')) abort();
        /* the reference: the next line (from where the last field's line ended) that is a field */
        for (;;) {
            size_t n;
            if (line >= end) {
                fprintf(stderr, "header: a field the reference does not find\n");
                abort();
            }
            nl = memchr(line, '\n', (size_t)(end - line));
            n = nl ? (size_t)(nl - line) : (size_t)(end - line);
            if (ref_field(line, n, &want)) {
                line = nl ? nl + 1 : end;
                break;
            }
            line = nl ? nl + 1 : end;
        }
        if (want.name != f.name || want.name_len != f.name_len || want.value != f.value ||
            want.value_len != f.value_len) {
            fprintf(stderr, "header: field differs from the reference parse\n");
            abort();
        }
    }
    /* no field left for the reference either */
    while (line != NULL && line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        size_t n = eol ? (size_t)(eol - line) : (size_t)(end - line);
        if (ref_field(line, n, &want)) {
            fprintf(stderr, "header: the parser missed a field\n");
            abort();
        }
        line = eol ? eol + 1 : end;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sd_buf head;
    const char *s = (const char *)data + 1, *end = (const char *)data + size;
    size_t cap;
    if (size == 0) return 0;
    cap = data[0] < 16 ? (size_t)data[0] * 4 : (size_t)data[0] * 64;
    sd_buf_init(&head, cap);
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
        long code = -1;
        if (sd_header_status(s, n, &code)) {
            if (code < 0 || code > 9999 || code != ref_status(s, n)) {
                fprintf(stderr, "header: status %ld, the reference reads %ld\n", code, ref_status(s, n));
                abort();
            }
            sd_buf_reset(&head);
        } else {
            int r = sd_buf_add(&head, s, n);
            if (r != 0 && r != -1) abort();
            if (r == -1 && (cap == 0 || head.len + n <= cap)) abort();
        }
        if (cap > 0 && head.len > cap) abort();
        if (head.data != NULL && head.data[head.len] != '\0') abort();
        s += n;
    }
    check_fields(head.data, head.len);
    sd_buf_free(&head);
    return 0;
}
