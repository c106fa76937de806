/* Base64 and hex as signatures, keys, annotations and JOSE objects carry them. */
#ifndef RUNE_ENCODING_H
#define RUNE_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

/* Decode standard base64 (RFC 4648, padding optional, CR/LF skipped as Go's
 * decoder does); *out is NUL-terminated for convenience. False if s is not
 * base64. */
bool rune_base64_decode(const char *s, size_t n, unsigned char **out, size_t *len);
/* Decode base64url (RFC 4648 §5), as JWTs and some bundles use it. */
bool rune_base64url_decode(const char *s, size_t n, unsigned char **out, size_t *len);
/* Standard base64 with padding. */
char *rune_base64_encode(const void *data, size_t n);
/* base64url without padding, as JOSE writes it. */
char *rune_base64url_encode(const void *data, size_t n);
/* Lowercase hex. */
char *rune_hex_encode(const void *data, size_t n);
/* Decode hex (either case); false on odd length or a non-hex digit. */
bool rune_hex_decode(const char *s, unsigned char **out, size_t *len);

#endif
