/* store.c: tasks, ids, the task clock, keys, rate windows and the fault PRNG. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu.h"

/* Open-addressing indexes map task ids and Idempotency-Keys to ring slots,
 * so polling and replays stay O(1) however many tasks are kept. */
typedef struct {
    int *slots;     /* hash -> slot + 1, 0 = empty */
    size_t cap;     /* a power of two, at least twice max_tasks */
    int by_idem;    /* key on the Idempotency-Key instead of the id */
} emu_index;

static emu_index by_id = {NULL, 0, 0}, by_idem = {NULL, 0, 1};

/* The --test-clock offset of the wall clock, in microseconds (atomic: read by every thread). */
static long long wall_offset_us;

double emu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + (double)__atomic_load_n(&wall_offset_us, __ATOMIC_RELAXED) / 1e6;
}

double emu_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double emu_wall_step(double seconds) {
    long long us = (long long)(seconds * 1e6);
    return (double)__atomic_add_fetch(&wall_offset_us, us, __ATOMIC_RELAXED) / 1e6;
}

void emu_http_date(char *out, size_t cap) {
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)floor(emu_now());
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

double emu_task_wall(const emu_task *t, double mono) {
    return t->created + (mono - t->started);
}

/* xorshift64*: small, fast, reproducible from a seed. */
static uint64_t next64(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ULL;
}

double emu_rand(void) {
    return (double)(next64(&E.rng) >> 11) / 9007199254740992.0;
}

int emu_store_init(void) {
    E.tasks = calloc((size_t)E.opt.max_tasks, sizeof *E.tasks);
    E.rates = calloc(EMU_RATE_KEYS, sizeof *E.rates);
    E.uploads = calloc(EMU_UPLOADS, sizeof *E.uploads);
    if (!E.tasks || !E.rates || !E.uploads) return -1;
    for (int i = 0; i < E.opt.max_tasks; i++) E.tasks[i].newer = i + 1 < E.opt.max_tasks ? i + 1 : -1;
    E.free_head = 0;
    E.oldest = E.newest = -1;
    E.rng = E.opt.fault_seed ? E.opt.fault_seed : 0x9E3779B97F4A7C15ULL;
    E.id_rng = (uint64_t)emu_now() * 1000003ULL ^ 0xD1B54A32D192ED03ULL;
    return 0;
}

void emu_store_free(void) {
    free(by_id.slots);
    free(by_idem.slots);
    free(E.tasks);
    free(E.rates);
    if (E.uploads)
        for (int i = 0; i < EMU_UPLOADS; i++) free(E.uploads[i].data);
    free(E.uploads);
    for (int i = 0; i < E.nkeys; i++) free(E.keys[i]);
    free(E.keys);
}

static size_t hash_str(const char *s) {
    size_t h = 1469598103934665603ULL;
    while (*s) { h ^= (unsigned char)*s++; h *= 1099511628211ULL; }
    return h;
}

static const char *index_key(const emu_index *ix, const emu_task *t) {
    return ix->by_idem ? t->idem : t->id;
}

static int index_init(emu_index *ix) {
    if (ix->slots) return 0;
    ix->cap = 1;
    while (ix->cap < (size_t)E.opt.max_tasks * 2) ix->cap <<= 1;
    ix->slots = calloc(ix->cap, sizeof *ix->slots);
    return ix->slots ? 0 : -1;
}

static void index_put(emu_index *ix, int slot) {
    const char *key = index_key(ix, &E.tasks[slot]);
    if (!key[0]) return;
    size_t h = hash_str(key) & (ix->cap - 1);
    while (ix->slots[h]) h = (h + 1) & (ix->cap - 1);
    ix->slots[h] = slot + 1;
}

/* Linear probing with backward-shift deletion: no tombstones, so lookups stay
 * short however many tasks come and go. */
