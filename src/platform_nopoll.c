/*
 * platform_nopoll.c: the poller of platform.h where there is no kernel set
 * the engine uses (Windows, and POSIX systems without epoll): sd_poller_new
 * gives NULL, so the engine polls its own array with sd_poll. One copy for
 * both families; compiled to nothing on Linux, so every build lists it.
 */
#if defined(_WIN32) || !defined(__linux__)
#include <errno.h>

#include "platform.h"

sd_poller *sd_poller_new(void) {
    return NULL;
}

void sd_poller_free(sd_poller *p) {
    (void)p;
}

int sd_poller_set(sd_poller *p, sd_socket fd, short events, int known) {
    (void)p;
    (void)fd;
    (void)events;
    (void)known;
    return -1;
}

void sd_poller_del(sd_poller *p, sd_socket fd) {
    (void)p;
    (void)fd;
}

int sd_poller_wait(sd_poller *p, sd_pollfd *ready, size_t max, int timeout_ms) {
    (void)p;
    (void)ready;
    (void)max;
    (void)timeout_ms;
    errno = ENOSYS;
    return -1;
}
#else
typedef int sd_platform_nopoll_unused; /* ISO C wants something in every file */
#endif
