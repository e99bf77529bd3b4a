/*
 * jsonread.c: the JSON reader of jsonread.h. Strict RFC 8259 syntax; strings are
 * checked (and, when asked, decoded) with the repairs core.json_repair makes;
 * numbers are read here, digit by digit, never by strtod (locale-free).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "jsonread.h"
#include "utf8.h"

/* Exact powers of ten as doubles (10^22 is the last one a double holds exactly). */
static const double sd_p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

void sd_jr_init(sd_jr *j, const char *s, size_t n) {
    j->p = (const unsigned char *)s;
    j->end = (const unsigned char *)s + n;
    j->depth = 0;
    j->flags = 0;
    j->error = 0;
}

/* Mark the text as not JSON; returns 0 for the caller to pass on. */
static int sd_fail(sd_jr *j) {
    j->error = 1;
    return 0;
}

static void sd_ws(sd_jr *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

sd_jr_kind sd_jr_peek(sd_jr *j) {
    if (j->error) return SD_JR_END;
    sd_ws(j);
    if (j->p >= j->end) return SD_JR_END;
    switch (*j->p) {
    case '{': return SD_JR_OBJECT;
    case '[': return SD_JR_ARRAY;
    case '"': return SD_JR_STRING;
    case 't': return SD_JR_TRUE;
    case 'f': return SD_JR_FALSE;
    case 'n': return SD_JR_NULL;
    default: return (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) ? SD_JR_NUMBER : SD_JR_END;
    }
}

int sd_jr_enter(sd_jr *j) {
    sd_jr_kind k = sd_jr_peek(j);
    if (k != SD_JR_OBJECT && k != SD_JR_ARRAY) return sd_fail(j);
    if (j->depth >= SD_JR_MAX_DEPTH) return sd_fail(j);
    j->depth++;
    j->p++;
    /* a first member or element is told from the closer by member/element: mark "first" by
     * leaving the cursor right after the opener (no comma is expected before it) */
    return 1;
}

/* Close or go on inside a container: 1 when a member or element follows, 0 at the closer
 * (consumed), -1 on error. */
static int sd_next_item(sd_jr *j, unsigned char closer) {
    int first;
    if (j->error) return -1;
    first = j->p[-1] == '{' || j->p[-1] == '[';
    sd_ws(j);
    if (j->p >= j->end) return (sd_fail(j), -1);
    if (*j->p == closer) {
        j->p++;
        j->depth--;
        return 0;
    }
    if (!first) {
        if (*j->p != ',') return (sd_fail(j), -1);
        j->p++;
        sd_ws(j);
        if (j->p >= j->end || *j->p == closer) return (sd_fail(j), -1); /* a trailing comma */
    }
    return 1;
}

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1), or 0 when none starts there. */
static size_t sd_utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)) return 0;
        return 4;
    }
    return 0;
}

/* Whether the 8 bytes at p are all plain string bytes: printable ASCII other
 * than the quote and the backslash. The word tricks of "bit twiddling hacks":
 * (x - 0x01..) & ~x & 0x80.. is not 0 exactly when a byte of x is 0, and
 * (x - n * 0x01..) & ~x & 0x80.. when a byte is below n (n <= 128); here the
 * high bits of the quote's and the backslash's masks are those of w. */
