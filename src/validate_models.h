/*
 * validate_models.h: the per-model rules as data (seedance.models). The
 * validator reads a model's rules (resolutions, sizes, duration range, the
 * features and URL kinds it takes) from a table in the Lua state's registry,
 * made with the built-in models of API.md section 1 on first use; Lua adds or
 * extends models through sd_models_add (core.model_add), the emulator from a
 * --model-rules file through sd_models_add_many. One table per Lua state: two
 * states (two hosts in one process) never see each other's additions.
 */
#ifndef SD_VALIDATE_MODELS_H
#define SD_VALIDATE_MODELS_H

#include <stddef.h>

#include <lua.h>

#define SD_MODEL_NAME_MAX 64 /* bytes of a model's name, its NUL included */
#define SD_MODEL_WORDS 12    /* resolutions (or sizes) of one model, at most */
#define SD_MODEL_WORD_MAX 16 /* bytes of one resolution or size, its NUL included */
#define SD_MODELS_MAX 64     /* models in one state, at most */

/* Features a model may lack: bits of sd_model.features, named as in FEATURE_NAMES. */
enum {
    SD_FEAT_GENERATE_AUDIO, SD_FEAT_RETURN_LAST_FRAME, SD_FEAT_WEB_SEARCH, SD_FEAT_IMAGE_URLS,
    SD_FEAT_FIRST_FRAME, SD_FEAT_LAST_FRAME, SD_FEAT_REFERENCE_IMAGE, SD_FEAT_VIDEO_URLS,
    SD_FEAT_AUDIO_URLS, SD_NFEATURES
};
/* The features' names, as seedance.models lists them (NULL-terminated). */
extern const char *const SD_FEATURE_NAMES[SD_NFEATURES + 1];

/* URL kinds a model takes: bits of sd_model.url_kinds ("http": http(s):// and uploads; "asset": asset://). */
enum { SD_URL_HTTP, SD_URL_ASSET, SD_NURL_KINDS };

/* One model's rules. */
typedef struct {
    char name[SD_MODEL_NAME_MAX];
    int nres;                                    /* resolutions, in the order messages list them */
    char res[SD_MODEL_WORDS][SD_MODEL_WORD_MAX];
    int nsizes;                                  /* sizes (aspect ratios), likewise */
    char sizes[SD_MODEL_WORDS][SD_MODEL_WORD_MAX];
    long dmin, dmax;                             /* duration range, seconds */
    unsigned features;                           /* bit per SD_FEAT_* */
    unsigned url_kinds;                          /* bit per SD_URL_* */
} sd_model;

/* The rules of the first built-in model (doubao-seedance-2.0 as shipped): what the checks that depend
 * on the model apply when the request names none, or one nobody described. */
extern const sd_model SD_DEFAULT_MODEL;

/* The model named by the string at idx, or NULL. The pointer lives as long as the state's table. */
const sd_model *sd_model_find(lua_State *L, int idx);

/* Up to max names of the state's models, in order (built-ins first), NULL-terminated (out has max + 1
 * entries); returns how many. The strings live as long as the state's table. */
int sd_model_names(lua_State *L, const char **out, int max);

/*
 * Join the names of the models that take a resolution (which = 'r', word), a size ('s', word) or
 * asset URLs ('a'), as "a, b and c", into out. Returns the count.
 */
int sd_models_having(lua_State *L, int which, const char *word, char *out, size_t cap);

/*
 * Add or extend the model named by the string at name_idx with the rules table at rules_idx (see
 * lua/seedance/models.lua for its fields). Returns 0, or -1 with a message in err; never raises but
 * for memory.
 */
int sd_models_add(lua_State *L, int name_idx, int rules_idx, char *err, size_t cap);

/* The same for a table { name = rules, ... }, each `like` resolved whatever the order. */
int sd_models_add_many(lua_State *L, int idx, char *err, size_t cap);

/* Push the values an enum field (SD_F_model, SD_F_size, SD_F_resolution) takes, as a sequence: every
 * model, every size and every resolution some model takes, in order; 0 (nothing pushed) for another field. */
int sd_models_push_values(lua_State *L, int field);

/* Push a new table { name = { resolutions, sizes, duration = { min, max }, features, url_kinds } }. */
void sd_models_push(lua_State *L);

/* The Lua functions core.model_add, core.models_add_many and core.models (set into the table on top). */
void sd_models_register(lua_State *L);

#endif
