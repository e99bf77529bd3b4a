--- The checks `seedance.map` and `seedance.chain` make before anything is paid
-- for. Their arguments and options are checked first, and a mistake raises
-- (`bad argument #n to 'map' (...)`), before a coroutine starts: the client, a
-- list of request tables with no holes, every option's type and range. Then
-- every item: its output can be written, its local images read, no file of the
-- batch (an output, a download's companion of it, an image a request reads,
-- the client's journal) is another's under another spelling (`seedance.paths`),
-- and (for chain) its request is one the validator takes.
-- @module seedance.preflight
-- @local

local errors = require("seedance.errors")
local files = require("seedance.files")
local numbers = require("seedance.numbers")
local paths = require("seedance.paths")
local seedance_request = require("seedance.request")
local scheduler = require("seedance.scheduler")

local M = {}

--- Check the client argument: a seedance client that is not closed.
-- @param client
-- @tparam string fname the public function's name
function M.client(client, fname)
  local Client = require("seedance.client").Client
  if getmetatable(client) ~= Client then
    errors.argerror(1, fname, "seedance client expected, got " .. type(client), 4)
  end
  if client.closed then error("attempt to use a closed client", 3) end
end

--- Check the requests argument: a list of tables, every key one of 1 to
-- #requests and every one of those a table (so no hole, whichever border `#`
-- gives: `{ a, nil, c }` is 3 or 1 long). Anything else is a caller mistake,
-- raised before anything is paid.
-- @param requests
-- @tparam string fname the public function's name
function M.requests(requests, fname)
  errors.checkarg(requests, "table", 2, fname)
  local n = #requests
  for k in pairs(requests) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then
      errors.argerror(2, fname, string.format("a list of requests expected, but key %s is not one of 1 to %d "
        .. "(a nil in the list, or a field that is not an item)", type(k) == "string" and ("'" .. k .. "'")
        or numbers.show(k), n), 4)
    end
  end
  for i = 1, n do
    if type(requests[i]) ~= "table" then
      errors.argerror(2, fname, string.format("request %d is a %s, not a table%s", i, type(requests[i]),
        requests[i] == nil and " (a hole in the list)" or ""), 4)
    end
  end
end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

-- Why v does not fit the kind of option (nil when it does).
local KINDS = {
  count = function(v) -- a whole number of at least 1
    if type(v) ~= "number" then return "must be a whole number, got " .. type(v) end
    if v ~= v or v == math.huge or math.floor(v) ~= v or v < 1 then
      return "must be a whole number of at least 1, got " .. numbers.text(v)
    end
  end,
  timeout = function(v) -- seconds: negative means now, math.huge no limit
    if type(v) ~= "number" or v ~= v then
      return "must be a number of seconds, got " .. (v ~= v and "NaN" or type(v))
    end
  end,
  amount = function(v) -- a number of at least 0 (money)
    if type(v) ~= "number" then return "must be a number, got " .. type(v) end
    if v ~= v or v == math.huge or v < 0 then return "must be a number of at least 0, got " .. tostring(v) end
  end,
  boolean = function(v)
    if type(v) ~= "boolean" then return "must be a boolean, got " .. type(v) end
  end,
  callback = function(v)
    if not callable(v) then return "must be a function, got " .. type(v) end
  end,
  output = function(v) -- a format string ("out/%03d.mp4") or function(i, request)
    if type(v) == "string" then
      if v == "" then return "must not be empty" end
      if v:find("\0", 1, true) then return "must not contain NUL bytes" end
    elseif not callable(v) then
      return "must be a format string or a function, got " .. type(v)
    end
  end,
  frame_as = function(v)
    if v ~= "image_urls" and v ~= "first_frame" then
      return "must be \"image_urls\" or \"first_frame\", got " .. (type(v) == "string" and ("'" .. v .. "'") or type(v))
    end
  end,
}

-- The options of each submit: `validate` and `timeout` only; an Idempotency-Key or a journal key
-- would be one for every item, so the service (or the journal) would answer every item with the first's task.
local GENERATE = { validate = "boolean", timeout = "timeout" }
local SHARED = { idempotency_key = true, key = true }

KINDS.generate = function(v)
  if type(v) ~= "table" then return "must be a table, got " .. type(v) end
  for k, x in pairs(v) do
    if SHARED[k] then
      return "must not hold '" .. numbers.show(k) .. "': one key would be every item's, and every item would get "
        .. "the first one's task"
    end
    local kind = GENERATE[k]
    if not kind then return "has an unknown option '" .. numbers.show(k) .. "'" end
    local why = KINDS[kind](x)
    if why then return "field '" .. k .. "' " .. why end
  end
end

--- Items checked between two chances for the host's frame (`scheduler.pass`).
M.SLICE = 64

--- The options of `map` and of `chain`, by name: their kind.
M.MAP = { concurrency = "count", fail_fast = "boolean", output = "output", timeout = "timeout",
          on_progress = "callback", on_download = "callback", generate = "generate",
          retry_failed = "boolean", retry_moderated = "boolean", max_spend = "amount" }
M.CHAIN = { output = "output", frame_as = "frame_as", timeout = "timeout", on_clip = "callback",
            on_progress = "callback", on_download = "callback", generate = "generate" }

