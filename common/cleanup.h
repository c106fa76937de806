/* Scope-bound ownership helpers (__attribute__((cleanup))). Hand ownership on
 * explicitly with take_ptr()/take_fd(). */
#ifndef RUNE_CLEANUP_H
#define RUNE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"

static inline void cleanup_freep(void *p)
{
	void **pp = (void **) p;
	free(*pp);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void cleanup_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static inline void cleanup_errorp(rune_error_t *e)
{
	rune_error_release(e);
}

/* Free a NULL-terminated array of strings and the array itself. */
static inline void cleanup_strvp(char ***v)
{
	if (*v) {
		for (char **p = *v; *p; p++)
			free(*p);
		free(*v);
		*v = NULL;
	}
}

#define cleanup_free  __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_file  __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_dir   __attribute__((cleanup(cleanup_closedirp)))
#define cleanup_error __attribute__((cleanup(cleanup_errorp)))
#define cleanup_strv  __attribute__((cleanup(cleanup_strvp)))

static inline void *take_ptr_(void **p)
{
	void *v = *p;
	*p = NULL;
	return v;
}
#define take_ptr(p) take_ptr_((void **) &(p))

static inline int take_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#endif
