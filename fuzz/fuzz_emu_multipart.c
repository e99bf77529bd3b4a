/*
 * fuzz_emu_multipart.c: the emulator's multipart reader (emulator/multipart.c):
 * emu_multipart_boundary on the Content-Type, emu_multipart_field on the
 * body. The first byte picks the mode:
 *
 * 'B' (build): the rest drives a generator of well-formed uploads: a
 *   boundary of 1 to 70 bchars (quoted when it needs to be), the type in
 *   mixed case with decoy parameters around it ("xboundary=..."), an
 *   optional preamble and epilogue, 1 to 4 parts named file / File / filex
 *   / other, each with an optional filename of any printable bytes (quotes
 *   and backslashes as quoted-pairs, some over 255 bytes), optional extra
 *   headers, and fuzz bytes as data. The reader must find the boundary, and
 *   the first part named exactly "file" with its exact bytes and filename
 *   (EMU_MP_LONG_NAME past 255 bytes, EMU_MP_NO_FIELD when there is none).
 *   An input whose data happens to hold CRLF "--" boundary is skipped.
 *
 * anything else (raw): the rest is a Content-Type line, '\n', then the body,
 *   each in an allocation of exactly its size (the body not NUL-terminated).
 *   Properties: a boundary is 1 to 70 bchars, not ending in a space; a part
 *   found lies inside the body, right after CRLF, right before CRLF "--"
 *   boundary, and holds no CRLF "--" boundary itself; its filename is at
 *   most 255 bytes with no control byte but HTAB; the answer is one of the
 *   documented codes.
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define BCHARS "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? "

static void fail(const char *what) {
    fprintf(stderr, "multipart: %s\n", what);
    abort();
}

/* Raw mode: properties of whatever the reader answers. */
static void raw(const uint8_t *data, size_t n) {
    const uint8_t *nl = memchr(data, '\n', n);
    size_t ctn = nl ? (size_t)(nl - data) : n, bn = nl ? n - ctn - 1 : 0;
    char *ct = malloc(ctn + 1), *body = malloc(bn ? bn : 1), b[EMU_BOUNDARY_MAX + 1];
    emu_part part;
    if (!ct || !body) goto out;
    memcpy(ct, data, ctn);
    ct[ctn] = '\0';
    if (bn) memcpy(body, nl + 1, bn);
    int blen = emu_multipart_boundary(ct, b, sizeof b);
    if (blen <= 0) {
        if (blen != EMU_MP_NOT_FORM && blen != EMU_MP_BAD_BOUNDARY) fail("boundary: unknown answer");
        goto out;
    }
    if (blen > EMU_BOUNDARY_MAX || strlen(b) != (size_t)blen || b[blen - 1] == ' ') fail("boundary: bad length");
    for (int i = 0; i < blen; i++)
        if (!strchr(BCHARS, b[i]) || !b[i]) fail("boundary: not a bchar");
    int r = emu_multipart_field(bn ? body : NULL, bn, b, (size_t)blen, "file", &part);
    if (r == EMU_MP_MALFORMED || r == EMU_MP_NO_FIELD || r == EMU_MP_LONG_NAME) goto out;
    if (r != 0) fail("field: unknown answer");
    char delim[EMU_BOUNDARY_MAX + 4] = "\r\n--";
    memcpy(delim + 4, b, (size_t)blen);
    size_t dl = (size_t)blen + 4, at = (size_t)(part.data - body);
    if (part.data < body || at > bn || part.len > bn - at) fail("field: data outside the body");
    if (at < 2 || memcmp(part.data - 2, "\r\n", 2) != 0) fail("field: data not after CRLF");
    if (bn - at - part.len < dl || memcmp(part.data + part.len, delim, dl) != 0) fail("field: data not before the delimiter");
    if (part.len >= dl && memmem(part.data, part.len, delim, dl)) fail("field: data holds a delimiter");
    size_t fl = strnlen(part.filename, sizeof part.filename);
    if (fl > EMU_FILENAME_MAX) fail("field: filename not terminated");
    for (size_t i = 0; i < fl; i++) {
        unsigned char c = (unsigned char)part.filename[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F) fail("field: control byte in the filename");
    }
out:
    free(ct);
    free(body);
}

/* A cursor over the fuzz bytes (zeros once they run out). */
typedef struct {
    const uint8_t *p;
    size_t n;
} cursor;

static unsigned next(cursor *c) {
    if (c->n == 0) return 0;
    c->n--;
    return *c->p++;
}

/* A growable output. */
typedef struct {
    char *d;
    size_t n, cap;
} out_buf;

static void put(out_buf *o, const void *s, size_t n) {
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->d = realloc(o->d, o->cap);
        if (!o->d) abort();
    }
    memcpy(o->d + o->n, s, n);
    o->n += n;
}

static void puts_(out_buf *o, const char *s) {
    put(o, s, strlen(s));
}

