--- The version of seedance, "MAJOR.MINOR.PATCH": the one place it is written.
-- `seedance._VERSION`, the User-Agent, `seedance version`, and the release
-- rockspecs and tarball that `make rock` writes (mk/rock.mk) all read it.
-- @module seedance.version
-- @local
return "0.2.0"
