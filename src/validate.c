/*
 * validate.c: checks a generation request against the service contract
 * (API.md section 1, with the rules of section 5) and lists every problem,
 * each with the path of the field it concerns.
 *
 * Only raw accesses are used (lua_rawget, lua_next, lua_type), so request
 * content can never run user code or raise; recursion is bounded by the
 * fixed shape of a request, so cycles cannot loop.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "utf8.h"
#include "validate.h"

#define PROMPT_MAX 4000
#define IMAGES_MAX 9
#define MEDIA_MAX 3
#define DURATION_MIN 4
#define DURATION_MAX 15
#define SEED_MIN (-1.0)
#define SEED_MAX 4294967295.0

/* Models, in the order the contract lists them. */
enum { M_STD, M_FAST, M_FACE, M_FAST_FACE, M_COUNT };
static const char *const MODELS[] = {
    "doubao-seedance-2.0", "doubao-seedance-2.0-fast",
    "doubao-seedance-2.0-face", "doubao-seedance-2.0-fast-face", NULL};
static const char *const SIZES[] = {"16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive", NULL};
static const char *const RESOLUTIONS[] = {"480p", "720p", "1080p", NULL};
static const char *const ROLES[] = {"first_frame", "last_frame", "reference_image", NULL};
static const char *const TOOL_TYPES[] = {"web_search", NULL};

static const char *const REQUEST_KEYS[] = {
    "model", "prompt", "duration", "size", "resolution", "seed", "generate_audio",
    "return_last_frame", "tools", "image_urls", "image_with_roles", "video_urls",
    "audio_urls", NULL};
static const char *const ROLE_ITEM_KEYS[] = {"url", "role", NULL};
static const char *const TOOL_ITEM_KEYS[] = {"type", NULL};

/* Keys people carry over from other APIs, with the advice to give. */
static const char *const KEY_ADVICE[][2] = {
    {"aspect_ratio", "this is the 1.5 Pro name; use size"},
    {"audio", "this is the 1.5 Pro name; use generate_audio"},
    {"camera_fixed", "this is a 1.5 Pro key with no 2.0 equivalent; remove it"},
    {"image", "use image_urls (an array of URLs)"},
    {"images", "use image_urls (an array of URLs)"},
    {"image_url", "use image_urls (an array of URLs)"},
    {"video", "use video_urls (an array of URLs)"},
    {"videos", "use video_urls (an array of URLs)"},
    {"video_url", "use video_urls (an array of URLs)"},
    {"audio_url", "use audio_urls (an array of URLs)"},
    {"first_frame", "use image_with_roles = { { url = ..., role = \"first_frame\" } }"},
    {"last_frame", "use image_with_roles = { { url = ..., role = \"last_frame\" } }"},
    {"ratio", "use size"},
    {"quality", "use resolution"},
    {"length", "use duration (seconds)"},
    {"seconds", "use duration (seconds)"},
    {NULL, NULL}};

/* Validation state: where problems go and what earlier checks learned. */
typedef struct {
    lua_State *L;  /* the state holding the request */
    int req;       /* absolute index of the request table */
    int list;      /* absolute index of the problem list */
    int count;     /* problems found (listed or not) */
    int model;     /* index into MODELS, or -1 when missing/unknown */
} sd_vctx;

/* ---- recording problems ------------------------------------------------ */

/* Record one problem; the message is the string on top of the stack (popped). */
static void add_problem(sd_vctx *v, const char *field) {
    lua_State *L = v->L;
    v->count++;
    if (v->count > SD_MAX_PROBLEMS) { lua_pop(L, 1); return; }
    lua_createtable(L, 0, 2);
    lua_pushstring(L, field);
    lua_setfield(L, -2, "field");
    lua_insert(L, -2);
    lua_setfield(L, -2, "message");
    lua_rawseti(L, v->list, v->count);
}

