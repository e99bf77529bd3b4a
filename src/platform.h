/*
 * platform.h: every call the core makes to the operating system, in one
 * place. The rest of the core is portable C99 plus libcurl and Lua; it
 * reaches the clock, random bytes, files and sockets only through these.
 *
 * Two implementations, each a whole file guarded by its platform so both
 * compile everywhere (one build list for make, LuaRocks and the cross-build):
 *   platform_posix.c  Linux, macOS and the BSDs (clock_gettime, nanosleep,
 *                     getrandom or arc4random_buf, open with O_NOFOLLOW,
 *                     flock, fsync, lstat, rename, getcwd, dup, poll,
 *                     socket, pthreads)
 *   platform_win32.c  Windows (QueryPerformanceCounter, Sleep,
 *                     BCryptGenRandom, CreateFileW without following reparse
 *                     points, LockFileEx, FlushFileBuffers, MoveFileExW,
 *                     GetFullPathNameW, DuplicateHandle), with
 *                     platform_win32_io.c (WSAPoll, socket, CreateThread
 *                     with critical sections and condition variables)
 *   platform_nopoll.c  the poller where there is no epoll (Windows, POSIX
 *                     systems but Linux): none, the engine polls its array
 *
 * Errors are errno values on both (the Windows file reports its own as the
 * nearest errno), so callers print them with sd_errstr() and name them the
 * same way. Paths are UTF-8 (on Windows a path that is not valid UTF-8 is
 * read in the ANSI code page, as Lua's io library reads every path).
 */
#ifndef SD_PLATFORM_H
#define SD_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* Vista: WSAPoll, inet_ntop */
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
typedef WSAPOLLFD sd_pollfd;  /* .fd is a SOCKET */
typedef SOCKET sd_socket;
#define SD_BAD_SOCKET INVALID_SOCKET
typedef CRITICAL_SECTION sd_mutex;
typedef CONDITION_VARIABLE sd_cond;
typedef HANDLE sd_thread;
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
typedef struct pollfd sd_pollfd; /* .fd is an int */
typedef int sd_socket;
#define SD_BAD_SOCKET (-1)
typedef pthread_mutex_t sd_mutex;
typedef pthread_cond_t sd_cond;
typedef pthread_t sd_thread;
#endif

#if defined(_MSC_VER)
#define sd_strncasecmp _strnicmp
#else
#include <strings.h>
#define sd_strncasecmp strncasecmp
#endif

/* ---- time ---- */

/* Microseconds on a monotonic clock (never goes back, unrelated to the date). */
long long sd_clock_us(void);

/* Microseconds of CPU time the calling thread has used (a host's frame thread, apart from the
 * engine's worker). */
long long sd_thread_cpu_us(void);

/* The date: whole seconds since 1970 (what os.time() says), for comparing
 * with the unix times a service sends. */
long long sd_wall_s(void);

/* Pause the calling thread for about `seconds` (nothing for 0 or less); when
 * `stop` is given, return early once it says so (a trapped signal arrived). */
void sd_sleep(double seconds, int (*stop)(void));

/* Whether descriptor fd (0 stdin, 1 stdout, 2 stderr) is a terminal. On
 * Windows a console, whose output is switched to ANSI escape handling (a
 * console that refuses it, before Windows 10, counts as no terminal). */
int sd_isatty(int fd);

/* Columns of the terminal at fd (its window's width on Windows), or 0 when
 * fd is no terminal or does not say. */
int sd_terminal_width(int fd);

/* Make sure descriptors 0, 1 and 2 are open, each closed one on the null
 * device opened the other way round (standard input for writing, output and
 * error for reading), so nothing opened later takes a standard stream's
 * number and a write to a closed output still fails. Nothing on Windows,
 * where the core's files are handles, never C-library descriptors. */
void sd_std_fds_open(void);

/* ---- numbers, whatever the process's locale ----
 * A host may set LC_NUMERIC (os.setlocale, a GTK program's setlocale(LC_ALL,
 * "")) at any time; the C library's strtod and printf then read and write a
 * comma for the decimal point. The core reads and writes numbers through
 * these two, which use the "C" locale's rules always (strtod_l and a
 * per-thread uselocale on POSIX, _strtod_l and _snprintf_l on Windows) and
 * never change, nor read, the process's locale. */

/* strtod in the "C" locale: "1.5" is one and a half, "200," is 200 followed by a comma. */
double sd_strtod(const char *s, char **end);

/* snprintf of one double in the "C" locale; fmt holds exactly one floating-point conversion
 * (%g, %.14g, %.1f, ...). What snprintf returns (out is NUL-terminated when n > 0). */
