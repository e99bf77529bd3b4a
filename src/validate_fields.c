/*
 * validate_fields.c: the tables made from the field lists of
 * validate_fields.h (the dispatch table with each key as JSON writes it, the
 * check order, the key lists the walk looks keys up in) and
 * core.request_fields(), which hands the same list to Lua (with the values
 * of each enum field).
 */
#include "validate_int.h"

#define SD_FIELD_ROW(name, type, rank, when, check, media, doc)                                            \
    {#name, type, doc, media, check, when, (int)sizeof ",\"" #name "\":" - 1, ",\"" #name "\":"},
const sd_field SD_FIELDS[SD_NFIELDS] = {SD_REQUEST_FIELDS(SD_FIELD_ROW)};
#undef SD_FIELD_ROW

/* Field ids by rank. A rank used twice is a compile error (-Woverride-init, in -Wextra). */
#define SD_FIELD_RANK(name, type, rank, when, check, media, doc) [rank] = SD_F_##name,
const unsigned char SD_CHECK_ORDER[SD_NFIELDS] = {SD_REQUEST_FIELDS(SD_FIELD_RANK)};
#undef SD_FIELD_RANK

/* Names (NULL-terminated, for did-you-mean) and lengths of each key set. */
#define SD_FIELD_NAME(name, type, rank, when, check, media, doc) #name,
#define SD_FIELD_LEN(name, type, rank, when, check, media, doc) sizeof #name - 1,
static const char *const REQUEST_NAMES[] = {SD_REQUEST_FIELDS(SD_FIELD_NAME) NULL};
static const unsigned char REQUEST_LENS[] = {SD_REQUEST_FIELDS(SD_FIELD_LEN)};
#undef SD_FIELD_NAME
#undef SD_FIELD_LEN

#define SD_ITEM_NAME(name) #name,
#define SD_ITEM_LEN(name) sizeof #name - 1,
static const char *const ROLE_NAMES[] = {SD_ROLE_ITEM_FIELDS(SD_ITEM_NAME) NULL};
static const unsigned char ROLE_LENS[] = {SD_ROLE_ITEM_FIELDS(SD_ITEM_LEN)};
static const char *const TOOL_NAMES[] = {SD_TOOL_ITEM_FIELDS(SD_ITEM_NAME) NULL};
static const unsigned char TOOL_LENS[] = {SD_TOOL_ITEM_FIELDS(SD_ITEM_LEN)};
#undef SD_ITEM_NAME
#undef SD_ITEM_LEN

const sd_words SD_REQUEST_KEYS = {REQUEST_NAMES, REQUEST_LENS, SD_NFIELDS, 1, NULL};
const sd_words SD_ROLE_KEYS = {ROLE_NAMES, ROLE_LENS, SD_NROLE_FIELDS, 0, NULL};
const sd_words SD_TOOL_KEYS = {TOOL_NAMES, TOOL_LENS, SD_NTOOL_FIELDS, 0, NULL};

int sd_request_fields(lua_State *L) {
    lua_createtable(L, SD_NFIELDS, 0);
    for (int i = 0; i < SD_NFIELDS; i++) {
        const char *media = SD_FIELDS[i].media, *dot = strchr(media, '.');
        lua_createtable(L, 0, 6);
        lua_pushstring(L, SD_FIELDS[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, SD_FIELDS[i].type);
        lua_setfield(L, -2, "type");
        lua_pushstring(L, SD_FIELDS[i].doc);
        lua_setfield(L, -2, "doc");
        if (*media) { /* media = "image", url_key = "url" for "image.url" */
            lua_pushlstring(L, media, dot ? (size_t)(dot - media) : strlen(media));
            lua_setfield(L, -2, "media");
            if (dot) {
                lua_pushstring(L, dot + 1);
                lua_setfield(L, -2, "url_key");
            }
        }
        if (sd_models_push_values(L, i)) lua_setfield(L, -2, "values"); /* an enum's, for completion */
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}
