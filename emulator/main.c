/*
 * seedance-emulator: a local emulator of the Seedance 2.0 gateway for tests,
 * offline development and the demo. See emulator/README.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <microhttpd.h>

#include "check.h"
#include "emu.h"
#include "moderation.h"
#include "routes.h"

#ifndef EMU_MEDIA_DIR
#define EMU_MEDIA_DIR "emulator/media"
#endif

emu_state E;

static const char USAGE[] =
    "usage: seedance-emulator [options]\n"
    "\n"
    "  --host ADDR            address to bind (default 127.0.0.1; ::1 for IPv6)\n"
    "  --port N               port (default 0: a free one); the first stdout line is\n"
    "                         'listening on http://HOST:PORT'\n"
    "  --speed X              task clock multiplier (a 60 s task takes 60/X s; default 1)\n"
    "  --task-seconds N       how long every task takes, in service seconds (default: 30 +\n"
    "                         6*duration, +15 at 720p, +40 at 1080p, x0.6 on fast models)\n"
    "  --estimate-factor F    report estimated_time as F times the task's real time (default 1;\n"
    "                         the live service was seen estimating 600 s for a 155 s task)\n"
    "  --progress-step N      report progress in steps of N percent (default 1)\n"
    "  --url-ttl SECONDS      result URLs answer 403 this long after completion (default 86400)\n"
    "  --result-url-style S   array (default) or string: the shape of result.videos[i].url\n"
    "  --last-frame-key K     result (result.last_frame_url, default), video\n"
    "                         (result.videos[0].last_frame_url) or images (result.images[0].url)\n"
    "  --submit-shape S       array (default: data: [{status, task_id}]) or object (data: {id, object, status})\n"
    "  --balance N            starting balance (default 1000000; -1 unlimited); a task costs its duration\n"
    "  --bill-at WHEN         submit (default: used_balance grows at the submit) or completion (when the\n"
    "                         task completes; a failed task is never billed)\n"
    "  --model-rules FILE     models beyond the built-in ones, as seedance.models rules:\n"
    "                         { \"NAME\": { \"like\": \"doubao-seedance-2.0\", \"duration\": { \"max\": 30 } } }\n"
    "  --refuse-word WORD     refuse (400, InputTextSensitiveContentDetected, ...) a submit whose prompt or\n"
    "                         a URL holds WORD, naming that input (repeatable)\n"
    "  --flag-word WORD=CODE  fail a task whose prompt or a URL holds WORD with the native moderation code\n"
    "                         CODE (e.g. OutputVideoSensitiveContentDetected) (repeatable)\n"
    "  --keys FILE            accept only the keys listed in FILE (one per line)\n"
    "  --rpm N                requests per window per key, then 429 with Retry-After (default 0: no limit)\n"
    "  --rpm-window SECONDS   the rate window (default 60)\n"
    "  --fault-seed N         seed of the fault generator (same seed, same faults)\n"
    "  --fail-rate P          share of tasks that end failed\n"
    "  --error-rate P         share of API answers replaced by 500/502/503\n"
    "  --drop-rate P          share of API requests whose connection is closed with no answer\n"
    "                         (half of them after the work was done)\n"
    "  --garbage-rate P       share of API answers replaced by an HTML page or truncated JSON\n"
    "  --fault-paths LIST     endpoints the faults above apply to, comma-separated: submit,\n"
    "                         poll, upload, balance, other (default: all of them)\n"
    "  --latency-ms N         delay every API answer\n"
    "  --video-bytes N        serve a synthetic video of exactly N bytes (download benchmarks)\n"
    "  --media-rate N         serve media at most N bytes per second per download\n"
    "  --max-tasks N          tasks kept (default 100000); the oldest are evicted\n"
    "  --threads N            worker threads (default 2)\n"
    "  --media-dir DIR        the fixtures (default: the source tree's emulator/media)\n"
    "  --test-clock           for tests: POST /_emulator/clock?step=S moves this emulator's\n"
    "                         wall clock by S seconds (an NTP step); durations are monotonic\n"
    "  --help                 this text\n"
    "\n"
    "Built-in keys: sk-test-401 always gets 401; sk-test-402 always gets 402 on submit.\n"
    "GET /_emulator/stats (no key) answers counters as JSON.\n";

static double num(const char *name, const char *v, double lo, double hi) {
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || d < lo || d > hi) {
        fprintf(stderr, "seedance-emulator: --%s wants a number between %g and %g, got '%s'\n", name, lo, hi, v);
        exit(2);
    }
    return d;
}

/* num() for a whole number. */
static int whole(const char *name, const char *v, double lo, double hi) {
    double d = num(name, v, lo, hi);
    if (d != (double)(long long)d) {
        fprintf(stderr, "seedance-emulator: --%s wants a whole number, got '%s'\n", name, v);
        exit(2);
    }
    return (int)d;
}

