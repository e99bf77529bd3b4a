/*
 * validate_models.c: the per-model rules as data (validate_models.h). The
 * state's table lives in the registry under "seedance.models": entries 1..n
 * are full userdata holding an sd_model each, in the order they were added
 * (the built-ins first), and the same userdata stand under their names. An
 * entry is changed in place, so a pointer the validator holds stays good.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "validate_fields.h"
#include "validate_models.h"

#define REGISTRY_KEY "seedance.models"
#define DURATION_LIMIT 3600 /* the longest duration a model may be given, seconds */

const char *const SD_FEATURE_NAMES[SD_NFEATURES + 1] = {
    "generate_audio", "return_last_frame", "web_search", "image_urls", "first_frame",
    "last_frame", "reference_image", "video_urls", "audio_urls", NULL};
static const char *const URL_KIND_NAMES[SD_NURL_KINDS + 1] = {"http", "asset", NULL};
static const char *const RULE_NAMES[] = {"like", "resolutions", "sizes", "duration", "features", "url_kinds", NULL};

#define ALL_FEATURES ((1u << SD_NFEATURES) - 1)
#define SIZES_2_0 7, {"16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"}

/* API.md section 1: 1080p only on the standard and face models; asset URLs only on the non-face ones. */
static const sd_model BUILTIN[] = {
    {"doubao-seedance-2.0", 3, {"480p", "720p", "1080p"}, SIZES_2_0, 4, 15, ALL_FEATURES,
     1u << SD_URL_HTTP | 1u << SD_URL_ASSET},
    {"doubao-seedance-2.0-fast", 2, {"480p", "720p"}, SIZES_2_0, 4, 15, ALL_FEATURES,
     1u << SD_URL_HTTP | 1u << SD_URL_ASSET},
    {"doubao-seedance-2.0-face", 3, {"480p", "720p", "1080p"}, SIZES_2_0, 4, 15, ALL_FEATURES, 1u << SD_URL_HTTP},
    {"doubao-seedance-2.0-fast-face", 2, {"480p", "720p"}, SIZES_2_0, 4, 15, ALL_FEATURES, 1u << SD_URL_HTTP},
};
#define NBUILTIN ((int)(sizeof BUILTIN / sizeof BUILTIN[0]))

const sd_model SD_DEFAULT_MODEL = {"doubao-seedance-2.0", 3, {"480p", "720p", "1080p"}, SIZES_2_0, 4, 15,
                                   ALL_FEATURES, 1u << SD_URL_HTTP | 1u << SD_URL_ASSET};

/* Push the state's table, made with the built-in models when it is not there yet. */
static void models_table(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
    if (lua_type(L, -1) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_createtable(L, NBUILTIN, NBUILTIN);
    for (int i = 0; i < NBUILTIN; i++) {
        sd_model *m = (sd_model *)lua_newuserdata(L, sizeof *m);
        *m = BUILTIN[i];
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, i + 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
}

/* The model in the table at t under the key on top of the stack (popped), or NULL. */
static sd_model *lookup(lua_State *L, int t) {
    sd_model *m;
    lua_rawget(L, t);
    m = lua_type(L, -1) == LUA_TUSERDATA ? (sd_model *)lua_touserdata(L, -1) : NULL;
    lua_pop(L, 1);
    return m;
}

const sd_model *sd_model_find(lua_State *L, int idx) {
    const sd_model *m;
    idx = sd_absindex(L, idx);
    models_table(L);
    lua_pushvalue(L, idx);
    m = lookup(L, lua_gettop(L) - 1);
    lua_pop(L, 1);
    return m;
}

int sd_model_names(lua_State *L, const char **out, int max) {
    int n = 0, t;
    models_table(L);
    t = lua_gettop(L);
    for (int i = 1; n < max; i++) {
        lua_pushinteger(L, i);
        sd_model *m = lookup(L, t);
        if (!m) break;
        out[n++] = m->name;
    }
    out[n] = NULL;
    lua_pop(L, 1);
    return n;
}

/* Whether a list of words holds w. */
static int has_word(const char (*words)[SD_MODEL_WORD_MAX], int n, const char *w) {
    for (int i = 0; i < n; i++)
        if (strcmp(words[i], w) == 0) return 1;
    return 0;
}

int sd_models_having(lua_State *L, int which, const char *word, char *out, size_t cap) {
    const char *names[SD_MODELS_MAX + 1], *hits[SD_MODELS_MAX];
    int n = sd_model_names(L, names, SD_MODELS_MAX), k = 0;
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const sd_model *m = (const sd_model *)((const char *)names[i] - offsetof(sd_model, name));
        int yes = which == 'r'   ? has_word(m->res, m->nres, word)
                  : which == 's' ? has_word(m->sizes, m->nsizes, word)
                                 : (m->url_kinds >> SD_URL_ASSET & 1u) != 0;
        if (yes) hits[k++] = m->name;
    }
    for (int i = 0; i < k && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i == 0 ? "" : i == k - 1 ? " and " : ", ", hits[i]);
    return k;
}

/* ---- adding -------------------------------------------------------------------------------- */

/* A word of a rule (a model name, resolution or size): 1..max-1 bytes of letters, digits and ".:_-+". */
static int word_ok(const char *s, size_t len, size_t max) {
    if (len == 0 || len >= max || len != strlen(s)) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && !strchr(".:_-+", c)) return 0;
    }
    return 1;
}

