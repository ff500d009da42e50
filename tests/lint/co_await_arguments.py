#!/usr/bin/env python3
"""Every argument of a call under co_await is a name, never a temporary.

GCC 12 miscompiles temporaries with destructors inside a co_await
expression: `co_await reply(..., Incoming{}, "text" + s)` destroyed an
object at an address inside the coroutine frame, and a few requests after
a 413 the recorder died. Neither ASan nor the tests see it unless the
frame layout happens to put something there, so the rule is checked on
the text: an argument of an awaited call is a name, a member, a
dereference, a number, a character, `std::move(name)`, `true`/`false`,
`nullptr`, or one of Asio's trivially destructible helpers. Anything else
(a string literal, a concatenation, a braced temporary, a call that
returns an object) goes into a named local first.

Usage: co_await_arguments.py SOURCE_DIR...   (exit 1 and a line per finding)
"""
import pathlib
import re
import sys

# Asio's completion tokens and buffers hold only references and sizes.
ALLOWED_CALLS = re.compile(
    r"^((boost::asio|asio)::)?(redirect_error|buffer)\(|^\w+\.prepare\("
)
# Arithmetic and comparisons of names and numbers make no object.
ARITHMETIC = re.compile(r"^[\w\s.:>*-]+([-+*/%<>=!&|]=?|<<|>>)[\w\s.:>*-]+$")
SIMPLE = re.compile(
    r"^(\*?[A-Za-z_][\w]*(\s*(\.|->)\s*[A-Za-z_]\w*)*|[\w:]+::\w+|\d[\w.']*|'.'|true|false|nullptr)$"
)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def split_args(text):
    """Top-level comma-separated arguments of a call's parenthesized text."""
    args, depth, cur, in_str = [], 0, "", None
    i = 0
    while i < len(text):
        c = text[i]
        if in_str:
            cur += c
            if c == "\\":
                cur += text[i + 1]
                i += 1
            elif c == in_str:
                in_str = None
        elif c in "\"'":
            in_str = c
            cur += c
        elif c in "([{":
            depth += 1
            cur += c
        elif c in ")]}":
            depth -= 1
            cur += c
        elif c == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    if cur.strip():
        args.append(cur.strip())
    return args


def awaited_calls(text):
    """(offset, callee, argument text) of each call directly under co_await."""
    for m in re.finditer(r"\bco_await\s+", text):
        j = m.end()
        callee = re.match(r"[\w:.>*-]+(<[^;()]*>)?", text[j:])
        if not callee:
            continue
        k = j + callee.end()
        if k >= len(text) or text[k] != "(":
            continue  # awaiting a name: nothing constructed here
        depth, end = 0, k
        for end in range(k, len(text)):
            if text[end] == "(":
                depth += 1
            elif text[end] == ")":
                depth -= 1
                if depth == 0:
                    break
        yield m.start(), callee.group(0), text[k + 1 : end]


def check(path):
    text = strip_comments(path.read_text())
    problems = []
    for offset, callee, args in awaited_calls(text):
        for arg in split_args(args):
            arg = " ".join(arg.split())
            if SIMPLE.match(arg) or ALLOWED_CALLS.match(arg) or ARITHMETIC.match(arg):
                continue
            line = text.count("\n", 0, offset) + 1
            problems.append(f"{path}:{line}: co_await {callee}(...): argument '{arg}' is a "
                            "temporary; name it first (GCC 12 miscompiles temporaries in co_await)")
    return problems


def check_text(text, name):
    class Source:
        def read_text(self):
            return text

        def __str__(self):
            return name

    return check(Source())


def self_test():
    """The control: the shapes that crashed are found, named ones are not."""
    bad = """
        co_await reply(client, out, 413, Incoming{}, "retrace_proxy_error",
                       "limit (" + std::to_string(n) + ")", false);
        if (!co_await respond(s, raw, json_error(413, "x"), 11, req.keep_alive())) break;
        co_return co_await reply_json(client, std::move(answer.body), keep);
    """
    good = """
        co_await reply(client, out, none, too_large);  // co_await f("not an argument")
        co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
        std::size_t n = co_await upstream.async_read_some(ubuf.prepare(k_read_size), with_ec);
        auto c = co_await upstream_connection(up, attempt > 0, pooled);
        co_await timer.async_wait(with_ec);
    """
    found = [p.split("argument ")[1].split(" is a")[0] for p in check_text(bad, "bad")]
    want = ["'Incoming{}'", "'\"retrace_proxy_error\"'", "'\"limit (\" + std::to_string(n) + \")\"'",
            "'json_error(413, \"x\")'", "'req.keep_alive()'", "'std::move(answer.body)'"]
    assert found == want, found
    assert check_text(good, "good") == [], check_text(good, "good")


def main(dirs):
    self_test()
    problems = []
    for d in dirs:
        for path in sorted(pathlib.Path(d).rglob("*.[ch]pp")):
            problems += check(path)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
