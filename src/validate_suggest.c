/*
 * validate_suggest.c: did-you-mean. Near misses of a key or of an enum value
 * (an edit distance, or a prefix: "first" means first_frame), advice for keys
 * people carry over from other APIs, and the messages for unknown keys.
 * Runs only once a problem is found.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "validate_int.h"

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

/* Comma-separated rendering of a NULL-terminated list, whole items only: what does not fit in cap
 * (at least 32 bytes) is counted at the end ("a, b and 7 more"), never cut mid-word. */
#define SD_JOINED_TAIL 16 /* " and 9999 more" */
const char *sd_joined(char *out, size_t cap, const char *const *list) {
    size_t n = 0;
    int i, total = 0;
    while (list[total]) total++;
    out[0] = '\0';
    for (i = 0; i < total; i++) {
        const char *sep = i ? ", " : "";
        size_t need = strlen(sep) + strlen(list[i]) + (i + 1 < total ? SD_JOINED_TAIL : 0);
        if (n + need >= cap) break;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", sep, list[i]);
    }
    if (i < total) snprintf(out + n, cap - n, "%s%d more", i ? " and " : "", total - i);
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
int sd_starts_with_ci(const char *s, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    if (len < n) return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)prefix[i])) return 0;
    return 1;
}

/*
 * s with full-width ASCII forms (U+FF01..U+FF5E, what a CJK input method types
 * for ":", "x", digits: "16：9") folded to ASCII, into out (cap bytes); s itself
 * when it holds none or does not fit.
 */
static const char *fold_fullwidth(const char *s, size_t len, char *out, size_t cap) {
    size_t n = 0;
    int folded = 0;
    for (size_t i = 0; i < len; i++) {
        const unsigned char *u = (const unsigned char *)s + i;
        if (n + 1 >= cap) return s;
        if (i + 2 < len && u[0] == 0xEF && ((u[1] == 0xBC && u[2] >= 0x81) || (u[1] == 0xBD && u[2] <= 0x9E))) {
            unsigned cp = 0xF000u | ((unsigned)(u[1] & 0x3F) << 6) | (u[2] & 0x3F); /* U+FF01..U+FF5E */
            out[n++] = (char)(cp - 0xFEE0u);
            i += 2;
            folded = 1;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return folded ? out : s;
}

/* The closest entry of list to s, if close enough to be a typo; else NULL. */
const char *sd_closest(const char *const *list, const char *s, size_t len) {
    const char *best = NULL;
    int bestd = 99;
    char ascii[64];
    if (len != strlen(s)) return NULL; /* embedded NUL: no suggestion */
    s = fold_fullwidth(s, len, ascii, sizeof ascii);
    len = strlen(s);
    for (int i = 0; list[i]; i++) {
        int d = distance(s, list[i]);
        if (d < bestd) { bestd = d; best = list[i]; }
    }
    if (best == NULL) return NULL;
    if (bestd == 0) return best; /* the same but for case or full-width forms */
    if (len >= 3) /* "first" means first_frame */
        for (int i = 0; list[i]; i++)
            if (strlen(list[i]) > len && sd_starts_with_ci(list[i], len, s)) return list[i];
    size_t limit = strlen(best) <= 4 ? 1 : strlen(best) <= 8 ? 2 : 3;
    return bestd <= (int)limit ? best : NULL;
}

/*
 * Record the key at stack index key (not one of ks) of the object at path
 * prefix (NULL for the request): a key that is not a string, advice for a
 * key of another API, a near miss, or the list of known keys.
 */
void sd_unknown_key(sd_vctx *v, const sd_path *prefix, int key, const sd_words *ks) {
    lua_State *L = v->L;
    char name[80];
    sd_path at = {name, 0, NULL};
    if (prefix) {
        at = *prefix;
        at.sub = name;
    }
    sd_key_name(L, key, name, sizeof name);
    if (lua_type(L, key) != LUA_TSTRING) {
        sd_problem(v, &at, "unexpected key: keys here are strings");
        return;
    }
    size_t len;
    const char *k = lua_tolstring(L, key, &len);
    const char *advice = NULL;
    if (ks->advice && len == strlen(k))
        for (int i = 0; KEY_ADVICE[i][0]; i++)
            if (strcmp(KEY_ADVICE[i][0], k) == 0) advice = KEY_ADVICE[i][1];
    const char *near = sd_closest(ks->names, k, len);
    char all[240];
    if (advice) sd_problem(v, &at, "unknown key: %s", advice);
    else if (near) sd_problem(v, &at, "unknown key; did you mean %s?", near);
    else sd_problem(v, &at, "unknown key; known keys are %s", sd_joined(all, sizeof all, ks->names));
}
