/* api.c: the service's endpoints: submit, poll, balance, stats. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
#include "check.h"
#include "emu.h"
#include "moderation.h"
#include "parse.h"
#include "respond.h"

/* estimated_time in service seconds: 30 s plus 6 s per second of video, more
 * for higher resolutions, 40% less on the fast models; --task-seconds overrides. */
static double estimate(const char *model, int duration, const char *resolution) {
    double e;
    if (E.opt.task_seconds > 0) return E.opt.task_seconds;
    e = 30.0 + 6.0 * duration;
    if (resolution && strcmp(resolution, "720p") == 0) e += 15;
    if (resolution && strcmp(resolution, "1080p") == 0) e += 40;
    if (model && strstr(model, "-fast")) e *= 0.6;
    return floor(e);
}

static const char *str_field(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The submit answer for a task, in the configured shape. */
static void submit_body(const emu_task *t, char *out, size_t cap) {
    if (E.opt.submit_object)
        snprintf(out, cap, "{\"code\":200,\"data\":{\"id\":\"%s\",\"object\":\"video.generation\","
                           "\"status\":\"submitted\"}}", t->id);
    else
        snprintf(out, cap, "{\"code\":200,\"data\":[{\"status\":\"submitted\",\"task_id\":\"%s\"}]}", t->id);
}

enum MHD_Result emu_submit(struct MHD_Connection *c, const char *key, const char *body, size_t len,
                           int *after_fault) {
    char msg[1800], out[256];
    const char *idem = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    cJSON *req;
    emu_task *t;
    int problems;

    if (strcmp(key, "sk-test-402") == 0) {
        pthread_mutex_lock(&E.lock);
        E.stats.payment_errors++;
        pthread_mutex_unlock(&E.lock);
        return emu_send_error(c, 402, "payment_required", "insufficient balance: please top up", NULL, NULL);
    }
    int idem_state = emu_idem_check(idem);
    if (idem_state < 0) /* never truncate a key: two keys must not meet */
        return emu_send_error(c, 400, "invalid_request_error", "Idempotency-Key: at most 127 characters", NULL, NULL);
    req = cJSON_ParseWithLength(body ? body : "", len);
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        return emu_send_error(c, 400, "invalid_request_error", "request body must be a JSON object", NULL, NULL);
    }
    problems = emu_check_request(req, msg, sizeof msg);
    if (problems != 0) {
        cJSON_Delete(req);
        pthread_mutex_lock(&E.lock);
        E.stats.validation_errors++;
        pthread_mutex_unlock(&E.lock);
        return emu_send_error(c, problems < 0 ? 500 : 400, problems < 0 ? "server_error" : "invalid_request_error",
                              msg, NULL, NULL);
    }

    {
        char refusal[1024];
        if (emu_refused(req, refusal, sizeof refusal)) { /* sensitive content: refused, nothing made or billed */
            cJSON_Delete(req);
            pthread_mutex_lock(&E.lock);
            E.stats.moderation_refusals++;
            pthread_mutex_unlock(&E.lock);
            return emu_send_json(c, 400, refusal, NULL, NULL);
        }
    }

    pthread_mutex_lock(&E.lock);
    E.stats.submits++;
    if (idem_state > 0 && (t = emu_task_by_idem(idem)) != NULL) {
        E.stats.replays++;
        submit_body(t, out, sizeof out);
        pthread_mutex_unlock(&E.lock);
        cJSON_Delete(req);
        return emu_send_json(c, 200, out, "Idempotency-Replayed", "true");
    }
    {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(req, "duration");
        const cJSON *lf = cJSON_GetObjectItemCaseSensitive(req, "return_last_frame");
        const char *size = str_field(req, "size");
        int duration = cJSON_IsNumber(d) ? (int)d->valuedouble : 5;
        emu_task probe = {0}; /* only duration matters; zeroed so no field is read uninitialised */
        probe.duration = duration;
        if (E.opt.balance >= 0 && E.opt.balance - E.used_balance < emu_task_cost(&probe)) {
            E.stats.payment_errors++;
            pthread_mutex_unlock(&E.lock);
            cJSON_Delete(req);
            return emu_send_error(c, 402, "payment_required", "insufficient balance: please top up", NULL, NULL);
        }
        t = emu_task_new(emu_mono());
        if (!t) {
            pthread_mutex_unlock(&E.lock);
            cJSON_Delete(req);
            return emu_send_error(c, 500, "server_error", "out of memory", NULL, NULL);
        }
        t->duration = duration;
        t->estimated = estimate(str_field(req, "model"), duration, str_field(req, "resolution"));
        t->fails = emu_rand() < E.opt.fail_rate;
        t->flag = emu_flagged(req, t->flag_input, sizeof t->flag_input);
        if (t->flag) {
            t->fails = 1;
            E.stats.moderation_failures++;
        }
        t->last_frame = cJSON_IsTrue(lf);
        snprintf(t->aspect, sizeof t->aspect, "%s", size && strcmp(size, "adaptive") != 0 ? size : "16:9");
        for (char *p = t->aspect; *p; p++)
            if (*p == ':') *p = 'x';
        if (idem_state > 0) {
            memcpy(t->idem, idem, strlen(idem) + 1); /* fits: emu_idem_check */
            emu_task_index_idem(t);
        }
        if (!E.opt.bill_at_completion) { /* billed at submit, as the gateway does by default */
            E.used_balance += emu_task_cost(t);
            t->billed = 1;
        }
        E.stats.tasks_created++;
        submit_body(t, out, sizeof out);
    }
    pthread_mutex_unlock(&E.lock);
    cJSON_Delete(req);
    if (*after_fault) return MHD_NO; /* the work is done, but the answer is lost */
    return emu_send_json(c, 200, out, NULL, NULL);
}

