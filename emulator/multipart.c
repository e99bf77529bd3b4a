/*
 * multipart.c: reading a multipart/form-data upload (RFC 7578, RFC 2046):
 * the boundary parameter of Content-Type, the body's split into parts at
 * CRLF "--" boundary, and each part's Content-Disposition name and filename.
 * Pure functions (parse.h); every read stays inside the span it was given.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>
#include <strings.h>

#include "parse.h"

/* A token character (RFC 9110 5.6.2). */
static int tchar(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A boundary character (RFC 2046 5.1.1 bchars). */
static int bchar(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("'()+_,-./:=? ", c));
}

static const char *ows(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* One parameter "OWS ; OWS name=value" of a header value at *p (< end): the
 * name's span in *name, *nlen; the value (a token or a quoted-string,
 * unquoted) in val (cap > 0 bytes, cut to fit) and its whole length in *vlen.
 * Returns 1 when one was read, 0 at the end of the value, -1 when malformed. */
static int next_param(const char **p, const char *end, const char **name, size_t *nlen, char *val, size_t cap,
                      size_t *vlen) {
    const char *s = ows(*p, end);
    size_t n = 0;
    if (s == end) return 0;
    if (*s != ';') return -1;
    s = ows(s + 1, end);
    *name = s;
    while (s < end && tchar((unsigned char)*s)) s++;
    *nlen = (size_t)(s - *name);
    if (*nlen == 0 || s == end || *s != '=') return -1;
    s++;
    if (s < end && *s == '"') { /* quoted-string: qdtext and quoted-pairs, no control bytes but HTAB */
        for (s++;; s++) {
            unsigned char c;
            if (s == end) return -1;
            c = (unsigned char)*s;
            if (c == '"') break;
            if (c == '\\') {
                if (++s == end) return -1;
                c = (unsigned char)*s;
            }
            if ((c < 0x20 && c != '\t') || c == 0x7F) return -1;
            if (n + 1 < cap) val[n] = (char)c;
            n++;
        }
        s++;
    } else {
        for (; s < end && tchar((unsigned char)*s); s++, n++)
            if (n + 1 < cap) val[n] = *s;
        if (n == 0) return -1;
    }
    val[n < cap ? n : cap - 1] = '\0';
    *vlen = n;
    *p = s;
    return 1;
}

static int named(const char *name, size_t nlen, const char *want) {
    return nlen == strlen(want) && strncasecmp(name, want, nlen) == 0;
}

int emu_multipart_boundary(const char *ct, char *out, size_t cap) {
    static const char type[] = "multipart/form-data";
    char val[EMU_BOUNDARY_MAX + 2];
    const char *p, *end, *name;
    size_t nlen, vlen, found = 0;
    int r;
    if (!ct) return EMU_MP_NOT_FORM;
    end = ct + strlen(ct);
    p = ows(ct, end);
    if ((size_t)(end - p) < sizeof type - 1 || strncasecmp(p, type, sizeof type - 1) != 0) return EMU_MP_NOT_FORM;
    p += sizeof type - 1;
    while ((r = next_param(&p, end, &name, &nlen, val, sizeof val, &vlen)) == 1) {
        if (!named(name, nlen, "boundary")) continue;
        if (found) return EMU_MP_BAD_BOUNDARY; /* two boundaries: which one? */
        if (vlen == 0 || vlen > EMU_BOUNDARY_MAX || vlen >= cap || val[vlen - 1] == ' ') return EMU_MP_BAD_BOUNDARY;
        for (size_t i = 0; i < vlen; i++)
            if (!bchar((unsigned char)val[i])) return EMU_MP_BAD_BOUNDARY;
        memcpy(out, val, vlen + 1);
        found = vlen;
    }
    if (r < 0 || !found) return EMU_MP_NOT_FORM;
    return (int)found;
}

/* A part's header block [h, end) (lines each ending in CRLF): whether its
 * Content-Disposition names field, and then its filename in out. 0 or an
 * EMU_MP_* error. */
static int part_headers(const char *h, const char *end, const char *field, int *match, emu_part *out) {
    char val[EMU_FILENAME_MAX + 1];
    int seen = 0;
    *match = 0;
    while (h < end) {
        const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2), *colon, *p, *name;
        size_t nlen, vlen;
        int r, got_name = 0, got_file = 0, long_file = 0;
        if (!eol) return EMU_MP_MALFORMED;
        colon = memchr(h, ':', (size_t)(eol - h));
        if (!colon || colon == h) return EMU_MP_MALFORMED;
        for (p = h; p < colon; p++) /* a field name is a token: no folding, no spaces */
            if (!tchar((unsigned char)*p)) return EMU_MP_MALFORMED;
        if (named(h, (size_t)(colon - h), "Content-Disposition")) {
            if (seen++) return EMU_MP_MALFORMED;
            p = ows(colon + 1, eol);
            name = p;
            while (p < eol && tchar((unsigned char)*p)) p++;
            if (p == name) return EMU_MP_MALFORMED; /* no disposition type */
            while ((r = next_param(&p, eol, &name, &nlen, val, sizeof val, &vlen)) == 1) {
                if (named(name, nlen, "name")) {
                    if (got_name++) return EMU_MP_MALFORMED;
                    *match = vlen < sizeof val && vlen == strlen(field) && memcmp(val, field, vlen) == 0;
                } else if (named(name, nlen, "filename")) {
                    if (got_file++) return EMU_MP_MALFORMED;
                    long_file = vlen > EMU_FILENAME_MAX;
                    memcpy(out->filename, val, strlen(val) + 1);
                }
            }
            if (r < 0) return EMU_MP_MALFORMED;
            if (*match && long_file) return EMU_MP_LONG_NAME;
            if (!got_file) out->filename[0] = '\0';
        }
        h = eol + 2;
    }
    return 0;
}

int emu_multipart_field(const char *body, size_t len, const char *b, size_t blen, const char *field,
                        emu_part *out) {
    char delim[EMU_BOUNDARY_MAX + 4]; /* CRLF "--" boundary */
    const char *end, *p;
    size_t dl = blen + 4;
    if (!body || blen == 0 || blen > EMU_BOUNDARY_MAX) return EMU_MP_MALFORMED;
    end = body + len;
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, b, blen);
    out->filename[0] = '\0';
    /* the first delimiter opens the body, or follows the preamble's CRLF */
    if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) {
        p = body + dl - 2;
    } else {
        p = memmem(body, len, delim, dl);
        if (!p) return EMU_MP_MALFORMED;
        p += dl;
    }
    for (;;) {
        const char *hdr, *hend, *content, *next;
        int r, match;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return EMU_MP_NO_FIELD; /* the close delimiter */
        p = ows(p, end);                                                       /* transport padding */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return EMU_MP_MALFORMED;
        hdr = p + 2;
        if (end - hdr >= 2 && hdr[0] == '\r' && hdr[1] == '\n') { /* no headers */
            hend = hdr;
        } else {
            hend = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4);
            if (!hend) return EMU_MP_MALFORMED;
            hend += 2; /* the block keeps its last line's CRLF */
        }
        content = hend + 2;
        next = memmem(content, (size_t)(end - content), delim, dl);
        if (!next) return EMU_MP_MALFORMED;
        r = part_headers(hdr, hend, field, &match, out);
        if (r != 0) return r;
        if (match) {
            out->data = content;
            out->len = (size_t)(next - content);
            return 0;
        }
        p = next + dl;
    }
}