/* The fixtures: --media-dir, else the compiled-in source path, else beside the executable. */
static const char *media_dir(const char *given) {
    static char path[PATH_MAX + 32];
    char exe[PATH_MAX];
    ssize_t n;
    if (given) return given;
    if (access(EMU_MEDIA_DIR "/16x9-5s.mp4", R_OK) == 0) return EMU_MEDIA_DIR;
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        snprintf(path, sizeof path, "%s/../emulator/media", dirname(exe));
        return path;
    }
    return "emulator/media";
}

/* "submit,poll" -> route bits; 0 when a name is unknown. */
static unsigned fault_routes(const char *list) {
    static const char *const names[EMU_ROUTES] = {"submit", "poll", "upload", "balance", "other"};
    unsigned bits = 0;
    while (*list) {
        size_t n = strcspn(list, ","), i;
        for (i = 0; i < EMU_ROUTES; i++)
            if (strlen(names[i]) == n && strncmp(names[i], list, n) == 0) break;
        if (i == EMU_ROUTES) return 0;
        bits |= 1u << i;
        list += n;
        if (*list == ',') list++;
    }
    return bits;
}

static void parse(int argc, char **argv) {
    static const struct option opts[] = {
        {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"speed", 1, 0, 's'}, {"task-seconds", 1, 0, 'T'},
        {"url-ttl", 1, 0, 'u'}, {"result-url-style", 1, 0, 'U'}, {"last-frame-key", 1, 0, 'L'},
        {"submit-shape", 1, 0, 'S'}, {"balance", 1, 0, 'b'}, {"keys", 1, 0, 'k'}, {"rpm", 1, 0, 'r'},
        {"rpm-window", 1, 0, 'w'}, {"fault-seed", 1, 0, 'z'}, {"fail-rate", 1, 0, 'f'},
        {"error-rate", 1, 0, 'e'}, {"drop-rate", 1, 0, 'd'}, {"garbage-rate", 1, 0, 'g'},
        {"latency-ms", 1, 0, 'l'}, {"video-bytes", 1, 0, 'v'}, {"media-rate", 1, 0, 'm'},
        {"max-tasks", 1, 0, 'x'}, {"threads", 1, 0, 't'}, {"media-dir", 1, 0, 'M'}, {"fault-paths", 1, 0, 'F'},
        {"estimate-factor", 1, 0, 'E'}, {"progress-step", 1, 0, 'P'}, {"test-clock", 0, 0, 'C'},
        {"help", 0, 0, '?'},
        {"bill-at", 1, 0, 'B'}, {"model-rules", 1, 0, 'R'}, {"refuse-word", 1, 0, 'W'}, {"flag-word", 1, 0, 'X'},
        {0, 0, 0, 0}};
    emu_options *o = &E.opt;
    const char *mdir = NULL;
    int c;
    o->host = "127.0.0.1";
    o->speed = 1;
    o->estimate_factor = 1;
    o->progress_step = 1;
    o->url_ttl = 86400;
    o->rpm_window = 60;
    o->balance = 1000000;
    o->max_tasks = 100000;
    o->threads = 2;
    o->fault_routes = (1u << EMU_ROUTES) - 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = (int)num("port", optarg, 0, 65535); break;
        case 's': o->speed = num("speed", optarg, 1e-3, 1e6); break;
        case 'T': o->task_seconds = num("task-seconds", optarg, 0, 1e6); break;
        case 'E': o->estimate_factor = num("estimate-factor", optarg, 0.01, 1000); break;
        case 'P': o->progress_step = whole("progress-step", optarg, 1, 100); break;
        case 'u': o->url_ttl = num("url-ttl", optarg, 0, 1e9); break;
        case 'U':
            if (strcmp(optarg, "array") && strcmp(optarg, "string")) goto bad;
            o->url_style_string = strcmp(optarg, "string") == 0;
            break;
        case 'L':
            if (!strcmp(optarg, "result")) o->last_frame_key = 0;
            else if (!strcmp(optarg, "video")) o->last_frame_key = 1;
            else if (!strcmp(optarg, "images")) o->last_frame_key = 2;
            else goto bad;
            break;
        case 'S':
            if (strcmp(optarg, "array") && strcmp(optarg, "object")) goto bad;
            o->submit_object = strcmp(optarg, "object") == 0;
            break;
        case 'b': o->balance = (long long)num("balance", optarg, -1, 1e15); break;
        case 'k': o->keys_file = optarg; break;
        case 'r': o->rpm = (int)num("rpm", optarg, 0, 1e9); break;
        case 'w': o->rpm_window = num("rpm-window", optarg, 0.001, 86400); break;
        case 'z': o->fault_seed = (unsigned long long)num("fault-seed", optarg, 0, 1e18); break;
        case 'f': o->fail_rate = num("fail-rate", optarg, 0, 1); break;
        case 'e': o->error_rate = num("error-rate", optarg, 0, 1); break;
        case 'd': o->drop_rate = num("drop-rate", optarg, 0, 1); break;
        case 'g': o->garbage_rate = num("garbage-rate", optarg, 0, 1); break;
        case 'l': o->latency_ms = (int)num("latency-ms", optarg, 0, 600000); break;
        case 'v': o->video_bytes = (long long)num("video-bytes", optarg, 64, 1e13); break;
        case 'm': o->media_rate = (long long)num("media-rate", optarg, 1, 1e13); break;
        case 'x': o->max_tasks = (int)num("max-tasks", optarg, 1, 1e8); break;
        case 't': o->threads = (int)num("threads", optarg, 1, 256); break;
        case 'M': mdir = optarg; break;
        case 'B':
            if (strcmp(optarg, "submit") && strcmp(optarg, "completion")) goto bad;
            o->bill_at_completion = strcmp(optarg, "completion") == 0;
            break;
        case 'R': o->model_rules = optarg; break;
        case 'W':
        case 'X':
            if (emu_moderation_option(c == 'W', optarg) != 0) goto bad;
            break;
        case 'C': o->test_clock = 1; break;
        case 'F':
            if ((o->fault_routes = fault_routes(optarg)) == 0) goto bad;
            break;
        case '?':
            if (optind > 0 && strcmp(argv[optind - 1], "--help") == 0) { fputs(USAGE, stdout); exit(0); }
            fputs(USAGE, stderr);
            exit(2);
        default:
        bad:
            fprintf(stderr, "seedance-emulator: bad value '%s'\n%s", optarg, USAGE);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "seedance-emulator: unexpected argument '%s'\n", argv[optind]);
        exit(2);
    }
    o->media_dir = media_dir(mdir);
}

