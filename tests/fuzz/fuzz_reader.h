/* The fuzz input as an image stream reader (stream.h), for the targets that
 * feed the layer pipeline. */
#ifndef RUNE_FUZZ_READER_H
#define RUNE_FUZZ_READER_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "stream.h"

struct fuzz_reader {
	struct reader r;
	const uint8_t *data;
	size_t len, off;
	bool odd_slices; /* reads of varying small sizes, so structures straddle them */
};

static inline int fuzz_reader_read(struct reader *r, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	struct fuzz_reader *m = (struct fuzz_reader *) r;
	(void) err;
	*got = m->len - m->off < cap ? m->len - m->off : cap;
	if (m->odd_slices && *got > 1 + (m->off * 7919) % 4099)
		*got = 1 + (m->off * 7919) % 4099;
	memcpy(buf, m->data + m->off, *got);
	m->off += *got;
	return 0;
}

static inline void fuzz_reader_free(struct reader *r)
{
	(void) r; /* on the caller's stack */
}

static inline struct fuzz_reader fuzz_reader(const uint8_t *data, size_t len, bool odd_slices)
{
	return (struct fuzz_reader){ .r = { .read = fuzz_reader_read, .free = fuzz_reader_free },
		                     .data = data,
		                     .len = len,
		                     .odd_slices = odd_slices };
}
#endif