#define PROBLEM(v, field, ...) (lua_pushfstring((v)->L, __VA_ARGS__), add_problem((v), (field)))

/* Describe the value at idx for a message: a type plus a short rendering. */
static void describe(lua_State *L, int idx, char *out, size_t cap) {
    switch (lua_type(L, idx)) {
    case LUA_TNIL: snprintf(out, cap, "nil"); break;
    case LUA_TBOOLEAN: snprintf(out, cap, "boolean %s", lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNUMBER: snprintf(out, cap, "number %.14g", (double)lua_tonumber(L, idx)); break;
    case LUA_TSTRING: {
        size_t len, n = 0, i;
        const char *s = lua_tolstring(L, idx, &len);
        size_t room = cap > 24 ? cap - 24 : 0, shown = len < 40 ? len : 40;
        if (shown > room) shown = room;
        while (shown < len && shown > 0 && ((unsigned char)s[shown] & 0xC0) == 0x80) shown--;
        n += (size_t)snprintf(out, cap, "string \"");
        for (i = 0; i < shown && n + 5 < cap; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == 0x7F) n += (size_t)snprintf(out + n, cap - n, "\\x%02X", c);
            else out[n++] = (char)c;
        }
        snprintf(out + n, cap - n, "%s\"", shown < len ? "..." : "");
        break;
    }
    case LUA_TLIGHTUSERDATA:
        snprintf(out, cap, "%s", lua_touserdata(L, idx) == NULL ? "null" : "light userdata");
        break;
    default: snprintf(out, cap, "%s", lua_typename(L, lua_type(L, idx))); break;
    }
}

/* Record "expected X, got <value>" for the value at idx. */
static void wrong_type(sd_vctx *v, const char *field, int idx, const char *expected) {
    char got[96];
    describe(v->L, idx, got, sizeof got);
    PROBLEM(v, field, "must be %s, got %s", expected, got);
}

/* ---- small helpers ----------------------------------------------------- */

/* Index of s in the NULL-terminated list, or -1. */
static int find(const char *const *list, const char *s) {
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0) return i;
    return -1;
}

/* Comma-separated rendering of a NULL-terminated list. */
static const char *joined(char *out, size_t cap, const char *const *list) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; list[i] && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", list[i]);
    return out;
}

/* Optimal string alignment distance, case-insensitive; large for long strings. */
static int distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    int d[33][33];
    if (la > 32 || lb > 32) return 99;
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int cost = ca != cb, best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* Does s (len bytes) start with prefix, ignoring case? */
static int starts_with_ci(const char *s, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    if (len < n) return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)prefix[i])) return 0;
    return 1;
}

/* The closest entry of list to s, if close enough to be a typo; else NULL. */
static const char *closest(const char *const *list, const char *s, size_t len) {
    const char *best = NULL;
    int bestd = 99;
    if (len != strlen(s)) return NULL; /* embedded NUL: no suggestion */
    for (int i = 0; list[i]; i++) {
        int d = distance(s, list[i]);
        if (d < bestd) { bestd = d; best = list[i]; }
    }
    if (best == NULL) return NULL;
    if (len >= 3) /* "first" means first_frame */
        for (int i = 0; list[i]; i++)
            if (strlen(list[i]) > len && starts_with_ci(list[i], len, s)) return list[i];
    size_t limit = strlen(best) <= 4 ? 1 : strlen(best) <= 8 ? 2 : 3;
    return bestd <= (int)limit ? best : NULL;
}

/* Build "prefix[i]" or "prefix.key" paths into out. */
static const char *path_index(char *out, size_t cap, const char *prefix, long i) {
    snprintf(out, cap, "%s[%ld]", prefix, i);
    return out;
}
static const char *path_key(char *out, size_t cap, const char *prefix, const char *key) {
    snprintf(out, cap, "%s.%s", prefix, key);
    return out;
}