static void build(const uint8_t *data, size_t n) {
    static const char *const names[4] = {"file", "File", "filex", "other"};
    cursor c = {data, n};
    char b[EMU_BOUNDARY_MAX + 1] = "", got_b[EMU_BOUNDARY_MAX + 1], ct[512], want_name[400] = "";
    size_t blen = 1 + next(&c) % EMU_BOUNDARY_MAX, want_at = 0, want_len = 0, want_fl = 0;
    int quote = 0, found = 0, skip = 0;
    out_buf body = {NULL, 0, 0};
    emu_part part;

    for (size_t i = 0; i < blen; i++) b[i] = BCHARS[next(&c) % (sizeof BCHARS - 1)];
    if (b[blen - 1] == ' ') b[blen - 1] = 'x';
    b[blen] = '\0';
    for (size_t i = 0; i < blen; i++) quote |= !!strchr("()/:=?, ", b[i]); /* not token characters */
    quote |= next(&c) & 1;
    unsigned style = next(&c);
    snprintf(ct, sizeof ct, "%s%s%s; %s=%s%s%s%s", style & 1 ? " " : "",
             style & 2 ? "Multipart/Form-Data" : "multipart/form-data", style & 4 ? "; xboundary=decoy" : "",
             style & 8 ? "BOUNDARY" : "boundary", quote ? "\"" : "", b, quote ? "\"" : "",
             style & 16 ? "; charset=utf-8" : "");

    char delim[EMU_BOUNDARY_MAX + 4] = "\r\n--";
    memcpy(delim + 4, b, blen);
    size_t dl = blen + 4;
    if (style & 32) puts_(&body, "This is the preamble.\r\n");
    unsigned parts = 1 + next(&c) % 4;
    for (unsigned k = 0; k < parts; k++) {
        const char *name = names[next(&c) % 4];
        unsigned flags = next(&c), fn_len = next(&c) + (flags & 8 ? 200 : 0), len = next(&c) % 64;
        char fname[1024];
        size_t fl = 0, esc = 0;
        put(&body, "--", 2);
        puts_(&body, b);
        if (flags & 1) puts_(&body, " \t"); /* transport padding */
        puts_(&body, "\r\n");
        if (flags & 2) puts_(&body, "Content-Type: image/png\r\n");
        puts_(&body, "content-disposition: form-data; name=\"");
        puts_(&body, name);
        puts_(&body, "\"");
        if (flags & 4) {
            for (unsigned i = 0; i < fn_len && c.n > 0; i++) {
                unsigned ch = next(&c);
                if ((ch < 0x20 && ch != '\t') || ch == 0x7F) ch = '_';
                if (ch == '"' || ch == '\\') fname[esc++] = '\\';
                fname[esc++] = (char)ch;
                if (fl < sizeof want_name - 1 && !strcmp(name, "file") && !found) want_name[fl] = (char)ch;
                fl++;
            }
            puts_(&body, "; filename=\"");
            put(&body, fname, esc);
            puts_(&body, "\"");
        }
        puts_(&body, "\r\n");
        if (flags & 16) puts_(&body, "X-Extra: 1\r\n");
        puts_(&body, "\r\n");
        size_t at = body.n;
        for (unsigned i = 0; i < len && c.n > 0; i++) {
            char ch = (char)next(&c);
            put(&body, &ch, 1);
        }
        size_t dlen = body.n - at;
        put(&body, "\r\n", 2);
        if (!found) { /* the first delimiter after the data must be this part's own, else skip the input */
            put(&body, delim + 2, dl - 2);
            const char *hit = memmem(body.d + at, body.n - at, delim, dl);
            if (!hit || (size_t)(hit - body.d) != at + dlen) skip = 1;
            body.n -= dl - 2; /* written again below */
        }
        if (!found && strcmp(name, "file") == 0) {
            found = 1;
            want_at = at;
            want_len = dlen;
            want_fl = fl;
            want_name[fl < sizeof want_name ? fl : sizeof want_name - 1] = '\0';
        }
    }
    put(&body, "--", 2);
    puts_(&body, b);
    puts_(&body, "--\r\n");
    if (style & 64) puts_(&body, "epilogue\r\n");

    int blen_got = emu_multipart_boundary(ct, got_b, sizeof got_b);
    if (blen_got != (int)blen || strcmp(got_b, b) != 0) {
        fprintf(stderr, "multipart: Content-Type '%s': boundary %d '%s', expected '%s'\n", ct, blen_got,
                blen_got > 0 ? got_b : "", b);
        abort();
    }
    char *exact = malloc(body.n ? body.n : 1); /* exactly the body's size: no slack to read into */
    if (!exact) abort();
    memcpy(exact, body.d, body.n);
    int r = emu_multipart_field(exact, body.n, b, blen, "file", &part);
    if (!skip) {
        int want = !found ? EMU_MP_NO_FIELD : want_fl > EMU_FILENAME_MAX ? EMU_MP_LONG_NAME : 0;
        if (r != want) {
            fprintf(stderr, "multipart: answered %d, expected %d\n", r, want);
            abort();
        }
        if (r == 0 && (part.data != exact + want_at || part.len != want_len || strcmp(part.filename, want_name))) {
            fprintf(stderr, "multipart: part at %td+%zu '%s', expected %zu+%zu '%s'\n", part.data - exact,
                    part.len, part.filename, want_at, want_len, want_name);
            abort();
        }
    }
    free(exact);
    free(body.d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    if (n == 0) return 0;
    if (data[0] == 'B') build(data + 1, n - 1);
    else raw(data + 1, n - 1);
    return 0;
}
