/*
 * validate_checks.c: the checks of one field's value, as the field table
 * (validate_fields.h) dispatches them: model, prompt, the enum, integer and
 * boolean fields, tools and image_with_roles. Each gets the field's name and
 * the stack slot holding its value (nil when absent), and writes the value it
 * has checked as JSON (validate_json.c; a no-op unless the text is being
 * written, and once a problem is recorded).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "platform.h"
#include "utf8.h"
#include "validate_int.h"

#define PROMPT_MAX 4000
#define IMAGES_MAX 9
#define DURATION_MIN 4
#define DURATION_MAX 15
#define SEED_MIN (-1.0)
#define SEED_MAX 4294967295.0

/* The values of each enum, in the order the contract lists them (models: SD_M_STD ...). */
#define MODEL_LIST(X)                                                                              \
    X("doubao-seedance-2.0") X("doubao-seedance-2.0-fast") X("doubao-seedance-2.0-face")           \
    X("doubao-seedance-2.0-fast-face")
#define SIZE_LIST(X) X("16:9") X("9:16") X("1:1") X("4:3") X("3:4") X("21:9") X("adaptive")
#define RESOLUTION_LIST(X) X("480p") X("720p") X("1080p")
#define ROLE_LIST(X) X("first_frame") X("last_frame") X("reference_image")
#define TOOL_TYPE_LIST(X) X("web_search")
SD_WORDS(model, MODEL_LIST);
SD_WORDS(size, SIZE_LIST);
SD_WORDS(resolution, RESOLUTION_LIST);
SD_WORDS(role, ROLE_LIST);
SD_WORDS(tool_type, TOOL_TYPE_LIST);
const sd_words SD_MODELS = SD_WORDS_OF(model);
static const sd_words SIZES = SD_WORDS_OF(size), RESOLUTIONS = SD_WORDS_OF(resolution),
                      ROLES = SD_WORDS_OF(role), TOOL_TYPES = SD_WORDS_OF(tool_type);

/* The values an enum field takes (core.request_fields()'s `values`), or NULL for a field with no list. */
const sd_words *sd_field_values(int field) {
    switch (field) {
    case SD_F_model: return &SD_MODELS;
    case SD_F_size: return &SIZES;
    case SD_F_resolution: return &RESOLUTIONS;
    default: return NULL;
    }
}

/* String from an enum list; suggests the right spelling for near misses. Its index, or -1. */
static int check_enum(sd_vctx *v, const sd_path *at, int idx, const sd_words *allowed) {
    lua_State *L = v->L;
    char all[160], got[96];
    size_t len;
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tolstring(L, idx, &len);
        int found = sd_words_find(allowed, s, len);
        if (found >= 0) {
            sd_json_word(v, allowed, found);
            return found;
        }
        const char *closest = sd_closest(allowed->names, s, len);
        sd_joined(all, sizeof all, allowed->names);
        sd_describe(L, idx, got, sizeof got);
        if (closest) sd_problem(v, at, "must be one of %s, got %s; did you mean %s?", all, got, closest);
        else sd_problem(v, at, "must be one of %s, got %s", all, got);
        return -1;
    }
    char want[200], guess[32];
    snprintf(want, sizeof want, "a string, one of %s", sd_joined(all, sizeof all, allowed->names));
    if (lua_type(L, idx) == LUA_TNUMBER) { /* resolution = 720 means "720p" */
        sd_format_double(guess, sizeof guess - 1, "%.14g", (double)lua_tonumber(L, idx));
        strcat(guess, "p");
        if (sd_words_find(allowed, guess, strlen(guess)) >= 0) {
            sd_describe(L, idx, got, sizeof got);
            sd_problem(v, at, "must be %s, got %s; did you mean \"%s\"?", want, got, guess);
            return -1;
        }
    }
    sd_wrong_type(v, at, idx, want);
    return -1;
}