/* Render a table key for a path: strings as they are (cut short), others in brackets. */
static void key_name(lua_State *L, int idx, char *out, size_t cap) {
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        snprintf(out, cap, "%.*s%s", (int)(len < 48 ? len : 48), s, len > 48 ? "..." : "");
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        snprintf(out, cap, "[%.17g]", (double)lua_tonumber(L, idx));
    } else {
        snprintf(out, cap, "[%s]", lua_typename(L, lua_type(L, idx)));
    }
}

/* Is the value at idx a seedance.file(path) marker? */
static int is_file(lua_State *L, int idx) {
    int yes = 0;
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, SD_FILE_MT);
    yes = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return yes;
}

/* ---- scalar checks ----------------------------------------------------- */

/* String from an enum list; suggests the right spelling for near misses. */
static int check_enum(sd_vctx *v, const char *field, int idx, const char *const *allowed) {
    lua_State *L = v->L;
    char all[160];
    joined(all, sizeof all, allowed);
    if (lua_type(L, idx) != LUA_TSTRING) {
        char want[200], guess[32];
        snprintf(want, sizeof want, "a string, one of %s", all);
        if (lua_type(L, idx) == LUA_TNUMBER) { /* resolution = 720 means "720p" */
            snprintf(guess, sizeof guess, "%.14gp", (double)lua_tonumber(L, idx));
            if (find(allowed, guess) >= 0) {
                char got[96];
                describe(L, idx, got, sizeof got);
                PROBLEM(v, field, "must be %s, got %s; did you mean \"%s\"?", want, got, guess);
                return -1;
            }
        }
        wrong_type(v, field, idx, want);
        return -1;
    }
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    int at = len == strlen(s) ? find(allowed, s) : -1;
    if (at >= 0) return at;
    char got[96];
    describe(L, idx, got, sizeof got);
    const char *near = closest(allowed, s, len);
    if (near)
        PROBLEM(v, field, "must be one of %s, got %s; did you mean %s?", all, got, near);
    else
        PROBLEM(v, field, "must be one of %s, got %s", all, got);
    return -1;
}

/* Integer (5 and 5.0 pass; 5.5 and "5" do not) within [lo, hi]. */
static void check_integer(sd_vctx *v, const char *field, int idx, double lo, double hi) {
    lua_State *L = v->L;
    double d;
    if (lua_type(L, idx) != LUA_TNUMBER) { wrong_type(v, field, idx, "an integer"); return; }
    if (!sd_tointegral(L, idx, &d)) {
        wrong_type(v, field, idx, "an integer (whole number)");
        return;
    }
    if (d < lo || d > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "must be between %.0f and %.0f, got %.14g", lo, hi, d);
        PROBLEM(v, field, "%s", msg);
    }
}

static void check_boolean(sd_vctx *v, const char *field, int idx) {
    if (lua_type(v->L, idx) != LUA_TBOOLEAN) wrong_type(v, field, idx, "a boolean (true or false)");
}

/* ---- URLs -------------------------------------------------------------- */

/* What a URL check learned. */
enum { URL_BAD, URL_PLAIN, URL_ASSET, URL_FILE };


/*
 * An http(s):// URL with a host, an asset://<id>, or (where files_ok) a
 * seedance.file(path). Asset URLs are checked against the model too.
 */
