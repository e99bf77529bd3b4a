/*
 * signals.h: SIGINT and SIGTERM as a flag the command line polls, so an
 * interrupt stops a wait or a download cleanly (the task id printed, the
 * partial file kept) instead of killing the process mid-write.
 */
#ifndef SD_SIGNALS_H
#define SD_SIGNALS_H

#include <lua.h>

/* Whether a trapped signal has arrived (0 until core.trap_signals() was called and one came). */
int sd_signal_caught(void);

/* Set core.trap_signals and core.caught_signal in the module table at the top. */
void sd_signal_register(lua_State *L);

#endif
