/*
 * platform_win32_io.c: the rest of platform.h on Windows (platform_win32.c
 * has clocks, files and paths): sockets and the poller (WSAPoll), TCP for the
 * Redis journal, the process's id and host name, mutexes, condition
 * variables and threads. Winsock errors become the nearest errno.
 */
#ifdef _WIN32
#include "platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#ifndef EWOULDBLOCK
#define EWOULDBLOCK 140
#endif

sd_socket sd_socket_open(int family, int type, int protocol) {
    return socket(family, type, protocol);
}

int sd_poll(sd_pollfd *fds, size_t n, int timeout_ms) {
    int r;
    if (n == 0) { /* WSAPoll refuses an empty set */
        if (timeout_ms > 0) Sleep((DWORD)timeout_ms);
        return 0;
    }
    r = WSAPoll(fds, (ULONG)n, timeout_ms);
    if (r == SOCKET_ERROR) {
        errno = WSAGetLastError() == WSAEINTR ? EINTR : EIO;
        return -1;
    }
    return r;
}

/* (No kernel set here: the engine polls its array with WSAPoll; the poller is platform_nopoll.c's.) */

/* errno for the last Winsock error. */
static int sd_wsa_errno(void) {
    int e = WSAGetLastError();
    switch (e) {
    case WSAEWOULDBLOCK:
    case WSAEINPROGRESS: return EAGAIN;
    case WSAECONNREFUSED: return ECONNREFUSED;
    case WSAECONNRESET: return ECONNRESET;
    case WSAETIMEDOUT: return ETIMEDOUT;
    case WSAENETUNREACH:
    case WSAEHOSTUNREACH: return EHOSTUNREACH;
    case WSAEINTR: return EINTR;
    default: return EIO;
    }
}

struct sd_addrs {
    struct addrinfo *list; /* from getaddrinfo */
};

sd_addrs *sd_tcp_resolve(const char *host, int port, char *err, size_t errlen) {
    struct addrinfo hints, *list = NULL;
    char service[16];
    sd_addrs *a;
    int rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%d", port);
    rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s (error %d)", host, rc);
        return NULL;
    }
    a = malloc(sizeof *a);
    if (a == NULL) {
        freeaddrinfo(list);
        snprintf(err, errlen, "not enough memory");
        return NULL;
    }
    a->list = list;
    return a;
}

void sd_tcp_addrs_free(sd_addrs *a) {
    if (a == NULL) return;
    freeaddrinfo(a->list);
    free(a);
}

int sd_tcp_start(const sd_addrs *a, size_t i, sd_socket *out) {
    struct addrinfo *ai = a->list;
    SOCKET s;
    u_long nonblocking = 1;
    BOOL one = TRUE;
    while (ai != NULL && i > 0) {
        ai = ai->ai_next;
        i--;
    }
    if (ai == NULL) return 1;
    s = WSASocketW(ai->ai_family, ai->ai_socktype, ai->ai_protocol, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        errno = sd_wsa_errno();
        return -1;
    }
    ioctlsocket(s, FIONBIO, &nonblocking);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
    if (connect(s, ai->ai_addr, (int)ai->ai_addrlen) != 0 && WSAGetLastError() != WSAEWOULDBLOCK) {
        int e = sd_wsa_errno();
        closesocket(s);
        errno = e;
        return -1;
    }
    *out = s;
    return 0;
}

int sd_tcp_result(sd_socket s) {
    int e = 0, len = sizeof e;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&e, &len) != 0) return sd_wsa_errno();
    if (e == WSAECONNREFUSED) return ECONNREFUSED;
    return e == 0 ? 0 : EIO;
}

long sd_tcp_send(sd_socket s, const void *buf, size_t n) {
    int r = send(s, (const char *)buf, n > 0x7fffffff ? 0x7fffffff : (int)n, 0);
    if (r == SOCKET_ERROR) {
        errno = sd_wsa_errno();
        return -1;
    }
    return r;
}

long sd_tcp_recv(sd_socket s, void *buf, size_t n) {
    int r = recv(s, (char *)buf, n > 0x7fffffff ? 0x7fffffff : (int)n, 0);
    if (r == SOCKET_ERROR) {
        errno = sd_wsa_errno();
        return -1;
    }
    return r;
}

void sd_tcp_close(sd_socket s) {
    if (s != SD_BAD_SOCKET) closesocket(s);
}

long sd_process_id(void) {
    return (long)GetCurrentProcessId();
}

void sd_host_name(char *out, size_t n) {
    DWORD len = (DWORD)n;
    if (n == 0) return;
    if (!GetComputerNameA(out, &len)) out[0] = '\0';
    out[n - 1] = '\0';
}

int sd_mutex_init(sd_mutex *m) {
    InitializeCriticalSection(m);
    return 0;
}

void sd_mutex_lock(sd_mutex *m) {
    EnterCriticalSection(m);
}

void sd_mutex_unlock(sd_mutex *m) {
    LeaveCriticalSection(m);
}

void sd_mutex_destroy(sd_mutex *m) {
    DeleteCriticalSection(m);
}

int sd_cond_init(sd_cond *c) {
    InitializeConditionVariable(c);
    return 0;
}

void sd_cond_wait(sd_cond *c, sd_mutex *m) {
    SleepConditionVariableCS(c, m, INFINITE);
}

void sd_cond_signal(sd_cond *c) {
    WakeConditionVariable(c);
}

void sd_cond_destroy(sd_cond *c) {
    (void)c; /* nothing to free */
}

/* What a new thread runs (Windows wants DWORD WINAPI (*)(LPVOID)). */
typedef struct sd_thread_start_arg {
    void (*fn)(void *); /* the function */
    void *arg;          /* its argument */
} sd_thread_start_arg;

static DWORD WINAPI sd_thread_main(LPVOID p) {
    sd_thread_start_arg a = *(sd_thread_start_arg *)p;
    free(p);
    a.fn(a.arg);
    return 0;
}

int sd_thread_start(sd_thread *t, void (*fn)(void *), void *arg) {
    sd_thread_start_arg *a = malloc(sizeof *a);
    if (a == NULL) return -1;
    a->fn = fn;
    a->arg = arg;
    *t = CreateThread(NULL, 0, sd_thread_main, a, 0, NULL);
    if (*t == NULL) {
        free(a);
        return -1;
    }
    return 0;
}

void sd_thread_join(sd_thread t) {
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}

#else
typedef int sd_platform_win32_io_unused; /* ISO C wants something in every file */
#endif
