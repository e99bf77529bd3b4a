/*
 * answer.c: the task fields of the service's answers (answer.h), read with
 * the JSON reader of json.h in one pass, no allocation.
 */
#include <string.h>

#include "answer.h"

/* How a key matched an expected id: absent, the same string, anything else. */
enum { SD_ID_ABSENT = 0, SD_ID_SAME, SD_ID_OTHER };

/* Whether key k is the word w. */
static int sd_key(const sd_jr_str *k, const char *w, size_t n) {
    return !(k->flags & SD_JR_ESCAPED) && k->len == n && memcmp(k->raw, w, n) == 0;
}
#define SD_KEY(k, lit) sd_key((k), (lit), sizeof(lit) - 1)

/* Read a number field within [lo, hi] into *f (unset when the value is anything else). 0 on bad JSON. */
static int sd_num_field(sd_jr *j, sd_answer_num *f, double lo, double hi) {
    f->set = 0;
    if (sd_jr_peek(j) != SD_JR_NUMBER) return sd_jr_skip(j);
    if (!sd_jr_number(j, &f->v)) return 0;
    f->set = f->v >= lo && f->v <= hi;
    return 1;
}

/* Read a status field: a string of at most SD_STATUS_MAX bytes with no escape is taken;
 * another string is declined (*clean = 0: the Lua layer reads it); any other value is
 * not a status. 0 on bad JSON. */
static int sd_status_field(sd_jr *j, sd_jr_str *s, int *set, int *clean) {
    *set = 0;
    if (sd_jr_peek(j) != SD_JR_STRING) return sd_jr_skip(j);
    if (!sd_jr_string(j, s)) return 0;
    if (s->flags != 0) *clean = 0;
    else *set = s->len <= SD_STATUS_MAX;
    return 1;
}

/* Read a string field (any string; escapes decoded later). 0 on bad JSON. */
static int sd_str_field(sd_jr *j, sd_answer_str *f) {
    f->set = 0;
    if (sd_jr_peek(j) != SD_JR_STRING) return sd_jr_skip(j);
    if (!sd_jr_string(j, &f->s)) return 0;
    f->set = 1;
    return 1;
}

/* task.lua's first_url: a non-empty string, or a list whose first item is one. 0 on bad JSON. */
static int sd_url_field(sd_jr *j, sd_answer_str *f) {
    sd_jr_kind k = sd_jr_peek(j);
    int r;
    f->set = 0;
    if (k == SD_JR_STRING) {
        if (!sd_jr_string(j, &f->s)) return 0;
        f->set = f->s.len > 0;
        return 1;
    }
    if (k != SD_JR_ARRAY) return sd_jr_skip(j);
    if (!sd_jr_enter(j)) return 0;
    if ((r = sd_jr_element(j)) == 1) {
        if (sd_jr_peek(j) == SD_JR_STRING) {
            if (!sd_jr_string(j, &f->s)) return 0;
            f->set = f->s.len > 0;
        } else if (!sd_jr_skip(j)) {
            return 0;
        }
        while ((r = sd_jr_element(j)) == 1)
            if (!sd_jr_skip(j)) return 0;
    }
    return r == 0;
}

/* One object of result.videos: its url, expires_at and last_frame_url (first: the first video). 0 on bad JSON. */
static int sd_video(sd_jr *j, sd_answer_str *url, sd_answer_num *expires, sd_answer_str *last_frame, int *clean) {
    sd_jr_str k;
    int r;
    if (!sd_jr_enter(j)) return 0;
    while ((r = sd_jr_member(j, &k)) == 1) {
        int ok;
        if (k.flags & SD_JR_ESCAPED) {
            *clean = 0;
            ok = sd_jr_skip(j);
        } else if (url != NULL && SD_KEY(&k, "url")) {
            ok = sd_url_field(j, url);
        } else if (expires != NULL && SD_KEY(&k, "expires_at")) {
            ok = sd_num_field(j, expires, 0, 1e11);
        } else if (SD_KEY(&k, "last_frame_url")) {
            ok = sd_url_field(j, last_frame);
        } else {
            ok = sd_jr_skip(j);
        }
        if (!ok) return 0;
    }
    return r == 0;
}

