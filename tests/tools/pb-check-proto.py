#!/usr/bin/env python3
"""pb-check-proto.py - api/k8s.proto against the schema inside real kubectl.

    tests/tools/pb-check-proto.py [KUBECTL]     (default: kubectl.1.33)

kubectl, like every Go program built with Kubernetes' generated types, holds
the gzipped FileDescriptorProto of each generated.proto it links.  This reads
them out of the binary and checks every field of every message of
api/k8s.proto: same number, same label (optional/repeated), a compatible
wire type (our `bytes` for their string or bytes, our `repeated Entry` for
their map), and no field of theirs missing from ours.  Entry and ExtraEntry
are our spelling of map entries and are checked as such.  Exits 1 with the
differences, or when the kubectl or one of the six packages is not found.
"""
import os
import re
import shutil
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(os.path.dirname(os.path.dirname(HERE)), "api", "k8s.proto")
PACKAGES = [
    "k8s.io/apimachinery/pkg/runtime/generated.proto",
    "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto",
    "k8s.io/api/core/v1/generated.proto",
    "k8s.io/api/authorization/v1/generated.proto",
    "k8s.io/api/authentication/v1/generated.proto",
    "k8s.io/api/rbac/v1/generated.proto",
]
# FieldDescriptorProto.type: what each of ours may stand for
WIRE = {"bytes": {9, 12}, "bool": {8}, "int64": {3}, "int32": {5}}
TYPE_MESSAGE = 11


def varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def fields(b):
    i, out = 0, []
    while i < len(b):
        k, i = varint(b, i)
        f, w = k >> 3, k & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % w)
        out.append((f, v))
    return out


def first(fl, n, default=None):
    return next((v for f, v in fl if f == n), default)


def messages(desc, pkg, out, prefix=""):
    """DescriptorProto -> out[(pkg, Name)] = {field: (number, label, type, type_name)}"""
    fl = fields(desc)
    name = prefix + first(fl, 1).decode()
    fs = {}
    for f, v in fl:
        if f == 2:
            ff = fields(v)
            fs[first(ff, 1).decode()] = (first(ff, 3), first(ff, 4), first(ff, 5),
                                         (first(ff, 6) or b"").decode())
        elif f == 3:
            messages(v, pkg, out, name + ".")
    out[(pkg, name)] = fs


def upstream(kubectl):
    data = open(kubectl, "rb").read()
    out, seen = {}, set()
    for m in re.finditer(b"\x1f\x8b\x08\x00\x00\x00\x00\x00", data):
        try:
            fd = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[m.start():m.start() + (1 << 20)])
            fl = fields(fd)
            fname = first(fl, 1, b"").decode()
        except Exception:
            continue
        if fname in PACKAGES:
            seen.add(fname)
            for f, v in fl:
                if f == 4:
                    messages(v, fname, out)
    missing = set(PACKAGES) - seen
    if missing:
        sys.exit("pb-check-proto: %s holds no descriptor of %s" % (kubectl, ", ".join(sorted(missing))))
    return out


def ours():
    out, cur = {}, None
    for line in open(PROTO):
        line = line.split("//")[0].strip()
        m = re.match(r"message (\w+) \{", line)
        if m:
            cur = out[m.group(1)] = {}
            continue
        m = re.match(r"(optional|repeated) (\S+) (\w+) = (\d+);", line)
        if m and cur is not None:
            cur[m.group(3)] = (int(m.group(4)), m.group(1), m.group(2))
    return out


def matches(mine, theirs, up):
    """the differences between one of our messages and one of theirs"""
    diffs = []
    for fn, (num, label, typ) in sorted(mine.items()):
        if fn not in theirs:
            diffs.append("field %s: not upstream" % fn)
            continue
        unum, ulabel, utype, utname = theirs[fn]
        if unum != num:
            diffs.append("field %s: number %d, upstream %d" % (fn, num, unum))
        if {1: "optional", 3: "repeated"}.get(ulabel) != label:
            diffs.append("field %s: %s, upstream label %s" % (fn, label, ulabel))
        if typ in WIRE:
            if utype not in WIRE[typ]:
                diffs.append("field %s: %s, upstream type %d" % (fn, typ, utype))
        elif utype != TYPE_MESSAGE:
            diffs.append("field %s: message %s, upstream type %d" % (fn, typ, utype))
        elif typ in ("Entry", "ExtraEntry"):
            # a map: its entry is key = 1, value = 2
            entry = next((v for (p, n), v in up.items() if "." + n == utname[-len(n) - 1:]), None)
            if not entry or entry.get("key", (0,))[0] != 1 or entry.get("value", (0,))[0] != 2:
                diffs.append("field %s: upstream %s is not a map" % (fn, utname))
        elif not utname.endswith("." + typ):
            diffs.append("field %s: message %s, upstream %s" % (fn, typ, utname))
    for fn in sorted(set(theirs) - set(mine)):
        diffs.append("field %s (%d): upstream only" % (fn, theirs[fn][0]))
    return diffs


def main():
    kubectl = sys.argv[1] if len(sys.argv) > 1 else (
        shutil.which("kubectl.1.33") or shutil.which("kubectl.1.33", path="/usr/lib/google-cloud-sdk/bin"))
    if not kubectl or not os.path.exists(kubectl):
        sys.exit("pb-check-proto: kubectl.1.33 not found (give its path)")
    up = upstream(kubectl)
    bad = 0
    for name, fs in sorted(ours().items()):
        if name in ("Entry", "ExtraEntry"):
            continue
        candidates = [(p, v) for (p, n), v in up.items() if n == name]
        if not candidates:
            print("%s: no such message upstream" % name)
            bad += 1
            continue
        results = [(p, matches(fs, v, up)) for p, v in candidates]
        if not any(not d for _, d in results):
            bad += 1
            for p, d in results:
                print("%s (against %s): %s" % (name, p, "; ".join(d)))
    if bad:
        sys.exit("pb-check-proto: %d message(s) of api/k8s.proto differ from %s" % (bad, kubectl))
    print("pb-check-proto: every message of api/k8s.proto matches %s" % kubectl)


if __name__ == "__main__":
    main()
