/* PKCS7 / CMS enveloped data as ocicrypt writes it (pkcs7.c). */
#ifndef RUNE_IMAGE_PKCS7_H
#define RUNE_IMAGE_PKCS7_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

/* Open enveloped data for cert (whose private key is key); the content (at
 * most max bytes) or NULL with *why. */
char *image_pkcs7_decrypt(const unsigned char *der, size_t len, EVP_PKEY *key, X509 *cert, size_t max, size_t *out_len,
                          const char **why);

#endif