/* The number of entries of the table at idx when it is a sequence 1..n, else -1. */
static long sequence(lua_State *L, int idx) {
    long n = (long)sd_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        count++;
        if (lua_type(L, -1) != LUA_TNUMBER) {
            lua_pop(L, 1);
            return -1;
        }
    }
    return count == n ? n : -1;
}

/* A list of words (resolutions or sizes) from the value at idx into words; its count, or -1 with err. */
static int word_list(lua_State *L, int idx, const char *rule, char (*words)[SD_MODEL_WORD_MAX], char *err,
                     size_t cap) {
    long n;
    if (lua_type(L, idx) != LUA_TTABLE || (n = sequence(L, idx)) < 0) {
        snprintf(err, cap, "%s must be a list of strings", rule);
        return -1;
    }
    if (n < 1 || n > SD_MODEL_WORDS) {
        snprintf(err, cap, "%s must hold 1 to %d entries, got %ld", rule, SD_MODEL_WORDS, n);
        return -1;
    }
    for (long i = 1; i <= n; i++) {
        size_t len;
        const char *s;
        lua_rawgeti(L, idx, (int)i);
        s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!s || !word_ok(s, len, SD_MODEL_WORD_MAX)) {
            lua_pop(L, 1);
            snprintf(err, cap, "%s[%ld] must be 1 to %d letters, digits or \".:_-+\"", rule, i, SD_MODEL_WORD_MAX - 1);
            return -1;
        }
        if (has_word((const char (*)[SD_MODEL_WORD_MAX])words, (int)i - 1, s)) {
            lua_pop(L, 1);
            snprintf(err, cap, "%s[%ld]: %s is listed twice", rule, i, s);
            return -1;
        }
        memcpy(words[i - 1], s, len + 1);
        lua_pop(L, 1);
    }
    return (int)n;
}

/* A set of names (features, URL kinds) from the list at idx as bits; -1 with err. */
static long name_bits(lua_State *L, int idx, const char *rule, const char *const *names, int need_one, char *err,
                      size_t cap) {
    long n;
    unsigned bits = 0;
    char all[200];
    size_t len = 0;
    all[0] = '\0';
    for (int k = 0; names[k]; k++) len += (size_t)snprintf(all + len, sizeof all - len, "%s%s", k ? ", " : "", names[k]);
    if (lua_type(L, idx) != LUA_TTABLE || (n = sequence(L, idx)) < 0) {
        snprintf(err, cap, "%s must be a list of names (%s)", rule, all);
        return -1;
    }
    if (need_one && n == 0) {
        snprintf(err, cap, "%s must name at least one of %s", rule, all);
        return -1;
    }
    for (long i = 1; i <= n; i++) {
        int found = -1;
        lua_rawgeti(L, idx, (int)i);
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int k = 0; names[k] && found < 0; k++)
                if (strcmp(names[k], lua_tostring(L, -1)) == 0) found = k;
        lua_pop(L, 1);
        if (found < 0) {
            snprintf(err, cap, "%s[%ld] must be one of %s", rule, i, all);
            return -1;
        }
        bits |= 1u << found;
    }
    return (long)bits;
}

