--- The command's config file: `$XDG_CONFIG_HOME/seedance/config` (default
-- `~/.config/seedance/config`; `SEEDANCE_CONFIG` names another file). One
-- `key = value` per line; a line whose first character (after blanks) is `#`
-- is a comment, and so is a blank line; a value may stand in double or
-- single quotes. The keys are `KEYS`; the API key itself never lives in the
-- file (`api_key_file` names a file that holds it). This module reads and
-- parses the file; `seedance.cli.settings` checks each value and decides
-- what wins (flags, then the environment, then the file, then defaults).
-- Every problem is one line naming the file, the line and the fix.
-- @module seedance.cli.config
-- @local

local errors = require("seedance.errors")
local files = require("seedance.files")
local text = require("seedance.cli.text")

local M = {}

--- The keys the file may hold, in the order `seedance config` lists them.
M.KEYS = { "base_url", "api_key_file", "proxy", "ca_file", "model", "resolution", "timeout", "wait_timeout" }

local KNOWN = {}
for _, k in ipairs(M.KEYS) do KNOWN[k] = true end

-- Names people give a key, which never lives in the file.
local KEY_NAMES = { api_key = true, key = true, token = true, apikey = true, api_token = true, secret = true,
                    seedance_api_key = true }

--- The largest config file read (bytes): a config file is a few lines.
M.MAX = 64 * 1024

local function usage(fmt, ...)
  return errors.new{ type = "usage_error", retryable = false, message = string.format(fmt, ...) }
end

-- Whether a path is absolute (POSIX, or a Windows drive or UNC path).
local function absolute(p)
  return p:sub(1, 1) == "/" or (files.WINDOWS and (p:match("^%a:[/\\]") or p:sub(1, 1) == "\\")) and true or false
end

--- Where the config file is: `SEEDANCE_CONFIG`, else `$XDG_CONFIG_HOME/seedance/config` (an
-- absolute XDG_CONFIG_HOME only, as the XDG spec says), else `~/.config/seedance/config`
-- (`%APPDATA%\seedance\config` on Windows when HOME is not set).
-- @tparam function getenv
-- @treturn string|nil the path (nil when there is no home to look in)
-- @treturn string|nil the variable that named it
function M.locate(getenv)
  local function env(name)
    local v = getenv(name)
    if v ~= nil and v ~= "" then return v end
  end
  local named = env("SEEDANCE_CONFIG")
  if named then return named, "SEEDANCE_CONFIG" end
  local xdg = env("XDG_CONFIG_HOME")
  if xdg and absolute(xdg) then return xdg:gsub("[/\\]+$", "") .. "/seedance/config", "XDG_CONFIG_HOME" end
  local home = env("HOME")
  if home then return home:gsub("[/\\]+$", "") .. "/.config/seedance/config", "HOME" end
  local appdata = env("APPDATA")
  if appdata then return appdata .. "\\seedance\\config", "APPDATA" end
  return nil
end

-- A key spelled another way (Base-URL, base url), or as a shell variable (SEEDANCE_BASE_URL,
-- export SEEDANCE_BASE_URL), as the file writes it.
local function normal(k)
  return (k:lower():gsub("[%s%-]+", "_"):gsub("^export_", ""):gsub("^seedance_", ""))
end

--- What to add to a refusal of a value holding a `#` after a blank (`model = x # fast`): the
-- reason, as the file's format has no comment after a value; "" for any other value.
-- @tparam string value
-- @treturn string
function M.comment_note(value)
  if tostring(value):find("%s#") then return " (a # starts a comment only at the start of a line)" end
  return ""
end