/* The URL field in the configured style: ["..."] or "...". */
static int url_json(char *out, size_t cap, const char *url) {
    return snprintf(out, cap, E.opt.url_style_string ? "\"%s\"" : "[\"%s\"]", url);
}

/* Messages in the poll's ?language= (en default; zh, ko, ja; anything else falls back to en). */
enum { MSG_NOT_FOUND, MSG_FAILED };
static const char *message(const char *lang, int which) {
    static const char *const text[4][2] = {
        {"task not found: %.80s", "video generation failed: the model could not render this request"},
        {"任务不存在: %.80s", "视频生成失败：模型无法生成此请求"},
        {"작업을 찾을 수 없습니다: %.80s", "동영상 생성 실패: 모델이 이 요청을 생성할 수 없습니다"},
        {"タスクが見つかりません: %.80s", "動画の生成に失敗しました: モデルはこのリクエストを生成できません"},
    };
    return text[emu_lang_index(lang)][which];
}

enum MHD_Result emu_poll(struct MHD_Connection *c, const char *id, const char *lang) {
    char body[2048], video[256], frame[256], vjson[300], fjson[300], extra[1024];
    const char *status;
    int progress;
    double done_at, now = emu_mono();
    emu_task copy;

    pthread_mutex_lock(&E.lock);
    E.stats.polls++;
    emu_task *t = emu_task_id_valid(id) ? emu_task_find(id) : NULL;
    if (t) copy = *t;
    pthread_mutex_unlock(&E.lock);
    if (!t) {
        char m[240];
        snprintf(m, sizeof m, message(lang, MSG_NOT_FOUND), id);
        return emu_send_error(c, 404, "invalid_request_error", m, NULL, NULL);
    }
    emu_task_state(&copy, now, &status, &progress, &done_at);
    extra[0] = '\0';
    if (strcmp(status, "completed") == 0) {
        long long expires = (long long)(emu_task_wall(&copy, done_at) + E.opt.url_ttl);
        snprintf(video, sizeof video, "%s/media/%s.mp4", E.base_url, copy.id);
        snprintf(frame, sizeof frame, "%s/media/%s.png", E.base_url, copy.id);
        url_json(vjson, sizeof vjson, video);
        url_json(fjson, sizeof fjson, frame);
        if (!copy.last_frame)
            snprintf(extra, sizeof extra, ",\"result\":{\"videos\":[{\"url\":%s,\"expires_at\":%lld}]}", vjson, expires);
        else if (E.opt.last_frame_key == 1)
            snprintf(extra, sizeof extra, ",\"result\":{\"videos\":[{\"url\":%s,\"expires_at\":%lld,"
                     "\"last_frame_url\":%s}]}", vjson, expires, fjson);
        else if (E.opt.last_frame_key == 2)
            snprintf(extra, sizeof extra, ",\"result\":{\"videos\":[{\"url\":%s,\"expires_at\":%lld}],"
                     "\"images\":[{\"url\":%s,\"expires_at\":%lld}]}", vjson, expires, fjson, expires);
        else
            snprintf(extra, sizeof extra, ",\"result\":{\"videos\":[{\"url\":%s,\"expires_at\":%lld}],"
                     "\"last_frame_url\":%s}", vjson, expires, fjson);
        size_t n = strlen(extra);
        snprintf(extra + n, sizeof extra - n, ",\"completed\":%lld,\"actual_time\":%.0f",
                 (long long)emu_task_wall(&copy, done_at), copy.estimated);
    } else if (strcmp(status, "failed") == 0 && copy.flag) { /* --flag-word: the native code and message */
        char msg[300], esc[700];
        emu_moderation_message(emu_flag_code(copy.flag), copy.flag_input, msg, sizeof msg);
        emu_json_escape(esc, sizeof esc, msg);
        const char *code = emu_flag_code(copy.flag);
        int moderated = strncmp(code, "Input", 5) == 0 || strncmp(code, "Output", 6) == 0;
        snprintf(extra, sizeof extra, ",\"completed\":%lld,\"error\":{\"code\":\"%s\",\"message\":\"%s\","
                 "\"type\":\"%s\"}", (long long)emu_task_wall(&copy, done_at), code, esc,
                 moderated ? "sensitive_content" : "generation_failed");
    } else if (strcmp(status, "failed") == 0) {
        snprintf(extra, sizeof extra, ",\"completed\":%lld,\"error\":{\"code\":500,\"message\":\"%s\","
                 "\"type\":\"generation_failed\"}", (long long)emu_task_wall(&copy, done_at), message(lang, MSG_FAILED));
    }
    snprintf(body, sizeof body, "{\"code\":200,\"data\":{\"id\":\"%s\",\"status\":\"%s\",\"progress\":%d,"
             "\"created\":%lld,\"estimated_time\":%.0f%s}}", copy.id, status, progress,
             (long long)copy.created, copy.estimated * E.opt.estimate_factor, extra);
    return emu_send_json(c, 200, body, NULL, NULL);
}

