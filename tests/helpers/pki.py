#!/usr/bin/env python3
"""Test PKI with python3-cryptography (an implementation independent of ours):
keys, a Fulcio-like CA, and short-lived code-signing certificates carrying an
email SAN and Fulcio's OIDC-issuer extensions, valid when we say.

  pki.py key OUT.pem [--curve p256|p384] [--ed25519] [--rsa]   private key (PKCS#8) + OUT.pub
  pki.py ca DIR NAME                                          DIR/NAME.pem (cert) DIR/NAME.key
  pki.py intermediate DIR NAME ISSUER                         signed by DIR/ISSUER
  pki.py leaf DIR NAME ISSUER EMAIL OIDC_ISSUER [--from T] [--to T] [--no-codesign] [--hostname H]
         DIR/NAME.pem, DIR/NAME.key; T are UNIX times (default now-60 .. now+600)
"""
import argparse
import datetime
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


def write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    pub = path[:-4] + ".pub" if path.endswith(".pem") else path + ".pub"
    with open(pub, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))


def load(dirname, name):
    with open(f"{dirname}/{name}.pem", "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(f"{dirname}/{name}.key", "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    return cert, key


def save(dirname, name, cert, key):
    with open(f"{dirname}/{name}.pem", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(f"{dirname}/{name}.key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def when(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def builder(subject, issuer, pub, start, end):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(pub)
            .serial_number(x509.random_serial_number()).not_valid_before(when(start)).not_valid_after(when(end))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rune tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("args", nargs="*")
    ap.add_argument("--curve", default="p256")
    ap.add_argument("--ed25519", action="store_true")
    ap.add_argument("--rsa", action="store_true")
    ap.add_argument("--from", dest="start", type=int)
    ap.add_argument("--to", dest="end", type=int)
    ap.add_argument("--no-codesign", action="store_true")
    ap.add_argument("--hostname")
    a = ap.parse_args()
    now = int(time.time())
    if a.cmd == "key":
        if a.ed25519:
            key = ed25519.Ed25519PrivateKey.generate()
        elif a.rsa:
            key = rsa.generate_private_key(65537, 2048)
        else:
            key = ec.generate_private_key(ec.SECP384R1() if a.curve == "p384" else ec.SECP256R1())
        write_key(a.args[0], key)
    elif a.cmd == "ca":
        d, n = a.args
        key = ec.generate_private_key(ec.SECP384R1())
        cert = (builder(name(n), name(n), key.public_key(), now - 86400, now + 86400 * 365)
                .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                .sign(key, hashes.SHA384()))
        save(d, n, cert, key)
    elif a.cmd == "intermediate":
        d, n, issuer = a.args
        icert, ikey = load(d, issuer)
        key = ec.generate_private_key(ec.SECP384R1())
        cert = (builder(name(n), icert.subject, key.public_key(), now - 86400, now + 86400 * 30)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                .sign(ikey, hashes.SHA384()))
        save(d, n, cert, key)
    elif a.cmd == "leaf":
        d, n, issuer, email, oidc = a.args
        icert, ikey = load(d, issuer)
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.RFC822Name(email)]
        if a.hostname:
            sans.append(x509.DNSName(a.hostname))
        b = (builder(x509.Name([]), icert.subject, key.public_key(),
                     a.start if a.start is not None else now - 60, a.end if a.end is not None else now + 600)
             .add_extension(x509.SubjectAlternativeName(sans), critical=True)
             .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
             .add_extension(x509.UnrecognizedExtension(ISSUER_V1, oidc.encode()), critical=False)
             # DER UTF8String: tag 0x0c, short length
             .add_extension(x509.UnrecognizedExtension(ISSUER_V2, bytes([0x0c, len(oidc)]) + oidc.encode()),
                            critical=False))
        if not a.no_codesign:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        save(d, n, b.sign(ikey, hashes.SHA384()), key)
    else:
        ap.error("unknown command " + a.cmd)


if __name__ == "__main__":
    main()
