/*
 * parse.h: every reading of untrusted request bytes in the emulator, as pure
 * functions (bytes in, a result out: no libmicrohttpd, no global state), so
 * the endpoints and the libFuzzer targets in fuzz/ run the same code.
 * libmicrohttpd itself splits the request line, the headers and the query
 * string and percent-decodes the path; what the emulator does with the
 * pieces is here. Nothing here truncates an input into something else: a
 * value that does not fit is refused.
 */
#ifndef EMU_PARSE_H
#define EMU_PARSE_H

#include <stddef.h>

/* ---- parse.c ---- */

/* Range: the outcome of emu_range_parse. */
enum { EMU_RANGE_BAD = -1, EMU_RANGE_NONE = 0, EMU_RANGE_OK = 1 };

/*
 * A Range header value h (NUL-terminated, NULL when absent) against a file of
 * size bytes. EMU_RANGE_OK: one satisfiable range, 0 <= *first <= *last < size
 * ("bytes=a-b", "bytes=a-", "bytes=-n"; a last past the end is clamped).
 * EMU_RANGE_NONE: no header, another unit, or several ranges (the whole file
 * is sent). EMU_RANGE_BAD: anything else after "bytes=" (spaces, signs, a
 * missing number, first > last) or a range past the end (416).
 */
int emu_range_parse(const char *h, long long size, long long *first, long long *last);

/* Longest API key taken from Authorization (bytes). */
#define EMU_KEY_MAX 255

/*
 * The key of an Authorization value h ("Bearer <key>", the scheme in any
 * case; NULL when absent), copied into key (cap > EMU_KEY_MAX; "" otherwise).
 * Returns its length; 0 when there is no header, another scheme or no key;
 * -1 when the key is longer than EMU_KEY_MAX or holds a byte other than
 * visible ASCII (never truncated: two keys must not meet).
 */
int emu_bearer_parse(const char *h, char *key, size_t cap);

/* Longest Idempotency-Key (bytes). */
#define EMU_IDEM_MAX 127

/* An Idempotency-Key value (NULL when absent): 1 usable, 0 none (absent or
 * empty), -1 longer than EMU_IDEM_MAX (refused, never truncated). */
int emu_idem_check(const char *h);

/* Which API endpoint (EMU_ROUTE_* of emu.h) a method and a decoded path name;
 * for EMU_ROUTE_POLL *id points at the task id inside url. */
int emu_route(const char *method, const char *url, const char **id);

/* A task id as the emulator makes them: "task_" then 26 Crockford base32 letters. */
int emu_task_id_valid(const char *id);

/* A media file name "<task id>.mp4" or "<task id>.png": the id copied into id
 * (cap bytes) and *png set; -1 for any other name or an id that does not fit. */
int emu_media_name(const char *name, char *id, size_t cap, int *png);

/* The poll's ?language= value (NULL when absent): 0 en, 1 zh, 2 ko, 3 ja;
 * anything else is English. */
int emu_lang_index(const char *lang);

/* ---- multipart.c ---- */

/* Longest multipart boundary (RFC 2046: 1 to 70 characters). */
#define EMU_BOUNDARY_MAX 70
/* Longest filename kept from a part's Content-Disposition (bytes). */
#define EMU_FILENAME_MAX 255

/* Outcomes of the multipart readers (0 = found). */
enum {
    EMU_MP_NOT_FORM = -1,     /* Content-Type is not multipart/form-data, or has no boundary */
    EMU_MP_BAD_BOUNDARY = -2, /* boundary empty, over 70 bytes, or with bytes RFC 2046 forbids */
    EMU_MP_MALFORMED = -3,    /* body or part headers do not follow the multipart grammar */
    EMU_MP_NO_FIELD = -4,     /* well formed, but no part has that name */
    EMU_MP_LONG_NAME = -5     /* the part's filename is longer than EMU_FILENAME_MAX */
};

/* The boundary parameter of a Content-Type value ct (NULL when absent),
 * copied into out (cap > EMU_BOUNDARY_MAX). Returns its length, or
 * EMU_MP_NOT_FORM / EMU_MP_BAD_BOUNDARY. */
int emu_multipart_boundary(const char *ct, char *out, size_t cap);

/* One part of a multipart body. */
typedef struct {
    const char *data;                     /* its bytes, inside the body */
    size_t len;                           /* how many */
    char filename[EMU_FILENAME_MAX + 1];  /* its filename parameter ("" when none) */
} emu_part;

/* The first part of body[0..len) whose Content-Disposition name is field,
 * with the boundary b[0..blen). Returns 0, or EMU_MP_MALFORMED,
 * EMU_MP_NO_FIELD, EMU_MP_LONG_NAME. body may be NULL when len is 0. */
int emu_multipart_field(const char *body, size_t len, const char *b, size_t blen, const char *field,
                        emu_part *out);

/* ---- escape.c ---- */

/* src as JSON string content in dst (cap bytes, always NUL-terminated when
 * cap > 0): '"', '\\' and control bytes escaped, every byte that is not
 * part of well-formed UTF-8 written as \ufffd, so the answer is valid JSON
 * whatever bytes a client sent. Cut short only between characters.
 * Returns the length written. */
size_t emu_json_escape(char *dst, size_t cap, const char *src);

#endif
