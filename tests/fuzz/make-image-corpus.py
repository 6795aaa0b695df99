#!/usr/bin/env python3
"""Writes the seed tarballs of fuzz_image into tests/fuzz/corpus/image/.

Tiny and deterministic (fixed times and owners), so that rerunning it
changes nothing. fuzz_image unpacks into ROOT/cache/.unpack-XXXXXX and
keeps a sentinel at ROOT/outside/victim: the escape seeds aim there, at
"../../outside". Run from anywhere: python3 tests/fuzz/make-image-corpus.py
"""
import gzip
import io
import lzma
import os
import shutil
import subprocess
import tarfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "image")
ESCAPE = "../../outside"


def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = 1700000000
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def tar(entries, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for info, data in entries:
            if kind_has_data(info) and data:
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)
        end = t.offset + 2 * tarfile.BLOCKSIZE
    # Up to the end-of-archive blocks: tarfile pads the rest to 10 KiB.
    return buf.getvalue()[:end]


def kind_has_data(info):
    return info.type in (tarfile.REGTYPE, tarfile.AREGTYPE)


def hardlink_with_data(name, target, data):
    """A hard link entry that carries data, which only pax archives may do
    (libarchive ignores a hard link's size elsewhere): extracted naively,
    the data lands in the link's target."""
    info, _ = entry(name, tarfile.LNKTYPE, link=target)
    info.pax_headers = {"size": str(len(data))}
    pad = (-len(data)) % tarfile.BLOCKSIZE
    return info.tobuf(tarfile.PAX_FORMAT) + data + b"\0" * pad


ROOTFS = [
    entry("etc", tarfile.DIRTYPE, mode=0o755),
    entry("etc/hostname", data=b"pod\n"),
    entry("etc/hosts", data=b"127.0.0.1 localhost\n"),
    entry("bin", tarfile.DIRTYPE, mode=0o755),
    entry("bin/sh", data=b"#!/bin/busybox\n", mode=0o755),
    entry("bin/busybox", tarfile.SYMTYPE, link="sh", mode=0o777),
    entry("bin/ash", tarfile.LNKTYPE, link="bin/sh"),
    entry("usr/bin/setuid", data=b"x", mode=0o4755),
    entry("dev/null", tarfile.CHRTYPE, mode=0o666),
    entry("run/fifo", tarfile.FIFOTYPE),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {}
    plain = tar(ROOTFS)
    seeds["plain.tar"] = plain
    seeds["gzip.tar.gz"] = gzip.compress(plain, compresslevel=9, mtime=0)
    seeds["xz.tar.xz"] = lzma.compress(plain)
    seeds["pax.tar"] = tar([entry("a" * 120 + "/" + "b" * 120, data=b"long"),
                            entry("etc", tarfile.DIRTYPE, mode=0o700)], tarfile.PAX_FORMAT)
    seeds["symlink-escape.tar"] = tar([entry("esc", tarfile.SYMTYPE, link=ESCAPE, mode=0o777),
                                       entry("esc/pwned", data=b"escaped\n")])
    seeds["symlink-absolute.tar"] = tar([entry("abs", tarfile.SYMTYPE, link="/", mode=0o777),
                                         entry("abs/tmp", tarfile.DIRTYPE)])
    seeds["dotdot.tar"] = tar([entry(ESCAPE + "/pwned", data=b"escaped\n")])
    seeds["dotdot-inner.tar"] = tar([entry("a", tarfile.DIRTYPE),
                                     entry("a/../../" + ESCAPE + "/victim", data=b"overwritten\n")])
    seeds["hardlink-escape.tar"] = tar([entry("h", tarfile.LNKTYPE, link=ESCAPE + "/victim")])
    seeds["hardlink-data.tar"] = (tar([entry("f", data=b"inside\n")], tarfile.PAX_FORMAT)[:-1024] +
                                  hardlink_with_data("h", "f", b"rewritten\n") +
                                  hardlink_with_data("h2", ESCAPE + "/victim", b"overwritten\n") +
                                  b"\0" * 1024)
    seeds["truncated.tar"] = plain[:700]
    seeds["truncated.tar.gz"] = seeds["gzip.tar.gz"][:len(seeds["gzip.tar.gz"]) // 2]
    zstd = shutil.which("zstd")
    if zstd:  # the bundled images' own compression
        seeds["zstd.tar.zst"] = subprocess.run([zstd, "-q", "-19", "-c"], input=plain, check=True,
                                               stdout=subprocess.PIPE).stdout
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
