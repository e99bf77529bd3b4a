/*
 * validate.c: checks a generation request against the service contract
 * (API.md section 1, with the rules of section 5) and lists every problem,
 * each with the path of the field it concerns. This file walks the request
 * once and dispatches each key through the field table (validate_fields.h);
 * validate_int.h says which file holds the rest.
 *
 * Only raw accesses are used (lua_rawget, lua_next, lua_type), so request
 * content can never run user code or raise; recursion is bounded by the
 * fixed shape of a request, so cycles cannot loop.
 */
#include "validate_int.h"

/*
 * Walk the object at obj once with lua_next. The value of each key of ks goes
 * to stack slot slots + (its index in ks), which the caller filled with nils;
 * any other key is recorded as a problem under at (NULL for the request).
 * Returns one bit per key of ks found.
 */
unsigned sd_walk(sd_vctx *v, int obj, const sd_words *ks, int slots, const sd_path *at) {
    lua_State *L = v->L;
    unsigned found = 0;
    lua_pushnil(L);
    while (lua_next(L, obj) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            size_t len;
            const char *k = lua_tolstring(L, -2, &len);
            int i = sd_words_find(ks, k, len);
            if (i >= 0) {
                lua_replace(L, slots + i); /* pops the value */
                found |= 1u << i;
                continue;
            }
        }
        lua_pop(L, 1);
        sd_unknown_key(v, at, -1, ks);
    }
    return found;
}

/*
 * Validate the request at idx: leaves the problem list (or nil when there is
 * none) on top of the stack and returns the number of entries.
 */
static int validate(lua_State *L, int idx) {
    sd_vctx v = {0};
    int slots;
    unsigned found;
    v.L = L;
    v.model = -1;
    idx = sd_absindex(L, idx);
    luaL_checkstack(L, SD_NFIELDS + 24, "validating a request");
    v.list = lua_gettop(L) + 1;
    slots = v.list + 1;
    lua_settop(L, slots + SD_NFIELDS - 1); /* the list, then one slot per field: nil */

    found = sd_walk(&v, idx, &SD_REQUEST_KEYS, slots, NULL);
    for (int r = 0; r < SD_NFIELDS; r++) {
        const sd_field *f = &SD_FIELDS[SD_CHECK_ORDER[r]];
        if (f->always || (found >> SD_CHECK_ORDER[r] & 1u)) f->check(&v, f->name, slots + SD_CHECK_ORDER[r]);
    }
    sd_check_combinations(&v);

    lua_settop(L, v.list);
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

int sd_validate_problems(lua_State *L, int idx) {
    int n = validate(L, idx);
    if (n == 0) lua_pop(L, 1);
    return n;
}

int sd_validate(lua_State *L, int idx) {
    int n = validate(L, idx);
    if (n == 0) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    return n;
}