static int check_url(sd_vctx *v, const char *field, int idx, int files_ok) {
    lua_State *L = v->L;
    if (is_file(L, idx)) {
        if (files_ok) return URL_FILE;
        PROBLEM(v, field, "cannot be a local file: the service has no upload for video or audio; "
                          "host the file and give its http(s):// URL");
        return URL_BAD;
    }
    if (lua_type(L, idx) != LUA_TSTRING) {
        wrong_type(v, field, idx, files_ok ? "a URL string or seedance.file(path)" : "a URL string");
        return URL_BAD;
    }
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (len == 0) {
        PROBLEM(v, field, "must not be empty: give an http(s):// URL or asset://<id>");
        return URL_BAD;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7F) {
            PROBLEM(v, field, "must not contain spaces or control characters (byte %d)", (int)i + 1);
            return URL_BAD;
        }
    }
    if (starts_with_ci(s, len, "asset://")) {
        for (size_t i = 8; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!isalnum(c) && c != '_' && c != '-' && c != '.') {
                PROBLEM(v, field, "asset URL id may hold only letters, digits, '_', '-' and '.'");
                return URL_BAD;
            }
        }
        if (len == 8) {
            PROBLEM(v, field, "asset URL needs an id: asset://<id>");
            return URL_BAD;
        }
        if (v->model == M_FACE || v->model == M_FAST_FACE) {
            PROBLEM(v, field, "asset URLs are accepted only by doubao-seedance-2.0 and "
                              "doubao-seedance-2.0-fast, not by %s", MODELS[v->model]);
            return URL_BAD;
        }
        return URL_ASSET;
    }
    size_t skip = starts_with_ci(s, len, "http://") ? 7 : starts_with_ci(s, len, "https://") ? 8 : 0;
    if (skip) {
        if (skip == len || s[skip] == '/' || s[skip] == '?' || s[skip] == '#') {
            PROBLEM(v, field, "URL has no host");
            return URL_BAD;
        }
        return URL_PLAIN;
    }
    char got[96];
    describe(L, idx, got, sizeof got);
    if (starts_with_ci(s, len, "file:") || s[0] == '/' || s[0] == '.')
        PROBLEM(v, field, "must be a URL, got %s; %s", got,
                files_ok ? "for a local image use seedance.file(path), which uploads it"
                         : "the service has no upload for video or audio; host the file");
    else if (starts_with_ci(s, len, "data:"))
        PROBLEM(v, field, "base64 data URLs are not accepted; upload the image with seedance.file(path)");
    else
        PROBLEM(v, field, "must be an http:// or https:// URL or asset://<id>, got %s", got);
    return URL_BAD;
}

/* ---- containers -------------------------------------------------------- */

/*
 * The value at idx must be a sequence (keys exactly 1..n). Returns n, or -1
 * after recording a problem. An empty table counts as an empty array.
 */
static long check_array(sd_vctx *v, const char *field, int idx, const char *expected) {
    lua_State *L = v->L;
    long n = 0;
    int bad = 0;
    char key[80];
    if (lua_type(L, idx) != LUA_TTABLE || is_file(L, idx)) {
        wrong_type(v, field, idx, expected);
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        n++;
        if (!bad && lua_type(L, -1) != LUA_TNUMBER) { bad = 1; key_name(L, -1, key, sizeof key); }
    }
    if (!bad) { /* all keys numeric: they must be exactly 1..n */
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            double d;
            lua_pop(L, 1);
            if (!bad && (!sd_tointegral(L, -1, &d) || d < 1 || d > (double)n)) {
                bad = 1;
                key_name(L, -1, key, sizeof key);
            }
        }
    }
    if (bad) {
        PROBLEM(v, field, "must be %s (a sequence indexed 1..n), but has key %s", expected, key);
        return -1;
    }
    return n;
}

/* Check that every key of the object at idx is known; suggest near misses. */
static void check_keys(sd_vctx *v, const char *prefix, int idx, const char *const *known) {
    lua_State *L = v->L;
    char name[80], field[192];
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        key_name(L, -1, name, sizeof name);
        if (prefix[0]) snprintf(field, sizeof field, "%s.%s", prefix, name);
        else snprintf(field, sizeof field, "%s", name);
        if (lua_type(L, -1) != LUA_TSTRING) {
            PROBLEM(v, field, "unexpected key: keys here are strings");
            continue;
        }
        size_t len;
        const char *k = lua_tolstring(L, -1, &len);
        if (len == strlen(k) && find(known, k) >= 0) continue;
        const char *advice = NULL;
        if (known == REQUEST_KEYS && len == strlen(k))
            for (int i = 0; KEY_ADVICE[i][0]; i++)
                if (strcmp(KEY_ADVICE[i][0], k) == 0) advice = KEY_ADVICE[i][1];
        const char *near = closest(known, k, len);
        char all[240];
        if (advice) PROBLEM(v, field, "unknown key: %s", advice);
        else if (near) PROBLEM(v, field, "unknown key; did you mean %s?", near);
        else PROBLEM(v, field, "unknown key; known keys are %s", joined(all, sizeof all, known));
    }
}