/* data.result (an object): the fields task.lua reads from it. 0 on bad JSON. */
static int sd_result(sd_jr *j, sd_task_answer *a) {
    sd_jr_str k;
    sd_answer_str top_frame, video_frame, image_url;
    int r;
    memset(&top_frame, 0, sizeof top_frame);
    memset(&video_frame, 0, sizeof video_frame);
    memset(&image_url, 0, sizeof image_url);
    a->video = 0;
    memset(&a->video_url, 0, sizeof a->video_url);
    memset(&a->expires, 0, sizeof a->expires);
    if (!sd_jr_enter(j)) return 0;
    while ((r = sd_jr_member(j, &k)) == 1) {
        int ok = 1;
        if (k.flags & SD_JR_ESCAPED) {
            a->clean = 0;
            ok = sd_jr_skip(j);
        } else if (SD_KEY(&k, "last_frame_url")) {
            ok = sd_url_field(j, &top_frame);
        } else if (SD_KEY(&k, "videos")) {
            /* the last "videos" wins: what an earlier one said goes */
            a->video = 0;
            memset(&a->video_url, 0, sizeof a->video_url);
            memset(&a->expires, 0, sizeof a->expires);
            memset(&video_frame, 0, sizeof video_frame);
            if (sd_jr_peek(j) != SD_JR_ARRAY) {
                ok = sd_jr_skip(j);
            } else {
                int e, first = 1;
                ok = sd_jr_enter(j);
                while (ok && (e = sd_jr_element(j)) == 1) {
                    sd_jr_kind kind = sd_jr_peek(j);
                    if (kind == SD_JR_OBJECT) {
                        sd_answer_str frame;
                        memset(&frame, 0, sizeof frame);
                        ok = sd_video(j, first ? &a->video_url : NULL, first ? &a->expires : NULL, &frame,
                                      &a->clean);
                        if (first) a->video = 1;
                        if (frame.set && !video_frame.set) video_frame = frame; /* ipairs: the first one found */
                    } else {
                        if (first && kind == SD_JR_ARRAY) a->video = 1; /* a list: its url is none */
                        ok = sd_jr_skip(j);
                    }
                    first = 0;
                }
                if (ok && e < 0) ok = 0;
            }
        } else if (SD_KEY(&k, "images")) {
            memset(&image_url, 0, sizeof image_url);
            if (sd_jr_peek(j) != SD_JR_ARRAY) {
                ok = sd_jr_skip(j);
            } else {
                int e;
                ok = sd_jr_enter(j);
                e = ok ? sd_jr_element(j) : -1;
                if (e == 1) {
                    if (sd_jr_peek(j) == SD_JR_OBJECT) {
                        sd_answer_str unused;
                        memset(&unused, 0, sizeof unused);
                        ok = sd_video(j, &image_url, NULL, &unused, &a->clean);
                    } else {
                        ok = sd_jr_skip(j);
                    }
                    while (ok && (e = sd_jr_element(j)) == 1) ok = sd_jr_skip(j);
                }
                if (ok && e < 0) ok = 0;
            }
        } else {
            ok = sd_jr_skip(j);
        }
        if (!ok) return 0;
    }
    if (r < 0) return 0;
    a->last_frame = top_frame.set ? top_frame : video_frame.set ? video_frame : image_url;
    return 1;
}

/* data.error: clean when an object of code (a number), message and type (strings) only;
 * anything else is the Lua layer's to read (it keeps every field, nested ones too). 0 on bad JSON. */
static int sd_error(sd_jr *j, sd_task_answer *a) {
    sd_jr_str k;
    int r;
    a->has_error = 1;
    memset(&a->error_code, 0, sizeof a->error_code);
    memset(&a->error_message, 0, sizeof a->error_message);
    memset(&a->error_type, 0, sizeof a->error_type);
    if (!sd_jr_enter(j)) return 0;
    while ((r = sd_jr_member(j, &k)) == 1) {
        int ok;
        sd_jr_kind kind = sd_jr_peek(j);
        if (!(k.flags & SD_JR_ESCAPED) && SD_KEY(&k, "code") && kind == SD_JR_NUMBER) {
            ok = sd_jr_number(j, &a->error_code.v);
            a->error_code.set = 1;
        } else if (!(k.flags & SD_JR_ESCAPED) && SD_KEY(&k, "message") && kind == SD_JR_STRING) {
            ok = sd_str_field(j, &a->error_message);
        } else if (!(k.flags & SD_JR_ESCAPED) && SD_KEY(&k, "type") && kind == SD_JR_STRING) {
            ok = sd_str_field(j, &a->error_type);
        } else {
            a->clean = 0;
            ok = sd_jr_skip(j);
        }
        if (!ok) return 0;
    }
    return r == 0;
}