/* Integer (5 and 5.0 pass; 5.5 and "5" do not) within [lo, hi]. */
static void check_integer(sd_vctx *v, const char *name, int idx, double lo, double hi) {
    lua_State *L = v->L;
    sd_path at = {name, 0, NULL};
    double d;
    if (lua_type(L, idx) != LUA_TNUMBER) { sd_wrong_type(v, &at, idx, "an integer"); return; }
    if (!sd_tointegral(L, idx, &d)) {
        sd_wrong_type(v, &at, idx, "an integer (whole number)");
        return;
    }
    if (d < lo || d > hi) {
        char msg[160], a[40], b[40], got[40];
        sd_format_double(a, sizeof a, "%.0f", lo);
        sd_format_double(b, sizeof b, "%.0f", hi);
        sd_format_double(got, sizeof got, "%.14g", d);
        snprintf(msg, sizeof msg, "must be between %s and %s, got %s", a, b, got);
        sd_problem(v, &at, "%s", msg);
    }
    sd_json_integer(v, d); /* a no-op once a problem is recorded, as every write */
}

void sd_check_model(sd_vctx *v, const char *name, int idx) {
    lua_State *L = v->L;
    sd_path at = {name, 0, NULL};
    char all[160], got[96], want[200];
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        v->model = sd_words_find(&SD_MODELS, s, len);
        if (v->model >= 0) {
            sd_json_word(v, &SD_MODELS, v->model);
            return;
        }
        sd_describe(L, idx, got, sizeof got);
        const char *closest = sd_closest(SD_MODELS.names, s, len);
        if (strstr(s, "1.5") || strstr(s, "seedance-1"))
            sd_problem(v, &at, "%s is not a Seedance 2.0 model; use one of %s", got,
                       sd_joined(all, sizeof all, SD_MODELS.names));
        else if (closest)
            sd_problem(v, &at, "unknown model %s; did you mean %s?", got, closest);
        else
            sd_problem(v, &at, "must be one of %s, got %s", sd_joined(all, sizeof all, SD_MODELS.names), got);
    } else if (lua_isnil(L, idx)) {
        sd_problem(v, &at, "required: one of %s", sd_joined(all, sizeof all, SD_MODELS.names));
    } else {
        snprintf(want, sizeof want, "a string, one of %s", sd_joined(all, sizeof all, SD_MODELS.names));
        sd_wrong_type(v, &at, idx, want);
    }
}

/* prompt: a valid UTF-8 string of at most 4000 code points; required without media. */
void sd_check_prompt(sd_vctx *v, const char *name, int idx) {
    lua_State *L = v->L;
    const sd_media *m = &v->m;
    sd_path at = {name, 0, NULL};
    int text_only = m->images == 0 && m->roles == 0 && m->videos == 0 &&
                    !m->has_image_urls && !m->has_roles;
    int t = lua_type(L, idx);
    if (t == LUA_TNIL) {
        if (text_only)
            sd_problem(v, &at, "required for text-to-video (no image_urls, image_with_roles "
                               "or video_urls given)");
    } else if (t != LUA_TSTRING) {
        sd_wrong_type(v, &at, idx, "a string");
    } else {
        size_t len, count, bad, i;
        const char *s = lua_tolstring(L, idx, &len);
        if (!sd_utf8_count(s, len, &count, &bad)) {
            sd_problem(v, &at, "is not valid UTF-8 (bad byte at offset %d)", (int)bad);
        } else if (count > PROMPT_MAX) {
            sd_problem(v, &at, "is %d characters long; at most %d are allowed (500 recommended)",
                       (int)count, PROMPT_MAX);
        } else if (text_only) {
            for (i = 0; i < len && isspace((unsigned char)s[i]); i++) {}
            if (i == len) sd_problem(v, &at, "must not be empty for text-to-video");
        }
        sd_json_text(v, s, len, 1); /* valid UTF-8, as checked above */
    }
}

void sd_check_duration(sd_vctx *v, const char *name, int idx) {
    check_integer(v, name, idx, DURATION_MIN, DURATION_MAX);
}

void sd_check_seed(sd_vctx *v, const char *name, int idx) {
    check_integer(v, name, idx, SEED_MIN, SEED_MAX);
}

void sd_check_size(sd_vctx *v, const char *name, int idx) {
    sd_path at = {name, 0, NULL};
    check_enum(v, &at, idx, &SIZES);
}

void sd_check_resolution(sd_vctx *v, const char *name, int idx) {
    sd_path at = {name, 0, NULL};
    if (check_enum(v, &at, idx, &RESOLUTIONS) == 2 && (v->model == SD_M_FAST || v->model == SD_M_FAST_FACE))
        sd_problem(v, &at, "1080p is available only on doubao-seedance-2.0 and "
                           "doubao-seedance-2.0-face, not on %s", SD_MODELS.names[v->model]);
}

