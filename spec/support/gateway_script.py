"""The script of spec/support/gateway.py: checking, matching and templating.

The format is documented at the top of gateway.py. Everything here is pure
(no sockets): compile() turns the JSON script into Case objects or raises
ScriptError naming the case and the key; Script.choose() picks the case for a
request and counts it; fill() expands {{placeholders}}.
"""
import base64
import os
import re

MATCH_KEYS = {"name", "method", "path", "target", "pattern", "query", "listener", "body_pattern", "times"}
ANSWER_KEYS = {"status", "reason", "headers", "body", "body_b64", "bytes", "file", "json", "template", "replace",
               "ranges", "chunked", "chunk_size", "no_length", "close", "cut_after", "stall", "stall_at",
               "trickle", "endless", "drop", "reset", "raw", "raw_b64", "forward"}
BODY_KEYS = ("body", "body_b64", "bytes", "file", "json", "endless")
FIXED_NAMES = {"base", "port", "host", "method", "path", "target", "query", "count", "n"}
PLACEHOLDER = re.compile(rb"\{\{([^{}]*)\}\}")


class ScriptError(Exception):
    """A script the gateway refuses (the control endpoint answers 400 with the message)."""


def _pattern_block():
    return bytes((i * 7 + (i >> 8)) & 0xFF for i in range(65536))


BLOCK = _pattern_block() * 2


def pattern(offset, n):
    """n bytes of the generated body from offset: byte i is (i*7 + i//256) % 256."""
    out = []
    while n > 0:
        o = offset % 65536
        k = min(n, 65536)
        out.append(BLOCK[o:o + k])
        offset += k
        n -= k
    return b"".join(out)


def fill(data, vals):
    """Expand {{name}} in bytes data with the bytes in vals (names checked at compile time)."""
    if b"{{" not in data:
        return data
    return PLACEHOLDER.sub(lambda m: vals.get(m.group(1).decode("latin-1"), m.group(0)), data)


def fill_json(value, vals):
    """Expand placeholders in every string of a decoded JSON value."""
    if isinstance(value, str):
        return fill(value.encode("utf-8"), vals).decode("utf-8", "replace")
    if isinstance(value, list):
        return [fill_json(v, vals) for v in value]
    if isinstance(value, dict):
        return {k: fill_json(v, vals) for k, v in value.items()}
    return value


