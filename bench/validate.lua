-- B6 validate + encode: what a submit with validation on calls on a typical
-- request, N times: seedance.request.check (core.validate_encode: the
-- validator's walk, writing the JSON body as it checks).
--
--   lua5.4 bench/validate.lua N [both|validate|encode]
--       the loop alone: prints { n, us_per_call, body_bytes } as one JSON line;
--       both is request.check, validate is core.validate alone, encode is
--       cjson.encode alone (the companion figures: lua-cjson is what bodies
--       were written with before, and still are for requests with files)
--   lua5.4 bench/validate.lua callgrind [N]
--       instructions per call, counted by valgrind --tool=callgrind (repeatable,
--       unlike time): each loop runs under callgrind with N and with 2N calls
--       (default 2000), and the difference of the totals over N is one call's
--       count, start-up and loading cancelled out. Prints { instructions =
--       { both, validate, encode }, target, us_per_call } as one JSON line.
--
-- The target of B6 is at most 10,000 instructions for validate + encode.
package.path = "bench/?.lua;" .. package.path
local cjson = require("cjson")
local common = require("common")

local TARGET = 10000

-- The interpreter running this script (arg[-1]), to run it again under valgrind.
local function interpreter()
  local i = -1
  while arg[i - 1] do i = i - 1 end
  local words = {}
  for k = i, -1 do words[#words + 1] = "'" .. arg[k]:gsub("'", "'\\''") .. "'" end
  return table.concat(words, " ")
end

-- The loop: n calls of what (both, validate or encode) on a typical request.
local function loop(n, what)
  local core = require("seedance.core")
  local check, validate, encode = require("seedance.request").check, core.validate, cjson.encode
  local req = common.typical_request(1)
  local ok0, body0 = check(req)
  assert(ok0 and type(body0) == "string", "the typical request is valid and written by the validator")
  local bytes = 0
  local t0 = core.now()
  if what == "validate" then
    for _ = 1, n do
      if not validate(req) then error("invalid") end
    end
  elseif what == "encode" then
    for _ = 1, n do bytes = bytes + #encode(req) end
  else
    for _ = 1, n do
      local ok, body = check(req)
      if not ok then error("invalid") end
      bytes = bytes + #body
    end
  end
  local secs = core.now() - t0
  return { n = n, us_per_call = secs / n * 1e6, body_bytes = bytes / n }
end

-- callgrind's total instruction count of `lua bench/validate.lua n what`, or nil and why.
local function total(n, what)
  local file = os.tmpname()
  local cmd = string.format("valgrind --tool=callgrind --callgrind-out-file=%s %s bench/validate.lua %d %s "
    .. ">/dev/null 2>&1", file, interpreter(), n, what)
  local ok = os.execute(cmd)
  local f = io.open(file, "r")
  local text = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(file)
  local count = tonumber(text:match("\nsummary:%s*(%d+)"))
  if not count then return nil, "no callgrind result from: " .. cmd .. " (" .. tostring(ok) .. ")" end
  return count
end

-- Instructions per call of what: (total at 2n - total at n) / n.
local function per_call(n, what)
  local a, err = total(n, what)
  if not a then return nil, err end
  local b, err2 = total(2 * n, what)
  if not b then return nil, err2 end
  return math.floor((b - a) / n + 0.5)
end

if arg[1] == "callgrind" then
  local n = tonumber(arg[2]) or 2000
  local ir = {}
  for _, what in ipairs{ "both", "validate", "encode" } do
    local count, err = per_call(n, what)
    if not count then
      io.stderr:write(err, "\n")
      os.exit(1)
    end
    ir[what] = count
  end
  local timed = loop(200000, "both")
  common.emit{ instructions = ir, target = TARGET, us_per_call = timed.us_per_call, body_bytes = timed.body_bytes }
else
  common.emit(loop(tonumber(arg[1]) or 100000, arg[2] or "both"))
end
