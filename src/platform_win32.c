/*
 * platform_win32.c: platform.h on Windows (built with MinGW-w64; see
 * mk/windows.mk): clocks, the C locale's numbers, terminals, random bytes,
 * files and paths; sockets, TCP, processes and threads are in
 * platform_win32_io.c. Paths go to the wide-character API as UTF-8 (a path that
 * is not valid UTF-8 is read in the ANSI code page). Windows errors become
 * the nearest errno, so the core reports them as it does on POSIX.
 *
 * What differs from POSIX, on purpose:
 * - "Never through a symbolic link": files are opened with
 *   FILE_FLAG_OPEN_REPARSE_POINT and refused (ELOOP) when what was opened is
 *   a name surrogate (symbolic link, junction, mount point). Other reparse
 *   points (OneDrive placeholders, deduplicated files) are ordinary files
 *   and are opened again through their filter.
 * - Files are opened with every FILE_SHARE_* flag, so another program may
 *   read, rename or delete them while they are open, as on POSIX.
 * - The lock is LockFileEx on one byte far past any real end of file: it
 *   excludes other holders without stopping reads and appends of the file's
 *   bytes through other handles (Windows byte-range locks are mandatory).
 * - Appends use FILE_APPEND_DATA access: every write lands at the end.
 * - A console counts as a terminal only once it takes ANSI escapes
 *   (ENABLE_VIRTUAL_TERMINAL_PROCESSING, Windows 10 and later): the progress
 *   bar redraws its line with them.
 */
#ifdef _WIN32
#include "platform.h"

#include <bcrypt.h>
#include <errno.h>
#include <io.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#ifndef ELOOP
#define ELOOP 114
#endif
#ifndef EWOULDBLOCK
#define EWOULDBLOCK 140
#endif
#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif

/* The errno nearest to a Windows error code. */
static int sd_errno_of(DWORD e) {
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_BAD_PATHNAME:
        return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_PRIVILEGE_NOT_HELD:
    case ERROR_NETWORK_ACCESS_DENIED:
        return EACCES;
    case ERROR_LOCK_VIOLATION:
        return EWOULDBLOCK;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        return EEXIST;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return ENOSPC;
    case ERROR_WRITE_PROTECT:
        return EROFS;
    case ERROR_DIRECTORY:
        return ENOTDIR;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return ENOMEM;
    case ERROR_FILENAME_EXCED_RANGE:
        return ENAMETOOLONG;
    case ERROR_CANT_RESOLVE_FILENAME:
        return ELOOP;
    case ERROR_DIR_NOT_EMPTY:
        return ENOTEMPTY;
    default:
        return EIO;
    }
}

/* Set errno from GetLastError() and return -1. */
static int sd_fail_last(void) {
    errno = sd_errno_of(GetLastError());
    return -1;
}