--- Check the options argument (argument 3) against `spec` (`M.MAP`, `M.CHAIN`):
-- a table or nil, known names, each value of its kind. Raises a bad argument error.
-- Returns a plain copy of the known options (those an `__index` gives too): what
-- the batch reads is what was checked.
-- @param opts
-- @tparam table spec
-- @tparam string fname the public function's name
-- @treturn table opts, or an empty table
function M.options(opts, spec, fname)
  errors.checkarg(opts, "table", 3, fname, true)
  local out = {}
  if opts == nil then return out end
  for k in pairs(opts) do
    if not spec[k] then errors.argerror(3, fname, "unknown option '" .. numbers.show(k) .. "'", 4) end
  end
  -- each known option read as a caller's table gives it (a default through __index too), checked,
  -- and copied: what runs is what was checked, whatever the table does later
  for name, kind in pairs(spec) do
    local v = opts[name]
    if v ~= nil then
      local why = KINDS[kind](v)
      if why then errors.argerror(3, fname, "option '" .. name .. "' " .. why, 4) end
      if kind == "generate" then -- its fields as checked (raw, by pairs)
        local g = {}
        for k, x in pairs(v) do g[k] = x end
        v = g
      end
      out[name] = v
    end
  end
  return out
end

--- The output path for item i: a function(i, request) or a format string
-- ("out/%03d.mp4"). Returns nil, err when the function raises or returns no string.
-- @param output
-- @tparam integer i
-- @tparam table request
-- @treturn string|nil
-- @treturn seedance.Error|nil
function M.output_path(output, i, request)
  if output == nil then return nil end
  if type(output) == "string" then
    local ok, p = pcall(string.format, output, i)
    if not ok then
      return nil, errors.new{ type = "validation_error",
                              message = "output format '" .. output .. "': " .. tostring(p) }
    end
    return p
  end
  local ok, p = scheduler.protect(output, i, request)
  if not ok then return nil, errors.callback("output", p) end
  if type(p) ~= "string" then
    return nil, errors.new{ type = "callback_error",
                            message = "output(" .. i .. ") returned " .. type(p) .. ", not a path" }
  end
  return p
end

-- The local images a request reads (`seedance.file` markers): `{ path as given, the file }` each.
local function images(req)
  local list = {}
  for _, marker in ipairs(seedance_request.local_images(req)) do
    list[#list + 1] = { marker.path, marker.resolved or marker.path }
  end
  return list
end

--- Check every item before paying: every output can be written, every local
-- input can be read, no file of the batch is another's (outputs, their
-- download companions, the images the requests read, the client's journal),
-- and (with `validate`, unless the client's validation is off) every request
-- is one the validator takes, as `shape(i, req)` says it will be sent.
-- @tparam seedance.Client client
-- @tparam table requests
-- @param output the `output` option
-- @tparam boolean validate
-- @tparam[opt] function shape
-- Every output path is resolved now (a host that changes folder later changes nothing about where
-- items are saved), and so is each identity the checks compare. The checks yield to the host's frame
-- between items (`scheduler.pass`): a batch of thousands is checked over several frames.
-- @treturn[1] table the output paths (by index), resolved
-- @treturn[1] nil
-- @treturn[1] table the output paths as `output` gave them (by index)
-- @treturn[2] nil
-- @treturn[2] table a list of `{ index, error }`
function M.items(client, requests, output, validate, shape)
  local out, problems, given = {}, {}, {}
  local set = paths.new()
  -- folders a new file was made in (and removed) already: a folder takes one as well for its next item,
  -- so a batch of thousands into one folder makes one probe file, not one per item inside the host's frames
  local probed = {}
  if client.settings.journal and not require("seedance.journal").is_url(client.settings.journal) then
    set:add("the client's journal " .. client.settings.journal, client.journal_path or client.settings.journal,
      { writes = true })
  end
  local function clash(why)
    return errors.new{ type = "io_error", retryable = false,
                       message = why .. " (give every item its own output: \"out/%03d.mp4\")" }
  end
  -- every output path first, resolved before the checks yield to the host's frame: a host that changes
  -- folder while they run over several frames changes nothing about where any item is saved (string work
  -- and one getcwd an item: 10,000 items in about 8 ms)
  local output_err = {}
  for i, req in ipairs(requests) do
    local path, err = M.output_path(output, i, req)
    given[i], out[i], output_err[i] = path, path and files.absolute(path), err
  end
  -- a slice ends after SLICE items or the scheduler's frame budget of work, whichever comes first (the
  -- checks are file system calls, whose cost the disk decides: 64 items took 40 ms on a slow one)
  local slice_end = scheduler.now() + scheduler.budget
  for i, req in ipairs(requests) do
    if i % M.SLICE == 0 or scheduler.now() > slice_end then
      scheduler.pass()
      slice_end = scheduler.now() + scheduler.budget
    end
    local path, full, err = given[i], out[i], output_err[i]
    if validate and client.settings.validate then
      local ok, verr = require("seedance").validate(shape(i, req))
      if not ok then err = err or verr end
    end
    if path and not err then
      local dir = files.dirname(full)
      local ok, oerr = files.check_output(full, not probed[dir], path)
      if ok then probed[dir] = true else err = oerr end
    end
    if not err then
      local ok, ierr = files.check_inputs(req)
      if not ok then err = ierr end
    end
    if not err then
      for _, image in ipairs(images(req)) do
        local ok, why = set:add(string.format("item %d's image %s", i, image[1]), image[2])
        if not ok then err = clash(why); break end
      end
    end
    if path and not err then
      local ok, why = set:add(string.format("item %d's output %s", i, path), full, { output = true })
      if not ok then err = clash(why) end
    end
    if err then problems[#problems + 1] = { i, err } end
  end
  if #problems > 0 then return nil, problems end
  return out, nil, given
end

return M
