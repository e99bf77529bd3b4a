/*
 * jsonread.h: a JSON reader (RFC 8259) over bytes: no Lua, no allocation, no
 * locale. Numbers are read by this code alone (never strtod, whose decimal
 * point is the process locale's), so what an answer says is read the same in
 * every locale. A pull reader: the caller walks objects and arrays member by
 * member and reads or skips each value, so a consumer takes the few fields it
 * wants from an answer without building anything (src/answer.c), and
 * the engine walks an answer without Lua.
 *
 * Strictness: the reader accepts exactly RFC 8259 JSON text. Beyond that it
 * tells a caller, per value, what a tolerant reader would have to repair
 * (SD_JR_REPAIRED: a string with a raw control byte, a byte that is not
 * UTF-8, or a \u escape of half a surrogate pair) and which numbers it could
 * not read exactly (SD_JR_INEXACT: more than 19 significant digits, or a
 * power of ten past the exact range), so a caller that must agree with
 * another reader bit for bit can decline those.
 */
#ifndef SD_JSONREAD_H
#define SD_JSONREAD_H

#include <stddef.h>

/* Value kinds, as sd_jr_peek sees the next byte. */
typedef enum sd_jr_kind {
    SD_JR_END = 0, /* no value here: end of input, or a byte no value starts with */
    SD_JR_OBJECT,
    SD_JR_ARRAY,
    SD_JR_STRING,
    SD_JR_NUMBER,
    SD_JR_TRUE,
    SD_JR_FALSE,
    SD_JR_NULL
} sd_jr_kind;

/* Flags of what was read (sd_jr.flags accumulates them, a string's own in sd_jr_str.flags). */
#define SD_JR_REPAIRED 1 /* a string needed repair: raw control byte, bad UTF-8, half a surrogate pair */
#define SD_JR_ESCAPED 2  /* a string holds escapes (its bytes differ from its span) */
#define SD_JR_INEXACT 4  /* a number was read approximately (see sd_jr_number) */

/* Deepest nesting read; deeper text is an error. */
#define SD_JR_MAX_DEPTH 64

/* The reader: a cursor over [p, end). */
typedef struct sd_jr {
    const unsigned char *p;   /* next byte */
    const unsigned char *end; /* one past the last byte */
    int depth;                /* objects and arrays open */
    int flags;                /* SD_JR_* of everything read so far */
    int error;                /* set once the text is found not to be JSON; every call then fails */
} sd_jr;

/* A string value: its span between the quotes, as sent. */
typedef struct sd_jr_str {
    const char *raw; /* first byte after the opening quote */
    size_t len;      /* bytes up to the closing quote */
    int flags;       /* SD_JR_REPAIRED, SD_JR_ESCAPED */
} sd_jr_str;

/* Start reading s[0..n). */
void sd_jr_init(sd_jr *j, const char *s, size_t n);

/* The kind of the next value (whitespace skipped), without reading it. */
sd_jr_kind sd_jr_peek(sd_jr *j);

/* Enter the object or array that comes next ('{' or '['): 1, or 0 on error. */
int sd_jr_enter(sd_jr *j);

/* The next member of the object entered: 1 with its key in *key and the
 * reader at its value (which the caller must read or skip), 0 at the object's
 * end (then closed), -1 on error. */
int sd_jr_member(sd_jr *j, sd_jr_str *key);

/* The next element of the array entered: 1 with the reader at it, 0 at the
 * array's end (then closed), -1 on error. */
int sd_jr_element(sd_jr *j);

/* Read a string value: 1 with its span in *s, or 0 on error. */
int sd_jr_string(sd_jr *j, sd_jr_str *s);

/* Read a number: 1 with its value in *d, or 0 on error. Exact (the nearest
 * double) when it has at most 19 significant digits and its power of ten
 * brings the value into the range a double holds exactly; otherwise the
 * nearest double within a few units in the last place (SD_JR_INEXACT). */
int sd_jr_number(sd_jr *j, double *d);

/* Read true, false or null: 1, or 0 on error. */
int sd_jr_literal(sd_jr *j);

/* Skip the next value, whatever it is (checking it is JSON): 1, or 0 on error. */
int sd_jr_skip(sd_jr *j);

/* After the top-level value: 1 when only whitespace is left (the text is one
 * JSON value), else 0. */
int sd_jr_done(sd_jr *j);

/* Write the content of a string into out: escapes decoded; half a
 * surrogate pair and each byte that is not UTF-8 as U+FFFD; raw control
 * bytes kept (what core.json_repair and a strict reader make of it). out must
 * hold SD_JR_DECODED_MAX(s->len) bytes; returns the bytes written. */
#define SD_JR_DECODED_MAX(len) (3 * (len) + 1)
size_t sd_jr_decode(const sd_jr_str *s, char *out);

/* Whether string s, decoded, is exactly the n bytes of t (no copy made). */
int sd_jr_str_eq(const sd_jr_str *s, const char *t, size_t n);

#endif
