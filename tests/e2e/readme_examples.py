#!/usr/bin/env python3
"""readme_examples.py - run every shell example of README.md.

    readme_examples.py README WORKDIR

Every fenced block must name its language.  The shell ones (sh, console,
bash) run, in order, in one environment the caller sets up (PATH, the
SECRETFS_CONFIG of an install under WORKDIR), unless the line before the
fence is a marker:

    <!-- readme-test: skip: REASON -->
    <!-- readme-test: in the background while 'CMD' runs; PROG is called once -->

A console block is a list of '# COMMAND' lines, each followed by the lines
it prints: each of those must match a line of the command's output, in
order ('...' matches anything; runs of spaces and AGE values such as '4s'
are compared loosely).  Paths the machine shares (/run/secretfs, /mnt,
/etc, /var/lib/secretfs) are moved under WORKDIR/root first.

Prints one line per block and 'RUN n SKIPPED m' last; exits 1 on the first
failure, naming the README line.
"""
import fnmatch
import os
import re
import signal
import subprocess
import sys
import time

SHELL = {"sh", "console", "bash"}
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
MARK = re.compile(r"^\s*<!-- readme-test: (.*) -->\s*$")
BACKGROUND = re.compile(r"in the background while '(.+)' runs; (\S+) is called once")
PATHS = ["/run/secretfs", "/mnt/secrets", "/etc/secretfs", "/etc/app", "/var/lib/secretfs"]


def blocks(text):
    """(line, language, marker, body) of each fenced block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = m.group(1), m.group(2), i
        prev = lines[i - 1] if i else ""
        mark = MARK.match(prev)
        body = []
        i += 1
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            sys.exit(f"README line {start + 1}: the block is never closed")
        yield start + 1, lang, mark.group(1) if mark else None, "\n".join(body)
        i += 1


def moved(text, root):
    for p in PATHS:
        text = text.replace(p, root + p)
    return text


def loose(line):
    line = re.sub(r"\b\d+[smhd]\b", "AGE", line)
    return " ".join(line.split())


def fail(where, what):
    print(f"FAIL: README line {where}: {what}")
    sys.exit(1)


def run(cmd, cwd, where, timeout=60):
    p = subprocess.run(["bash", "-eo", "pipefail", "-c", cmd], cwd=cwd, capture_output=True,
                       text=True, errors="replace", timeout=timeout)
    if p.returncode != 0:
        fail(where, f"'{cmd}' exited {p.returncode}: {p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def console(body, cwd, where):
    cmds = []  # (command, [expected lines])
    for line in body.split("\n"):
        m = re.match(r"^# (.*)$", line)
        if m:
            cmds.append((m.group(1), []))
        elif line.strip():
            if not cmds:
                fail(where, f"output before any command: {line}")
            cmds[-1][1].append(line)
    for cmd, expected in cmds:
        out = [loose(l) for l in run(cmd, cwd, where).split("\n")]
        at = 0
        for e in expected:
            pat = loose(e).replace("[", "[[]").replace("?", "[?]").replace("*", "[*]")
            pat = pat.replace("...", "*")
            while at < len(out) and not fnmatch.fnmatchcase(out[at], pat):
                at += 1
            if at == len(out):
                fail(where, f"'{cmd}' printed no line like [{e}]:\n" + "\n".join(out))
            at += 1


def background(body, mark, cwd, where, work):
    m = BACKGROUND.match(mark)
    cmd, prog = m.group(1), m.group(2)
    log = os.path.join(work, "stubs", prog + ".log")
    p = subprocess.Popen(["bash", "-c", body], cwd=cwd, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # the block is reading before the change
        run(cmd, cwd, where)
        deadline = time.time() + 5
        while time.time() < deadline and not os.path.exists(log):
            time.sleep(0.05)
        time.sleep(0.5)  # a second call would come now
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait()
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    if len(calls) != 1:
        fail(where, f"{prog} was called {len(calls)} times, not once: {calls}")


def main():
    readme, work = sys.argv[1], sys.argv[2]
    root, cwd = os.path.join(work, "root"), os.path.join(work, "cwd")
    os.makedirs(cwd, exist_ok=True)
    ran = skipped = 0
    for where, lang, mark, body in blocks(open(readme).read()):
        if not lang:
            fail(where, "a fenced block names no language (text, sh, console, ini, ...)")
        if lang not in SHELL:
            if mark:
                fail(where, f"a readme-test marker on a {lang} block")
            continue
        if mark and mark.startswith("skip: "):
            print(f"skip  line {where}: {mark[6:]}")
            skipped += 1
            continue
        body = moved(body, root)
        if mark and BACKGROUND.match(mark):
            background(body, mark, cwd, where, work)
        elif mark:
            fail(where, f"unknown marker: {mark}")
        elif lang == "console":
            console(body, cwd, where)
        else:
            run(body, cwd, where)
        print(f"ran   line {where} ({lang})")
        ran += 1
    print(f"RUN {ran} SKIPPED {skipped}")


if __name__ == "__main__":
    main()
