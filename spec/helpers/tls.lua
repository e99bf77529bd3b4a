--- Throwaway certificates for TLS specs, made with the openssl command.
--
--     local tls = require("helpers.tls")
--     local certs = tls.make()          -- a fresh test CA and three server certificates
--     local gw = require("helpers.gateway").start{ tls = certs.server }
--     -- an engine transfer to gw.url with ca_file = certs.ca verifies; without it, it fails
--     certs:remove()
--
-- `make` returns `{ dir, ca, ca_key, server, wrong_host, self_signed, remove }` where `ca` is the
-- test CA's PEM path and each of `server`, `wrong_host`, `self_signed` is `{ cert = PEM path, key = PEM path }`
-- (the shape the gateway's `tls` option takes):
--
-- - `server`: signed by the CA, for 127.0.0.1, ::1 and localhost;
-- - `wrong_host`: signed by the CA, for wrong-host.invalid only;
-- - `self_signed`: for 127.0.0.1 and localhost, signed by itself (not by the CA).
--
-- Keys are EC P-256 (quick to make); certificates last two days. Needs the
-- `openssl` command (Debian package openssl); raises with its output when it fails.
local M = {}

local process = require("helpers.process")
local sh_quote, run = process.quote, process.run

local EXTENSIONS = [[
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
[wrong_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong-host.invalid
]]

local Set = {}
Set.__index = Set

--- Remove the folder and every file in it (idempotent).
function Set:remove()
  if self.dir then os.execute("rm -rf " .. sh_quote(self.dir)) end
  self.dir = nil
end

--- Make a test CA and the server certificates in a fresh temporary folder.
-- @treturn table `{ dir, ca, ca_key, server = { cert, key }, wrong_host = { cert, key },
--   self_signed = { cert, key }, remove = function }`
function M.make()
  local dir = os.tmpname()
  os.remove(dir)
  dir = dir .. "-seedance-tls"
  assert(os.execute("mkdir -p " .. sh_quote(dir)))
  local f = assert(io.open(dir .. "/ext.cnf", "wb"))
  f:write(EXTENSIONS)
  f:close()
  local key = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s.key"
  local signed = "openssl req -new -key %s.key -subj /CN=%s -out %s.csr && " ..
    "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAserial ca.srl -CAcreateserial -days 2 -sha256 " ..
    "-extfile ext.cnf -extensions %s -out %s.pem"
  local steps = {
    "cd " .. sh_quote(dir),
    key:format("ca"),
    "openssl req -x509 -new -key ca.key -subj '/CN=seedance spec CA' -days 2 -sha256 -out ca.pem " ..
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    key:format("server"),
    signed:format("server", "localhost", "server", "server", "server", "server"),
    key:format("wrong"),
    signed:format("wrong", "wrong-host.invalid", "wrong", "wrong", "wrong_host", "wrong"),
    key:format("self"),
    "openssl req -x509 -new -key self.key -subj /CN=localhost -days 2 -sha256 -out self.pem " ..
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost",
  }
  local ok, out = run(table.concat(steps, " && "))
  local set = setmetatable({ dir = dir }, Set)
  if not ok then
    set:remove()
    error("openssl could not make the test certificates:\n" .. out, 2)
  end
  set.ca, set.ca_key = dir .. "/ca.pem", dir .. "/ca.key"
  set.server = { cert = dir .. "/server.pem", key = dir .. "/server.key" }
  set.wrong_host = { cert = dir .. "/wrong.pem", key = dir .. "/wrong.key" }
  set.self_signed = { cert = dir .. "/self.pem", key = dir .. "/self.key" }
  return set
end

return M