def header_pairs(where, value):
    """A headers list: [name, value] pairs or "Name: value" strings, to [(name, value)]."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScriptError("%s: headers must be a list" % where)
    out = []
    for h in value:
        if isinstance(h, str) and ":" in h:
            name, _, v = h.partition(":")
            out.append((name, v.strip()))
        elif isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h):
            out.append((h[0], h[1]))
        else:
            raise ScriptError("%s: each header must be [name, value] or \"Name: value\", got %r" % (where, h))
    return out


def _number(where, c, key, integer=False, minimum=0):
    v = c.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < minimum or (integer and v != int(v)):
        raise ScriptError("%s: %s must be %s >= %s, got %r" % (where, key, "an integer" if integer else "a number",
                                                             minimum, v))
    return int(v) if integer else float(v)


def _string(where, c, key):
    v = c.get(key)
    if v is not None and not isinstance(v, str):
        raise ScriptError("%s: %s must be a string, got %r" % (where, key, v))
    return v


def _b64(where, c, key):
    v = _string(where, c, key)
    if v is None:
        return None
    try:
        return base64.b64decode(v, validate=True)
    except ValueError as e:
        raise ScriptError("%s: %s is not base64: %s" % (where, key, e))


class Case:
    """One compiled case: what it matches and how it answers."""

    def __init__(self, index, c, listeners, upstream):
        where = "case %d" % index
        if not isinstance(c, dict):
            raise ScriptError("%s: must be an object" % where)
        unknown = sorted(set(c) - MATCH_KEYS - ANSWER_KEYS)
        if unknown:
            raise ScriptError("%s: unknown key(s) %s" % (where, ", ".join(unknown)))
        self.index = index
        self.name = c.get("name") if c.get("name") is not None else index
        if not isinstance(self.name, (str, int)) or isinstance(self.name, bool):
            raise ScriptError("%s: name must be a string" % where)
        where = "case %d (%s)" % (index, self.name)
        self.c = c
        m = c.get("method")
        self.methods = [m] if isinstance(m, str) else m
        if self.methods is not None and not (isinstance(self.methods, list) and
                                             all(isinstance(x, str) for x in self.methods)):
            raise ScriptError("%s: method must be a string or a list of strings" % where)
        self.path = _string(where, c, "path")
        self.target = _string(where, c, "target")
        self.listener = _string(where, c, "listener")
        if self.listener is not None and self.listener not in listeners:
            raise ScriptError("%s: no listener named %r" % (where, self.listener))
        self.query = c.get("query")
        if self.query is not None and not (isinstance(self.query, dict) and
                                           all(isinstance(v, str) for v in self.query.values())):
            raise ScriptError("%s: query must map names to strings" % where)
        self.pattern = self._regex(where, "pattern")
        self.body_pattern = self._regex(where, "body_pattern")
        self.times = _number(where, c, "times", integer=True)
        self.names = set(FIXED_NAMES)
        self.names.update("base:" + n for n in listeners)
        self.names.update("port:" + n for n in listeners)
        if self.pattern is not None:
            self.names.update(str(k) for k in range(self.pattern.groups + 1))
            self.names.update(self.pattern.groupindex)
        self._answer(where, c, upstream)

    def _regex(self, where, key):
        v = _string(where, self.c, key)
        if v is None:
            return None
        try:
            return re.compile(v)
        except re.error as e:
            raise ScriptError("%s: bad %s %r: %s" % (where, key, v, e))

    def _answer(self, where, c, upstream):
        self.forward = c.get("forward") is True
        if self.forward and not upstream:
            raise ScriptError("%s: forward needs an upstream in the script" % where)
        self.status = _number(where, c, "status", integer=True, minimum=100) or 200
        if self.status > 999:
            raise ScriptError("%s: status must be 100 to 999" % where)
        self.reason = _string(where, c, "reason")
        self.headers = header_pairs(where, c.get("headers"))
        given = [k for k in BODY_KEYS if c.get(k) not in (None, False)]
        if len(given) > 1:
            raise ScriptError("%s: give one body (%s), not %s" % (where, ", ".join(BODY_KEYS), " and ".join(given)))
        self.body = c["body"].encode("utf-8") if _string(where, c, "body") is not None else _b64(where, c, "body_b64")
        self.bytes = _number(where, c, "bytes", integer=True)
        self.file = _string(where, c, "file")
        if self.file is not None and not os.path.isfile(self.file):
            raise ScriptError("%s: no file %r" % (where, self.file))
        self.json = c.get("json")
        self.endless = c.get("endless") is True
        self.template = c.get("template") is not False
        self.replace = []
        for pair in c.get("replace") or []:
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                raise ScriptError("%s: replace wants [from, to] pairs, got %r" % (where, pair))
            self.replace.append((pair[0].encode("utf-8"), pair[1].encode("utf-8")))
        self.ranges = c.get("ranges") is True
        self.chunked = c.get("chunked") is True
        self.chunk_size = _number(where, c, "chunk_size", integer=True, minimum=1) or 4096
        self.no_length = c.get("no_length") is True
        self.close = c.get("close") is True
        self.cut_after = _number(where, c, "cut_after", integer=True)
        self.stall = _number(where, c, "stall")
        self.stall_at = _number(where, c, "stall_at", integer=True)
        if self.stall_at is not None and self.stall is None:
            raise ScriptError("%s: stall_at needs stall (seconds)" % where)
        t = c.get("trickle")
        self.trickle = None
        if t is not None:
            if not isinstance(t, dict) or set(t) - {"bytes", "every"}:
                raise ScriptError("%s: trickle wants { bytes = N, every = seconds }" % where)
            self.trickle = (_number(where, t, "bytes", integer=True, minimum=1) or 1, _number(where, t, "every") or 0)
        self.drop = c.get("drop") is True
        self.reset = c.get("reset") is True
        self.raw = c["raw"].encode("utf-8") if _string(where, c, "raw") is not None else _b64(where, c, "raw_b64")
        if self.raw is not None and (given or self.headers or self.forward or "status" in c):
            raise ScriptError("%s: raw is the whole answer: no status, headers, body or forward with it" % where)
        self._check_templates(where)

    def _check_templates(self, where):
        if not self.template:
            return
        texts = [v.encode("utf-8") for _, v in self.headers] + [to for _, to in self.replace]
        texts += [x for x in (self.body, self.raw) if x is not None]
        stack = [self.json]
        while stack:
            v = stack.pop()
            if isinstance(v, str):
                texts.append(v.encode("utf-8"))
            elif isinstance(v, list):
                stack.extend(v)
            elif isinstance(v, dict):
                stack.extend(v.values())
        for t in texts:
            for m in PLACEHOLDER.finditer(t):
                name = m.group(1).decode("latin-1")
                if name not in self.names:
                    raise ScriptError("%s: unknown placeholder {{%s}} (known: %s)" %
                                      (where, name, ", ".join(sorted(self.names))))

    def matches(self, req):
        """The regex match (or True) when this case applies to req, else None."""
        if self.methods is not None and req.method not in self.methods:
            return None
        if self.listener is not None and req.listener.name != self.listener:
            return None
        if self.path is not None and req.path != self.path:
            return None
        if self.target is not None and req.target != self.target:
            return None
        if self.query is not None and any(req.query_map.get(k) != v for k, v in self.query.items()):
            return None
        if self.body_pattern is not None and not self.body_pattern.search(req.body.decode("latin-1")):
            return None
        if self.pattern is not None:
            return self.pattern.search(req.target)
        return True


class Script:
    """A compiled script with its use counts."""

    def __init__(self, doc, listeners):
        if not isinstance(doc, dict):
            raise ScriptError("the script must be an object")
        unknown = sorted(set(doc) - {"cases", "upstream"})
        if unknown:
            raise ScriptError("script: unknown key(s) %s" % ", ".join(unknown))
        self.upstream = doc.get("upstream")
        if self.upstream is not None and not re.match(r"^https?://[^/]+$", str(self.upstream)):
            raise ScriptError("script: upstream must be http(s)://host:port with no path, got %r" % self.upstream)
        cases = doc.get("cases") or []
        if not isinstance(cases, list):
            raise ScriptError("script: cases must be a list")
        self.cases = [Case(i + 1, c, listeners, self.upstream) for i, c in enumerate(cases)]
        self.used = [0] * len(self.cases)
        self.spent = [False] * len(self.cases)

    def _available(self, i):
        """Whether case i can still answer."""
        t = self.cases[i].times
        return not self.spent[i] if t is None else self.used[i] < t

    def choose(self, req):
        """(case, match, count) for req, or (None, None, 0); counts the use. Call under the lock."""
        found = []
        for i, case in enumerate(self.cases):
            if self._available(i):
                m = case.matches(req)
                if m is not None:
                    found.append((i, m))
        if not found:
            return None, None, 0
        i, m = found[0]
        self.used[i] += 1
        # without times: spent after one answer while a later case could answer the same request
        if self.cases[i].times is None and len(found) > 1:
            self.spent[i] = True
        return self.cases[i], m, self.used[i]
