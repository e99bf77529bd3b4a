-- mutants/engine.lua: mutations of the engine promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "engine-step-zero-never-waits",
    promise = "the engine's step(0) never waits on IO: its poll is asked for no wait",
    edits = {
      { file = "src/engine_loop.c",
        from = [[
        n = sd_poller_wait(e->poller, e->ready, e->nsocks, wait);
]],
        to = [[
        n = sd_poller_wait(e->poller, e->ready, e->nsocks, wait + 100);
]] },
      { file = "src/engine_loop.c",
        from = [[
        n = e->nsocks + nredis > 0 || wait > 0 ? sd_poll(e->pfds, e->nsocks + nredis, wait) : 0;
]],
        to = [[
        n = sd_poll(e->pfds, e->nsocks + nredis, wait + 100);
]] },
    } },
  { name = "guard-link-local-connect",
    promise = "the engine refuses link-local peers on the address it connects to",
    file = "src/engine_transfer.c",
    from = [[
    if (t->guard_link_local && sd_link_local(&address->addr, text, sizeof text)) {
]],
    to = [[
    if (0 && sd_link_local(&address->addr, text, sizeof text)) {
]] },
  { name = "h2-one-connection",
    promise = "where the API host speaks HTTP/2, a burst of requests waits for one multiplexed connection (PIPEWAIT)",
    file = "src/engine_transfer.c",
    from = [[
    if (sd_strncasecmp(url, "https:", 6) == 0) curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
]],
    to = [[
    (void)url;
]] },
  { name = "if-range-sent",
    promise = "a resume sends If-Range with the kept validator",
    file = "src/engine_transfer.c",
    from = [[
    if (t->if_range != NULL && rq->resume_from > 0) {
]],
    to = [[
    if (0) {
]] },
  { name = "part-nofollow",
    promise = "the partial file is made anew, never written through a symbolic link",
    edits = {
      { file = "src/jobs.c",
        from = [[
#include <errno.h>
]],
        to = [[
#include <errno.h>
#include <fcntl.h>
]] },
      { file = "src/jobs.c",
        from = [[
    if (sd_job_remove(j->path) != 0 || (j->file = sd_file_open(j->path, SD_WRITE | SD_CREATE | SD_EXCL)) == SD_NOFILE) {
]],
        to = [[
    if ((j->file = (sd_file)open(j->path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == SD_NOFILE) {
]] },
    } },
  { name = "proxy-ca-file",
    promise = "ca_file also verifies an https:// proxy",
    file = "src/engine_transfer.c",
    from = [[
    curl_easy_setopt(h, CURLOPT_PROXY_CAINFO, ca_file);
]],
    to = [[
    (void)0;
]] },
  { name = "proxy-environment",
    promise = "without the proxy option, libcurl reads https_proxy and no_proxy from the environment",
    file = "src/engine_transfer.c",
    from = [[
    if (proxy != NULL) curl_easy_setopt(h, CURLOPT_PROXY, proxy);
]],
    to = [[
    curl_easy_setopt(h, CURLOPT_PROXY, proxy != NULL ? proxy : "");
]] },
  { name = "proxy-option",
    promise = "the proxy option is the proxy every transfer goes through",
    file = "src/engine_transfer.c",
    from = [[
    if (proxy != NULL) curl_easy_setopt(h, CURLOPT_PROXY, proxy);
]],
    to = [[
    (void)proxy;
]] },
  { name = "range-206-offset",
    promise = "a 206 is appended only when it starts where the part ends",
    file = "src/engine_output.c",
    from = [[
    if (cr == NULL || !sd_content_range(cr, len, &first, &last, &total) || first != t->resume_from) {
]],
    to = [[
    if (cr == NULL || !sd_content_range(cr, len, &first, &last, &total)) {
]] },
  { name = "range-206-validator",
    promise = "a 206 of another version of the file is never appended (If-Range honoured or not)",
    file = "src/engine_output.c",
    from = [[
    if (t->if_range != NULL && (!sd_validator(t, v, sizeof v) || strcmp(v, t->if_range) != 0)) {
]],
    to = [[
    if (0) {
]] },
  { name = "tls-ca-file",
    promise = "ca_file is the CA bundle TLS verifies the service and its media against",
    file = "src/engine_transfer.c",
    from = [[
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
]],
    to = [[
    (void)0;
]] },
  { name = "tls-connection-reuse",
    promise = "TLS connections are kept and reused: at most the pool's size in handshakes per 1,000 polls",
    file = "src/engine_transfer.c",
    from = [[
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
]],
    to = [[
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
]] },
  { name = "tls-verify-on",
    promise = "TLS verification is on (certificates and host names)",
    file = "src/engine_transfer.c",
    from = [[
    if (insecure) {
]],
    to = [[
    if ((void)insecure, 1) {
]] },
  { name = "validator-kept-at-once",
    promise = "the first answer's validator is kept beside the part as soon as its head arrives",
    file = "src/engine_output.c",
    from = [[
    if (t->validator_file != NULL) {
]],
    to = [[
    if (t->validator_file != NULL && t->status == 999) {
]] },
  { name = "weak-etag-no-resume",
    promise = "a weak ETag never validates a resume",
    file = "src/engine_output.c",
    from = [[
    if (v != NULL && len >= 2 && (v[0] == 'W' || v[0] == 'w') && v[1] == '/') v = NULL;
]],
    to = [[

]] },
  { name = "jobs-drain-on-close",
    promise = "closing the engine lets its file worker finish every queued job: a journal record asked for lands",
    file = "src/jobs.c",
    from = [[
        if (q->todo == NULL) break;
]],
    to = [[
        if (q->todo == NULL || q->stopping) break;
]] },
  { name = "engine-answer-same-task",
    promise = "a poll's answer is read in C only as the task it asked about (data.id or data.task_id is that task's)",
    file = "src/answer.c",
    from = [[
    if (!(id_state == SD_ID_SAME || (id_state == SD_ID_ABSENT && task_id_state != SD_ID_OTHER))) a->clean = 0;
]],
    to = [[

]] },
  { name = "engine-budget-starts",
    promise = "one step hands libcurl at most budget.starts new transfers; the rest start at the next steps",
    file = "src/engine_loop.c",
    from = [[
            if ((b->starts > 0 && starts >= b->starts) || (b->us > 0 && starts > 0 && sd_now_us() - t0 > b->us)) {
]],
    to = [[
            if (b->us > 0 && starts > 0 && sd_now_us() - t0 > b->us) {
]] },
  { name = "engine-max-running",
    promise = "libcurl is handed no more transfers than it has connections for (max_host_connections): the rest wait in the engine's queue",
    file = "src/engine_loop.c",
    from = [[
    return e->max_running == 0 || e->running < e->max_running;
]],
    to = [[
    return e->max_running == 0 || e->running < e->max_running + 100;
]] },
  { name = "engine-absorbs-unchanged-polls",
    promise = "a poll whose answer changes nothing the waiter asked about is read in C and does not wake Lua",
    file = "src/engine_sched.c",
    from = [[
    int tell = w->prof->wake_all, progress_changed;
]],
    to = [[
    int tell = 1, progress_changed;
]] },
  { name = "engine-watch-deadline",
    promise = "a watch ends with a deadline event when its deadline comes (no poll after it)",
    file = "src/engine_watch.c",
    from = [[
    if (w->deadline_us >= 0 && now >= w->deadline_us) {
]],
    to = [[
    if (0 && w->deadline_us >= 0 && now >= w->deadline_us) {
]] },
  { name = "engine-no-busy-step",
    promise = "while due polls wait behind calls that wait for a connection, the engine asks for no step at once (no busy loop)",
    edits = {
      { file = "src/engine_loop.c",
        from = [[
            if (fired >= b->starts || sd_room(e)) e->more = 1;
]],
        to = [[
            e->more = 1;
]] },
      { file = "src/engine_loop.c",
        from = [[
    return e->budget.starts <= 0 || (int)e->nstarting < e->budget.starts || sd_room(e);
]],
        to = [[
    return e != NULL;
]] },
    } },
  { name = "download-file-budget",
    promise = "one step writes at most the file budget of downloads (plus a chunk of libcurl's each): a fast "
      .. "download is paused until the next step, never made one long write",
    file = "src/engine_transfer.c",
    from = [[
        if (e->file_budget > 0 && e->step_bytes >= e->file_budget) {
]],
    to = [[
        if (0) {
]] },
  { name = "engine-timeout-unbounded",
    promise = "a transfer's timeout of math.huge (a deadline of no limit, as every call takes it) is no limit, "
      .. "never a raise from the engine",
    file = "src/engine.c",
    from = [[
    rq.timeout_ms = sd_ms(sd_opt_seconds(L, 2, "timeout", 2));
]],
    to = [[
    rq.timeout_ms = sd_ms(sd_opt_number(L, 2, "timeout", 2, 0));
]] },
  { name = "withdraw-only-unsent",
    promise = "withdrawing a submit (its client closed, its run stopped) takes back only a request not sent yet; "
      .. "one on the wire is let finish, so the task it paid for is named",
    timeout = 120,
    file = "src/engine.c",
    from = [[
                     (((sd_transfer *)n)->state == SD_T_WAITING || ((sd_transfer *)n)->state == SD_T_STARTING);
]],
    to = [[
                     ((sd_transfer *)n)->state != SD_T_DONE;
]] },
}
