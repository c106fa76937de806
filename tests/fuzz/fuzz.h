/* Shared by the libFuzzer targets (tests/fuzz/README.md). */
#ifndef RUNE_FUZZ_H
#define RUNE_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (parsers of text take C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Where a target may put files: $TMPDIR (run-one.sh gives each run its
 * own and removes it after), else /tmp. */
static inline const char *fuzz_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/* The input written to a file of this process's own (for parsers that read
 * a path); returns the path. */
static inline const char *fuzz_input_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/rune-fuzz-%s.%d", fuzz_tmpdir(), name, (int) getpid());
	FILE *f = fopen(path, "w");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	return path;
}

/* A fatal finding: libFuzzer keeps the input that got here. */
#define FUZZ_ASSERT(cond)                                                                                              \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			__builtin_trap();                                                                              \
	} while (0)
#endif