/* path as a new wide string (free it), or NULL with errno. */
static wchar_t *sd_wide(const char *path) {
    UINT cp = CP_UTF8;
    DWORD how = MB_ERR_INVALID_CHARS;
    wchar_t *w;
    int n = MultiByteToWideChar(cp, how, path, -1, NULL, 0);
    if (n <= 0) {
        cp = CP_ACP;
        how = 0;
        n = MultiByteToWideChar(cp, how, path, -1, NULL, 0);
    }
    if (n <= 0) {
        errno = ENOENT;
        return NULL;
    }
    w = malloc((size_t)n * sizeof *w);
    if (w == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(cp, how, path, -1, w, n);
    return w;
}

/* The "C" numeric locale, made once; a race of two first calls makes two and keeps one (harmless). */
static _locale_t sd_c_numeric_locale(void) {
    static _locale_t c = NULL;
    if (c == NULL) c = _create_locale(LC_NUMERIC, "C");
    return c;
}

double sd_strtod(const char *s, char **end) {
    _locale_t c = sd_c_numeric_locale();
    if (c == NULL) {
        if (end) *end = (char *)s;
        errno = ENOMEM;
        return 0;
    }
    return _strtod_l(s, end, c);
}

int sd_format_double(char *out, size_t n, const char *fmt, double x) {
    _locale_t c = sd_c_numeric_locale();
    int r;
    if (n == 0) return -1;
    if (c == NULL) {
        out[0] = '\0';
        return -1;
    }
    r = _snprintf_l(out, n, fmt, c, x);
    out[n - 1] = '\0'; /* _snprintf_l does not terminate a cut string */
    return r;
}

long long sd_clock_us(void) {
    static LARGE_INTEGER freq; /* constant after boot: reading it twice is harmless */
    LARGE_INTEGER c;
    if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    /* split, so counter * 1e6 never overflows */
    return (c.QuadPart / freq.QuadPart) * 1000000 + (c.QuadPart % freq.QuadPart) * 1000000 / freq.QuadPart;
}

long long sd_thread_cpu_us(void) {
    FILETIME created, ended, kernel, user;
    ULARGE_INTEGER k, u;
    if (!GetThreadTimes(GetCurrentThread(), &created, &ended, &kernel, &user)) return 0;
    k.LowPart = kernel.dwLowDateTime;
    k.HighPart = kernel.dwHighDateTime;
    u.LowPart = user.dwLowDateTime;
    u.HighPart = user.dwHighDateTime;
    return (long long)((k.QuadPart + u.QuadPart) / 10); /* 100 ns steps */
}

long long sd_wall_s(void) {
    FILETIME ft;
    ULARGE_INTEGER u;
    GetSystemTimeAsFileTime(&ft); /* 100 ns steps since 1601 */
    u.LowPart = ft.dwLowDateTime;
    u.HighPart = ft.dwHighDateTime;
    return (long long)(u.QuadPart / 10000000ULL) - 11644473600LL;
}

void sd_sleep(double seconds, int (*stop)(void)) {
    double ms = seconds * 1000.0;
    if (!(seconds > 0)) return;
    if (ms > 4e9) ms = 4e9;
    /* Ctrl-C arrives on another thread and does not interrupt Sleep: look every 50 ms */
    while (ms > 0 && !(stop != NULL && stop())) {
        double step = ms < 50 ? ms : 50;
        Sleep((DWORD)(step + 0.999));
        ms -= step;
    }
}

int sd_isatty(int fd) {
    HANDLE h;
    DWORD mode;
    if (!_isatty(fd)) return 0;
    h = (HANDLE)_get_osfhandle(fd);
    /* NUL is a character device too, but no console */
    if (h == INVALID_HANDLE_VALUE || !GetConsoleMode(h, &mode)) return 0;
    if (fd == 0 || (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING)) return 1;
    /* output redrawn in place uses ANSI escapes: a console that cannot take them counts as none */
    return SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) ? 1 : 0;
}

int sd_terminal_width(int fd) {
    CONSOLE_SCREEN_BUFFER_INFO info;
    HANDLE h;
    if (!_isatty(fd)) return 0;
    h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE || !GetConsoleScreenBufferInfo(h, &info)) return 0;
    return info.srWindow.Right - info.srWindow.Left + 1;
}

void sd_std_fds_open(void) {
    /* the core's files are handles (CreateFileW), never C-library descriptors: none can take 0, 1 or 2 */
}

