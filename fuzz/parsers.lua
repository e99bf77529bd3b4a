--- fuzz/parsers.lua: the small readers of untrusted strings, with properties.
--
-- Loaded once by fuzz/fuzz_lua.c (target fuzz_parsers); returns run(input).
-- By hand (LUA_PATH/LUA_CPATH pointing at lua/ and build/):
--     lua5.4 -e 'dofile("fuzz/parsers.lua")(io.read("a"))' < fuzz/corpus/parsers/base-userinfo
--
-- The first byte of the input picks the reader, the rest is its argument:
--
--   'u' URL as a base URL          seedance.urls.check_base(s, false) and (s, true)
--   'm' URL as a result URL        seedance.urls.check_media(s, false) and (s, true)
--   'r' Retry-After value          seedance.http.retry_after(s, wall)
--   'j' JSON text                  core.json_repair(s), then lua-cjson
--   anything else                  core.utf8_clean(s)
--
-- Properties (an error raised here is a crash for libFuzzer):
-- * no reader raises on any bytes;
-- * an accepted URL is http(s), holds no user info, is no link-local address,
--   and when it is plain http without the insecure option its host is this
--   machine's loopback; libcurl parses the URL it gave back to the same
--   scheme, host and port (what we checked is what libcurl connects to);
-- * Retry-After gives nil or a finite number of seconds >= 0;
-- * what lua-cjson decodes from json_repair's output holds only valid UTF-8
--   strings; text that lua-cjson reads and that is valid UTF-8 with no raw
--   control bytes comes back unchanged;
-- * utf8_clean's output is valid UTF-8, and valid input comes back unchanged.

local cjson = require("cjson.safe")
local core = require("seedance.core")
local http = require("seedance.http")
local urls = require("seedance.urls")

-- Whether s is valid UTF-8, read by the table of well-formed byte sequences
-- (Unicode 15, table 3-7) in plain Lua: a reference independent of the C code.
local function valid_utf8(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len, lo, hi
    lo, hi = 0x80, 0xBF
    if c < 0x80 then len = 1
    elseif c >= 0xC2 and c <= 0xDF then len = 2
    elseif c == 0xE0 then len, lo = 3, 0xA0
    elseif c == 0xED then len, hi = 3, 0x9F
    elseif c >= 0xE1 and c <= 0xEF then len = 3
    elseif c == 0xF0 then len, lo = 4, 0x90
    elseif c == 0xF4 then len, hi = 4, 0x8F
    elseif c >= 0xF1 and c <= 0xF3 then len = 4
    else return false end
    if len > 1 then
      local b = s:byte(i + 1)
      if not b or b < lo or b > hi then return false end
      for k = 2, len - 1 do
        b = s:byte(i + k)
        if not b or b < 0x80 or b > 0xBF then return false end
      end
    end
    i = i + len
  end
  return true
end

local function check_url(kind, s, allow)
  local p = kind == "u" and urls.check_base(s, allow) or (kind == "m" and urls.check_media(s, allow))
  if not p then return end
  assert(p.scheme == "http" or p.scheme == "https", "accepted a non-http URL: " .. s)
  assert(not p.userinfo or kind == "m", "accepted user info in a base URL: " .. s)
  assert(not urls.is_link_local(p.host), "accepted a link-local host: " .. s)
  if p.scheme == "http" and not allow then
    assert(urls.is_loopback(p.host), "accepted plain http to " .. p.host .. ": " .. s)
  end
  local again = assert(urls.parse(p.url), "libcurl refuses the URL it gave back: " .. p.url)
  assert(again.scheme == p.scheme and again.host == p.host and again.port == p.port,
    "libcurl reads the URL it gave back differently: " .. s .. " -> " .. p.url .. " -> " .. tostring(again.url))
end

return function(input)
  local kind, s = input:sub(1, 1), input:sub(2)
  if kind == "u" or kind == "m" then
    check_url(kind, s, false)
    check_url(kind, s, true)
  elseif kind == "r" then
    local v = http.retry_after(s, 1700000000)
    assert(v == nil or (type(v) == "number" and v == v and v >= 0 and v < math.huge),
      "retry_after gave " .. tostring(v))
  elseif kind == "j" then
    local out = core.json_repair(s)
    if cjson.decode(s) ~= nil and valid_utf8(s) and not s:find("%c") then
      assert(out == s, "json_repair changed JSON that was fine")
    end
    -- what decodes after the repair holds only valid UTF-8 strings
    local function strings_ok(v, depth)
      if type(v) == "string" then return valid_utf8(v) end
      if type(v) ~= "table" or depth > 64 then return true end
      for k, x in pairs(v) do
        if not strings_ok(k, depth + 1) or not strings_ok(x, depth + 1) then return false end
      end
      return true
    end
    assert(strings_ok(cjson.decode(out), 0), "a repaired answer decodes to invalid UTF-8")
  else
    local out = core.utf8_clean(s)
    assert(valid_utf8(out), "utf8_clean gave invalid UTF-8")
    if valid_utf8(s) then assert(out == s) end
  end
end