/* ---- request parts ----------------------------------------------------- */

/* Counters the cross-field rules need. */
typedef struct {
    long images;         /* entries of image_urls */
    long roles;          /* entries of image_with_roles */
    long role_refs;      /* reference_image entries */
    long frames;         /* first_frame + last_frame entries */
    long videos, audios; /* entries of video_urls / audio_urls */
    int has_image_urls, has_roles;
} sd_media;

static void check_model(sd_vctx *v) {
    lua_State *L = v->L;
    lua_pushliteral(L, "model");
    lua_rawget(L, v->req);
    if (lua_isnil(L, -1)) {
        char all[160];
        PROBLEM(v, "model", "required: one of %s", joined(all, sizeof all, MODELS));
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        v->model = len == strlen(s) ? find(MODELS, s) : -1;
        if (v->model < 0) {
            char all[160], got[96];
            describe(L, -1, got, sizeof got);
            const char *near = closest(MODELS, s, len);
            if (strstr(s, "1.5") || strstr(s, "seedance-1"))
                PROBLEM(v, "model", "%s is not a Seedance 2.0 model; use one of %s", got,
                        joined(all, sizeof all, MODELS));
            else if (near)
                PROBLEM(v, "model", "unknown model %s; did you mean %s?", got, near);
            else
                PROBLEM(v, "model", "must be one of %s, got %s", joined(all, sizeof all, MODELS), got);
        }
    } else {
        char all[160], want[200];
        snprintf(want, sizeof want, "a string, one of %s", joined(all, sizeof all, MODELS));
        wrong_type(v, "model", -1, want);
    }
    lua_pop(L, 1);
}

/* Push request[key] (raw). */
static int field_get(sd_vctx *v, const char *key) {
    lua_pushstring(v->L, key);
    lua_rawget(v->L, v->req);
    return lua_type(v->L, -1);
}

static void check_url_list(sd_vctx *v, const char *key, long min, long max, int files_ok,
                           const char *noun, long *count) {
    lua_State *L = v->L;
    char field[64];
    int t = sd_absindex(L, -1);
    long n = check_array(v, key, t, "an array of URL strings");
    if (n < 0) return;
    *count = n;
    if (n < min) PROBLEM(v, key, "must hold %d to %d %ss, got none", (int)min, (int)max, noun);
    if (n > max) PROBLEM(v, key, "holds %d %ss; at most %d are allowed", (int)n, noun, (int)max);
    for (long i = 1; i <= n; i++) {
        lua_rawgeti(L, t, (int)i);
        check_url(v, path_index(field, sizeof field, key, i), -1, files_ok);
        lua_pop(L, 1);
    }
}

