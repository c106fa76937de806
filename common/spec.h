/* The default OCI runtime config (runc's `spec`), with the parts an image
 * decides (process, annotations) overridable. */
#ifndef RUNE_SPEC_H
#define RUNE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>

#define SPEC_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct spec_process {
	const char *const *args, *const *env; /* NULL-terminated */
	const char *cwd;
	unsigned uid, gid;
	const unsigned *gids; /* additional gids */
	size_t n_gids;
	bool terminal;
};

struct spec_opts {
	bool rootless, readonly;
	const char *hostname;                        /* NULL: "rune" */
	const struct spec_process *process;          /* NULL: runc's default (sh, terminal) */
	void (*annotations)(yajl_gen g, void *data); /* writes key/values; NULL: none */
	void *data;
};

/* Write the config object into g. */
void rune_spec_gen(yajl_gen g, const struct spec_opts *o);

#endif
