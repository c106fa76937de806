/* ARRAY_SIZE: header-only, for every component (the enclave runtimes too,
 * which link nothing of common/). */
#ifndef RUNE_ARRAY_H
#define RUNE_ARRAY_H

/* Elements of an array; a pointer in its place does not compile. */
#define ARRAY_SIZE(a)                                                                                                  \
	(sizeof(a) / sizeof((a)[0])                                                                                    \
	 + 0 * sizeof(char[1 - 2 * __builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0]))]))

#endif
