/*
 * header.h: pure parsing of the response head the server sends (status line,
 * "Name: value" lines). No Lua, no libcurl, no allocation, so the fuzz
 * targets in fuzz/ can drive exactly the code the engine runs. Header-only
 * (static inline) so the build's source list does not change.
 */
#ifndef SD_HEADER_H
#define SD_HEADER_H

#include <stddef.h>
#include <string.h>

/* One "Name: value" field: spans into the parsed bytes (not NUL-terminated). */
typedef struct sd_header_field {
    const char *name;  /* first byte of the name, as sent (not lowercased) */
    size_t name_len;   /* its length, >= 1 */
    const char *value; /* first byte of the value, leading SP/HT skipped */
    size_t value_len;  /* its length, trailing CR/SP/HT dropped */
} sd_header_field;

/*
 * Is line[0..len) a status line ("HTTP/1.1 200 OK")? Returns 1 and stores
 * its code in *code (the digits after the version, read while the value is
 * below 1000, so at most 9999; 0 when there are none), or returns 0 for any
 * other line.
 */
static inline int sd_header_status(const char *line, size_t len, long *code) {
    size_t i = 5;
    long c = 0;
    if (len <= 5 || memcmp(line, "HTTP/", 5) != 0) return 0;
    while (i < len && line[i] != ' ') i++;
    while (i < len && line[i] == ' ') i++;
    while (i < len && line[i] >= '0' && line[i] <= '9' && c < 1000) c = c * 10 + (line[i++] - '0');
    *code = c;
    return 1;
}

/*
 * The next field of the header lines in [*p, end): skips lines that are not
 * "Name: value" (no colon, an empty name, a continuation line starting with
 * SP/HT), fills *f, moves *p past the field's line and returns 1; returns 0
 * when no field is left. *p and end may both be NULL (no headers at all).
 */
static inline int sd_header_next(const char **p, const char *end, sd_header_field *f) {
    const char *s = *p;
    while (s != NULL && s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        const char *line_end = eol ? eol : end, *colon, *v, *ve;
        const char *line = s;
        s = eol ? eol + 1 : end;
        colon = memchr(line, ':', (size_t)(line_end - line));
        if (colon == NULL || colon == line || *line == ' ' || *line == '\t') continue;
        v = colon + 1;
        ve = line_end;
        while (v < ve && (*v == ' ' || *v == '\t')) v++;
        while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        f->name = line;
        f->name_len = (size_t)(colon - line);
        f->value = v;
        f->value_len = (size_t)(ve - v);
        *p = s;
        return 1;
    }
    *p = s;
    return 0;
}

#endif
