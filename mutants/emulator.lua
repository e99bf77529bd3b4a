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