enum MHD_Result emu_balance(struct MHD_Connection *c, const char *key) {
    char body[256];
    pthread_mutex_lock(&E.lock);
    emu_bill(emu_mono());
    if (E.opt.balance < 0)
        snprintf(body, sizeof body, "{\"success\":true,\"remain_balance\":-1,\"used_balance\":%lld,"
                 "\"unlimited_quota\":true}", E.used_balance);
    else
        snprintf(body, sizeof body, "{\"success\":true,\"remain_balance\":%lld,\"used_balance\":%lld,"
                 "\"unlimited_quota\":false}",
                 strcmp(key, "sk-test-402") == 0 ? 0 : E.opt.balance - E.used_balance, E.used_balance);
    pthread_mutex_unlock(&E.lock);
    return emu_send_json(c, 200, body, NULL, NULL);
}

enum MHD_Result emu_clock_step(struct MHD_Connection *c, const char *step) {
    char body[96], *end = NULL;
    double s = step ? strtod(step, &end) : 0;
    if (!step || end == step || *end || !(s > -1e9 && s < 1e9))
        return emu_send_error(c, 400, "invalid_request_error", "step must be a number of seconds", NULL, NULL);
    snprintf(body, sizeof body, "{\"wall_offset\":%.6f}", emu_wall_step(s));
    return emu_send_json(c, 200, body, NULL, NULL);
}

enum MHD_Result emu_stats_page(struct MHD_Connection *c) {
    char body[1280];
    int stored = 0;
    pthread_mutex_lock(&E.lock);
    emu_bill(emu_mono());
    stored = E.ntasks;
    emu_stats s = E.stats;
    long long used = E.used_balance;
    pthread_mutex_unlock(&E.lock);
    snprintf(body, sizeof body,
             "{\"requests\":%lld,\"submits\":%lld,\"tasks_created\":%lld,\"replays\":%lld,\"polls\":%lld,"
             "\"rate_limited\":%lld,\"errors_injected\":%lld,\"drops\":%lld,\"garbage\":%lld,"
             "\"uploads\":%lld,\"media_requests\":%lld,\"media_with_authorization\":%lld,\"range_requests\":%lld,"
             "\"validation_errors\":%lld,\"moderation_refusals\":%lld,\"moderation_failures\":%lld,"
             "\"auth_errors\":%lld,\"payment_errors\":%lld,\"evicted\":%lld,\"tasks_stored\":%d,"
             "\"used_balance\":%lld,\"endpoints\":{\"submit\":%lld,\"poll\":%lld,\"upload\":%lld,"
             "\"balance\":%lld,\"other\":%lld}}",
             s.requests, s.submits, s.tasks_created, s.replays, s.polls, s.rate_limited, s.errors_injected,
             s.drops, s.garbage, s.uploads, s.media_requests, s.media_auth, s.range_requests, s.validation_errors,
             s.moderation_refusals, s.moderation_failures,
             s.auth_errors, s.payment_errors, s.evicted, stored, used, s.by_route[EMU_ROUTE_SUBMIT],
             s.by_route[EMU_ROUTE_POLL], s.by_route[EMU_ROUTE_UPLOAD], s.by_route[EMU_ROUTE_BALANCE],
             s.by_route[EMU_ROUTE_OTHER]);
    return emu_send_json(c, 200, body, NULL, NULL);
}
