/*
 * json.h: a JSON reader (RFC 8259) over bytes: no Lua, no allocation, no
 * locale. Numbers are read by this code alone (never strtod, whose decimal
 * point is the process locale's), so what an answer says is read the same in
 * every locale. A pull reader: the caller walks objects and arrays member by
 * member and reads or skips each value, so a consumer takes the few fields it
 * wants from an answer without building anything (src/answer.c), and
 * sd_json_push (json_lua.c) builds Lua values from the same walk.
 *
 * Strictness: the reader accepts exactly RFC 8259 JSON text. Beyond that it
 * tells a caller, per value, what a tolerant reader would have to repair
 * (SD_JSON_REPAIRED: a string with a raw control byte, a byte that is not
 * UTF-8, or a \u escape of half a surrogate pair) and which numbers it could
 * not read exactly (SD_JSON_INEXACT: more than 19 significant digits, or a
 * power of ten past the exact range), so a caller that must agree with
 * another reader bit for bit can decline those.
 */
#ifndef SD_JSON_H
#define SD_JSON_H

#include <stddef.h>

/* Value kinds, as sd_json_peek sees the next byte. */
typedef enum sd_json_kind {
    SD_JSON_END = 0, /* no value here: end of input, or a byte no value starts with */
    SD_JSON_OBJECT,
    SD_JSON_ARRAY,
    SD_JSON_STRING,
    SD_JSON_NUMBER,
    SD_JSON_TRUE,
    SD_JSON_FALSE,
    SD_JSON_NULL
} sd_json_kind;

/* Flags of what was read (sd_json.flags accumulates them, a string's own in sd_json_str.flags). */
#define SD_JSON_REPAIRED 1 /* a string needed repair: raw control byte, bad UTF-8, half a surrogate pair */
#define SD_JSON_ESCAPED 2  /* a string holds escapes (its bytes differ from its span) */
#define SD_JSON_INEXACT 4  /* a number was read approximately (see sd_json_number) */

/* Deepest nesting read; deeper text is an error. */
#define SD_JSON_MAX_DEPTH 64

/* The reader: a cursor over [p, end). */
typedef struct sd_json {
    const unsigned char *p;   /* next byte */
    const unsigned char *end; /* one past the last byte */
    int depth;                /* objects and arrays open */
    int flags;                /* SD_JSON_* of everything read so far */
    int error;                /* set once the text is found not to be JSON; every call then fails */
} sd_json;

/* A string value: its span between the quotes, as sent. */
typedef struct sd_json_str {
    const char *raw; /* first byte after the opening quote */
    size_t len;      /* bytes up to the closing quote */
    int flags;       /* SD_JSON_REPAIRED, SD_JSON_ESCAPED */
} sd_json_str;

/* Start reading s[0..n). */
void sd_json_init(sd_json *j, const char *s, size_t n);

/* The kind of the next value (whitespace skipped), without reading it. */
sd_json_kind sd_json_peek(sd_json *j);

/* Enter the object or array that comes next ('{' or '['): 1, or 0 on error. */
int sd_json_enter(sd_json *j);

/* The next member of the object entered: 1 with its key in *key and the
 * reader at its value (which the caller must read or skip), 0 at the object's
 * end (then closed), -1 on error. */
int sd_json_member(sd_json *j, sd_json_str *key);

/* The next element of the array entered: 1 with the reader at it, 0 at the
 * array's end (then closed), -1 on error. */
int sd_json_element(sd_json *j);

/* Read a string value: 1 with its span in *s, or 0 on error. */
int sd_json_string(sd_json *j, sd_json_str *s);

/* Read a number: 1 with its value in *d, or 0 on error. Exact (the nearest
 * double) when it has at most 19 significant digits and its power of ten
 * brings the value into the range a double holds exactly; otherwise the
 * nearest double within a few units in the last place (SD_JSON_INEXACT). */
int sd_json_number(sd_json *j, double *d);

/* Read true, false or null: 1, or 0 on error. */
int sd_json_literal(sd_json *j);

/* Skip the next value, whatever it is (checking it is JSON): 1, or 0 on error. */
int sd_json_skip(sd_json *j);

/* After the top-level value: 1 when only whitespace is left (the text is one
 * JSON value), else 0. */
int sd_json_done(sd_json *j);

/* Write the content of a string into out: escapes decoded; half a
 * surrogate pair and each byte that is not UTF-8 as U+FFFD; raw control
 * bytes kept (what core.json_repair and a strict reader make of it). out must
 * hold SD_JSON_DECODED_MAX(s->len) bytes; returns the bytes written. */
#define SD_JSON_DECODED_MAX(len) (3 * (len) + 1)
size_t sd_json_decode(const sd_json_str *s, char *out);

/* Whether string s, decoded, is exactly the n bytes of t (no copy made). */
int sd_json_str_eq(const sd_json_str *s, const char *t, size_t n);

#endif
