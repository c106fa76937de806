/* A gzip layer stream, inflated twice: through ISA-L's igzip (the default)
 * and through zlib (RUNE_IMAGE_INFLATE=zlib). Differential: both must accept
 * the same streams and make the same bytes of them, or both refuse — a
 * stream one inflater takes and the other refuses would give two diff_ids
 * for one layer. Truncation, trailing garbage and concatenated members are
 * all in scope. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_reader.h"
#include "stream.h"

#define OUT_CAP (8u << 20) /* an inflated stream longer than this is not compared */

/* Inflate data with one inflater; 0 and the output, or -1 (refused). */
static int inflate_with(const char *inflater, const uint8_t *data, size_t size, uint8_t *out, size_t *out_len)
{
	struct fuzz_reader m = fuzz_reader(data, size, true);
	setenv("RUNE_IMAGE_INFLATE", inflater, 1);
	struct reader *r = image_reader_decompress(&m.r, COMPRESSION_GZIP, "layer");
	rune_error_t err = NULL;
	size_t got;
	int rc = 0;
	*out_len = 0;
	do {
		size_t room = OUT_CAP - *out_len;
		if (room == 0) {
			rc = 1; /* too long to compare */
			break;
		}
		if (r->read(r, out + *out_len, room < 65536 ? room : 65536, &got, &err) < 0) {
			rune_error_release(&err);
			rc = -1;
			break;
		}
		*out_len += got;
	} while (got > 0);
	image_reader_free(r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *a, *b;
	if (a == NULL) {
		a = malloc(OUT_CAP);
		b = malloc(OUT_CAP);
		FUZZ_ASSERT(a && b);
	}
	size_t alen, blen;
	int ra = inflate_with("isal", data, size, a, &alen);
	int rb = inflate_with("zlib", data, size, b, &blen);
	if (ra == 1 || rb == 1)
		return 0;
	FUZZ_ASSERT(ra == rb);
	if (ra == 0)
		FUZZ_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
	return 0;
}