/* The duration rule at idx, { min = N, max = N } (either may be left out), into m. */
static int duration_rule(lua_State *L, int idx, sd_model *m, char *err, size_t cap) {
    long v[2] = {m->dmin, m->dmax};
    static const char *const keys[2] = {"min", "max"};
    if (lua_type(L, idx) != LUA_TTABLE) {
        snprintf(err, cap, "duration must be a table { min = SECONDS, max = SECONDS }");
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int k = -1;
        double d;
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; i < 2; i++)
                if (strcmp(lua_tostring(L, -1), keys[i]) == 0) k = i;
        if (k < 0) {
            lua_pop(L, 1);
            snprintf(err, cap, "duration holds only min and max (seconds)");
            return -1;
        }
        lua_pushvalue(L, -1);
        lua_rawget(L, idx);
        if (lua_type(L, -1) != LUA_TNUMBER || !sd_tointegral(L, -1, &d) || d < 1 || d > DURATION_LIMIT) {
            lua_pop(L, 2);
            snprintf(err, cap, "duration.%s must be a whole number of seconds from 1 to %d", keys[k], DURATION_LIMIT);
            return -1;
        }
        v[k] = (long)d;
        lua_pop(L, 1);
    }
    if (v[0] > v[1]) {
        snprintf(err, cap, "duration.min (%ld) is above duration.max (%ld)", v[0], v[1]);
        return -1;
    }
    m->dmin = v[0];
    m->dmax = v[1];
    return 0;
}

int sd_models_add(lua_State *L, int name_idx, int rules_idx, char *err, size_t cap) {
    sd_model m, *slot;
    const sd_model *base;
    size_t len;
    const char *name;
    int t, top = lua_gettop(L);
    name_idx = sd_absindex(L, name_idx);
    rules_idx = sd_absindex(L, rules_idx);
    name = lua_type(L, name_idx) == LUA_TSTRING ? lua_tolstring(L, name_idx, &len) : NULL;
    if (!name || !word_ok(name, len, SD_MODEL_NAME_MAX) || strcmp(name, "add") == 0 || strcmp(name, "add_all") == 0) {
        snprintf(err, cap, "a model's name is 1 to %d letters, digits or \".:_-+\" (not add or add_all)",
                 SD_MODEL_NAME_MAX - 1);
        return -1;
    }
    if (lua_type(L, rules_idx) != LUA_TTABLE) {
        snprintf(err, cap, "the rules of %s must be a table", name);
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, rules_idx) != 0) {
        int known = 0;
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; RULE_NAMES[i]; i++)
                if (strcmp(RULE_NAMES[i], lua_tostring(L, -1)) == 0) known = 1;
        if (!known) {
            char key[48];
            if (lua_type(L, -1) == LUA_TSTRING) snprintf(key, sizeof key, "'%.40s'", lua_tostring(L, -1));
            else snprintf(key, sizeof key, "of type %s", luaL_typename(L, -1));
            lua_pop(L, 1);
            snprintf(err, cap, "unknown rule %s; the rules are like, resolutions, sizes, duration, features and "
                               "url_kinds", key);
            return -1;
        }
    }
    models_table(L);
    t = lua_gettop(L);
    lua_getfield(L, rules_idx, "like");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_settop(L, top);
            snprintf(err, cap, "like must name a model (a string)");
            return -1;
        }
        base = lookup(L, t); /* pops the name */
        if (!base) {
            lua_getfield(L, rules_idx, "like");
            snprintf(err, cap, "like: no model named %.64s", lua_tostring(L, -1));
            lua_settop(L, top);
            return -1;
        }
    } else {
        lua_pop(L, 1);
        lua_pushvalue(L, name_idx);
        base = lookup(L, t);
        if (!base) base = &SD_DEFAULT_MODEL;
    }
    m = *base;
    memcpy(m.name, name, len + 1);
    lua_getfield(L, rules_idx, "resolutions");
    if (!lua_isnil(L, -1) && (m.nres = word_list(L, lua_gettop(L), "resolutions", m.res, err, cap)) < 0) goto fail;
    lua_pop(L, 1);
    lua_getfield(L, rules_idx, "sizes");
    if (!lua_isnil(L, -1) && (m.nsizes = word_list(L, lua_gettop(L), "sizes", m.sizes, err, cap)) < 0) goto fail;
    lua_pop(L, 1);
    lua_getfield(L, rules_idx, "duration");
    if (!lua_isnil(L, -1) && duration_rule(L, lua_gettop(L), &m, err, cap) != 0) goto fail;
    lua_pop(L, 1);
    lua_getfield(L, rules_idx, "features");
    if (!lua_isnil(L, -1)) {
        long bits = name_bits(L, lua_gettop(L), "features", SD_FEATURE_NAMES, 0, err, cap);
        if (bits < 0) goto fail;
        m.features = (unsigned)bits;
    }
    lua_pop(L, 1);
    lua_getfield(L, rules_idx, "url_kinds");
    if (!lua_isnil(L, -1)) {
        long bits = name_bits(L, lua_gettop(L), "url_kinds", URL_KIND_NAMES, 1, err, cap);
        if (bits < 0) goto fail;
        m.url_kinds = (unsigned)bits;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, name_idx);
    slot = lookup(L, t);
    if (!slot) {
        int n = (int)sd_rawlen(L, t);
        if (n >= SD_MODELS_MAX) {
            snprintf(err, cap, "at most %d models can be described", SD_MODELS_MAX);
            lua_settop(L, top);
            return -1;
        }
        slot = (sd_model *)lua_newuserdata(L, sizeof *slot);
        lua_pushvalue(L, -1);
        lua_rawseti(L, t, n + 1);
        lua_pushvalue(L, name_idx);
        lua_insert(L, -2);
        lua_rawset(L, t);
    }
    *slot = m; /* in place: a pointer held elsewhere sees the new rules */
    lua_settop(L, top);
    return 0;
