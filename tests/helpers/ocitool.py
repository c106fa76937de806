#!/usr/bin/env python3
"""Build the test images that off-the-shelf tools will not: tars with exact
entries (whiteouts, opaque markers, hardlinks, devices, xattrs, and hostile
names), layers appended to an OCI layout image, and multi-platform indexes.
skopeo then pushes the layouts to the registry like any other image.

  ocitool.py tar OUT SPEC.json        SPEC: [{"name", "type", ...}, ...]
  ocitool.py add-layer LAYOUT TAG TAR [gzip|zstd|none]
  ocitool.py set-diffid LAYOUT TAG INDEX DIGEST
  ocitool.py index LAYOUT NEWTAG TAG=os/arch[/variant]...
  ocitool.py zstd-to-gzip LAYOUT TAG   (for umoci 0.4.7, which knows no zstd)
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"


def make_tar(out, spec):
    with open(spec) as f:
        entries = json.load(f)
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.mode = int(e.get("mode", "0644"), 8)
            ti.uid = e.get("uid", 0)
            ti.gid = e.get("gid", 0)
            ti.mtime = e.get("mtime", 1700000000)
            kind = e.get("type", "file")
            data = None
            if kind == "file":
                data = e.get("data", "").encode()
                ti.size = len(data)
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = int(e.get("mode", "0755"), 8)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = e["target"]
            elif kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = e["target"]
            elif kind == "char":
                ti.type = tarfile.CHRTYPE
                ti.devmajor, ti.devminor = e.get("major", 1), e.get("minor", 3)
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            xattrs = e.get("xattrs", {})
            if xattrs:
                ti.pax_headers = {"SCHILY.xattr." + k: bytes.fromhex(v).decode("utf-8", "surrogateescape")
                                  for k, v in xattrs.items()}
            t.addfile(ti, io.BytesIO(data) if data is not None else None)


def blob_write(layout, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def blob_read(layout, digest):
    with open(os.path.join(layout, "blobs", *digest.split(":")), "rb") as f:
        return f.read()


def load_index(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)


def set_tag(layout, tag, desc):
    idx = load_index(layout)
    idx["manifests"] = [m for m in idx["manifests"]
                        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    desc = dict(desc)
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    idx["manifests"].append(desc)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(idx, f)


def find_tag(layout, tag):
    for m in load_index(layout)["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    sys.exit("no tag %s in %s" % (tag, layout))


def add_layer(layout, tag, tar, comp="gzip"):
    desc = find_tag(layout, tag)
    manifest = json.loads(blob_read(layout, desc["digest"]))
    config = json.loads(blob_read(layout, manifest["config"]["digest"]))
    with open(tar, "rb") as f:
        raw = f.read()
    if comp == "gzip":
        data = gzip.compress(raw, mtime=0)
    elif comp == "zstd":
        data = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
    else:
        data = raw
    media = "application/vnd.oci.image.layer.v1.tar" + ("" if comp == "none" else "+" + comp)
    manifest["layers"].append({"mediaType": media, "digest": blob_write(layout, data), "size": len(data)})
    config.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append(
        "sha256:" + hashlib.sha256(raw).hexdigest())
    config.setdefault("history", []).append({"created_by": "ocitool add-layer", "created": "2023-11-14T00:00:00Z"})
    cdata = json.dumps(config).encode()
    manifest["config"] = {"mediaType": manifest["config"]["mediaType"], "digest": blob_write(layout, cdata),
                          "size": len(cdata)}
    mdata = json.dumps(manifest).encode()
    set_tag(layout, tag, {"mediaType": MT_MANIFEST, "digest": blob_write(layout, mdata), "size": len(mdata)})


def set_diffid(layout, tag, index, digest):
    desc = find_tag(layout, tag)
    manifest = json.loads(blob_read(layout, desc["digest"]))
    config = json.loads(blob_read(layout, manifest["config"]["digest"]))
    config["rootfs"]["diff_ids"][int(index)] = digest
    cdata = json.dumps(config).encode()
    manifest["config"] = {"mediaType": manifest["config"]["mediaType"], "digest": blob_write(layout, cdata),
                          "size": len(cdata)}
    mdata = json.dumps(manifest).encode()
    set_tag(layout, tag, {"mediaType": MT_MANIFEST, "digest": blob_write(layout, mdata), "size": len(mdata)})


def make_index(layout, newtag, entries):
    manifests = []
    for e in entries:
        tag, plat = e.split("=")
        parts = plat.split("/")
        d = dict(find_tag(layout, tag))
        d.pop("annotations", None)
        d["platform"] = {"os": parts[0], "architecture": parts[1]}
        if len(parts) > 2:
            d["platform"]["variant"] = parts[2]
        manifests.append(d)
    idata = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": manifests}).encode()
    set_tag(layout, newtag, {"mediaType": MT_INDEX, "digest": blob_write(layout, idata), "size": len(idata)})


def zstd_to_gzip(layout, tag):
    desc = find_tag(layout, tag)
    manifest = json.loads(blob_read(layout, desc["digest"]))
    for layer in manifest["layers"]:
        if layer["mediaType"].endswith("+zstd"):
            raw = subprocess.run(["zstd", "-d", "-q", "-c"], input=blob_read(layout, layer["digest"]),
                                 stdout=subprocess.PIPE, check=True).stdout
            data = gzip.compress(raw, mtime=0)
            layer.update({"mediaType": layer["mediaType"][:-len("+zstd")] + "+gzip",
                          "digest": blob_write(layout, data), "size": len(data)})
    mdata = json.dumps(manifest).encode()
    set_tag(layout, tag, {"mediaType": MT_MANIFEST, "digest": blob_write(layout, mdata), "size": len(mdata)})


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "tar":
        make_tar(sys.argv[2], sys.argv[3])
    elif cmd == "add-layer":
        add_layer(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else "gzip")
    elif cmd == "set-diffid":
        set_diffid(*sys.argv[2:6])
    elif cmd == "index":
        make_index(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "zstd-to-gzip":
        zstd_to_gzip(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
