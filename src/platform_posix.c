/*
 * platform_posix.c: platform.h on POSIX systems (Linux, macOS, the BSDs).
 * The one Linux-only call, getrandom, is behind __linux__; elsewhere
 * arc4random_buf (macOS, the BSDs) gives the random bytes. Compiled to
 * nothing on Windows, so every build lists both platform files.
 */
#ifndef _WIN32
#define _GNU_SOURCE /* flock, O_NOFOLLOW, O_CLOEXEC, getrandom */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/random.h>
#endif
#ifdef __APPLE__
#include <xlocale.h>
#endif

#include "platform.h"

long long sd_clock_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long sd_thread_cpu_us(void) {
    struct timespec ts;
#ifdef CLOCK_THREAD_CPUTIME_ID
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
#endif
    return (long long)((double)clock() * 1e6 / CLOCKS_PER_SEC);
}

long long sd_wall_s(void) {
    return (long long)time(NULL);
}

void sd_sleep(double seconds, int (*stop)(void)) {
    struct timespec ts;
    if (!(seconds > 0)) return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    /* a signal interrupts nanosleep (handlers are installed without SA_RESTART) */
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !(stop != NULL && stop())) {}
}

int sd_isatty(int fd) {
    return isatty(fd);
}

int sd_terminal_width(int fd) {
    struct winsize w;
    if (ioctl(fd, TIOCGWINSZ, &w) != 0) return 0;
    return w.ws_col;
}