fail:
    lua_settop(L, top);
    return -1;
}

int sd_models_add_many(lua_State *L, int idx, char *err, size_t cap) {
    int top = lua_gettop(L), names, pending = 0, progress = 1;
    char why[240];
    idx = sd_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE) {
        snprintf(err, cap, "model rules must be an object { \"NAME\": { rules }, ... }");
        return -1;
    }
    lua_newtable(L); /* the names not added yet, as a set */
    names = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE) {
            lua_settop(L, top);
            snprintf(err, cap, "model rules must be an object { \"NAME\": { rules }, ... }");
            return -1;
        }
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_rawset(L, names);
        pending++;
    }
    /* a model whose `like` names another still pending waits for it (passes until none is added) */
    while (pending > 0 && progress) {
        progress = 0;
        lua_pushnil(L);
        while (lua_next(L, names) != 0) {
            int wait;
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_rawget(L, idx);          /* rules */
            lua_getfield(L, -1, "like"); /* like */
            wait = 0;
            if (lua_type(L, -1) == LUA_TSTRING && !lua_rawequal(L, -1, -3)) {
                lua_rawget(L, names);
                wait = !lua_isnil(L, -1);
            }
            lua_pop(L, 2);
            if (wait) continue;
            lua_pushvalue(L, -1);
            lua_rawget(L, idx);
            if (sd_models_add(L, -2, -1, why, sizeof why) != 0) {
                snprintf(err, cap, "%.64s: %s", lua_tostring(L, -2), why);
                lua_settop(L, top);
                return -1;
            }
            lua_pop(L, 1);
            /* added: drop it from the set and walk again (a table may not gain or lose keys mid-walk) */
            lua_pushnil(L);
            lua_rawset(L, names);
            pending--;
            progress = 1;
            break;
        }
    }
    if (pending > 0) {
        lua_pushnil(L);
        lua_next(L, names);
        snprintf(err, cap, "%.64s: its like names a model that waits for it (a cycle)", lua_tostring(L, -2));
        lua_settop(L, top);
        return -1;
    }
    lua_settop(L, top);
    return 0;
}

/* ---- Lua ----------------------------------------------------------------------------------- */