int sd_random(void *buf, size_t n) {
    if (n > 0xFFFFFFFFu || !BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* Whether the open handle is a name surrogate (symbolic link, junction, mount point). */
static int sd_is_link(HANDLE h) {
    FILE_ATTRIBUTE_TAG_INFO tag;
    if (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag)) return 0;
    return (tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) && IsReparseTagNameSurrogate(tag.ReparseTag);
}

sd_file sd_file_open(const char *path, int flags) {
    DWORD access = 0, disposition, e;
    DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    HANDLE h;
    wchar_t *w = sd_wide(path);
    if (w == NULL) return SD_NOFILE;
    if (flags & SD_READ) access |= GENERIC_READ;
    if (flags & SD_APPEND) access |= FILE_APPEND_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    else if (flags & SD_WRITE) access |= GENERIC_WRITE;
    if (flags & SD_CREATE) disposition = (flags & SD_EXCL) ? CREATE_NEW : OPEN_ALWAYS;
    else disposition = OPEN_EXISTING;
    h = CreateFileW(w, access, share, NULL, disposition, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD attrs;
        e = GetLastError();
        attrs = GetFileAttributesW(w);
        free(w);
        /* a folder cannot be opened as a file: say so, as POSIX does */
        errno = (e == ERROR_ACCESS_DENIED && attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
                    ? EISDIR : sd_errno_of(e);
        return SD_NOFILE;
    }
    if (GetFileType(h) == FILE_TYPE_DISK) {
        FILE_ATTRIBUTE_TAG_INFO tag;
        if (sd_is_link(h)) {
            CloseHandle(h);
            free(w);
            errno = ELOOP;
            return SD_NOFILE;
        }
        if (GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag) &&
            (tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
            /* a reparse point that is no link (cloud placeholder, ...): open it through its filter */
            CloseHandle(h);
            h = CreateFileW(w, access, share, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
            if (h == INVALID_HANDLE_VALUE) {
                free(w);
                sd_fail_last();
                return SD_NOFILE;
            }
        }
    }
    free(w);
    return (sd_file)h;
}

int sd_file_read(sd_file f, void *buf, size_t len, size_t *got) {
    DWORD n = 0;
    if (len > 0x40000000u) len = 0x40000000u;
    if (!ReadFile((HANDLE)f, buf, (DWORD)len, &n, NULL)) {
        if (GetLastError() == ERROR_BROKEN_PIPE || GetLastError() == ERROR_HANDLE_EOF) n = 0;
        else return sd_fail_last();
    }
    *got = (size_t)n;
    return 0;
}

int sd_file_read_at(sd_file f, void *buf, size_t len, long long offset, size_t *got) {
    OVERLAPPED at;
    DWORD n = 0;
    memset(&at, 0, sizeof at);
    at.Offset = (DWORD)((unsigned long long)offset & 0xFFFFFFFFu);
    at.OffsetHigh = (DWORD)((unsigned long long)offset >> 32);
    if (len > 0x7FFFFFFF) len = 0x7FFFFFFF;
    if (!ReadFile((HANDLE)f, buf, (DWORD)len, &n, &at)) {
        if (GetLastError() == ERROR_HANDLE_EOF) {
            *got = 0;
            return 0;
        }
        return sd_fail_last();
    }
    *got = n;
    return 0;
}

int sd_file_write(sd_file f, const void *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        DWORD n = 0, want = (len - done) > 0x40000000u ? 0x40000000u : (DWORD)(len - done);
        if (!WriteFile((HANDLE)f, (const char *)buf + done, want, &n, NULL)) return sd_fail_last();
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        done += n;
    }
    return 0;
}

int sd_file_sync(sd_file f) {
    return FlushFileBuffers((HANDLE)f) ? 0 : sd_fail_last();
}

int sd_file_info(sd_file f, sd_stat *st) {
    BY_HANDLE_FILE_INFORMATION fi;
    DWORD kind = GetFileType((HANDLE)f);
    st->size = 0;
    st->mode = -1;
    if (kind == FILE_TYPE_CHAR) st->type = SD_TYPE_CHAR;
    else if (kind == FILE_TYPE_PIPE) st->type = SD_TYPE_FIFO;
    else if (kind != FILE_TYPE_DISK) st->type = SD_TYPE_OTHER;
    else {
        if (!GetFileInformationByHandle((HANDLE)f, &fi)) return sd_fail_last();
        st->type = sd_is_link((HANDLE)f) ? SD_TYPE_LINK
                 : (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? SD_TYPE_DIR : SD_TYPE_FILE;
        st->size = ((long long)fi.nFileSizeHigh << 32) | (long long)fi.nFileSizeLow;
    }
    return 0;
}

int sd_file_lock(sd_file f) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = 0xFFFFFFFEu; /* byte 2^63 - 2: past any file, so the bytes stay free */
    ov.OffsetHigh = 0x7FFFFFFFu;
    if (LockFileEx((HANDLE)f, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov)) return 0;
    if (GetLastError() == ERROR_LOCK_VIOLATION || GetLastError() == ERROR_IO_PENDING) {
        errno = EWOULDBLOCK;
        return -1;
    }
    return sd_fail_last();
}

int sd_file_close(sd_file f) {
    if (f == SD_NOFILE) return 0;
    return CloseHandle((HANDLE)f) ? 0 : sd_fail_last();
}

sd_file sd_file_dup(sd_file f) {
    HANDLE dup;
    if (!DuplicateHandle(GetCurrentProcess(), (HANDLE)f, GetCurrentProcess(), &dup, 0, FALSE,
                         DUPLICATE_SAME_ACCESS)) {
        sd_fail_last();
        return SD_NOFILE;
    }
    return (sd_file)dup;
}

int sd_path_stat(const char *path, sd_stat *st, int follow) {
    WIN32_FILE_ATTRIBUTE_DATA a;
    wchar_t *w = sd_wide(path);
    if (w == NULL) return -1;
    if (follow) { /* open what the path leads to (backup semantics: folders too), then ask the handle */
        HANDLE h = CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                               FILE_FLAG_BACKUP_SEMANTICS, NULL);
        int r;
        free(w);
        if (h == INVALID_HANDLE_VALUE) return sd_fail_last();
        r = sd_file_info((sd_file)h, st);
        CloseHandle(h);
        return r;
    }
    if (!GetFileAttributesExW(w, GetFileExInfoStandard, &a)) {
        free(w);
        return sd_fail_last();
    }
    st->size = ((long long)a.nFileSizeHigh << 32) | (long long)a.nFileSizeLow;
    st->mode = -1;
    st->type = (a.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? SD_TYPE_DIR : SD_TYPE_FILE;
    if ((a.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) && wcspbrk(w, L"*?") == NULL) {
        /* the reparse tag tells a link from a cloud placeholder */
        WIN32_FIND_DATAW fd;
        HANDLE fh = FindFirstFileW(w, &fd);
        if (fh != INVALID_HANDLE_VALUE) {
            FindClose(fh);
            if ((fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) && IsReparseTagNameSurrogate(fd.dwReserved0)) {
                st->type = SD_TYPE_LINK;
                st->size = 0;
            }
        }
    }
    free(w);
    return 0;
}

int sd_path_id(const char *path, int follow, sd_fileid *id) {
    BY_HANDLE_FILE_INFORMATION info;
    HANDLE h;
    BOOL ok;
    DWORD e;
    wchar_t *w = sd_wide(path);
    if (w == NULL) return -1;
    /* no access asked: only the file's identity; backup semantics open folders too */
    h = CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT), NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return sd_fail_last();
    ok = GetFileInformationByHandle(h, &info);
    e = GetLastError();
    CloseHandle(h);
    if (!ok) {
        errno = sd_errno_of(e);
        return -1;
    }
    id->dev = info.dwVolumeSerialNumber;
    id->ino = ((unsigned long long)info.nFileIndexHigh << 32) | info.nFileIndexLow;
    return 0;
}

int sd_path_readable(const char *path) {
    HANDLE h;
    wchar_t *w = sd_wide(path);
    if (w == NULL) return -1;
    h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return sd_fail_last();
    CloseHandle(h);
    return 0;
}

int sd_path_remove(const char *path) {
    DWORD attrs;
    BOOL ok;
    wchar_t *w = sd_wide(path);
    if (w == NULL) return -1;
    attrs = GetFileAttributesW(w);
    /* a link to a folder (or a junction) is removed as a folder entry; the folder it names stays */
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT) && (attrs & FILE_ATTRIBUTE_DIRECTORY))
        ok = RemoveDirectoryW(w);
    else if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        free(w);
        errno = EISDIR;
        return -1;
    } else
        ok = DeleteFileW(w);
    free(w);
    return ok ? 0 : sd_fail_last();
}

