/*
 * A C host embedding Lua and driving seedance from its own frame loop: the
 * shape of a game engine's integration. Each frame calls seedance.step(0),
 * which never blocks, then "renders" (here: prints a progress line now and
 * then) and sleeps out the rest of a 60 Hz frame.
 *
 *   make c-host
 *   build/seedance-emulator --speed 30 &     # prints "listening on http://127.0.0.1:PORT"
 *   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.033 \
 *     build/c-host examples/c-host/job.lua out/c-host.mp4
 *
 * job.lua returns a table with start(path) and status(); the host never calls
 * into the network itself. Exit status 0 when the video was saved.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#define FRAME_SECONDS (1.0 / 60.0)
#define MAX_SECONDS 600.0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_for(double seconds)
{
    struct timespec ts;
    if (seconds <= 0)
        return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

/* Call job[name](arg) under a traceback handler; leaves its result on the
 * stack. On error prints it and returns 0. */
static int call_job(lua_State *L, int job, const char *name, const char *arg, int nresults)
{
    int base;
    lua_getglobal(L, "debug");
    lua_getfield(L, -1, "traceback");
    lua_remove(L, -2);
    base = lua_gettop(L);
    lua_getfield(L, job, name);
    if (arg)
        lua_pushstring(L, arg);
    if (lua_pcall(L, arg ? 1 : 0, nresults, base) != LUA_OK) {
        fprintf(stderr, "c-host: job.%s: %s\n", name, lua_tostring(L, -1));
        lua_settop(L, base - 1);
        return 0;
    }
    lua_remove(L, base);
    return 1;
}

int main(int argc, char **argv)
{
    lua_State *L;
    int job, seedance, frames = 0, rc = 1;
    double start, worst = 0, step_worst = 0;
    char shown[256] = "";

    if (argc != 3) {
        fprintf(stderr, "usage: %s JOB.lua OUTPUT.mp4\n", argv[0]);
        return 2;
    }
    L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "c-host: out of memory\n");
        return 1;
    }
    luaL_openlibs(L);

    /* The module, as any Lua code would load it (LUA_PATH/LUA_CPATH apply). */
    lua_getglobal(L, "require");
    lua_pushstring(L, "seedance");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "c-host: require 'seedance': %s\n", lua_tostring(L, -1));
        goto out;
    }
    seedance = lua_gettop(L);
    if (luaL_dofile(L, argv[1]) != LUA_OK || !lua_istable(L, -1)) {
        fprintf(stderr, "c-host: %s: %s\n", argv[1],
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "must return a table");
        goto out;
    }
    job = lua_gettop(L);
    if (!call_job(L, job, "start", argv[2], 0))
        goto out;

    start = now();
    for (;;) {
        double t0 = now(), spent;
        const char *status;
        int done;

        /* The one call a frame makes: pump IO, resume ready coroutines. */
        lua_getfield(L, seedance, "step");
        lua_pushnumber(L, 0);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            fprintf(stderr, "c-host: seedance.step: %s\n", lua_tostring(L, -1));
            goto out;
        }
        spent = now() - t0;
        if (spent > step_worst)
            step_worst = spent;

        /* "Render": show the job's status when it changes. */
        if (!call_job(L, job, "status", NULL, 2))
            goto out;
        status = lua_tostring(L, -2);
        done = lua_toboolean(L, -1);
        if (status && strcmp(status, shown) != 0) {
            printf("frame %5d  %s\n", frames, status);
            fflush(stdout);
            snprintf(shown, sizeof shown, "%s", status);
        }
        lua_pop(L, 2);
        frames++;

        spent = now() - t0;
        if (frames > 1 && spent > worst)
            worst = spent;
        if (done) {
            rc = strncmp(shown, "saved ", 6) == 0 ? 0 : 1;
            break;
        }
        if (now() - start > MAX_SECONDS) {
            fprintf(stderr, "c-host: gave up after %.0f s\n", MAX_SECONDS);
            break;
        }
        sleep_for(FRAME_SECONDS - spent);
    }
    printf("%d frames in %.2f s; slowest frame %.3f ms, slowest seedance.step(0) %.3f ms\n", frames,
           now() - start, worst * 1000, step_worst * 1000);

out:
    lua_close(L); /* closes the engine: any transfer still running is cancelled */
    return rc;
}
