-- mk/release-rockspec.lua: write a release rockspec from a development one.
--
--   lua5.4 mk/release-rockspec.lua SCM_ROCKSPEC VERSION TARBALL_URL DIR > RELEASE_ROCKSPEC
--
-- The release rockspec is the scm rockspec with `version = "VERSION-1"` and a
-- source that is the release tarball (`url`, and `dir`, the folder the tarball
-- unpacks into). Everything else (modules, dependencies, build) is the scm
-- rockspec's own text, so the two cannot drift; the version comes from
-- lua/seedance/version.lua (mk/rock.mk passes it). A published release names
-- the tarball's https URL (and its md5) as TARBALL_URL.
local scm, version, url, dir = ...
assert(scm and version and url and dir, "usage: release-rockspec.lua SCM_ROCKSPEC VERSION TARBALL_URL DIR")
local f = assert(io.open(scm, "rb"))
local text = f:read("*a")
f:close()
local n
text, n = text:gsub('\nversion = "scm%-1"\n', '\nversion = "' .. version .. '-1"\n', 1)
assert(n == 1, scm .. ": no version = \"scm-1\" line")
text, n = text:gsub("\nsource = %b{}\n", function()
  return '\nsource = {\n   -- written by make rock from ' .. scm .. ' (mk/release-rockspec.lua)\n'
    .. '   url = "' .. url .. '",\n   dir = "' .. dir .. '",\n}\n'
end, 1)
assert(n == 1, scm .. ": no source = { ... } block")
io.write(text)