/* Read an id field against the expected id into *state. 0 on bad JSON. */
static int sd_id_field(sd_jr *j, const char *id, size_t id_len, int *state) {
    sd_jr_str s;
    *state = SD_ID_OTHER;
    if (sd_jr_peek(j) != SD_JR_STRING) return sd_jr_skip(j);
    if (!sd_jr_string(j, &s)) return 0;
    if (s.flags == 0 && s.len == id_len && memcmp(s.raw, id, id_len) == 0) *state = SD_ID_SAME;
    return 1;
}

/* Read the task object ("data") into a; 0 on bad JSON (a->clean is then irrelevant). */
static int sd_task_data(sd_jr *j, const char *id, size_t id_len, sd_task_answer *a) {
    sd_jr_str k;
    int r, id_state = SD_ID_ABSENT, task_id_state = SD_ID_ABSENT;
    const char *at;
    memset(a, 0, sizeof *a);
    a->clean = 1;
    if (sd_jr_peek(j) != SD_JR_OBJECT) {
        a->clean = 0; /* no object: the Lua layer says so (or, for an array, reads nothing) */
        return sd_jr_skip(j);
    }
    if (!sd_jr_enter(j)) return 0;
    while ((r = sd_jr_member(j, &k)) == 1) {
        int ok;
        if (SD_KEY(&k, "status")) ok = sd_status_field(j, &a->status.s, &a->status.set, &a->clean);
        else if (SD_KEY(&k, "progress")) ok = sd_num_field(j, &a->progress, -1e9, 1e9);
        else if (SD_KEY(&k, "estimated_time")) ok = sd_num_field(j, &a->estimated, 0, 1e8);
        else if (SD_KEY(&k, "created")) ok = sd_num_field(j, &a->created, 0, 1e11);
        else if (SD_KEY(&k, "completed")) ok = sd_num_field(j, &a->completed, 0, 1e11);
        else if (SD_KEY(&k, "actual_time")) ok = sd_num_field(j, &a->actual, 0, 1e8);
        else if (SD_KEY(&k, "id")) ok = sd_id_field(j, id, id_len, &id_state);
        else if (SD_KEY(&k, "task_id")) ok = sd_id_field(j, id, id_len, &task_id_state);
        else if (SD_KEY(&k, "result")) {
            sd_jr_kind kind = sd_jr_peek(j);
            a->result = NULL;
            a->result_len = 0;
            if (kind == SD_JR_OBJECT) {
                at = (const char *)j->p; /* (peek has skipped the whitespace) */
                ok = sd_result(j, a);
                a->result = at;
                a->result_len = (size_t)((const char *)j->p - at);
            } else {
                ok = sd_jr_skip(j);
                if (kind == SD_JR_ARRAY) a->clean = 0; /* a list as the result: the Lua layer's reading applies */
            }
        } else if (SD_KEY(&k, "error")) {
            sd_jr_kind kind = sd_jr_peek(j);
            a->has_error = 0;
            if (kind == SD_JR_OBJECT) {
                ok = sd_error(j, a);
            } else {
                ok = sd_jr_skip(j);
                if (kind == SD_JR_ARRAY) a->clean = 0; /* a list as the error: the Lua layer's reading applies */
            }
        } else if (k.flags & SD_JR_ESCAPED) {
            /* a key written with escapes may be one of ours: the Lua layer reads it */
            a->clean = 0;
            ok = sd_jr_skip(j);
        } else {
            ok = sd_jr_skip(j);
        }
        if (!ok) return 0;
    }
    if (r < 0) return 0;
    /* `data.id or data.task_id`: the one the Lua layer would compare */
    if (!(id_state == SD_ID_SAME || (id_state == SD_ID_ABSENT && task_id_state != SD_ID_OTHER))) a->clean = 0;
    return 1;
}

