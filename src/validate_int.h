/*
 * validate_int.h: what the validator's files share (not for other callers;
 * they use validate.h).
 *
 * Files, one concern each:
 *   validate.c          entry points: the single walk of the request, dispatch
 *   validate_fields.c   the field table (validate_fields.h), key lookup, core.request_fields()
 *   validate_checks.c   per-field checks: model, prompt, enums, integers, booleans, tools, roles
 *   validate_urls.c     URL values and URL lists, and the array shape check
 *   validate_rules.c    cross-field rules of API.md section 1
 *   validate_models.c   the per-model rules as data (seedance.models), validate_models.h
 *   validate_report.c   recording problems: the list, field paths, value rendering
 *   validate_suggest.c  did-you-mean: edit distance, advice for keys of other APIs
 *   validate_json.c     the JSON text of a valid request, written during the same walk
 *
 * The valid path allocates nothing: the problem list is made at the first
 * problem, field paths and messages are rendered only for a problem, and each
 * table is walked once with lua_next (its values parked in stack slots).
 * When the JSON text is asked for, each field's check is followed by writing
 * its value from the slot it was checked in (lists item by item, inside their
 * checks), into a buffer on the C stack; only the finished text is allocated.
 */
#ifndef SD_VALIDATE_INT_H
#define SD_VALIDATE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "compat.h"
#include "validate.h"
#include "validate_fields.h"
#include "validate_models.h"

/* Where a problem is: key, key[index] (index > 0) or key[index].sub (sub set). */
typedef struct {
    const char *key;   /* a request key, or a rendered unknown key */
    long index;        /* 1-based item number, 0 for none */
    const char *sub;   /* an item's key, or NULL */
} sd_path;

/* Counters the cross-field rules need. */
typedef struct {
    long images;         /* entries of image_urls */
    long roles;          /* entries of image_with_roles */
    long role_refs;      /* reference_image entries */
    long frames;         /* first_frame + last_frame entries */
    long videos, audios; /* entries of video_urls / audio_urls */
    int has_image_urls, has_roles;
} sd_media;

/* Bytes of JSON text written on the C stack before the buffer moves to a userdata. */
#define SD_JSON_STACK 1024
/* Room of the JSON forms of keys and words, padded so that each is copied as one fixed block. */
#define SD_JSON_KEY 24
#define SD_JSON_WORD 32

/*
 * The JSON text being written (validate_json.c). It starts in `first`; a text
 * that outgrows it moves to a full userdata in stack slot `slot` (so a memory
 * error can raise with nothing to free), doubling as it grows.
 */
typedef struct {
    char *p, *end; /* where the next byte goes; the end of the room */
    char *base;    /* the text's first byte: first, or the userdata's */
    int slot;      /* stack slot of the userdata once the text has moved */
    char first[SD_JSON_STACK];
} sd_json;

/* Validation state: where problems go and what earlier checks learned. */
typedef struct {
    lua_State *L;  /* the state holding the request */
    int list;      /* stack slot of the problem list: nil until the first problem */
    int count;     /* problems found (listed or not) */
    const sd_model *model; /* the request's model (validate_models.h), or NULL when missing/unknown */
    sd_media m;    /* media counts, for the cross-field rules */
    sd_json *json; /* the JSON text being written: NULL when only validating, and from the first
                      problem or declined value on (sd_problem and the writers clear it) */
    int declined;  /* a value the writer does not write was met (a seedance.file marker) */
} sd_vctx;

/* Is the JSON text still being written? */
#define SD_WRITING(v) ((v)->json != NULL)

/*
 * A list of words: the keys an object may hold, or the values of an enum.
 * Each is made from a list written once (validate_fields.h, SD_WORDS).
 */
typedef struct {
    const char *const *names;        /* NULL-terminated, in documentation order */
    const unsigned char *lens;       /* their lengths */
    int n;                           /* how many */
    int advice;                      /* whether keys of other APIs get advice (the request's keys) */
    const char (*json)[SD_JSON_WORD]; /* each as a JSON string, "word", zero-padded (enums only) */
} sd_words;

