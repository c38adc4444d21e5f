#!/usr/bin/env python3
"""torn_reader.py - read a stamped secret (tests/tools/stamp.c) until a stop
file appears, and report what it saw as JSON: reads, torn values, mixed
generations within one ..data resolution, retries, generations seen.

  torn_reader.py plain DIR STOPFILE     DIR/<key> files, each read whole
  torn_reader.py kubelet DIR STOPFILE   readlink DIR/..data once, then every
                                        key through that generation's folder
"""
import errno
import json
import os
import sys

KEYS = ["a", "b", "c", "big"]


def expect(gen, key):
    big = key == "big"
    s = "gen=%d key=%s " % (gen, key)
    length = (8192 if big else 64) + (gen % 97) * (41 if big else 7)
    out = [s]
    n = len(s)
    j = 0
    while n < length:
        out.append(chr(ord("a") + (gen + j) % 26))
        n += 1
        j += 1
    return "".join(out)


def check(value, key):
    """The generation a value claims, or None if it is torn."""
    try:
        head = value.split(" ", 2)
        gen = int(head[0][4:])
        if head[0][:4] != "gen=" or head[1] != "key=" + key:
            return None
    except (ValueError, IndexError):
        return None
    return gen if value == expect(gen, key) else None


def main():
    mode, base, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    res = {"reads": 0, "torn": 0, "mixed": 0, "retries": 0, "gens": []}
    seen = set()
    while not os.path.exists(stop):
        try:
            if mode == "plain":
                for k in KEYS:
                    with open(os.path.join(base, k)) as f:
                        v = f.read()
                    g = check(v, k)
                    res["reads"] += 1
                    if g is None:
                        res["torn"] += 1
                        sys.stderr.write("torn %s: len %d %r...%r\n" % (k, len(v), v[:24], v[-24:]))
                    else:
                        seen.add(g)
            else:
                target = os.readlink(os.path.join(base, "..data"))
                gens = set()
                for k in KEYS:
                    with open(os.path.join(base, target, k)) as f:
                        v = f.read()
                    g = check(v, k)
                    res["reads"] += 1
                    if g is None:
                        res["torn"] += 1
                        sys.stderr.write("torn %s: %r\n" % (k, v[:80]))
                    else:
                        gens.add(g)
                        seen.add(g)
                if len(gens) > 1:
                    res["mixed"] += 1
                    sys.stderr.write("mixed: %s %s\n" % (target, sorted(gens)))
        except OSError as e:
            # a generation that has gone between readlink and open: resolve again
            if e.errno != errno.ENOENT:
                raise
            res["retries"] += 1
    res["gens"] = len(seen)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
