/*
 * validate_urls.c: URL values (http(s)://, asset://<id>, seedance.file(path)),
 * the lists image_urls, video_urls and audio_urls, and the array shape check
 * every list shares.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "validate_int.h"

#define IMAGES_MAX 9
#define MEDIA_MAX 3

/*
 * The value at idx must be a sequence (keys exactly 1..n). Returns n, or -1
 * after recording a problem. An empty table counts as an empty array.
 */
long sd_check_array(sd_vctx *v, const sd_path *at, int idx, const char *expected) {
    lua_State *L = v->L;
    long n = 0, len;
    int bad = 0;
    double d;
    char key[80];
    if (lua_type(L, idx) != LUA_TTABLE || sd_is_file(L, idx)) {
        sd_wrong_type(v, at, idx, expected);
        return -1;
    }
    /* One pass: n distinct keys, all whole numbers in 1..#t, with n == #t, are exactly 1..n. */
    len = (long)sd_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        n++;
        if (!bad && (lua_type(L, -1) != LUA_TNUMBER || !sd_tointegral(L, -1, &d) || d < 1 || d > (double)len))
            bad = 1;
    }
    if (!bad && n == len) return n;
    /* Not a sequence: name the first key that shows it, as the first of two passes meets it. */
    bad = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (!bad && lua_type(L, -1) != LUA_TNUMBER) { bad = 1; sd_key_name(L, -1, key, sizeof key); }
    }
    if (!bad) { /* all keys numeric: they must be exactly 1..n */
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            lua_pop(L, 1);
            if (!bad && (!sd_tointegral(L, -1, &d) || d < 1 || d > (double)n)) {
                bad = 1;
                sd_key_name(L, -1, key, sizeof key);
            }
        }
    }
    sd_problem(v, at, "must be %s (a sequence indexed 1..n), but has key %s", expected, key);
    return -1;
}

/*
 * How many leading bytes of s hold no space, control byte or DEL, eight at a
 * time (a multiple of 8; the bytes after it are for the caller to look at).
 * A word has a byte below 0x21 when (w - 0x21..) & ~w & 0x80.. is not zero,
 * and a DEL when w ^ 0x7F.. has a zero byte (the same test with 0x01).
 */
static size_t clean_prefix(const char *s, size_t len) {
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w, x;
        memcpy(&w, s + i, 8);
        x = w ^ (ones * 0x7F);
        if ((((w - ones * 0x21) & ~w) | ((x - ones) & ~x)) & high) break;
    }
    return i;
}

/* Does s (len bytes) start with prefix (lower case), ignoring case? Exact first, the cheap way. */
static int scheme(const char *s, size_t len, const char *prefix, size_t n) {
    return len >= n && (memcmp(s, prefix, n) == 0 || sd_starts_with_ci(s, len, prefix));
}

/* The bad URL at idx (a string s of len bytes, not empty, no control bytes): say what it is. */
static void not_a_url(sd_vctx *v, const sd_path *at, int idx, const char *s, size_t len, int files_ok) {
    char got[96];
    sd_describe(v->L, idx, got, sizeof got);
    if (sd_starts_with_ci(s, len, "file:") || s[0] == '/' || s[0] == '.')
        sd_problem(v, at, "must be a URL, got %s; %s", got,
                   files_ok ? "for a local image use seedance.file(path), which uploads it"
                            : "the service has no upload for video or audio; host the file");
    else if (sd_starts_with_ci(s, len, "data:"))
        sd_problem(v, at, "base64 data URLs are not accepted; upload the image with seedance.file(path)");
    else
        sd_problem(v, at, "must be an http:// or https:// URL or asset://<id>, got %s", got);
}

/* An asset://<id> URL (s, len bytes): its id, and the model's leave to use assets. */
static void check_asset(sd_vctx *v, const sd_path *at, const char *s, size_t len) {
    for (size_t i = 8; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '.') {
            sd_problem(v, at, "asset URL id may hold only letters, digits, '_', '-' and '.'");
            return;
        }
    }
    if (len == 8) {
        sd_problem(v, at, "asset URL needs an id: asset://<id>");
    } else if (!(sd_rules(v)->url_kinds >> SD_URL_ASSET & 1u)) {
        char others[400];
        if (sd_models_having(v->L, 'a', NULL, others, sizeof others) > 0)
            sd_problem(v, at, "asset URLs are accepted only by %s, not by %s", others, v->model->name);
        else
            sd_problem(v, at, "asset URLs are not accepted by %s", v->model->name);
    }
}