static void check_roles(sd_vctx *v, sd_media *m) {
    lua_State *L = v->L;
    char item[64], field[96];
    int t = sd_absindex(L, -1);
    long n = check_array(v, "image_with_roles", t, "an array of { url = ..., role = ... } tables");
    long first = 0, last = 0;
    if (n < 0) return;
    m->roles = n;
    if (n == 0) PROBLEM(v, "image_with_roles", "must hold 1 to %d images, got none", IMAGES_MAX);
    if (n > IMAGES_MAX)
        PROBLEM(v, "image_with_roles", "holds %d images; at most %d are allowed", (int)n, IMAGES_MAX);
    for (long i = 1; i <= n; i++) {
        lua_rawgeti(L, t, (int)i);
        path_index(item, sizeof item, "image_with_roles", i);
        if (lua_type(L, -1) != LUA_TTABLE || is_file(L, -1)) {
            wrong_type(v, item, -1, "a table { url = ..., role = ... }");
            lua_pop(L, 1);
            continue;
        }
        int e = sd_absindex(L, -1);
        check_keys(v, item, e, ROLE_ITEM_KEYS);
        lua_pushliteral(L, "url");
        lua_rawget(L, e);
        path_key(field, sizeof field, item, "url");
        if (lua_isnil(L, -1)) PROBLEM(v, field, "required: the image's URL");
        else check_url(v, field, -1, 1);
        lua_pop(L, 1);
        lua_pushliteral(L, "role");
        lua_rawget(L, e);
        path_key(field, sizeof field, item, "role");
        if (lua_isnil(L, -1)) {
            PROBLEM(v, field, "required: one of first_frame, last_frame, reference_image");
        } else {
            int r = check_enum(v, field, -1, ROLES);
            if (r == 0 && ++first > 1) PROBLEM(v, field, "a second first_frame; at most one is allowed");
            if (r == 1 && ++last > 1) PROBLEM(v, field, "a second last_frame; at most one is allowed");
            if (r == 2) m->role_refs++;
        }
        lua_pop(L, 2);
    }
    m->frames = first + last;
}