--- Parse the text of a config file.
-- @tparam string body the text (its byte order mark already dropped)
-- @tparam string path the file's name, for messages
-- @treturn[1] table `{ [key] = { value = string, line = n, where = "PATH:n" } }`
-- @treturn[2] nil
-- @treturn[2] seedance.Error `usage_error` naming the file and the line
function M.parse(body, path)
  local values, n = {}, 0
  for raw in (body .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    -- (a no-break space, as text copied from a web page has it, is a blank like any other)
    local line = raw:gsub("\r$", ""):gsub("\194\160", " ")
    local where = path .. ":" .. n
    if not (line:match("^%s*$") or line:match("^%s*#")) then
      local key, value = line:match("^%s*([^=]-)%s*=%s*(.-)%s*$")
      if not key or key == "" then
        local why = line:match("^%s*%[.*%]%s*$") and " (the file has no [sections]: only key = value lines)"
          or line:find("\239\188\157", 1, true) and " (write = as ASCII, not the full-width \239\188\157)"
          or line:find("#", 1, true) and " (a # starts a comment only at the start of a line)" or ""
        return nil, usage("%s: expected key = value, got '%s'%s", where, line, why)
      end
      local q = value:sub(1, 1)
      if (q == '"' or q == "'") then
        if #value < 2 or value:sub(-1) ~= q then
          return nil, usage("%s: the value of %s opens a quote (%s) it does not close; close it at the end of the "
            .. "line, or remove it%s", where, key, q, M.comment_note(value))
        end
        value = value:sub(2, -2)
      end
      if KEY_NAMES[normal(key)] then
        return nil, usage("%s: %s: the API key never lives in the config file; put it in a file only you can "
          .. "read (chmod 600 FILE) and name that file here with api_key_file = FILE, or set SEEDANCE_API_KEY",
          where, key)
      end
      if not KNOWN[key] then
        local hint = KNOWN[normal(key)] and string.format(" (did you mean %s?)", normal(key)) or ""
        return nil, usage("%s: unknown key '%s'%s; the keys are %s", where, key, hint, table.concat(M.KEYS, ", "))
      end
      if values[key] then
        return nil, usage("%s: %s is given twice (first on line %d); keep one", where, key, values[key].line)
      end
      if value == "" then
        return nil, usage("%s: %s has no value; give one, or delete the line", where, key)
      end
      values[key] = { value = value, line = n, where = where }
    end
  end
  return values
end

--- Read the config file, if there is one.
-- @tparam function getenv
-- @treturn[1] table `{ path, named_by, exists, values }` (`values` as `parse` returns; empty when there
--   is no file)
-- @treturn[2] nil
-- @treturn[2] seedance.Error `usage_error`: a file named by SEEDANCE_CONFIG that is missing, a file
--   that cannot be read, or a line that is wrong
function M.load(getenv)
  local path, named_by = M.locate(getenv)
  local found = { path = path, named_by = named_by, exists = false, values = {} }
  if not path then return found end
  local st = files.stat(path)
  if not st then
    if named_by == "SEEDANCE_CONFIG" then
      return nil, usage("SEEDANCE_CONFIG names %s, which does not exist; create it, or unset SEEDANCE_CONFIG", path)
    end
    return found
  end
  local body, err = text.read(path, { label = "the config file " .. path, max = M.MAX })
  if not body then return nil, usage("%s", err.message) end
  if #body > M.MAX then
    return nil, usage("the config file %s is over %d bytes; a config file holds a few key = value lines", path, M.MAX)
  end
  local values, perr = M.parse(body, path)
  if not values then return nil, perr end
  found.exists, found.values = true, values
  return found
end

--- A path the file names, as the file means it: `~/x` is in the home folder,
-- and a relative path is relative to the config file's own folder.
-- @tparam string value
-- @tparam string config_path
-- @tparam function getenv
-- @treturn string
function M.path_of(value, config_path, getenv)
  local home = getenv("HOME")
  if value:match("^~[/\\]") and home and home ~= "" then return home:gsub("[/\\]+$", "") .. value:sub(2) end
  if absolute(value) then return value end
  local dir = files.dirname(config_path)
  return (dir == "." and "" or (dir:gsub("[/\\]+$", "") .. "/")) .. value
end

return M