int sd_format_double(char *out, size_t n, const char *fmt, double x);

/* ---- random bytes ---- */

/* Fill buf with n bytes from the system's random source. 0, or -1 with errno. */
int sd_random(void *buf, size_t n);

/* ---- files ----
 * An open file is an sd_file: a descriptor on POSIX, a HANDLE on Windows,
 * SD_NOFILE when closed. Every open refuses to go through a symbolic link
 * (or a Windows reparse point) in the last component of the path (ELOOP),
 * is not inherited by child processes, and never blocks on a FIFO. */
typedef intptr_t sd_file;
#define SD_NOFILE ((sd_file)-1)

/* How sd_file_open opens (or-ed together). */
#define SD_READ 0x01    /* for reading */
#define SD_WRITE 0x02   /* for writing */
#define SD_APPEND 0x04  /* every write goes to the end (implies SD_WRITE) */
#define SD_CREATE 0x08  /* create when missing */
#define SD_EXCL 0x10    /* with SD_CREATE: fail (EEXIST) when anything stands at the path */
#define SD_PRIVATE 0x20 /* a created file is readable by its owner only (0600) */

/* What stands at a path. */
typedef enum sd_ftype {
    SD_TYPE_FILE = 0,
    SD_TYPE_DIR,
    SD_TYPE_LINK, /* a symbolic link (on Windows any reparse point) */
    SD_TYPE_FIFO,
    SD_TYPE_CHAR,
    SD_TYPE_BLOCK,
    SD_TYPE_SOCKET,
    SD_TYPE_OTHER
} sd_ftype;

typedef struct sd_stat {
    sd_ftype type;  /* what it is */
    long long size; /* bytes (regular files) */
    int mode;       /* permission bits (POSIX st_mode & 07777); -1 where the system has none (Windows) */
} sd_stat;

/* Open path (flags above). The file, or SD_NOFILE with errno. */
sd_file sd_file_open(const char *path, int flags);

/* Read at most len bytes; *got is 0 at the end of the file. 0, or -1 with errno. */
int sd_file_read(sd_file f, void *buf, size_t len, size_t *got);

/* Read at most len bytes from byte offset (pread, ReadFile with an offset), wherever the file's
 * position stands (an appending handle's is at the end); *got is 0 at the end. 0, or -1 with errno. */
int sd_file_read_at(sd_file f, void *buf, size_t len, long long offset, size_t *got);

/* Write all len bytes (retrying short writes). 0, or -1 with errno. */
int sd_file_write(sd_file f, const void *buf, size_t len);

/* Push what was written to the disk (fsync, FlushFileBuffers). 0, or -1 with errno. */
int sd_file_sync(sd_file f);

/* What an open file is. 0, or -1 with errno. */
int sd_file_info(sd_file f, sd_stat *st);

/* Take an exclusive lock on the open file without waiting: -1 with errno
 * EWOULDBLOCK when another holder (another process, or another open of the
 * same file in this one) has it. The lock lasts until the file is closed.
 * The file's bytes stay readable and writable through other opens. */
int sd_file_lock(sd_file f);

/* Close; safe with SD_NOFILE. 0, or -1 with errno (a write that failed late). */
int sd_file_close(sd_file f);

/* A second handle on the same open file (dup, DuplicateHandle): writes through
 * either land in the same file, and a lock taken through one lasts until both
 * are closed. The new handle, or SD_NOFILE with errno. */
sd_file sd_file_dup(sd_file f);

/* What stands at path: with follow 0 a symbolic link in its last component
 * is reported as SD_TYPE_LINK (lstat), with follow 1 what it points to (stat). 0, or -1 with errno. */
int sd_path_stat(const char *path, sd_stat *st, int follow);

/* Whether the file at path (following links) can be opened for reading. 0, or -1 with errno. */
int sd_path_readable(const char *path);

/* Remove the file (or the symbolic link itself) at path. 0, or -1 with errno (ENOENT when nothing is there). */
int sd_path_remove(const char *path);

/* Rename from to to, replacing a file at to in one step (rename, MoveFileExW
 * with MOVEFILE_REPLACE_EXISTING). A link at to is replaced, never followed. 0, or -1 with errno. */
int sd_path_replace(const char *from, const char *to);

/* The identity of what stands at path: two paths name one file when their
 * identities are equal (device and inode; on Windows the volume's serial
 * number and the file index). With follow 0 a symbolic link in the last
 * component is itself identified, with follow 1 what it points to. 0, or -1 with errno. */
