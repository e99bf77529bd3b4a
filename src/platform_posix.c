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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/random.h>
#endif

#include "platform.h"

long long sd_clock_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

const char *sd_errstr(int err) {
    return strerror(err);
}

sd_socket sd_socket_open(int family, int type, int protocol) {
    return socket(family, type, protocol);
}

int sd_poll(sd_pollfd *fds, size_t n, int timeout_ms) {
    return poll(fds, (nfds_t)n, timeout_ms);
}

#else
typedef int sd_platform_posix_unused; /* ISO C wants something in every file */
#endif
