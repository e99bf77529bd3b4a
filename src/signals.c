/*
 * signals.c: core.trap_signals(), core.caught_signal() and core.prepare_command().
 *
 * Nothing is trapped until the command line asks (a library must not take
 * a host's signals). Once trapped, SIGINT, SIGTERM or SIGHUP only records
 * which one came first and how many came: the handler touches nothing but
 * sig_atomic_t values. The handlers are installed without SA_RESTART, so a
 * blocking poll() or nanosleep() returns early with EINTR (core.sleep then
 * stops sleeping). A second signal is recorded too, not fatal: the command
 * decides what it does (it may have a paid task to name first); a third one
 * takes the signal's default action at once, for a command that is stuck.
 *
 * core.prepare_command() readies the command's process, also only when the
 * command asks: descriptors 0-2 open (a journal opened while standard error
 * is closed would otherwise become standard error), SIGXFSZ ignored, so a
 * file size limit (ulimit -f) makes a write fail with EFBIG, and SIGPIPE
 * ignored, so a standard output or error whose reader went away (`| head`,
 * `| true`) makes a write fail with EPIPE: each a file error the command
 * reports with the task it paid for, instead of being killed silently.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <string.h>

#include "compat.h"
#include "platform.h"
#include "signals.h"

static volatile sig_atomic_t sd_caught = 0; /* the first trapped signal's number, 0 before */
static volatile sig_atomic_t sd_count = 0;  /* trapped signals that came, in all (counts to 3) */

/* Record the signal; async-signal-safe (stores, and at the third the default action). */
static void sd_on_signal(int sig) {
    if (sd_caught == 0) sd_caught = sig;
    if (sd_count < 3) sd_count = sd_count + 1;
    if (sd_count >= 3) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

int sd_signal_caught(void) {
    return sd_caught != 0;
}

/* Install the recording handler for one signal; 0 on success. A signal the
 * process inherited as ignored (a background job of a script) stays ignored. */
static int sd_trap(int sig) {
#ifdef _WIN32
    void (*old)(int) = signal(sig, sd_on_signal);
    if (old == SIG_IGN) signal(sig, SIG_IGN);
    return old == SIG_ERR ? -1 : 0;
#else
    struct sigaction sa, old;
    if (sigaction(sig, NULL, &old) != 0) return -1;
    if (old.sa_handler == SIG_IGN) return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sd_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
    return sigaction(sig, &sa, NULL);
#endif
}

/* core.trap_signals() -> true: from now on SIGINT, SIGTERM and SIGHUP (a closed terminal) are recorded, not
 * fatal, until the third. */
static int sd_core_trap_signals(lua_State *L) {
    if (sd_trap(SIGINT) != 0 || sd_trap(SIGTERM) != 0) return luaL_error(L, "cannot trap signals");
#ifdef SIGHUP
    if (sd_trap(SIGHUP) != 0) return luaL_error(L, "cannot trap signals");
#endif
    lua_pushboolean(L, 1);
    return 1;
}

/* core.caught_signal() -> "INT" | "TERM" | "HUP", count | nil: the first trapped signal that arrived, and how
 * many have come (1 or 2; a third ended the process). */
static int sd_core_caught_signal(lua_State *L) {
    int sig = sd_caught;
    if (sig == SIGINT) lua_pushliteral(L, "INT");
    else if (sig == SIGTERM) lua_pushliteral(L, "TERM");
#ifdef SIGHUP
    else if (sig == SIGHUP) lua_pushliteral(L, "HUP");
#endif
    else {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)sd_count);
    return 2;
}

/* core.prepare_command() -> true: descriptors 0-2 open, SIGXFSZ and SIGPIPE ignored (see above). */
static int sd_core_prepare_command(lua_State *L) {
    sd_std_fds_open();
#ifndef _WIN32
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGXFSZ, &sa, NULL);
        sigaction(SIGPIPE, &sa, NULL);
    }
#endif
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg sd_signal_funcs[] = {
    {"prepare_command", sd_core_prepare_command},
    {"trap_signals", sd_core_trap_signals},
    {"caught_signal", sd_core_caught_signal},
    {NULL, NULL}};

void sd_signal_register(lua_State *L) {
    sd_setfuncs(L, sd_signal_funcs);
}