typedef struct sd_fileid {
    unsigned long long dev; /* device (volume serial number) */
    unsigned long long ino; /* inode (file index) on that device */
} sd_fileid;
int sd_path_id(const char *path, int follow, sd_fileid *id);

/* The absolute form of path, resolved against the current working directory
 * now (getcwd, GetFullPathNameW), so a later change of folder (a host's
 * chdir) changes nothing about which file it names; symbolic links are not
 * resolved. A new string in *out (free it). 0, or -1 with errno. */
int sd_path_absolute(const char *path, char **out);

/* A message for an errno value (strerror, plus the codes the Windows C library lacks). */
const char *sd_errstr(int err);

/* ---- sockets ---- */

/* A new socket for libcurl's open-socket callback (what libcurl itself would open). */
sd_socket sd_socket_open(int family, int type, int protocol);

/* Wait up to timeout_ms (-1: no limit) for the sockets; n may be 0 (then it
 * only sleeps). The number ready, or -1 with errno (EINTR). */
int sd_poll(sd_pollfd *fds, size_t n, int timeout_ms);

/* A set of sockets the kernel keeps (epoll on Linux), so a wait costs what is
 * ready, not every socket watched (poll looks at each of a hundred connections
 * at every step). NULL where there is none (macOS, the BSDs, Windows) or it
 * could not be made: the caller polls its array with sd_poll then. */
typedef struct sd_poller sd_poller;
sd_poller *sd_poller_new(void);
void sd_poller_free(sd_poller *p);
/* Watch fd for events (POLLIN, POLLOUT) (`known`: it is watched already, for other events). 0, or -1. */
int sd_poller_set(sd_poller *p, sd_socket fd, short events, int known);
/* Stop watching fd (before it is closed, or after: a closed one is gone already). */
void sd_poller_del(sd_poller *p, sd_socket fd);
/* Wait up to timeout_ms for the sockets; at most max ready ones into ready[]
 * (.fd and .revents as poll sets them). The number, or -1 with errno. */
int sd_poller_wait(sd_poller *p, sd_pollfd *ready, size_t max, int timeout_ms);

/* TCP connections the core opens itself (the Redis journal, src/redis.c): the
 * addresses of host:port (getaddrinfo: a numeric address at once, a name
 * through the system's resolver), a connect started without waiting on a
 * non-blocking socket that is not inherited by children, its outcome once the
 * socket turns writable, and sends and receives that never block (nor raise
 * SIGPIPE: MSG_NOSIGNAL, SO_NOSIGPIPE). */
typedef struct sd_addrs sd_addrs;

/* The addresses of host:port, or NULL with a message in err. Free with sd_tcp_addrs_free. */
sd_addrs *sd_tcp_resolve(const char *host, int port, char *err, size_t errlen);
void sd_tcp_addrs_free(sd_addrs *a);

/* Start connecting to address number i of a: 0 with *out the socket (connected or
 * under way: wait until it is writable, then sd_tcp_result), 1 when a has no
 * address i, -1 with errno. */
int sd_tcp_start(const sd_addrs *a, size_t i, sd_socket *out);

/* How a started connect ended, once the socket is writable: 0, or an errno value. */
int sd_tcp_result(sd_socket s);

/* Send or receive at most n bytes: the number done (a receive's 0 is the peer's
 * end), or -1 with errno (EAGAIN when it would block). */
long sd_tcp_send(sd_socket s, const void *buf, size_t n);
long sd_tcp_recv(sd_socket s, void *buf, size_t n);

/* Close a socket; safe with SD_BAD_SOCKET. */
void sd_tcp_close(sd_socket s);

/* ---- this process ---- */

/* The process id (getpid, GetCurrentProcessId). */
long sd_process_id(void);

/* The machine's name into out (gethostname, GetComputerNameA); "" when it has none. */
void sd_host_name(char *out, size_t n);

/* ---- threads (the engine's file worker: src/jobs.c) ---- */

/* A mutex and a condition variable (pthreads; a critical section and a
 * condition variable on Windows). Init returns 0, or -1. */
int sd_mutex_init(sd_mutex *m);
void sd_mutex_lock(sd_mutex *m);
void sd_mutex_unlock(sd_mutex *m);
void sd_mutex_destroy(sd_mutex *m);
int sd_cond_init(sd_cond *c);
void sd_cond_wait(sd_cond *c, sd_mutex *m);
void sd_cond_signal(sd_cond *c);
void sd_cond_destroy(sd_cond *c);

/* Start fn(arg) on a new thread; 0, or -1. sd_thread_join waits for its end. */
int sd_thread_start(sd_thread *t, void (*fn)(void *), void *arg);
void sd_thread_join(sd_thread t);

#endif