void sd_std_fds_open(void) {
    int fd;
    for (fd = 0; fd <= 2; fd++) {
        int n;
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        /* the other way round: a read of a closed input, a write to a closed output, still fails */
        n = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
}

/* The "C" numeric locale, made once (newlocale), shared by every thread. */
static locale_t sd_c_numeric = (locale_t)0;
static pthread_once_t sd_c_numeric_once = PTHREAD_ONCE_INIT;

static void sd_c_numeric_make(void) {
    sd_c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static locale_t sd_c_locale(void) {
    pthread_once(&sd_c_numeric_once, sd_c_numeric_make);
    return sd_c_numeric;
}

double sd_strtod(const char *s, char **end) {
    locale_t c = sd_c_locale();
    if (c == (locale_t)0) { /* no memory for the locale object: no number rather than a misread one */
        if (end) *end = (char *)s;
        errno = ENOMEM;
        return 0;
    }
    return strtod_l(s, end, c);
}

int sd_format_double(char *out, size_t n, const char *fmt, double x) {
    locale_t c = sd_c_locale(), old;
    int r;
    if (c == (locale_t)0) {
        if (n > 0) out[0] = '\0';
        return -1;
    }
    old = uselocale(c); /* this thread only, and only for this call */
    r = snprintf(out, n, fmt, x);
    uselocale(old);
    return r;
}

int sd_random(void *buf, size_t n) {
#ifdef __linux__
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((unsigned char *)buf + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        got += (size_t)r;
    }
#else
    arc4random_buf(buf, n);
#endif
    return 0;
}

sd_file sd_file_open(const char *path, int flags) {
    /* O_NONBLOCK: opening a FIFO never waits for its other end (regular files ignore it) */
    int o = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, fd;
    if (flags & SD_APPEND) flags |= SD_WRITE, o |= O_APPEND;
    if ((flags & SD_READ) && (flags & SD_WRITE)) o |= O_RDWR;
    else if (flags & SD_WRITE) o |= O_WRONLY;
    else o |= O_RDONLY;
    if (flags & SD_CREATE) o |= O_CREAT;
    if (flags & SD_EXCL) o |= O_EXCL;
    fd = open(path, o, (flags & SD_PRIVATE) ? 0600 : 0644);
    /* the descriptor is the caller's (cppcheck loses it in the cast to sd_file) */
    /* cppcheck-suppress resourceLeak */
    return fd < 0 ? SD_NOFILE : (sd_file)fd;
}

int sd_file_read(sd_file f, void *buf, size_t len, size_t *got) {
    for (;;) {
        ssize_t r = read((int)f, buf, len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        *got = (size_t)r;
        return 0;
    }
}

int sd_file_read_at(sd_file f, void *buf, size_t len, long long offset, size_t *got) {
    for (;;) {
        ssize_t r = pread((int)f, buf, len, (off_t)offset);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        *got = (size_t)r;
        return 0;
    }
}

int sd_file_write(sd_file f, const void *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = write((int)f, (const char *)buf + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

int sd_file_sync(sd_file f) {
    return fsync((int)f);
}

/* The type of a stat mode. */
static sd_ftype sd_type_of(mode_t m) {
    if (S_ISREG(m)) return SD_TYPE_FILE;
    if (S_ISDIR(m)) return SD_TYPE_DIR;
    if (S_ISLNK(m)) return SD_TYPE_LINK;
    if (S_ISFIFO(m)) return SD_TYPE_FIFO;
    if (S_ISCHR(m)) return SD_TYPE_CHAR;
    if (S_ISBLK(m)) return SD_TYPE_BLOCK;
    if (S_ISSOCK(m)) return SD_TYPE_SOCKET;
    return SD_TYPE_OTHER;
}

int sd_file_info(sd_file f, sd_stat *st) {
    struct stat s;
    if (fstat((int)f, &s) != 0) return -1;
    st->type = sd_type_of(s.st_mode);
    st->size = (long long)s.st_size;
    st->mode = (int)(s.st_mode & 07777);
    return 0;
}

int sd_file_lock(sd_file f) {
    /* flock belongs to the open file: a second open, even in this process, is another holder */
    return flock((int)f, LOCK_EX | LOCK_NB);
}

int sd_file_close(sd_file f) {
    if (f == SD_NOFILE) return 0;
    return close((int)f);
}

sd_file sd_file_dup(sd_file f) {
    int fd = fcntl((int)f, F_DUPFD_CLOEXEC, 0);
    /* cppcheck-suppress resourceLeak */
    return fd < 0 ? SD_NOFILE : (sd_file)fd;
}

int sd_path_stat(const char *path, sd_stat *st, int follow) {
    struct stat s;
    if ((follow ? stat(path, &s) : lstat(path, &s)) != 0) return -1;
    st->type = sd_type_of(s.st_mode);
    st->size = (long long)s.st_size;
    st->mode = (int)(s.st_mode & 07777);
    return 0;
}

int sd_path_id(const char *path, int follow, sd_fileid *id) {
    struct stat s;
    if ((follow ? stat(path, &s) : lstat(path, &s)) != 0) return -1;
    id->dev = (unsigned long long)s.st_dev;
    id->ino = (unsigned long long)s.st_ino;
    return 0;
}

int sd_path_readable(const char *path) {
    return access(path, R_OK);
}

int sd_path_remove(const char *path) {
    return unlink(path);
}

int sd_path_replace(const char *from, const char *to) {
    return rename(from, to);
}

int sd_path_absolute(const char *path, char **out) {
    size_t cap = 256, len, plen = strlen(path);
    char *cwd = NULL;
    if (path[0] == '/') {
        *out = strdup(path);
        return *out ? 0 : -1;
    }
    for (;;) {
        char *bigger = realloc(cwd, cap + plen + 2);
        if (bigger == NULL) {
            free(cwd);
            errno = ENOMEM;
            return -1;
        }
        cwd = bigger;
        if (getcwd(cwd, cap) != NULL) break;
        if (errno != ERANGE || cap > 1 << 20) {
            int err = errno;
            free(cwd);
            errno = err;
            return -1;
        }
        cap *= 2;
    }
    len = strlen(cwd);
    if (len == 0 || cwd[len - 1] != '/') cwd[len++] = '/';
    memcpy(cwd + len, path, plen + 1);
    *out = cwd;
    return 0;
}

const char *sd_errstr(int err) {
    return strerror(err);
}

sd_socket sd_socket_open(int family, int type, int protocol) {
    return socket(family, type, protocol);
}

int sd_poll(sd_pollfd *fds, size_t n, int timeout_ms) {
    return poll(fds, (nfds_t)n, timeout_ms);
}

#ifdef __linux__
struct sd_poller {
    int fd;
    struct epoll_event ev[64];
};

sd_poller *sd_poller_new(void) {
    sd_poller *p = malloc(sizeof *p);
    if (p == NULL) return NULL;
    p->fd = epoll_create1(EPOLL_CLOEXEC);
    if (p->fd < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void sd_poller_free(sd_poller *p) {
    if (p == NULL) return;
    close(p->fd);
    free(p);
}

int sd_poller_set(sd_poller *p, sd_socket fd, short events, int known) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = ((events & POLLIN) ? EPOLLIN : 0) | ((events & POLLOUT) ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (epoll_ctl(p->fd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
    /* a number closed and opened again unseen (EEXIST), or one the kernel dropped (ENOENT) */
    if (errno == EEXIST && epoll_ctl(p->fd, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
    if (errno == ENOENT && epoll_ctl(p->fd, EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
    return -1;
}

void sd_poller_del(sd_poller *p, sd_socket fd) {
    struct epoll_event ev; /* (kernels before 2.6.9 want one) */
    epoll_ctl(p->fd, EPOLL_CTL_DEL, fd, &ev);
}

int sd_poller_wait(sd_poller *p, sd_pollfd *ready, size_t max, int timeout_ms) {
    int n, i;
    if (max > sizeof p->ev / sizeof p->ev[0]) max = sizeof p->ev / sizeof p->ev[0];
    n = epoll_wait(p->fd, p->ev, (int)max, timeout_ms);
    for (i = 0; i < n; i++) {
        unsigned int e = p->ev[i].events;
        ready[i].fd = p->ev[i].data.fd;
        ready[i].events = 0;
        ready[i].revents = (short)(((e & EPOLLIN) ? POLLIN : 0) | ((e & EPOLLOUT) ? POLLOUT : 0) |
                                   ((e & EPOLLERR) ? POLLERR : 0) | ((e & EPOLLHUP) ? POLLHUP : 0));
    }
    return n;
}
#endif /* (without epoll: platform_nopoll.c's poller, the engine polling its array) */

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
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
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
    int s, one = 1;
    while (ai != NULL && i > 0) {
        ai = ai->ai_next;
        i--;
    }
    if (ai == NULL) return 1;
    s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (s < 0) return -1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    setsockopt(s, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    *out = s;
    return 0;
}

int sd_tcp_result(sd_socket s) {
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) != 0) return errno;
    return e;
}

long sd_tcp_send(sd_socket s, const void *buf, size_t n) {
#ifdef MSG_NOSIGNAL
    return (long)send(s, buf, n, MSG_NOSIGNAL);
#else
    return (long)send(s, buf, n, 0);
#endif
}

long sd_tcp_recv(sd_socket s, void *buf, size_t n) {
    return (long)recv(s, buf, n, 0);
}

void sd_tcp_close(sd_socket s) {
    if (s != SD_BAD_SOCKET) close(s);
}

long sd_process_id(void) {
    return (long)getpid();
}

void sd_host_name(char *out, size_t n) {
    if (n == 0) return;
    if (gethostname(out, n) != 0) out[0] = '\0';
    out[n - 1] = '\0';
}

int sd_mutex_init(sd_mutex *m) {
    return pthread_mutex_init(m, NULL) == 0 ? 0 : -1;
}

void sd_mutex_lock(sd_mutex *m) {
    pthread_mutex_lock(m);
}

void sd_mutex_unlock(sd_mutex *m) {
    pthread_mutex_unlock(m);
}

void sd_mutex_destroy(sd_mutex *m) {
    pthread_mutex_destroy(m);
}

int sd_cond_init(sd_cond *c) {
    return pthread_cond_init(c, NULL) == 0 ? 0 : -1;
}

void sd_cond_wait(sd_cond *c, sd_mutex *m) {
    pthread_cond_wait(c, m);
}

void sd_cond_signal(sd_cond *c) {
    pthread_cond_signal(c);
}

void sd_cond_destroy(sd_cond *c) {
    pthread_cond_destroy(c);
}

/* What a new thread runs (pthread wants void *(*)(void *)). */
typedef struct sd_thread_start_arg {
    void (*fn)(void *); /* the function */
    void *arg;          /* its argument */
} sd_thread_start_arg;

static void *sd_thread_main(void *p) {
    sd_thread_start_arg a = *(sd_thread_start_arg *)p;
    free(p);
    a.fn(a.arg);
    return NULL;
}

int sd_thread_start(sd_thread *t, void (*fn)(void *), void *arg) {
    sd_thread_start_arg *a = malloc(sizeof *a);
    sigset_t all, old;
    int rc;
    if (a == NULL) return -1;
    a->fn = fn;
    a->arg = arg;
    /* the worker takes no signal: they stay the host's main thread's (a trapped SIGINT wakes its poll) */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(t, NULL, sd_thread_main, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(a);
        return -1;
    }
    return 0;
}

void sd_thread_join(sd_thread t) {
    pthread_join(t, NULL);
}

#else
typedef int sd_platform_posix_unused; /* ISO C wants something in every file */
#endif
