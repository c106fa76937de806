#!/usr/bin/python3
"""Encrypt layers of an OCI layout image the way ocicrypt does, for what
Debian's skopeo 1.9 cannot write (+zstd+encrypted, key-provider recipients)
and for hostile variants. Independent of rune: python3-cryptography for
AES-256-CTR and HMAC-SHA256, python3-jwcrypto for JWE. skopeo
--decryption-key must open what this writes (the tests check that).

  ocicrypt.py LAYOUT TAG NEWTAG --recipient jwe:PUB.pem|pkcs7:CERT.pem|provider:NAME[:PARAMS]
      [--layer N]...            only these layers (default: all)
      [--flip-byte]             flip one ciphertext byte after the HMAC
      [--tamper-hmac]           a wrong HMAC in pubopts
      [--cipher NAME]           another cipher name in pubopts
      [--drop-keys]             no key annotation
      [--huge-annotation]       a 10 MB key annotation
      [--other-digest]          the wrapped options name another plaintext digest
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from jwcrypto import jwe, jwk

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def blob_path(layout, digest):
    algo, hexd = digest.split(":")
    return os.path.join(layout, "blobs", algo, hexd)


def blob_write(layout, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.dirname(blob_path(layout, d)), exist_ok=True)
    with open(blob_path(layout, d), "wb") as f:
        f.write(data)
    return d


def blob_read(layout, digest):
    with open(blob_path(layout, digest), "rb") as f:
        return f.read()


def wrap_jwe(pub_pem, opts):
    key = jwk.JWK.from_pem(pub_pem)
    alg = "RSA-OAEP" if key["kty"] == "RSA" else "ECDH-ES+A256KW"
    token = jwe.JWE(opts, protected=json.dumps({"alg": alg, "enc": "A256GCM"}))
    token.add_recipient(key)
    return token.serialize()


def wrap_pkcs7(cert, opts):
    """Standard CMS enveloped data, by OpenSSL (ocicrypt's own encoding differs)."""
    return subprocess.run(["openssl", "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", cert],
                          input=opts, stdout=subprocess.PIPE, check=True).stdout


def wrap_provider(name, params, opts):
    with open(os.environ["OCICRYPT_KEYPROVIDER_CONFIG"]) as f:
        cmd = json.load(f)["key-providers"][name]["cmd"]
    req = {"op": "keywrap", "keywrapparams": {
        "ec": {"Parameters": {name: [base64.b64encode(params.encode()).decode()]} if params else {},
               "DecryptConfig": {"Parameters": {}}},
        "optsdata": base64.b64encode(opts).decode()}}
    out = subprocess.run([cmd["path"]] + cmd.get("args", []), input=json.dumps(req).encode(),
                         stdout=subprocess.PIPE, check=True).stdout
    return json.loads(out)["keywrapresults"]["annotation"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("layout")
    ap.add_argument("tag")
    ap.add_argument("newtag")
    ap.add_argument("--recipient", required=True)
    ap.add_argument("--layer", type=int, action="append")
    for flag in ("flip-byte", "tamper-hmac", "drop-keys", "huge-annotation", "other-digest"):
        ap.add_argument("--" + flag, action="store_true")
    ap.add_argument("--cipher", default="AES_256_CTR_HMAC_SHA256")
    a = ap.parse_args()
    with open(os.path.join(a.layout, "index.json")) as f:
        index = json.load(f)
    desc = next(m for m in index["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == a.tag)
    manifest = json.loads(blob_read(a.layout, desc["digest"]))
    for i, layer in enumerate(manifest["layers"]):
        if a.layer and i not in a.layer:
            continue
        plain = blob_read(a.layout, layer["digest"])
        key, nonce = os.urandom(32), os.urandom(16)
        enc = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
        ct = bytearray(enc.update(plain) + enc.finalize())
        mac = hmac.new(key, bytes(ct), hashlib.sha256).digest()
        if a.flip_byte:
            ct[len(ct) // 2] ^= 0x01
        if a.tamper_hmac:
            mac = bytes([mac[0] ^ 1]) + mac[1:]
        digest = layer["digest"] if not a.other_digest else "sha256:" + "0" * 64
        opts = json.dumps({"symkey": base64.b64encode(key).decode(), "digest": digest,
                           "cipheroptions": {"nonce": base64.b64encode(nonce).decode()}}).encode()
        kind, _, rest = a.recipient.partition(":")
        ann = {"org.opencontainers.image.enc.pubopts": base64.b64encode(json.dumps(
            {"cipher": a.cipher, "hmac": base64.b64encode(mac).decode(), "cipheroptions": {}}).encode()).decode()}
        if kind == "jwe":
            with open(rest, "rb") as f:
                wrapped = base64.b64encode(wrap_jwe(f.read(), opts).encode()).decode()
            ann["org.opencontainers.image.enc.keys.jwe"] = wrapped
        elif kind == "pkcs7":
            ann["org.opencontainers.image.enc.keys.pkcs7"] = base64.b64encode(wrap_pkcs7(rest, opts)).decode()
        else:
            name, _, params = rest.partition(":")
            ann["org.opencontainers.image.enc.keys.provider." + name] = wrap_provider(name, params, opts)
        if a.drop_keys:
            ann = {k: v for k, v in ann.items() if not k.startswith("org.opencontainers.image.enc.keys.")}
        if a.huge_annotation:
            ann["org.opencontainers.image.enc.keys.jwe"] = "A" * (10 << 20)
        manifest["layers"][i] = {"mediaType": layer["mediaType"] + "+encrypted", "digest": blob_write(a.layout, bytes(ct)),
                                 "size": len(ct), "annotations": ann}
    mdata = json.dumps(manifest).encode()
    new = {"mediaType": MT_MANIFEST, "digest": blob_write(a.layout, mdata), "size": len(mdata),
           "annotations": {"org.opencontainers.image.ref.name": a.newtag}}
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != a.newtag] + [new]
    with open(os.path.join(a.layout, "index.json"), "w") as f:
        json.dump(index, f)


if __name__ == "__main__":
    sys.exit(main())