void sd_check_boolean(sd_vctx *v, const char *name, int idx) {
    sd_path at = {name, 0, NULL};
    if (lua_type(v->L, idx) != LUA_TBOOLEAN) sd_wrong_type(v, &at, idx, "a boolean (true or false)");
    else if (lua_toboolean(v->L, idx)) SD_JSON_LIT(v, "true");
    else SD_JSON_LIT(v, "false");
}

/*
 * The item on top of the stack (at idx) of a list of objects: a table, not a
 * file marker, walked (sd_walk: slots[k] is the stack index of key k's value).
 * Returns a bit per key found, or -1 after recording a problem.
 */
static long item_walk(sd_vctx *v, const sd_path *at, int idx, const sd_words *ks, int *slots,
                      const char *expected) {
    lua_State *L = v->L;
    if (lua_type(L, idx) != LUA_TTABLE || sd_is_file(L, idx)) {
        sd_wrong_type(v, at, idx, expected);
        return -1;
    }
    return (long)sd_walk(v, idx, ks, slots, at);
}

void sd_check_tools(sd_vctx *v, const char *name, int t) {
    lua_State *L = v->L;
    sd_path at = {name, 0, NULL};
    long n = sd_check_array(v, &at, t, "an array of { type = \"web_search\" } tables");
    SD_JSON_LIT(v, "[");
    for (long i = 1; i <= n; i++) {
        sd_path item = {name, i, NULL}, type = {name, i, "type"};
        int top = lua_gettop(L), slots[SD_NTOOL_FIELDS];
        long found;
        lua_rawgeti(L, t, (int)i);
        found = item_walk(v, &item, top + 1, &SD_TOOL_KEYS, slots, "a table { type = \"web_search\" }");
        if (found >= 0) {
            if (i > 1) SD_JSON_LIT(v, ",");
            SD_JSON_LIT(v, "{\"type\":");
            if (!(found >> SD_T_type & 1)) sd_problem(v, &type, "required: web_search");
            else check_enum(v, &type, slots[SD_T_type], &TOOL_TYPES);
            SD_JSON_LIT(v, "}");
        }
        lua_settop(L, top);
    }
    SD_JSON_LIT(v, "]");
}

void sd_check_roles(sd_vctx *v, const char *name, int t) {
    lua_State *L = v->L;
    sd_media *m = &v->m;
    sd_path at = {name, 0, NULL};
    long n, first = 0, last = 0;
    m->has_roles = 1;
    n = sd_check_array(v, &at, t, "an array of { url = ..., role = ... } tables");
    if (n < 0) return;
    m->roles = n;
    if (n == 0) sd_problem(v, &at, "must hold 1 to %d images, got none", IMAGES_MAX);
    if (n > IMAGES_MAX) sd_problem(v, &at, "holds %d images; at most %d are allowed", (int)n, IMAGES_MAX);
    SD_JSON_LIT(v, "[");
    for (long i = 1; i <= n; i++) {
        sd_path item = {name, i, NULL}, url = {name, i, "url"}, role = {name, i, "role"};
        int top = lua_gettop(L), slots[SD_NROLE_FIELDS];
        long found;
        lua_rawgeti(L, t, (int)i);
        found = item_walk(v, &item, top + 1, &SD_ROLE_KEYS, slots, "a table { url = ..., role = ... }");
        if (found < 0) {
            lua_settop(L, top);
            continue;
        }
        if (i > 1) SD_JSON_LIT(v, ",");
        SD_JSON_LIT(v, "{\"url\":");
        if (!(found >> SD_R_url & 1)) sd_problem(v, &url, "required: the image's URL");
        else sd_check_url(v, &url, slots[SD_R_url], 1);
        SD_JSON_LIT(v, ",\"role\":");
        if (!(found >> SD_R_role & 1)) {
            sd_problem(v, &role, "required: one of first_frame, last_frame, reference_image");
        } else {
            int r = check_enum(v, &role, slots[SD_R_role], &ROLES);
            if (r == 0 && ++first > 1) sd_problem(v, &role, "a second first_frame; at most one is allowed");
            if (r == 1 && ++last > 1) sd_problem(v, &role, "a second last_frame; at most one is allowed");
            if (r == 2) m->role_refs++;
        }
        SD_JSON_LIT(v, "}");
        lua_settop(L, top);
    }
    SD_JSON_LIT(v, "]");
    m->frames = first + last;
}