/* An http(s):// URL (or a local file, uploaded to one): refused by a model that takes asset URLs only. */
static void check_http(sd_vctx *v, const sd_path *at) {
    if (!(sd_rules(v)->url_kinds >> SD_URL_HTTP & 1u))
        sd_problem(v, at, "http(s) URLs (and local files, uploaded to one) are not accepted by %s; give "
                          "asset://<id>", v->model->name);
}

/*
 * An http(s):// URL with a host, an asset://<id>, or (where files_ok) a
 * seedance.file(path). Asset URLs are checked against the model too.
 */
void sd_check_url(sd_vctx *v, const sd_path *at, int idx, int files_ok) {
    lua_State *L = v->L;
    size_t len, skip;
    const char *s;
    if (lua_type(L, idx) != LUA_TSTRING) {
        if (!sd_is_file(L, idx))
            sd_wrong_type(v, at, idx, files_ok ? "a URL string or seedance.file(path)" : "a URL string");
        else if (!files_ok)
            sd_problem(v, at, "cannot be a local file: the service has no upload for video or audio; "
                              "host the file and give its http(s):// URL");
        else {
            check_http(v, at);
            sd_json_decline(v); /* a valid file: its URL is known once it is uploaded */
        }
        return;
    }
    s = lua_tolstring(L, idx, &len);
    if (len == 0) {
        sd_problem(v, at, "must not be empty: give an http(s):// URL or asset://<id>");
        return;
    }
    for (size_t i = clean_prefix(s, len); i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7F) {
            sd_problem(v, at, "must not contain spaces or control characters (byte %d)", (int)i + 1);
            return;
        }
    }
    skip = scheme(s, len, "https://", 8) ? 8 : scheme(s, len, "http://", 7) ? 7 : 0;
    if (skip) {
        if (skip == len || s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
            sd_problem(v, at, "URL has no host");
        else
            check_http(v, at);
    } else if (scheme(s, len, "asset://", 8)) {
        check_asset(v, at, s, len);
    } else {
        not_a_url(v, at, idx, s, len, files_ok);
    }
    sd_json_text(v, s, len, 0); /* a no-op once a problem is recorded */
}

/* A list of URLs under key: min..max entries, each checked (and written); *count gets its length. */
static void check_url_list(sd_vctx *v, const char *key, int t, long min, long max, int files_ok,
                           const char *noun, long *count) {
    lua_State *L = v->L;
    sd_path at = {key, 0, NULL};
    long n = sd_check_array(v, &at, t, "an array of URL strings");
    if (n < 0) return;
    *count = n;
    if (n < min) sd_problem(v, &at, "must hold %d to %d %ss, got none", (int)min, (int)max, noun);
    if (n > max) sd_problem(v, &at, "holds %d %ss; at most %d are allowed", (int)n, noun, (int)max);
    SD_JSON_LIT(v, "[");
    for (long i = 1; i <= n; i++) {
        sd_path item = {key, i, NULL};
        lua_rawgeti(L, t, (int)i);
        if (i > 1) SD_JSON_LIT(v, ",");
        sd_check_url(v, &item, -1, files_ok);
        lua_pop(L, 1);
    }
    SD_JSON_LIT(v, "]");
}

/* A list the model must take (its feature) when it holds anything. */
static void check_feature(sd_vctx *v, const char *name, long count, int feature) {
    sd_path at = {name, 0, NULL};
    if (count > 0) sd_lacks(v, &at, name, feature);
}

void sd_check_image_urls(sd_vctx *v, const char *name, int idx) {
    v->m.has_image_urls = 1;
    check_url_list(v, name, idx, 1, IMAGES_MAX, 1, "image", &v->m.images);
    check_feature(v, name, v->m.images, SD_FEAT_IMAGE_URLS);
}

void sd_check_video_urls(sd_vctx *v, const char *name, int idx) {
    check_url_list(v, name, idx, 0, MEDIA_MAX, 0, "video", &v->m.videos);
    check_feature(v, name, v->m.videos, SD_FEAT_VIDEO_URLS);
}

void sd_check_audio_urls(sd_vctx *v, const char *name, int idx) {
    check_url_list(v, name, idx, 0, MEDIA_MAX, 0, "audio", &v->m.audios);
    check_feature(v, name, v->m.audios, SD_FEAT_AUDIO_URLS);
}