static void index_remove(emu_index *ix, int slot) {
    const char *key = index_key(ix, &E.tasks[slot]);
    size_t mask = ix->cap - 1, i, j, home;
    if (!key[0]) return;
    i = hash_str(key) & mask;
    while (ix->slots[i] && ix->slots[i] != slot + 1) i = (i + 1) & mask;
    if (!ix->slots[i]) return;
    ix->slots[i] = 0;
    for (j = (i + 1) & mask; ix->slots[j]; j = (j + 1) & mask) {
        home = hash_str(index_key(ix, &E.tasks[ix->slots[j] - 1])) & mask;
        /* move slots[j] into the hole unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            ix->slots[i] = ix->slots[j];
            ix->slots[j] = 0;
            i = j;
        }
    }
}

static emu_task *index_find(emu_index *ix, const char *key) {
    if (!ix->slots || !key[0]) return NULL;
    size_t h = hash_str(key) & (ix->cap - 1);
    while (ix->slots[h]) {
        emu_task *t = &E.tasks[ix->slots[h] - 1];
        if (t->used && strcmp(index_key(ix, t), key) == 0) return t;
        h = (h + 1) & (ix->cap - 1);
    }
    return NULL;
}

emu_task *emu_task_find(const char *id) {
    return index_find(&by_id, id);
}

emu_task *emu_task_by_idem(const char *key) {
    return index_find(&by_idem, key);
}

/* Record the task's Idempotency-Key once it is set. */
void emu_task_index_idem(emu_task *t) {
    index_put(&by_idem, (int)(t - E.tasks));
}

/* A ULID-like id: 48-bit millisecond time, then 80 random bits, Crockford base32. */
static void make_id(char *out) {
    static const char A[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    uint64_t ms = (uint64_t)(emu_now() * 1000.0);
    uint64_t r1 = next64(&E.id_rng), r2 = next64(&E.id_rng);
    char *p = out + 5;
    memcpy(out, "task_", 5);
    for (int i = 9; i >= 0; i--) { p[i] = A[ms & 31]; ms >>= 5; }
    for (int i = 10; i < 26; i++) {
        uint64_t *r = i < 22 ? &r1 : &r2;
        p[i] = A[*r & 31];
        *r >>= 5;
    }
    p[26] = '\0';
}

/* Unlink a stored task from the creation-order list and the indexes; its slot
 * goes back on the free list. */
static void task_drop(int slot) {
    emu_task *t = &E.tasks[slot];
    index_remove(&by_id, slot);
    index_remove(&by_idem, slot);
    if (t->older >= 0) E.tasks[t->older].newer = t->newer;
    else E.oldest = t->newer;
    if (t->newer >= 0) E.tasks[t->newer].older = t->older;
    else E.newest = t->older;
    memset(t, 0, sizeof *t);
    t->newer = E.free_head;
    E.free_head = slot;
    E.ntasks--;
}

/* The task to evict when the store is full: the oldest one that has ended
 * (looking at most EMU_EVICT_SCAN tasks from the oldest), else the oldest. */
#define EMU_EVICT_SCAN 1024
static int evict_victim(double mono) {
    int slot = E.oldest;
    for (int n = 0; slot >= 0 && n < EMU_EVICT_SCAN; n++, slot = E.tasks[slot].newer) {
        const char *status;
        int progress;
        double done_at;
        emu_task_state(&E.tasks[slot], mono, &status, &progress, &done_at);
        if (done_at > 0) return slot;
    }
    return E.oldest;
}

emu_task *emu_task_new(double mono) {
    if (index_init(&by_id) != 0 || index_init(&by_idem) != 0) return NULL;
    if (E.ntasks >= E.opt.max_tasks) {
        int victim = evict_victim(mono);
        emu_bill_task(&E.tasks[victim], mono); /* a task completed and not billed yet is billed before it goes */
        task_drop(victim);
        E.stats.evicted++;
    }
    int slot = E.free_head;
    emu_task *t = &E.tasks[slot];
    E.free_head = t->newer;
    memset(t, 0, sizeof *t);
    make_id(t->id);
    t->used = 1;
    t->created = emu_now();
    t->started = mono;
    t->older = E.newest;
    t->newer = -1;
    if (E.newest >= 0) E.tasks[E.newest].newer = slot;
    else E.oldest = slot;
    E.newest = slot;
    E.ntasks++;
    index_put(&by_id, slot);
    return t;
}

/* Where a task stands at monotonic time mono: pending for the first tenth of
 * its time, then processing with rising progress, then completed (or failed
 * half-way). Progress other than 100 is a multiple of --progress-step.
 * done_at is the monotonic time it ended (0 while running). Every duration
 * counts on the monotonic clock: a step of the wall clock (an NTP correction)
 * neither sends a task back nor ends it early. */
void emu_task_state(const emu_task *t, double mono, const char **status, int *progress, double *done_at) {
    double elapsed = (mono - t->started) * E.opt.speed, est = t->estimated;
    *done_at = 0;
    if (t->fails && elapsed >= est * 0.5) {
        *status = "failed";
        *progress = 50;
        *done_at = t->started + est * 0.5 / E.opt.speed;
    } else if (elapsed >= est) {
        *status = "completed";
        *progress = 100;
        *done_at = t->started + est / E.opt.speed;
    } else if (elapsed < est * 0.1) {
        *status = "pending";
        *progress = 0;
    } else {
        *status = "processing";
        *progress = (int)((elapsed - est * 0.1) / (est * 0.9) * 100.0);
        if (*progress > 99) *progress = 99;
        if (*progress < 1) *progress = 1;
    }
    if (*progress < 100 && E.opt.progress_step > 1) *progress -= *progress % E.opt.progress_step;
}

long long emu_task_cost(const emu_task *t) {
    return t->duration > 0 ? t->duration : 5;
}

void emu_bill_task(emu_task *t, double mono) {
    const char *status;
    int progress;
    double done_at;
    if (!t->used || t->billed) return;
    emu_task_state(t, mono, &status, &progress, &done_at);
    if (strcmp(status, "completed") != 0) return;
    t->billed = 1;
    E.used_balance += emu_task_cost(t);
}

void emu_bill(double mono) {
    if (!E.opt.bill_at_completion) return;
    for (int slot = E.oldest; slot >= 0; slot = E.tasks[slot].newer) emu_bill_task(&E.tasks[slot], mono);
}

int emu_rate_check(const char *key, double now, double *retry_after) { /* now: monotonic */
    struct emu_rate *slot = NULL, *oldest = &E.rates[0];
    if (E.opt.rpm <= 0) return 1;
    for (int i = 0; i < EMU_RATE_KEYS; i++) {
        if (E.rates[i].key[0] && strcmp(E.rates[i].key, key) == 0) { slot = &E.rates[i]; break; }
        if (E.rates[i].window_start < oldest->window_start) oldest = &E.rates[i];
    }
    if (!slot) {
        slot = oldest;
        snprintf(slot->key, sizeof slot->key, "%s", key); /* fits: keys are at most EMU_KEY_MAX bytes */
        slot->window_start = now;
        slot->count = 0;
    }
    if (now - slot->window_start >= E.opt.rpm_window) {
        slot->window_start = now;
        slot->count = 0;
    }
    if (slot->count >= E.opt.rpm) {
        *retry_after = ceil(slot->window_start + E.opt.rpm_window - now);
        if (*retry_after < 1) *retry_after = 1;
        return 0;
    }
    slot->count++;
    return 1;
}

int emu_load_keys(const char *path) {
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    if (!f) return -1;
    while ((n = getline(&line, &cap, f)) >= 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        if (strlen(line) > EMU_KEY_MAX) { /* a longer key could never be sent: refuse it, never split it */
            fprintf(stderr, "seedance-emulator: %s: a key longer than %d bytes\n", path, EMU_KEY_MAX);
            rc = -1;
            break;
        }
        char **k = realloc(E.keys, (size_t)(E.nkeys + 1) * sizeof *k);
        if (!k || !(k[E.nkeys] = strdup(line))) {
            if (k) E.keys = k;
            rc = -1;
            break;
        }
        E.keys = k;
        E.nkeys++;
    }
    free(line);
    fclose(f);
    return rc;
}

int emu_key_allowed(const char *key) {
    if (!key[0] || strcmp(key, "sk-test-401") == 0) return 0;
    if (!E.keys) return 1;
    for (int i = 0; i < E.nkeys; i++)
        if (strcmp(E.keys[i], key) == 0) return 1;
    return 0;
}