int sd_path_replace(const char *from, const char *to) {
    BOOL ok;
    wchar_t *wf = sd_wide(from), *wt = wf ? sd_wide(to) : NULL;
    if (wt == NULL) {
        free(wf);
        return -1;
    }
    ok = MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH);
    free(wf);
    free(wt);
    return ok ? 0 : sd_fail_last();
}

int sd_path_absolute(const char *path, char **out) {
    wchar_t *w = sd_wide(path), *full;
    DWORD n;
    int len;
    if (w == NULL) return -1;
    n = GetFullPathNameW(w, 0, NULL, NULL);
    full = n ? malloc((size_t)n * sizeof *full) : NULL;
    if (full == NULL || GetFullPathNameW(w, n, full, NULL) == 0) {
        if (full == NULL && n) errno = ENOMEM;
        else sd_fail_last();
        free(w);
        free(full);
        return -1;
    }
    free(w);
    len = WideCharToMultiByte(CP_UTF8, 0, full, -1, NULL, 0, NULL, NULL);
    *out = len > 0 ? malloc((size_t)len) : NULL;
    if (*out == NULL || WideCharToMultiByte(CP_UTF8, 0, full, -1, *out, len, NULL, NULL) == 0) {
        free(*out);
        free(full);
        *out = NULL;
        errno = ENOMEM;
        return -1;
    }
    free(full);
    return 0;
}

const char *sd_errstr(int err) {
    /* codes the Windows C library has no words for */
    if (err == ELOOP) return "is a symbolic link or junction (not followed)";
    if (err == EWOULDBLOCK) return "held by another holder";
    if (err == ENAMETOOLONG) return "file name too long";
    return strerror(err);
}

#else
typedef int sd_platform_win32_unused; /* ISO C wants something in every file */
#endif
