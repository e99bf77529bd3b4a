-- mutants/emulator.lua: mutations of the emulator's promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "emulator-durations-monotonic",
    promise = "the emulator counts every duration (task progress, rate windows, media pacing, URL lifetimes) on a "
      .. "monotonic clock: a wall-clock step neither sends a task back, ends it early, expires a fresh result nor "
      .. "ends a rate window",
    file = "emulator/store.c",
    from = [[
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
]],
    to = [[
    (void)ts;
    return emu_now();
]] },
  { name = "emu-refuse-word",
    promise = "--refuse-word: a submit whose prompt or URL holds the word is refused (400, the native code), "
      .. "nothing made or billed",
    file = "emulator/api.c",
    from = [[
        if (emu_refused(req, refusal, sizeof refusal)) { /* sensitive content: refused, nothing made or billed */
]],
    to = [[
        if (0 && emu_refused(req, refusal, sizeof refusal)) {
]] },
  { name = "emu-flag-word",
    promise = "--flag-word: a task whose prompt or URL holds the word fails with the native moderation code",
    file = "emulator/api.c",
    from = [[
        t->flag = emu_flagged(req, t->flag_input, sizeof t->flag_input);
]],
    to = [[
        t->flag = 0;
]] },
  { name = "emu-model-rules",
    promise = "--model-rules: the emulator takes the models its file describes, by the validator's own rules",
    file = "emulator/check.c",
    from = [[
    if (model_rules) {
]],
    to = [[
    if (0) {
]] },
  { name = "emu-bill-at",
    promise = "--bill-at completion: a task is billed when it completes, a failed one never",
    file = "emulator/api.c",
    from = [[
        if (!E.opt.bill_at_completion) { /* billed at submit, as the gateway does by default */
]],
    to = [[
        if (1) {
]] },
  { name = "emulator-date-follows-clock",
    promise = "the emulator dates its answers (API and media) on its own wall clock, the one the times it reports "
      .. "are on: a --test-clock step moves both, as an NTP step moves a server's",
    edits = {
      { file = "emulator/respond.c",
        from = [[
    MHD_add_response_header(r, "Date", date);
    MHD_add_response_header(r, "Content-Type", type);
]],
        to = [[
    (void)date;
    MHD_add_response_header(r, "Content-Type", type);
]] },
      { file = "emulator/serve.c",
        from = [[
    MHD_add_response_header(r, "Date", date);
    MHD_add_response_header(r, "Content-Type", png ? "image/png" : "video/mp4");
]],
        to = [[
    (void)date;
    MHD_add_response_header(r, "Content-Type", png ? "image/png" : "video/mp4");
]] },
    } },
}
