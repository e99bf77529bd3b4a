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
#define SEED_MIN (-1.0)
#define SEED_MAX 4294967295.0

/* What an unknown model's message adds: how to describe a model this client does not know. */
#define DESCRIBE_MODEL                                                                             \
    "to use a model this client does not know, describe it: seedance.models.add(name, { like = "   \
    "\"doubao-seedance-2.0\", ... }) in Lua, --model-rules FILE.json for the command"

/* The values of each enum the model does not decide, in the order the contract lists them. The
 * models, their resolutions, sizes and durations are data: validate_models.c. */
#define ROLE_LIST(X) X("first_frame") X("last_frame") X("reference_image")
#define TOOL_TYPE_LIST(X) X("web_search")
SD_WORDS(role, ROLE_LIST);
SD_WORDS(tool_type, TOOL_TYPE_LIST);
static const sd_words ROLES = SD_WORDS_OF(role), TOOL_TYPES = SD_WORDS_OF(tool_type);

void sd_lacks(sd_vctx *v, const sd_path *at, const char *what, int feature) {
    if (sd_rules(v)->features >> feature & 1u) return;
    sd_problem(v, at, "%s is not available on %s (its features in seedance.models do not include %s)", what,
               v->model->name, SD_FEATURE_NAMES[feature]);
}

/*
 * A string from one of the model's lists (which: 'r' resolutions, 's' sizes), written as JSON;
 * a value another model takes is said to be that model's, a near miss gets a suggestion.
 * Its index, or -1.
 */
static int check_word(sd_vctx *v, const sd_path *at, int idx, const char (*words)[SD_MODEL_WORD_MAX], int n,
                      int which) {
    lua_State *L = v->L;
    const char *list[SD_MODEL_WORDS + 1];
    char all[240], got[96], want[280], guess[32];
    size_t len;
    for (int i = 0; i < n; i++) list[i] = words[i];
    list[n] = NULL;
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tolstring(L, idx, &len);
        for (int i = 0; i < n; i++)
            if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0) {
                sd_json_text(v, s, len, 1); /* a word of the list: plain ASCII */
                return i;
            }
        if (v->model && len > 0 && len == strlen(s)) {
            char others[400];
            if (sd_models_having(L, which, s, others, sizeof others) > 0) {
                sd_problem(v, at, "%s is available only on %s, not on %s", s, others, v->model->name);
                return -1;
            }
        }
        const char *closest = sd_closest(list, s, len);
        sd_joined(all, sizeof all, list);
        sd_describe(L, idx, got, sizeof got);
        if (closest) sd_problem(v, at, "must be one of %s, got %s; did you mean %s?", all, got, closest);
        else sd_problem(v, at, "must be one of %s, got %s", all, got);
        return -1;
    }
    snprintf(want, sizeof want, "a string, one of %s", sd_joined(all, sizeof all, list));
    if (lua_type(L, idx) == LUA_TNUMBER) { /* resolution = 720 means "720p" */
        snprintf(guess, sizeof guess, "%.14gp", (double)lua_tonumber(L, idx));
        for (int i = 0; i < n; i++)
            if (strcmp(words[i], guess) == 0) {
                sd_describe(L, idx, got, sizeof got);
                sd_problem(v, at, "must be %s, got %s; did you mean \"%s\"?", want, got, guess);
                return -1;
            }
    }
    sd_wrong_type(v, at, idx, want);
    return -1;
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
    const char *names[SD_MODELS_MAX + 1], *s = NULL;
    char all[400], got[96], want[440];
    size_t len = 0;
    if (lua_type(L, idx) == LUA_TSTRING) {
        s = lua_tolstring(L, idx, &len);
        v->model = sd_model_find(L, idx);
        if (v->model) {
            sd_json_text(v, s, len, 1); /* a model's name: plain ASCII (validate_models.c) */
            return;
        }
    }
    sd_model_names(L, names, SD_MODELS_MAX); /* (the names for the error only) */
    if (s != NULL) {
        sd_joined(all, sizeof all, names);
        sd_describe(L, idx, got, sizeof got);
        const char *closest = sd_closest(names, s, len);
        if (strstr(s, "1.5") || strstr(s, "seedance-1"))
            sd_problem(v, &at, "%s is not a Seedance 2.0 model; use one of %s", got, all);
        else if (closest)
            sd_problem(v, &at, "unknown model %s (%s); did you mean %s?", got, DESCRIBE_MODEL, closest);
        else
            sd_problem(v, &at, "unknown model %s; the models are %s; %s", got, all, DESCRIBE_MODEL);
    } else if (lua_isnil(L, idx)) {
        sd_problem(v, &at, "required: one of %s", sd_joined(all, sizeof all, names));
    } else {
        snprintf(want, sizeof want, "a string, one of %s", sd_joined(all, sizeof all, names));
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
    check_integer(v, name, idx, (double)sd_rules(v)->dmin, (double)sd_rules(v)->dmax);
}

void sd_check_seed(sd_vctx *v, const char *name, int idx) {
    check_integer(v, name, idx, SEED_MIN, SEED_MAX);
}

void sd_check_size(sd_vctx *v, const char *name, int idx) {
    sd_path at = {name, 0, NULL};
    check_word(v, &at, idx, sd_rules(v)->sizes, sd_rules(v)->nsizes, 's');
}

void sd_check_resolution(sd_vctx *v, const char *name, int idx) {
    sd_path at = {name, 0, NULL};
    check_word(v, &at, idx, sd_rules(v)->res, sd_rules(v)->nres, 'r');
}

/* generate_audio, return_last_frame: a boolean; true only on a model with the feature of its name. */
void sd_check_boolean(sd_vctx *v, const char *name, int idx) {
    sd_path at = {name, 0, NULL};
    if (lua_type(v->L, idx) != LUA_TBOOLEAN) {
        sd_wrong_type(v, &at, idx, "a boolean (true or false)");
    } else if (lua_toboolean(v->L, idx)) {
        SD_JSON_LIT(v, "true");
        if (strcmp(name, "generate_audio") == 0) sd_lacks(v, &at, "generate_audio", SD_FEAT_GENERATE_AUDIO);
        else if (strcmp(name, "return_last_frame") == 0)
            sd_lacks(v, &at, "return_last_frame", SD_FEAT_RETURN_LAST_FRAME);
    } else {
        SD_JSON_LIT(v, "false");
    }
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
            else if (check_enum(v, &type, slots[SD_T_type], &TOOL_TYPES) == 0)
                sd_lacks(v, &type, "web_search", SD_FEAT_WEB_SEARCH);
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
            if (r >= 0) sd_lacks(v, &role, ROLES.names[r], SD_FEAT_FIRST_FRAME + r);
        }
        SD_JSON_LIT(v, "}");
        lua_settop(L, top);
    }
    SD_JSON_LIT(v, "]");
    m->frames = first + last;
}