static int sd_plain8(const unsigned char *p) {
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t w, q, b;
    memcpy(&w, p, 8);
    q = w ^ (ones * '"');
    b = w ^ (ones * '\\');
    return ((((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w) | w) & highs ? 0 : 1;
}

int sd_jr_string(sd_jr *j, sd_jr_str *s) {
    const unsigned char *p, *end = j->end;
    int flags = 0;
    if (sd_jr_peek(j) != SD_JR_STRING) return sd_fail(j);
    p = ++j->p;
    for (;;) {
        /* the plain run: printable ASCII other than the quote and the backslash */
        while (end - p >= 8 && sd_plain8(p)) p += 8;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        if (p >= end) return sd_fail(j);
        if (*p == '"') break;
        if (*p == '\\') {
            if (p + 1 >= end) return sd_fail(j);
            flags |= SD_JR_ESCAPED;
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                break;
            case 'u': {
                long u;
                if (end - p < 6 || (u = sd_hex4(p + 2)) < 0) return sd_fail(j);
                p += 6;
                if (u >= 0xD800 && u <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                    sd_hex4(p + 2) >= 0xDC00 && sd_hex4(p + 2) <= 0xDFFF)
                    p += 6; /* a whole pair */
                else if (u >= 0xD800 && u <= 0xDFFF)
                    flags |= SD_JR_REPAIRED; /* half a pair */
                break;
            }
            default: return sd_fail(j);
            }
        } else if (*p < 0x20) {
            flags |= SD_JR_REPAIRED; /* a raw control byte: JSON wants it escaped */
            p++;
        } else {
            size_t k = sd_utf8_len(p, (size_t)(end - p));
            if (k == 0) {
                flags |= SD_JR_REPAIRED;
                p++;
            } else {
                p += k;
            }
        }
    }
    s->raw = (const char *)j->p;
    s->len = (size_t)(p - j->p);
    s->flags = flags;
    j->flags |= flags;
    j->p = p + 1;
    return 1;
}

/* Append the UTF-8 form of code point u to out; returns the bytes written. */
static size_t sd_put_utf8(char *out, unsigned long u) {
    if (u < 0x80) {
        out[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (char)(0xC0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        out[0] = (char)(0xE0 | (u >> 12));
        out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        out[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (u >> 18));
    out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
    out[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

size_t sd_jr_decode(const sd_jr_str *s, char *out) {
    const unsigned char *p = (const unsigned char *)s->raw, *end = p + s->len;
    char *o = out;
    if (!(s->flags & (SD_JR_ESCAPED | SD_JR_REPAIRED))) {
        memcpy(out, s->raw, s->len);
        return s->len;
    }
    while (p < end) {
        if (*p == '\\') {
            unsigned char c = p[1];
            if (c == 'u') {
                long u = sd_hex4(p + 2);
                p += 6;
                if (u >= 0xD800 && u <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                    sd_hex4(p + 2) >= 0xDC00 && sd_hex4(p + 2) <= 0xDFFF) {
                    long lo = sd_hex4(p + 2);
                    p += 6;
                    o += sd_put_utf8(o, 0x10000UL + (((unsigned long)u - 0xD800) << 10) + ((unsigned long)lo - 0xDC00));
                } else if (u >= 0xD800 && u <= 0xDFFF) {
                    o += sd_put_utf8(o, 0xFFFD);
                } else {
                    o += sd_put_utf8(o, (unsigned long)u);
                }
                continue;
            }
            *o++ = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : (char)c;
            p += 2;
        } else if (*p < 0x80) {
            *o++ = (char)*p++;
        } else {
            size_t k = sd_utf8_len(p, (size_t)(end - p));
            if (k == 0) {
                o += sd_put_utf8(o, 0xFFFD);
                p++;
            } else {
                memcpy(o, p, k);
                o += k;
                p += k;
            }
        }
    }
    return (size_t)(o - out);
}

int sd_jr_str_eq(const sd_jr_str *s, const char *t, size_t n) {
    if (!(s->flags & (SD_JR_ESCAPED | SD_JR_REPAIRED))) return s->len == n && memcmp(s->raw, t, n) == 0;
    if (n > SD_JR_DECODED_MAX(s->len)) return 0;
    {
        char buf[256];
        if (SD_JR_DECODED_MAX(s->len) > sizeof buf) return 0; /* keys and ids we compare are short */
        return sd_jr_decode(s, buf) == n && memcmp(buf, t, n) == 0;
    }
}

int sd_jr_number(sd_jr *j, double *d) {
    const unsigned char *p, *end = j->end;
    uint64_t m = 0;
    int neg = 0, digits = 0, exp10 = 0, inexact = 0, any;
    if (sd_jr_peek(j) != SD_JR_NUMBER) return sd_fail(j);
    p = j->p;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') return sd_fail(j);
    if (*p == '0') {
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                if (m != 0) digits++;
            } else {
                exp10++; /* a digit past the 19th: its place only */
                if (*p != '0') inexact = 1;
            }
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        any = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            any = 1;
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                if (m != 0) digits++;
                exp10--;
            } else if (*p != '0') {
                inexact = 1;
            }
            p++;
        }
        if (!any) return sd_fail(j);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        long e = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9') return sd_fail(j);
        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 100000) e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += (int)(eneg ? -e : e);
    }
    j->p = p;
    if (m == 0) {
        *d = neg ? -0.0 : 0.0;
        return 1;
    }
    if (!inexact && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        /* both operands exact: one correctly rounded operation (Clinger's fast path) */
        double v = (double)m;
        *d = exp10 >= 0 ? v * sd_p10[exp10] : v / sd_p10[-exp10];
    } else {
        double v = (double)m;
        int e = exp10;
        while (e > 22 && v < HUGE_VAL) {
            v *= 1e22;
            e -= 22;
        }
        while (e < -22 && v > 0) {
            v /= 1e22;
            e += 22;
        }
        if (e > 22) v = HUGE_VAL; /* (it ran out of range on the way) */
        else if (e < -22) v = 0;
        else v = e >= 0 ? v * sd_p10[e] : v / sd_p10[-e];
        *d = v;
        j->flags |= SD_JR_INEXACT;
    }
    if (neg) *d = -*d;
    return 1;
}

int sd_jr_literal(sd_jr *j) {
    static const char *const words[] = {"true", "false", "null"};
    sd_jr_kind k = sd_jr_peek(j);
    const char *w;
    size_t n;
    if (k == SD_JR_TRUE) w = words[0];
    else if (k == SD_JR_FALSE) w = words[1];
    else if (k == SD_JR_NULL) w = words[2];
    else return sd_fail(j);
    n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) return sd_fail(j);
    j->p += n;
    return 1;
}

int sd_jr_member(sd_jr *j, sd_jr_str *key) {
    int r = sd_next_item(j, '}');
    if (r <= 0) return r;
    if (!sd_jr_string(j, key)) return -1;
    sd_ws(j);
    if (j->p >= j->end || *j->p != ':') return (sd_fail(j), -1);
    j->p++;
    return 1;
}

int sd_jr_element(sd_jr *j) {
    return sd_next_item(j, ']');
}

int sd_jr_skip(sd_jr *j) {
    sd_jr_str s;
    double d;
    int r;
    switch (sd_jr_peek(j)) {
    case SD_JR_OBJECT:
        if (!sd_jr_enter(j)) return 0;
        while ((r = sd_jr_member(j, &s)) == 1) {
            if (!sd_jr_skip(j)) return 0;
        }
        return r == 0;
    case SD_JR_ARRAY:
        if (!sd_jr_enter(j)) return 0;
        while ((r = sd_jr_element(j)) == 1) {
            if (!sd_jr_skip(j)) return 0;
        }
        return r == 0;
    case SD_JR_STRING: return sd_jr_string(j, &s);
    case SD_JR_NUMBER: return sd_jr_number(j, &d);
    case SD_JR_TRUE:
    case SD_JR_FALSE:
    case SD_JR_NULL: return sd_jr_literal(j);
    case SD_JR_END: break;
    }
    return sd_fail(j);
}

int sd_jr_done(sd_jr *j) {
    if (j->error) return 0;
    sd_ws(j);
    return j->p == j->end;
}
