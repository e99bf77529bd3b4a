-- mutants/http.lua: mutations of the http promises (mutants/catalogue.lua says how a row reads).
return {
  { name = "io-error-not-retried",
    promise = "local file failures are io_error and never retried",
    file = "lua/seedance/http.lua",
    from = [[
  file = { "io_error", false },
]],
    to = [[
  file = { "io_error", true },
]] },
  { name = "json-lone-surrogate",
    promise = "an answer whose strings only are bad (half a surrogate pair) is repaired, not retried",
    file = "lua/seedance/http.lua",
    from = [[
  if type(obj) ~= "table" and body:find("[\"\\\128-\255%c]") then obj = json.decode(core.json_repair(body)) end
]],
    to = [[

]] },
  { name = "no-retry-4xx",
    promise = "4xx answers are never retried",
    file = "lua/seedance/http.lua",
    from = [[
  return status == 429 or status >= 500
]],
    to = [[
  return status >= 400
]] },
  { name = "on-retry-protected",
    promise = "an on_retry that raises comes back as callback_error",
    file = "lua/seedance/retry.lua",
    from = [[
    local ok, cerr = scheduler.protect(self.on_retry, err, attempt, delay)
]],
    to = [[
    local ok, cerr = true, self.on_retry(err, attempt, delay)
]] },
  { name = "retry-after-fraction-huge",
    promise = "a fractional or huge Retry-After is honoured (rounded up), never ignored",
    file = "lua/seedance/http.lua",
    from = [[
    local whole, fraction = one:match("^(%d+)%.?(%d*)$")
]],
    to = [[
    local whole, fraction = one:match("^(%d%d?%d?%d?%d?%d?%d?%d?%d?)(%d*)$")
]] },
  { name = "retry-after-http-date",
    promise = "Retry-After is read as delta seconds or an HTTP date in any of its three forms",
    file = "lua/seedance/http.lua",
    from = [[
      local at = core.getdate(one)
]],
    to = [[
      local at = nil
]] },
  { name = "retry-after-longest",
    promise = "of several Retry-After headers, the longest ask counts",
    file = "lua/seedance/http.lua",
    from = [[
    if n and n == n and (not longest or n > longest) then longest = n end
]],
    to = [[
    if n and n == n then longest = n end
]] },
  { name = "shared-429-backoff",
    promise = "on a 429 every sender of the client backs off together (the governor)",
    file = "src/engine_sched.c",
    from = [[
    until = now + (seconds > 1e9 ? (long long)1e15 : (long long)(seconds * 1e6));
]],
    to = [[
    until = now * 0;
]] },
  { name = "slot-wait-deadline",
    promise = "waiting for a max_in_flight slot honours the caller's deadline",
    timeout = 20,
    file = "lua/seedance/governor.lua",
    from = [[
    if not self.slots.wait(function() return self.in_flight < self.max_in_flight end, deadline, token) then
]],
    to = [[
    if not self.slots.wait(function() return self.in_flight < self.max_in_flight end, nil, token) then
]] },
  { name = "tls-not-retried",
    promise = "a TLS verification failure is a tls_error, never retried",
    file = "lua/seedance/http.lua",
    from = [[
  tls = { "tls_error", false },
]],
    to = [[

]] },
  { name = "window-slot-on-deadline",
    promise = "a call whose deadline passed gives the request window's slot back",
    file = "src/engine_window.c",
    from = [[
    if (why != SD_FAIL_NONE) {
        sd_refuse(e, t, why, now);
        return;
    }
]],
    to = [[
    if (why != SD_FAIL_NONE) {
        if (p->governed) p->active++;
        sd_refuse(e, t, why, now);
        return;
    }
]] },
  { name = "retry-after-server-date",
    promise = "a date-form Retry-After is measured against the answer's own Date header (a server whose clock "
      .. "is off is still waited for as long as it asked)",
    file = "lua/seedance/http.lua",
    from = [[
    retry_after = M.retry_after(r.headers and r.headers["retry-after"], M.server_time(r.headers)),
]],
    to = [[
    retry_after = M.retry_after(r.headers and r.headers["retry-after"]),
]] },
  { name = "submit-maybe-paid",
    promise = "an attempt that went unanswered (or answered 5xx) marks its call: a submit's error then says "
      .. "maybe_paid, and map submits the item again under its key",
    file = "lua/seedance/http.lua",
    from = [[
  if opt and not unsent and not (a.status and a.status >= 400 and a.status < 500) then opt.unanswered = true end
]],
    to = [[

]] },
  { name = "wait-honours-retry-after",
    promise = "no try goes sooner than a Retry-After asked (submit, poll, every call): the pause is the server's",
    file = "lua/seedance/retry.lua",
    from = [[
  return server
end
]],
    to = [[
  return self:backoff(attempt)
end
]] },
  { name = "wait-retry-after-too-long",
    promise = "a call (a wait too) ends at once when the server asks for more than max_retry_after or the deadline allows",
    timeout = 30,
    edits = {
      { file = "lua/seedance/retry.lua",
        from = [[
  if server > self.max_retry_after then
]],
        to = [[
  if false then
]] },
      { file = "lua/seedance/retry.lua",
        from = [[
    if server > left then return past_deadline(err, server, left) end
]],
        to = [[
]] },
    } },
  { name = "retry-after-deadline",
    promise = "a Retry-After or backoff that would end past the caller's deadline ends the call at once",
    timeout = 30,
    edits = {
      { file = "lua/seedance/retry.lua",
        from = [[
    if server > left then return past_deadline(err, server, left) end
]],
        to = [[
]] },
      { file = "lua/seedance/retry.lua",
        from = [[
    if delay > left then return past_deadline(err, delay, left) end
]],
        to = [[
]] },
    } },
  { name = "retry-after-locale-free",
    promise = "Lua 5.1: a fractional Retry-After is read under a comma locale (no tonumber of \"1.5\")",
    lua = "lua5.1",
    file = "lua/seedance/http.lua",
    from = [[
      n = math.min(tonumber(whole) + (fraction:find("[1-9]") and 1 or 0), 1e12)
]],
    to = [[
      n = math.min(math.ceil(tonumber(one) or 0 / 0), 1e12)
]] },
}