int main(int argc, char **argv) {
    struct sockaddr_storage ss;
    struct MHD_Daemon *d;
    struct rlimit rl;
    sigset_t set;
    int sig, v6;
    unsigned flags;

    parse(argc, argv);
    pthread_mutex_init(&E.lock, NULL);
    if (emu_store_init() != 0 || emu_media_load(E.opt.media_dir) != 0) return 1;
    if (E.opt.keys_file && emu_load_keys(E.opt.keys_file) != 0) {
        fprintf(stderr, "seedance-emulator: cannot read keys from %s\n", E.opt.keys_file);
        return 1;
    }
    if (E.opt.model_rules) {
        char err[600];
        if (emu_load_model_rules(E.opt.model_rules, err, sizeof err) != 0) {
            fprintf(stderr, "seedance-emulator: --model-rules: %s\n", err);
            return 2;
        }
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    memset(&ss, 0, sizeof ss);
    v6 = strchr(E.opt.host, ':') != NULL;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)E.opt.port);
        if (inet_pton(AF_INET6, E.opt.host, &a->sin6_addr) != 1) goto badhost;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)E.opt.port);
        if (inet_pton(AF_INET, E.opt.host, &a->sin_addr) != 1) goto badhost;
    }

    /* Signals are taken by sigwait below; worker threads inherit the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Slow answers (latency, paced media) block their thread: use one per connection then. */
    if (E.opt.latency_ms > 0 || E.opt.media_rate > 0)
        flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    else
        flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (v6) flags |= MHD_USE_IPv6;
    unsigned limit = rl.rlim_cur > 64 ? (unsigned)(rl.rlim_cur - 32) : 32;
    if (limit > 60000) limit = 60000;
    if (flags & MHD_USE_THREAD_PER_CONNECTION)
        d = MHD_start_daemon(flags, 0, NULL, NULL, emu_handler, NULL, MHD_OPTION_SOCK_ADDR, &ss,
                             MHD_OPTION_CONNECTION_LIMIT, limit > 2000 ? 2000U : limit,
                             MHD_OPTION_CONNECTION_TIMEOUT, 120U, MHD_OPTION_NOTIFY_COMPLETED, emu_request_done,
                             NULL, MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096U, MHD_OPTION_END);
    else
        d = MHD_start_daemon(flags, 0, NULL, NULL, emu_handler, NULL, MHD_OPTION_SOCK_ADDR, &ss,
                             MHD_OPTION_THREAD_POOL_SIZE, (unsigned)E.opt.threads, MHD_OPTION_CONNECTION_LIMIT,
                             limit, MHD_OPTION_CONNECTION_TIMEOUT, 120U, MHD_OPTION_NOTIFY_COMPLETED,
                             emu_request_done, NULL, MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096U, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "seedance-emulator: cannot listen on %s port %d\n", E.opt.host, E.opt.port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = info ? info->port : E.opt.port;
    if (v6) snprintf(E.base_url, sizeof E.base_url, "http://[%s]:%d", E.opt.host, port);
    else snprintf(E.base_url, sizeof E.base_url, "http://%s:%d", E.opt.host, port);
    printf("listening on %s\n", E.base_url);
    fflush(stdout);

    while (sigwait(&set, &sig) != 0) {}
    MHD_stop_daemon(d);
    emu_store_free();
    emu_media_free();
    emu_free_model_rules();
    pthread_mutex_destroy(&E.lock);
    return 0;

badhost:
    fprintf(stderr, "seedance-emulator: --host wants an IP address (127.0.0.1, ::1), got '%s'\n", E.opt.host);
    return 2;
}
