/*
 * fuzz/alloc.h: a lua_Alloc with an optional limit on the number of
 * allocations, so a fuzz target can make memory run out on demand (a Lua
 * memory error at the limit). Shared by the targets that make a lua_State.
 */
#ifndef SEEDANCE_FUZZ_ALLOC_H
#define SEEDANCE_FUZZ_ALLOC_H

#include <stdlib.h>

typedef struct {
    long left; /* allocations still allowed, < 0 = no limit */
} alloc_state;

static void *fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    alloc_state *a = ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (a->left == 0 && nsize > osize) return NULL; /* shrinking never fails */
    if (a->left > 0) a->left--;
    return realloc(ptr, nsize);
}

#endif
