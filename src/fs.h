/*
 * fs.h: local file operations for the Lua layer (stat, no-follow reads,
 * folder probes, locks, synced appends, removal, atomic replace, random bytes).
 */
#ifndef SD_FS_H
#define SD_FS_H

#include <lua.h>

/* Set core.stat, read_file, probe_dir, append_sync, remove, replace, random_hex and lock in the module table at the top. */
void sd_fs_register(lua_State *L);

#endif