/* The arrays of words id_names, id_lens and id_json from LIST(X), which calls X("word") per
 * word; SD_WORDS_OF(id) is the sd_words of them. */
#define SD_WORD_NAME(w) w,
#define SD_WORD_LEN(w) sizeof w - 1,
#define SD_WORD_JSON(w) "\"" w "\"",
#define SD_WORDS(id, LIST)                                                                         \
    static const char *const id##_names[] = {LIST(SD_WORD_NAME) NULL};                             \
    static const unsigned char id##_lens[] = {LIST(SD_WORD_LEN)};                                  \
    static const char id##_json[][SD_JSON_WORD] = {LIST(SD_WORD_JSON)}
#define SD_WORDS_OF(id) {id##_names, id##_lens, (int)sizeof id##_lens, 0, id##_json}

/* Whether a and b, len bytes each (len >= 1), are the same: eight bytes at a time, the last
 * eight overlapping, with no call for the short words of the lists. */
static inline int sd_same(const char *a, const char *b, size_t len) {
    uint64_t x, y;
    uint32_t h, k;
    size_t i;
    if (len >= 8) {
        for (i = 0; i + 8 < len; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y) return 0;
        }
        memcpy(&x, a + len - 8, 8);
        memcpy(&y, b + len - 8, 8);
        return x == y;
    }
    if (len >= 4) {
        memcpy(&h, a, 4);
        memcpy(&k, b, 4);
        if (h != k) return 0;
        memcpy(&h, a + len - 4, 4);
        memcpy(&k, b + len - 4, 4);
        return h == k;
    }
    for (i = 0; i < len; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* The index in w of the word s (len bytes, may hold NULs), or -1. Inline: once per key walked. */
static inline int sd_words_find(const sd_words *w, const char *s, size_t len) {
    for (int i = 0; i < w->n; i++)
        if (w->lens[i] == len && w->names[i][0] == s[0] && sd_same(w->names[i], s, len)) return i;
    return -1;
}

/* One request field: the columns of SD_REQUEST_FIELDS. */
typedef void (*sd_check_fn)(sd_vctx *v, const char *name, int idx);
typedef struct {
    const char *name;        /* the key */
    const char *type;        /* JSON type */
    const char *doc;         /* one line for people */
    const char *media;       /* "" or what its URLs point at ("image", "image.url", "video", "audio") */
    sd_check_fn check;       /* checks the value at idx (nil when absent and always) */
    int always;              /* checked when absent too */
    int json_len;            /* the length of json */
    char json[SD_JSON_KEY];  /* the key in JSON after a comma, ,"name": (zero-padded) */
} sd_field;

#define SD_ALWAYS 1
#define SD_IF_SET 0

/* validate_fields.c: the tables made from the field lists. */
extern const sd_field SD_FIELDS[SD_NFIELDS];
extern const unsigned char SD_CHECK_ORDER[SD_NFIELDS]; /* field ids by rank */
extern const sd_words SD_REQUEST_KEYS, SD_ROLE_KEYS, SD_TOOL_KEYS;

/* validate.c: walk the object at obj once; slots[i] gets the stack index of the value of key i
 * of ks (other entries are left as they are); returns a bit per key of ks found. */
unsigned sd_walk(sd_vctx *v, int obj, const sd_words *ks, int *slots, const sd_path *at);

/* validate_report.c */
void sd_problem(sd_vctx *v, const sd_path *at, const char *fmt, ...);
void sd_describe(lua_State *L, int idx, char *out, size_t cap);
void sd_wrong_type(sd_vctx *v, const sd_path *at, int idx, const char *expected);
void sd_key_name(lua_State *L, int idx, char *out, size_t cap);
int sd_is_file(lua_State *L, int idx);

/* validate_suggest.c */
const char *sd_joined(char *out, size_t cap, const char *const *list);
int sd_starts_with_ci(const char *s, size_t len, const char *prefix);
const char *sd_closest(const char *const *list, const char *s, size_t len);
void sd_unknown_key(sd_vctx *v, const sd_path *at, int key, const sd_words *ks);

/* validate_urls.c */
long sd_check_array(sd_vctx *v, const sd_path *at, int idx, const char *expected);
void sd_check_url(sd_vctx *v, const sd_path *at, int idx, int files_ok);
void sd_check_image_urls(sd_vctx *v, const char *name, int idx);
void sd_check_video_urls(sd_vctx *v, const char *name, int idx);
void sd_check_audio_urls(sd_vctx *v, const char *name, int idx);

/* The rules the checks that depend on the model apply: the request's model's, else the default's. */
static inline const sd_model *sd_rules(const sd_vctx *v) {
    return v->model ? v->model : &SD_DEFAULT_MODEL;
}

/* Record that the request's model lacks a feature the value at `at` uses (validate_checks.c). */
void sd_lacks(sd_vctx *v, const sd_path *at, const char *what, int feature);

/* validate_checks.c */
void sd_check_model(sd_vctx *v, const char *name, int idx);
void sd_check_prompt(sd_vctx *v, const char *name, int idx);
void sd_check_duration(sd_vctx *v, const char *name, int idx);
void sd_check_size(sd_vctx *v, const char *name, int idx);
void sd_check_resolution(sd_vctx *v, const char *name, int idx);
void sd_check_seed(sd_vctx *v, const char *name, int idx);
void sd_check_boolean(sd_vctx *v, const char *name, int idx);
void sd_check_tools(sd_vctx *v, const char *name, int idx);
void sd_check_roles(sd_vctx *v, const char *name, int idx);

/* validate_json.c: the writers; each but the first writes only while SD_WRITING(v). */
void sd_json_begin(sd_vctx *v, sd_json *j, int slot); /* start the text; it grows into slot */
int sd_json_grow(sd_vctx *v, size_t n);              /* room for n more bytes; 0 when declined */
void sd_json_text(sd_vctx *v, const char *s, size_t len, int utf8); /* a string; utf8: known valid */
void sd_json_integer(sd_vctx *v, double d);                          /* a whole number, |d| < 2^63 */
void sd_json_decline(sd_vctx *v); /* a value the writer does not write: no text */
int sd_json_finish(sd_vctx *v);   /* the closing brace, and push the text: 1, or 0 (nothing pushed) */

/* Room for n more bytes at v->json->p (the text is being written); 0 when it was declined instead. */
static inline int sd_json_room(sd_vctx *v, size_t n) {
    return (size_t)(v->json->end - v->json->p) >= n || sd_json_grow(v, n);
}

/* n bytes as they are. */
static inline void sd_json_put(sd_vctx *v, const char *s, size_t n) {
    if (SD_WRITING(v) && sd_json_room(v, n)) {
        memcpy(v->json->p, s, n);
        v->json->p += n;
    }
}
#define SD_JSON_LIT(v, lit) sd_json_put((v), (lit), sizeof(lit) - 1)

/* ,"name": of a request key (the first comma becomes the opening brace). */
static inline void sd_json_key(sd_vctx *v, const sd_field *f) {
    if (SD_WRITING(v) && sd_json_room(v, SD_JSON_KEY)) {
        memcpy(v->json->p, f->json, SD_JSON_KEY);
        v->json->p += f->json_len;
    }
}

/* Word i of an enum list, as a JSON string (the lists hold plain ASCII words). */
static inline void sd_json_word(sd_vctx *v, const sd_words *w, int i) {
    if (SD_WRITING(v) && sd_json_room(v, SD_JSON_WORD)) {
        memcpy(v->json->p, w->json[i], SD_JSON_WORD);
        v->json->p += w->lens[i] + 2;
    }
}

/* validate_rules.c */
void sd_check_combinations(sd_vctx *v);

#endif
