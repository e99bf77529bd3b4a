-- Check before paying: whatever the command can check (the settings, the
-- request, every local input, every output path, the key) it checks before
-- the first request. A failed check is one line with its documented exit
-- code, and the emulator's counters show no task, no upload, no submit.
local cli = require("helpers.cli")
local util = require("helpers.util")
local settings = require("seedance.cli.settings")

local q, write = cli.q, util.write

local PNG = util.ROOT .. "/emulator/media/last-frame.png"

local cleanup = util.cleanup()

describe("the seedance command checks before paying #child", function()
  local emu, env = cli.emulator({ speed = 200 }, { SEEDANCE_API_KEY = "sk-preflight-secret" })

  -- Run a command that must pay for nothing (whatever else it does): its exit code, output, error.
  local function unpaid(args)
    local paid, code, out, err = emu:cost(function() return cli.run(args, env) end)
    assert.equals(0, paid, args .. ": a task was paid for: " .. err)
    return code, out, err
  end

  -- Run a command that must fail its checks: its exit code, its one line.
  local function refused(args, want_code, over)
    local err = cli.refused(emu, args, want_code, cli.with(env, over))
    assert.matches("^seedance: [^\n]+\n$", err)          -- one line
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
      local cat = write(dir .. "/cat.png", png)
      write(dir .. "/v.mp4.part", png)             -- an image where -o v.mp4 puts its partial file
      assert(os.execute("ln -s cat.png " .. q(dir .. "/link.png") .. " && ln " .. q(cat) .. " " .. q(dir .. "/hard.png")))
      local key = write(dir .. "/key.txt", "sk-preflight-secret\n")
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

    -- found: check_outputs compared spellings, so the PNG overwrote the paid video (a.mp4 ended up a PNG)
    it("-o and --save-last-frame naming one file in two spellings: refused before paying #found", function()
      local dir = cleanup(util.tmpdir())
      local code, _, err = unpaid(("generate --prompt x -q -o %s --save-last-frame %s"):format(q(dir .. "/a.mp4"),
        q(dir .. "/./a.mp4")))
      assert.equals(2, code, err)
    end)

    -- found: the input image was uploaded, then replaced by the video
    it("--image FILE -o FILE: refused before paying, the image left as it was #found", function()
      local dir = cleanup(util.tmpdir())
      local img = write(dir .. "/cat.png", cli.slurp(PNG))
      assert.are_not.equal(0, (unpaid(("generate --prompt x -q --image %s -o %s"):format(q(img), q(img)))))
      assert.equals(cli.slurp(PNG), cli.slurp(img), "the user's image was overwritten")
    end)

    -- found: the request file was replaced by the video
    it("--request FILE -o FILE: refused before paying, the request file left as it was #found", function()
      local dir = cleanup(util.tmpdir())
      local body = '{"model":"doubao-seedance-2.0","prompt":"x"}'
      local req = write(dir .. "/req.json", body)
      assert.are_not.equal(0, (unpaid(("generate -q --request %s -o %s"):format(q(req), q(req)))))
      assert.equals(body, cli.slurp(req))
    end)

    -- found: the video replaced the journal, so a re-run could no longer re-attach
    it("--journal FILE -o FILE: refused before paying, the journal kept #found", function()
      local dir = cleanup(util.tmpdir())
      local j = dir .. "/run.journal"
      assert.are_not.equal(0, (unpaid(("generate --prompt x -q --journal %s -o %s"):format(q(j), q(j)))))
      assert.is_false(util.is_mp4(j) and true or false, "the journal was replaced by the video")
    end)

    -- found: `--request -` reads standard input, but `-o -` wrote a file named "-" in the current folder
    it("-o - makes no file named '-' (standard output, or refused before paying) #found", function()
      local dir = cleanup(util.tmpdir())
      local code, out, err = cli.run("generate --prompt x -q -o -", env, { cwd = dir })
      assert.is_nil(util.size_of(dir .. "/-"), "a file named '-' was written")
      assert.is_true(code ~= 0 or out:sub(5, 8) == "ftyp", err)
    end)

    -- found: only the target was checked; the download then failed on FILE.part (exit 10) after the task was paid
    it("-o FILE where FILE.part is a folder costs nothing #found", function()
      local dir = cleanup(util.tmpdir())
      assert(os.execute("mkdir " .. q(dir .. "/v.mp4.part")))
      local code, _, err = unpaid("generate --prompt x -q -o " .. q(dir .. "/v.mp4"))
      assert.equals(10, code, err)
    end)

    -- found: a 254-byte name passed the checks; FILE.part.meta (264 bytes) failed with ENAMETOOLONG after paying
    it("a file name whose FILE.part.meta companion is too long for the file system costs nothing #found", function()
      local dir = cleanup(util.tmpdir())
      local code, _, err = unpaid("generate --prompt x -q -o " .. q(dir .. "/" .. string.rep("a", 250) .. ".mp4"))
      assert.equals(10, code, err)
    end)

    it("the command refuses -o whose companions are another file of the run, before paying", function()
      local dir = cleanup(util.tmpdir())
      write(dir .. "/v.mp4.part", "sk-cli\n")
      local v = q(dir .. "/v.mp4")
      for _, args in ipairs{
        "-o " .. v .. " --save-last-frame " .. q(dir .. "/./v.mp4.part"),
        "-o " .. v .. " --save-last-frame " .. q(dir .. "//v.mp4.part.meta"),
        "-o " .. v .. " --journal " .. q(dir .. "/v.mp4.part.meta"),
        "-o " .. v .. " --api-key-file " .. q(dir .. "/v.mp4.part"),
        "-o " .. q(dir .. "/v.mp4.part.meta") .. " --save-last-frame " .. v,
      } do
        assert.matches("name the same file", refused("generate --model doubao-seedance-2.0 --prompt x -q " .. args, 2))
      end
      assert.equals("sk-cli\n", util.read_file(dir .. "/v.mp4.part"))
    end)

    -- found: `--journal notes.txt` (or a PNG) counted the lines as "torn records", then appended JSON
    -- to the user's file
    it("--journal naming a file that is not a journal: refused before paying, the file left as it was #found", function()
      local dir = cleanup(util.tmpdir())
      for _, path in ipairs{ write(dir .. "/notes.txt", "my notes\nsecond line\n"), write(dir .. "/cat.png", cli.slurp(PNG)) } do
        local before = cli.slurp(path)
        assert.are_not.equal(0, (unpaid("generate --prompt x -q --journal " .. q(path))))
        assert.equals(before, cli.slurp(path), path .. " was changed")
      end
    end)
  end)

  describe("the local inputs", function()
    it("a missing --image: a file error, said once", function()
      local err = refused("generate --prompt x --image ./nope-" .. util.tmpfile("x"):match("[^/]+$") .. ".png", 10)
      assert.matches("cannot read %(No such file or directory%)", err)
    end)

    it("a --image that is not an image: an invalid request, said once", function()
      local p = util.tmpfile("notimage.png", "just text\n")
      local err = refused("generate --prompt x --image " .. q(p), 3)
      assert.matches("not a JPEG, PNG, WebP or GIF image", err)
      os.remove(p)
    end)

    it("a missing --last-frame image, and an unreadable --request", function()
      refused("generate --prompt x --last-frame " .. q(util.tmpfile("gone.png")), 10)
      refused("generate --request " .. q(util.tmpfile("gone.json")), 10)
    end)

    -- found: check_image seeked a pipe ("internal error: files.lua:140: attempt to compare number with
    -- nil", exit 1); a FIFO with no writer blocked the command for ever
    it("--image naming a pipe (bash's <(...), a FIFO) is one line, never an internal error or a hang #found", function()
      local dir = cleanup(util.tmpdir())
      local fifo = dir .. "/in.png"
      assert(os.execute("mkfifo " .. q(fifo)))
      os.execute("timeout 10 sh -c " .. q("cat " .. q(PNG) .. " > " .. q(fifo)) .. " >/dev/null 2>&1 &")
      local c1, _, e1 = cli.run("generate --prompt x -q --image " .. q(fifo), env)
      local c2 = cli.run("generate --prompt x -q --image " .. q(fifo), env, { prefix = "timeout 10 " })
      assert.is_nil(e1:find("internal error", 1, true), e1)
      assert.are_not.equal(1, c1, e1)
      assert.are_not.equal(124, c2, "hung on a FIFO with no writer")
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
      local empty = util.tmpfile("empty.key", "\n")
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
      local utf16 = util.tmpfile("utf16.key", "\255\254s\0k\0")
      assert.matches("is UTF%-16 text; save it as UTF%-8", refused("balance --api-key-file " .. q(utf16), 2))
      local bom = util.tmpfile("bom2.key", "\239\187\191sk-from-file\r\n")
      local code, _, err = cli.run("balance --api-key-file " .. q(bom), { SEEDANCE_BASE_URL = emu.url })
      assert.equals(0, code, err)
      os.remove(utf16)
      os.remove(bom)
      os.execute("rmdir " .. q(dir))
    end)

    it("a request file as editors save it: BOM on standard input too, an empty file never 'a folder' #m-cli-text-bom", function()
      local bom = util.tmpfile("bom2.json", '\239\187\191{"model":"doubao-seedance-2.0","prompt":"x"}')
      local code, out, err = cli.run("validate -", nil, bom)
      assert.equals(0, code, err)
      assert.equals("-: valid\n", out)
      local empty = util.tmpfile("empty2.json", "")
      local err2 = refused("generate --request " .. q(empty), 3)
      assert.matches("is not a JSON object", err2)
      assert.is_nil(err2:find("folder", 1, true))
      local utf16 = util.tmpfile("utf16.json", "\255\254{\0}\0")
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
        local p = util.tmpfile("advice.json", body)
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

    it("a key file that works, its newline dropped and its key never printed", function()
      local keyfile = util.tmpfile("good.key", "sk-from-file\n")
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

    -- found: "io_error: cannot read --api-key-file F (is a folder)", exit 10, for an empty file
    it("an empty (0-byte) --api-key-file is a settings error saying it is empty #found", function()
      local key = cleanup(util.tmpfile("empty0.key", ""))
      local err = refused("balance --api-key-file " .. q(key), 2, { SEEDANCE_API_KEY = false })
      assert.matches("is empty", err)
      assert.is_nil(err:find("folder", 1, true), err)
    end)

    -- found: the BOM was sent as part of the key: 401, exit 4
    it("a key file saved with a UTF-8 byte order mark works #found", function()
      local key = cleanup(util.tmpfile("bom.key", "\239\187\191sk-bom-key\r\n"))
      local code, _, err = cli.run("balance --api-key-file " .. q(key), cli.with(env, { SEEDANCE_API_KEY = false }))
      assert.equals(0, code, err)
    end)

    -- found: the base URL was accepted; every path landed after '?' or '#', so each call was a 404, exit 3
    it("a base URL with a query or a fragment is a settings error, not a 404 per call #found", function()
      for _, suffix in ipairs{ "?x=1", "#top" } do
        refused("balance", 2, { SEEDANCE_BASE_URL = emu.url .. suffix })
      end
    end)

    -- found: an empty --base-url silently meant https://xcompute.us (here via a dead loopback proxy: exit 8)
    it("--base-url '' (an unset shell variable) is a settings error, not the real service #found", function()
      refused("balance --base-url '' --proxy http://127.0.0.1:1", 2)
    end)

    -- found: masking knew only URLs with a scheme: `--proxy 'user:hunter2@bad host:1'` printed hunter2
    it("a password in a proxy or base URL written without its scheme is masked in the error too #found", function()
      for _, args in ipairs{ "balance --proxy 'user:hunter2@bad host:1'", "balance --base-url 'user:hunter2@127.0.0.1:1'" } do
        assert.is_nil(refused(args, 2):find("hunter2", 1, true))
      end
    end)

  end)

  describe("request files", function()
    -- found: "is not a JSON object: Expected value but found invalid token at character 1", exit 3
    it("a request file saved with a UTF-8 byte order mark is read #found", function()
      local p = cleanup(util.tmpfile("bom.json", '\239\187\191{"model":"doubao-seedance-2.0","prompt":"x"}'))
      local code, out, err = cli.run("validate " .. q(p))
      assert.equals(0, code, err)
      assert.matches(": valid\n$", out)
    end)

    -- found: "for a local image use seedance.file(path), which uploads it": Lua advice; the command's
    -- way is --image PATH
    it("a local image path inside --request gets advice a command-line user can follow #found", function()
      local p = cleanup(util.tmpfile("local.json", '{"model":"doubao-seedance-2.0","prompt":"x","image_urls":["./cat.png"]}'))
      local err = refused("generate -q --request " .. q(p), 3)
      assert.is_nil(err:find("seedance.file", 1, true), err)
      assert.truthy(err:find("--image", 1, true), err)
    end)

    it("wrong types, huge numbers, deep nesting, trailing bytes: exit 3, one line, no task, no trace", function()
      local cases = {
        '{"model":"doubao-seedance-2.0","prompt":"x","duration":1e999}',
        '{"model":"doubao-seedance-2.0","prompt":"x","seed":123456789012345678901234567890}',
        '{"model":"doubao-seedance-2.0","prompt":"x","duration":"5"}',
        '{"model":"doubao-seedance-2.0","prompt":"x","image_urls":{"a":1}}',
        '{"model":"doubao-seedance-2.0","prompt":"x","image_with_roles":[{"url":5,"role":"first_frame"}]}',
        '{"model":"doubao-seedance-2.0","prompt":"x"} trailing',
        '{"model":"doubao-seedance-2.0","prompt":"\\ud800"}',
        string.rep("[", 2000),
        "",
      }
      for _, body in ipairs(cases) do
        local p = util.tmpfile("bad.json", body)
        refused("generate -q --request " .. q(p), 3)
        os.remove(p)
      end
    end)
  end)
end)

describe("seedance.cli.settings: the time scale #c", function()
  it("SEEDANCE_TIME_SCALE applies to an emulator on this machine only #m-cli-time-scale-local", function()
    local vars = { SEEDANCE_TIME_SCALE = "0.05" }
    local function getenv(k) return vars[k] end
    assert.equals(0.05, assert(settings.resolve({ base_url = "http://127.0.0.1:8080" }, getenv)).time_scale)
    assert.equals(0.05, assert(settings.resolve({ base_url = "http://localhost:9" }, getenv)).time_scale)
    assert.equals(1, assert(settings.resolve({ base_url = "https://10.0.0.7" }, getenv)).time_scale)
  end)

  -- found: a stale SEEDANCE_TIME_SCALE=0.001 applied to https://xcompute.us too: polls ~1000x too
  -- often, a 1.8 s wait deadline
  it("SEEDANCE_TIME_SCALE, meant for an emulator, does not speed up polling of a remote service #found", function()
    local vars = { SEEDANCE_TIME_SCALE = "0.001", SEEDANCE_API_KEY = "sk-x" }
    local opts, err = settings.resolve({ base_url = "https://xcompute.us" }, function(k) return vars[k] end)
    assert.is_true(opts == nil or opts.time_scale == 1, "time_scale " .. tostring(opts and opts.time_scale))
    assert.is_true(opts ~= nil or err.type == "usage_error")
  end)
end)