void sd_answer_task(const char *body, size_t len, const char *id, size_t id_len, sd_task_answer *a) {
    sd_jr j;
    sd_jr_str k;
    int r = 0, seen = 0, ok = 1;
    memset(a, 0, sizeof *a);
    sd_jr_init(&j, body, len);
    if (sd_jr_peek(&j) != SD_JR_OBJECT || !sd_jr_enter(&j)) return;
    while (ok && (r = sd_jr_member(&j, &k)) == 1) {
        if (k.flags & SD_JR_ESCAPED) ok = 0; /* maybe "data": the Lua layer reads it */
        else if (SD_KEY(&k, "data")) ok = seen = sd_task_data(&j, id, id_len, a);
        else ok = sd_jr_skip(&j);
    }
    if (!ok || r < 0 || !seen || !sd_jr_done(&j) || (j.flags & (SD_JR_REPAIRED | SD_JR_INEXACT))) a->clean = 0;
}

/* Whether s is a task id the Lua layer takes (urls.task_id_ok: 1 to 128 letters, digits, '_', '-'). */
static int sd_task_id_ok(const char *s, size_t n) {
    size_t i;
    if (n == 0 || n > 128) return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Read the submitted task's object; 0 on bad JSON. */
static int sd_submit_item(sd_jr *j, sd_submit_answer *a) {
    sd_jr_str k, s;
    int r, task_id = 0, id = 0, clean = 1; /* task_id, id: 0 absent, 1 a usable string, 2 anything else */
    sd_jr_str tid_s, id_s;
    if (!sd_jr_enter(j)) return 0;
    memset(&tid_s, 0, sizeof tid_s);
    memset(&id_s, 0, sizeof id_s);
    while ((r = sd_jr_member(j, &k)) == 1) {
        int ok = 1, *state = NULL;
        sd_jr_str *dst = NULL;
        if (k.flags & SD_JR_ESCAPED) {
            clean = 0;
            ok = sd_jr_skip(j);
        } else if (SD_KEY(&k, "task_id")) {
            state = &task_id;
            dst = &tid_s;
        } else if (SD_KEY(&k, "id")) {
            state = &id;
            dst = &id_s;
        } else if (SD_KEY(&k, "status")) {
            ok = sd_status_field(j, &a->status, &a->status_set, &clean);
        } else {
            ok = sd_jr_skip(j);
        }
        if (state != NULL) {
            *state = 2;
            if (sd_jr_peek(j) == SD_JR_STRING) {
                ok = sd_jr_string(j, &s);
                if (ok && s.flags == 0 && sd_task_id_ok(s.raw, s.len)) {
                    *state = 1;
                    *dst = s;
                }
            } else {
                ok = sd_jr_skip(j);
            }
        }
        if (!ok) return 0;
    }
    if (r < 0) return 0;
    /* `data.task_id or data.id` */
    if (task_id == 1) a->id = tid_s;
    else if (task_id == 0 && id == 1) a->id = id_s;
    else clean = 0;
    a->clean = clean;
    return 1;
}

void sd_answer_submit(const char *body, size_t len, sd_submit_answer *a) {
    sd_jr j;
    sd_jr_str k;
    int r = 0, found = 0, ok = 1;
    memset(a, 0, sizeof *a);
    sd_jr_init(&j, body, len);
    if (sd_jr_peek(&j) != SD_JR_OBJECT || !sd_jr_enter(&j)) return;
    while (ok && (r = sd_jr_member(&j, &k)) == 1) {
        if (k.flags & SD_JR_ESCAPED) {
            ok = 0; /* maybe "data": the Lua layer reads it */
        } else if (!SD_KEY(&k, "data")) {
            ok = sd_jr_skip(&j);
        } else if (sd_jr_peek(&j) == SD_JR_OBJECT) {
            memset(a, 0, sizeof *a); /* the last "data" wins */
            ok = found = sd_submit_item(&j, a);
        } else if (sd_jr_peek(&j) == SD_JR_ARRAY) {
            /* its first element is the task (`data[1]`) */
            int e;
            memset(a, 0, sizeof *a);
            found = 0;
            ok = sd_jr_enter(&j);
            e = ok ? sd_jr_element(&j) : -1;
            if (e == 1) {
                if (sd_jr_peek(&j) == SD_JR_OBJECT) ok = found = sd_submit_item(&j, a);
                else ok = sd_jr_skip(&j);
                while (ok && (e = sd_jr_element(&j)) == 1) ok = sd_jr_skip(&j);
            }
            if (e < 0) ok = 0;
        } else {
            memset(a, 0, sizeof *a);
            found = 0;
            ok = sd_jr_skip(&j);
        }
    }
    if (!ok || r < 0 || !found || !sd_jr_done(&j) || (j.flags & (SD_JR_REPAIRED | SD_JR_INEXACT)))
        a->clean = 0;
}
