-- Check before paying: whatever the command can check (the settings, the
-- request, every local input, every output path, the key) it checks before
-- the first request. A failed check is one line with its documented exit
-- code, and the emulator's counters show no task, no upload, no submit.
local emulator = require("helpers.emulator")
local cli = require("helpers.cli")
local util = require("helpers.util")
local settings = require("seedance.cli.settings")

local q = cli.q

local function write_file_at(p, text)
  local f = assert(io.open(p, "wb"))
  f:write(text)
  f:close()
  return p
end

local function write_file(text, name)
  return write_file_at(util.tmpfile(name), text)
end

local PNG = "emulator/media/last-frame.png"

describe("the seedance command checks before paying", function()
  local emu, env
  setup(function()
    emu = emulator.start{ speed = 200 }
    env = { SEEDANCE_BASE_URL = emu.url, SEEDANCE_API_KEY = "sk-preflight-secret", SEEDANCE_TIME_SCALE = "0.005" }
  end)
  teardown(function() emu:stop() end)

  -- Run a command that must fail its checks: its exit code, its one line.
  local function refused(args, want_code, over)
    local e = {}
    for k, v in pairs(env) do e[k] = v end
    for k, v in pairs(over or {}) do e[k] = v end
    local before = emu:stats()
    local code, out, err = cli.run(args, e)
    local after = emu:stats()
    assert.equals(want_code, code, args .. ": " .. err)
    assert.equals("", out, args)
    for _, k in ipairs{ "tasks_created", "submits", "uploads", "requests" } do
      assert.equals(before[k], after[k], args .. " changed " .. k)
    end
    assert.matches("^seedance: [^\n]+\n$", err)          -- one line
    assert.is_nil(err:find("traceback", 1, true), err)
    assert.is_nil(err:find("%.lua:%d"), err)
    assert.is_nil(err:find("sk-preflight-secret", 1, true))
    return err
  end

  describe("the output paths", function()
    it("a missing folder (-o nodir/x.mp4): a file error naming the folder, no task #m-cli-preflight-outputs", function()
      local dir = util.tmpfile("nodir")
      local err = refused("generate --prompt x -o " .. q(dir .. "/x.mp4"), 10)
      assert.matches("its folder " .. dir:gsub("%p", "%%%0") .. " does not exist", err)
      refused("generate --prompt x --save-last-frame " .. q(dir .. "/x.png"), 10)
      refused("wait task_01M8KXCEGT13GWE6Y1Y5Z7S7BQ -o " .. q(dir .. "/x.mp4"), 10)
    end)

    it("a folder where the file should go #m-cli-preflight-outputs", function()
      local dir = util.tmpdir()
      assert.matches("is a directory, not a file", refused("generate --prompt x -o " .. q(dir), 10))
      os.execute("rmdir " .. q(dir))
    end)

    it("one file named by -o and --save-last-frame #m-cli-preflight-outputs", function()
      local p = util.tmpfile("same.out")
      assert.matches("name the same file", refused(("generate --prompt x -o %s --save-last-frame %s"):format(q(p), q(p)), 2))
    end)

    it("one file under two names, whatever the spelling: a folder reached through a link, `..` #m-cli-outputs-by-identity #m-cli-preflight-outputs", function()
      local dir = util.tmpdir()
      assert(os.execute("mkdir " .. q(dir .. "/real") .. " && ln -s real " .. q(dir .. "/via")))
      for _, pair in ipairs{ { "/real/v.mp4", "/via/v.mp4" }, { "/real/v.mp4", "/via/../real/v.mp4" } } do
        assert.matches("name the same file", refused(("generate --prompt x -o %s --save-last-frame %s")
          :format(q(dir .. pair[1]), q(dir .. pair[2])), 2))
      end
      os.execute("rm -rf " .. q(dir))
    end)

    it("an output, or the partial file it writes, naming a file the run reads: refused, the file kept #m-cli-outputs-companions #m-cli-outputs-file-identity #m-cli-preflight-outputs", function()
      local dir = util.tmpdir()
      local png = cli.slurp(PNG)
      local cat = write_file_at(dir .. "/cat.png", png)
      write_file_at(dir .. "/v.mp4.part", png)             -- an image where -o v.mp4 puts its partial file
      assert(os.execute("ln -s cat.png " .. q(dir .. "/link.png") .. " && ln " .. q(cat) .. " " .. q(dir .. "/hard.png")))
      local key = write_file_at(dir .. "/key.txt", "sk-preflight-secret\n")
      local cases = {
        "generate --prompt x --image " .. q(dir .. "/v.mp4.part") .. " -o " .. q(dir .. "/v.mp4"),
        "generate --prompt x --image " .. q(dir .. "/link.png") .. " -o " .. q(cat),     -- through a link
        "generate --prompt x --image " .. q(cat) .. " --save-last-frame " .. q(dir .. "/hard.png"), -- a hard link
        "generate --prompt x -o " .. q(key),
        "wait task_01M8KXCEGT13GWE6Y1Y5Z7S7BQ -o " .. q(key),
      }
      for _, args in ipairs(cases) do
        assert.matches("name the same file", refused(args .. " --api-key-file " .. q(key), 2, { SEEDANCE_API_KEY = false }))
      end
      assert.equals(png, cli.slurp(cat))
      assert.equals(png, cli.slurp(dir .. "/v.mp4.part"))
      assert.equals("sk-preflight-secret\n", cli.slurp(key))
      os.execute("rm -rf " .. q(dir))
    end)

    it("`-` where only a file can go: refused, no file named '-' made #m-cli-dash-not-a-file #m-cli-preflight-outputs", function()
      for _, flags in ipairs{ "-o -", "--save-last-frame -", "--journal -", "--image -", "--first-frame -",
                              "--api-key-file -" } do
        local code, out, err = cli.run("generate --prompt x -q " .. flags, env)
        assert.equals(2, code, flags .. ": " .. err)
        assert.equals("", out)
        assert.matches("^seedance: [^\n]*name a file %(%./%- for one named '%-'%)", err)
      end
      assert.is_nil(util.size_of("-"))
    end)
  end)

  describe("the local inputs", function()
    it("a missing --image: a file error, said once", function()
      local err = refused("generate --prompt x --image ./nope-" .. util.tmpfile("x"):match("[^/]+$") .. ".png", 10)
      assert.matches("cannot read %(No such file or directory%)", err)
    end)

    it("a --image that is not an image: an invalid request, said once", function()
      local p = write_file("just text\n", "notimage.png")
      local err = refused("generate --prompt x --image " .. q(p), 3)
      assert.matches("not a JPEG, PNG, WebP or GIF image", err)
      os.remove(p)
    end)

    it("a missing --last-frame image, and an unreadable --request", function()
      refused("generate --prompt x --last-frame " .. q(util.tmpfile("gone.png")), 10)
      refused("generate --request " .. q(util.tmpfile("gone.json")), 10)
    end)
  end)

  it("an invalid request: every problem, exit 3", function()
    local before = emu:stats().tasks_created
    local code, _, err = cli.run("generate --prompt x --duration 99 --size 7:7", env)
    assert.equals(3, code)
    assert.matches("duration: must be between 4 and 15", err)
    assert.matches("size: must be one of", err)
    assert.equals(before, emu:stats().tasks_created)
  end)

  describe("the settings: one line naming the setting and its fix, exit 2", function()
    it("a base URL without its scheme", function()
      local err = refused("balance", 2, { SEEDANCE_BASE_URL = "127.0.0.1:8080" })
      assert.matches("SEEDANCE_BASE_URL '127%.0%.0%.1:8080' is not a URL", err)
      assert.matches("write it in full", err)
      assert.matches("%-%-base%-url 'localhost:1' is not a URL", refused("balance --base-url localhost:1", 2))
    end)

    it("plain http to another host: use https, or pass --allow-insecure-http (never a Lua option name) #m-cli-settings-http-message", function()
      local err = refused("balance", 2, { SEEDANCE_BASE_URL = "http://10.1.2.3" })
      assert.matches("SEEDANCE_BASE_URL 'http://10%.1%.2%.3' is plain http to 10%.1%.2%.3", err)
      assert.matches("use https, or pass %-%-allow%-insecure%-http", err)
      assert.is_nil(err:find("allow_insecure_http", 1, true))
      -- and the flag is the way out (checked without connecting anywhere)
      assert.truthy(settings.resolve({ base_url = "http://10.1.2.3", allow_insecure_http = true }, function() end))
    end)

    it("user info in the base URL is masked in the message", function()
      local err = refused("balance --base-url http://me:hunter2@127.0.0.1:1", 2)
      assert.is_nil(err:find("hunter2", 1, true))
      assert.matches("user info", err)
    end)

    it("a key with spaces, an empty or missing key file, no key at all", function()
      assert.matches("SEEDANCE_API_KEY contains spaces or control characters",
        refused("balance", 2, { SEEDANCE_API_KEY = "sk abc" }))
      local empty = write_file("\n", "empty.key")
      assert.matches("%-%-api%-key%-file .* is empty", refused("balance --api-key-file " .. q(empty), 2))
      os.remove(empty)
      assert.matches("cannot read %-%-api%-key%-file", refused("balance --api-key-file " .. q(util.tmpfile("no.key")), 10))
      assert.matches("no API key: set SEEDANCE_API_KEY, or pass %-%-api%-key%-file FILE",
        refused("generate --prompt x", 2, { SEEDANCE_API_KEY = false }))
    end)

    it("a key file as editors save it: a folder or UTF-16 text said as such, a BOM and CRLF dropped #m-cli-text-bom", function()
      local dir = util.tmpdir()
      assert.matches("cannot read %-%-api%-key%-file .* %(Is a directory%)", refused("balance --api-key-file " .. q(dir), 10,
        { SEEDANCE_API_KEY = false }))
      local utf16 = write_file("\255\254s\0k\0", "utf16.key")
      assert.matches("is UTF%-16 text; save it as UTF%-8", refused("balance --api-key-file " .. q(utf16), 2))
      local bom = write_file("\239\187\191sk-from-file\r\n", "bom2.key")
      local code, _, err = cli.run("balance --api-key-file " .. q(bom), { SEEDANCE_BASE_URL = emu.url })
      assert.equals(0, code, err)
      os.remove(utf16)
      os.remove(bom)
      os.execute("rmdir " .. q(dir))
    end)

    it("a request file as editors save it: BOM on standard input too, an empty file never 'a folder' #m-cli-text-bom", function()
      local bom = write_file('\239\187\191{"model":"doubao-seedance-2.0","prompt":"x"}', "bom2.json")
      local code, out, err = cli.run("validate -", nil, bom)
      assert.equals(0, code, err)
      assert.equals("-: valid\n", out)
      local empty = write_file("", "empty2.json")
      local err2 = refused("generate --request " .. q(empty), 3)
      assert.matches("is not a JSON object", err2)
      assert.is_nil(err2:find("folder", 1, true))
      local utf16 = write_file("\255\254{\0}\0", "utf16.json")
      assert.matches("is UTF%-16 text; save it as UTF%-8", refused("generate --request " .. q(utf16), 3))
      for _, p in ipairs{ bom, empty, utf16 } do os.remove(p) end
    end)

    it("--request with what only --image can do: the command's advice, never the Lua API's #m-cli-advice-translated", function()
      local cases = {
        '{"model":"doubao-seedance-2.0","prompt":"x","image_urls":["file:///tmp/cat.png"]}',
        '{"model":"doubao-seedance-2.0","prompt":"x","image_urls":["data:image/png;base64,iVBORw0KGgo="]}',
        '{"model":"doubao-seedance-2.0","prompt":"x","image_with_roles":[{"url":5,"role":"first_frame"}]}',
      }
      for _, body in ipairs(cases) do
        local p = write_file(body, "advice.json")
        local err = refused("generate --request " .. q(p), 3)
        os.remove(p)
        assert.is_nil(err:find("seedance.file", 1, true), err)
        assert.truthy(err:find("--image PATH", 1, true), err)
      end
    end)

    it("--base-url '' (a variable not set) is refused; an empty SEEDANCE_BASE_URL is unset", function()
      assert.matches("%-%-base%-url is empty", refused("balance --base-url ''", 2))
      local opts = assert(settings.resolve({}, function(k) return ({ SEEDANCE_BASE_URL = "" })[k] end))
      assert.equals("https://xcompute.us", opts.base_url)
    end)

    it("SEEDANCE_TIME_SCALE applies to an emulator on this machine only #m-cli-time-scale-local", function()
      local vars = { SEEDANCE_TIME_SCALE = "0.05" }
      local function getenv(k) return vars[k] end
      assert.equals(0.05, assert(settings.resolve({ base_url = emu.url }, getenv)).time_scale)
      assert.equals(0.05, assert(settings.resolve({ base_url = "http://localhost:9" }, getenv)).time_scale)
      assert.equals(1, assert(settings.resolve({ base_url = "https://10.0.0.7" }, getenv)).time_scale)
    end)

    it("a key file that works, its newline dropped and its key never printed", function()
      local keyfile = write_file("sk-from-file\n", "good.key")
      local code, out, err = cli.run("balance -v --api-key-file " .. q(keyfile), { SEEDANCE_BASE_URL = emu.url })
      os.remove(keyfile)
      assert.equals(0, code, err)
      assert.matches("remaining: ", out)
      assert.is_nil((out .. err):find("sk-from-file", 1, true))
    end)

    it("a proxy, a time scale and a log level that make no sense", function()
      assert.matches("%-%-proxy 'a b' is not a proxy URL", refused("balance --proxy 'a b'", 2))
      assert.matches("%-%-proxy 'ftp://x' is not a proxy URL", refused("balance --proxy ftp://x", 2))
      assert.matches("SEEDANCE_TIME_SCALE must be a number above 0", refused("balance", 2, { SEEDANCE_TIME_SCALE = "fast" }))
      assert.matches("SEEDANCE_LOG must be info or debug, got 'loud'", refused("balance", 2, { SEEDANCE_LOG = "loud" }))
    end)

    it("a journal that cannot be used: a file error #m-cli-error-by-fields", function()
      local err = refused("generate --prompt x --journal " .. q(util.tmpfile("nodir") .. "/j.journal"), 10)
      assert.matches("^seedance: io_error: %-%-journal ", err)
    end)
  end)
end)
