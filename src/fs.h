/*
 * fs.h: local file operations for the Lua layer (stat, no-follow reads,
 * folder probes, locks, synced appends, removal, atomic replace, random bytes).
 */
#ifndef SD_FS_H
#define SD_FS_H

#include <lua.h>

#include "platform.h"

/* The open file of the core.lock at index idx, or SD_NOFILE when it is no lock or was released. */
sd_file sd_lock_handle(lua_State *L, int idx);

/* Set core.stat, read_file, probe_dir, append_sync, remove, replace, random_hex and lock in the module table at the top. */
void sd_fs_register(lua_State *L);

#endif