static void check_tools(sd_vctx *v) {
    lua_State *L = v->L;
    char item[48], field[64];
    int t = sd_absindex(L, -1);
    long n = check_array(v, "tools", t, "an array of { type = \"web_search\" } tables");
    for (long i = 1; i <= n; i++) {
        lua_rawgeti(L, t, (int)i);
        path_index(item, sizeof item, "tools", i);
        if (lua_type(L, -1) != LUA_TTABLE || is_file(L, -1)) {
            wrong_type(v, item, -1, "a table { type = \"web_search\" }");
        } else {
            int e = sd_absindex(L, -1);
            check_keys(v, item, e, TOOL_ITEM_KEYS);
            lua_pushliteral(L, "type");
            lua_rawget(L, e);
            path_key(field, sizeof field, item, "type");
            if (lua_isnil(L, -1)) PROBLEM(v, field, "required: web_search");
            else check_enum(v, field, -1, TOOL_TYPES);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* prompt: a valid UTF-8 string of at most 4000 code points; required without media. */
static void check_prompt(sd_vctx *v, const sd_media *m) {
    lua_State *L = v->L;
    int text_only = m->images == 0 && m->roles == 0 && m->videos == 0 &&
                    !m->has_image_urls && !m->has_roles;
    int t = field_get(v, "prompt");
    if (t == LUA_TNIL) {
        if (text_only)
            PROBLEM(v, "prompt", "required for text-to-video (no image_urls, image_with_roles "
                                 "or video_urls given)");
    } else if (t != LUA_TSTRING) {
        wrong_type(v, "prompt", -1, "a string");
    } else {
        size_t len, count, bad, i;
        const char *s = lua_tolstring(L, -1, &len);
        if (!sd_utf8_count(s, len, &count, &bad)) {
            PROBLEM(v, "prompt", "is not valid UTF-8 (bad byte at offset %d)", (int)bad);
        } else if (count > PROMPT_MAX) {
            PROBLEM(v, "prompt", "is %d characters long; at most %d are allowed (500 recommended)",
                    (int)count, PROMPT_MAX);
        } else {
            for (i = 0; i < len && isspace((unsigned char)s[i]); i++) {}
            if (i == len && text_only)
                PROBLEM(v, "prompt", "must not be empty for text-to-video");
        }
    }
    lua_pop(L, 1);
}

/* Cross-field rules of API.md section 1. */
static void check_combinations(sd_vctx *v, const sd_media *m) {
    if (m->has_image_urls && m->has_roles)
        PROBLEM(v, "image_with_roles", "cannot be used together with image_urls; use one of them");
    if (m->frames > 0) {
        if (m->videos > 0)
            PROBLEM(v, "video_urls", "not allowed when image_with_roles holds a first_frame or last_frame");
        if (m->audios > 0)
            PROBLEM(v, "audio_urls", "not allowed when image_with_roles holds a first_frame or last_frame");
    } else if (m->audios > 0 && m->images == 0 && m->role_refs == 0 && m->videos == 0) {
        PROBLEM(v, "audio_urls", "needs at least one reference image (image_urls or a reference_image) "
                                 "or reference video (video_urls) in the same request");
    }
}

int sd_validate(lua_State *L, int idx) {
    sd_vctx v;
    sd_media m;
    memset(&m, 0, sizeof m);
    v.L = L;
    v.req = sd_absindex(L, idx);
    v.count = 0;
    v.model = -1;
    luaL_checkstack(L, 16, "validating a request");
    lua_newtable(L);
    v.list = lua_gettop(L);

    check_keys(&v, "", v.req, REQUEST_KEYS);
    check_model(&v);

    if (field_get(&v, "image_urls") != LUA_TNIL) {
        m.has_image_urls = 1;
        check_url_list(&v, "image_urls", 1, IMAGES_MAX, 1, "image", &m.images);
    }
    lua_pop(L, 1);
    if (field_get(&v, "image_with_roles") != LUA_TNIL) {
        m.has_roles = 1;
        check_roles(&v, &m);
    }
    lua_pop(L, 1);
    if (field_get(&v, "video_urls") != LUA_TNIL)
        check_url_list(&v, "video_urls", 0, MEDIA_MAX, 0, "video", &m.videos);
    lua_pop(L, 1);
    if (field_get(&v, "audio_urls") != LUA_TNIL)
        check_url_list(&v, "audio_urls", 0, MEDIA_MAX, 0, "audio", &m.audios);
    lua_pop(L, 1);

    check_prompt(&v, &m);

    if (field_get(&v, "duration") != LUA_TNIL)
        check_integer(&v, "duration", -1, DURATION_MIN, DURATION_MAX);
    lua_pop(L, 1);
    if (field_get(&v, "size") != LUA_TNIL) check_enum(&v, "size", -1, SIZES);
    lua_pop(L, 1);
    if (field_get(&v, "resolution") != LUA_TNIL) {
        if (check_enum(&v, "resolution", -1, RESOLUTIONS) == 2 &&
            (v.model == M_FAST || v.model == M_FAST_FACE))
            PROBLEM(&v, "resolution", "1080p is available only on doubao-seedance-2.0 and "
                                      "doubao-seedance-2.0-face, not on %s", MODELS[v.model]);
    }
    lua_pop(L, 1);
    if (field_get(&v, "seed") != LUA_TNIL) check_integer(&v, "seed", -1, SEED_MIN, SEED_MAX);
    lua_pop(L, 1);
    if (field_get(&v, "generate_audio") != LUA_TNIL) check_boolean(&v, "generate_audio", -1);
    lua_pop(L, 1);
    if (field_get(&v, "return_last_frame") != LUA_TNIL) check_boolean(&v, "return_last_frame", -1);
    lua_pop(L, 1);
    if (field_get(&v, "tools") != LUA_TNIL) check_tools(&v);
    lua_pop(L, 1);

    check_combinations(&v, &m);

    if (v.count > SD_MAX_PROBLEMS) { /* one closing entry sums up the rest */
        lua_createtable(L, 0, 2);
        lua_pushliteral(L, "request");
        lua_setfield(L, -2, "field");
        lua_pushfstring(L, "%d more problems not listed", v.count - SD_MAX_PROBLEMS);
        lua_setfield(L, -2, "message");
        lua_rawseti(L, v.list, SD_MAX_PROBLEMS + 1);
        return SD_MAX_PROBLEMS + 1;
    }
    return v.count;
}