/* Push a list of words as a Lua sequence. */
static void push_words(lua_State *L, const char (*words)[SD_MODEL_WORD_MAX], int n) {
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, words[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* Push the names of the bits set, as a Lua sequence. */
static void push_bits(lua_State *L, unsigned bits, const char *const *names) {
    int n = 0;
    lua_newtable(L);
    for (int i = 0; names[i]; i++)
        if (bits >> i & 1u) {
            lua_pushstring(L, names[i]);
            lua_rawseti(L, -2, ++n);
        }
}

void sd_models_push(lua_State *L) {
    const char *names[SD_MODELS_MAX + 1];
    int n = sd_model_names(L, names, SD_MODELS_MAX);
    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        const sd_model *m = (const sd_model *)((const char *)names[i] - offsetof(sd_model, name));
        lua_createtable(L, 0, 5);
        push_words(L, (const char (*)[SD_MODEL_WORD_MAX])m->res, m->nres);
        lua_setfield(L, -2, "resolutions");
        push_words(L, (const char (*)[SD_MODEL_WORD_MAX])m->sizes, m->nsizes);
        lua_setfield(L, -2, "sizes");
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, (lua_Integer)m->dmin);
        lua_setfield(L, -2, "min");
        lua_pushinteger(L, (lua_Integer)m->dmax);
        lua_setfield(L, -2, "max");
        lua_setfield(L, -2, "duration");
        push_bits(L, m->features, SD_FEATURE_NAMES);
        lua_setfield(L, -2, "features");
        push_bits(L, m->url_kinds, URL_KIND_NAMES);
        lua_setfield(L, -2, "url_kinds");
        lua_setfield(L, -2, m->name);
    }
}

int sd_models_push_values(lua_State *L, int field) {
    const char *names[SD_MODELS_MAX + 1];
    int n, count = 0;
    if (field != SD_F_model && field != SD_F_size && field != SD_F_resolution) return 0;
    n = sd_model_names(L, names, SD_MODELS_MAX);
    lua_newtable(L);
    for (int i = 0; i < n; i++) {
        const sd_model *m = (const sd_model *)((const char *)names[i] - offsetof(sd_model, name));
        int nw = field == SD_F_model ? 1 : field == SD_F_size ? m->nsizes : m->nres;
        for (int k = 0; k < nw; k++) {
            const char *w = field == SD_F_model ? m->name : field == SD_F_size ? m->sizes[k] : m->res[k];
            int seen = 0;
            for (int j = 1; j <= count && !seen; j++) { /* the union, each once */
                lua_rawgeti(L, -1, j);
                seen = strcmp(lua_tostring(L, -1), w) == 0;
                lua_pop(L, 1);
            }
            if (!seen) {
                lua_pushstring(L, w);
                lua_rawseti(L, -2, ++count);
            }
        }
    }
    return 1;
}

/* core.models() -> { name = rules }: a copy of every model's rules. */
static int sd_core_models(lua_State *L) {
    sd_models_push(L);
    return 1;
}

/* core.model_names() -> { name, ... }: the models in order, the built-ins first. */
static int sd_core_model_names(lua_State *L) {
    const char *names[SD_MODELS_MAX + 1];
    int n = sd_model_names(L, names, SD_MODELS_MAX);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* core.model_add(name, rules) -> true | nil, message. */
static int sd_core_model_add(lua_State *L) {
    char err[300];
    lua_settop(L, 2);
    if (sd_models_add(L, 1, 2, err, sizeof err) == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

/* core.models_add_many({ name = rules, ... }) -> true | nil, message. */
static int sd_core_models_add_many(lua_State *L) {
    char err[400];
    lua_settop(L, 1);
    if (sd_models_add_many(L, 1, err, sizeof err) == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

void sd_models_register(lua_State *L) {
    static const luaL_Reg funcs[] = {{"models", sd_core_models},
                                     {"model_names", sd_core_model_names},
                                     {"model_add", sd_core_model_add},
                                     {"models_add_many", sd_core_models_add_many},
                                     {NULL, NULL}};
    sd_setfuncs(L, funcs);
    models_table(L); /* made now, so that no validation allocates it */
    lua_pop(L, 1);
}
