/* Bind-mount sources opened by rune, on the host, before the init exists:
 * - idmapped bind mounts (runtime-spec 1.2 mounts[].uidMappings/gidMappings,
 *   options idmap and ridmap): rune clones the source tree with open_tree,
 *   attaches a user namespace carrying the mappings with mount_setattr, and
 *   hands the detached mount to the init, which moves it into place;
 * - every other bind mount of a container with its own user namespace: its
 *   root may not be allowed to reach the source, so rune clones the tree
 *   (detached, as above, without the idmap) and the init moves it in. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "oci_config.h"
#include "util.h"

int librune_idmap_write(pid_t pid, const char *file, const struct rune_idmap *m, size_t n, rune_error_t *err)
{
	cleanup_free char *buf = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *nb = xasprintf("%s%u %u %u\n", buf, m[i].container_id, m[i].host_id, m[i].size);
		free(buf);
		buf = nb;
	}
	cleanup_free char *path = xasprintf("/proc/%d/%s", (int) pid, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
		return rune_error(err, errno, "write %s", path);
	return 0;
}

/* A user namespace with these mappings, as an fd (held by a short-lived child). */
static int userns_with(const struct rune_mount *m, const struct rune_config *c, int *out, rune_error_t *err)
{
	const struct rune_idmap *u = m->n_uid_map ? m->uid_map : c->uid_mappings;
	const struct rune_idmap *g = m->n_gid_map ? m->gid_map : c->gid_mappings;
	size_t nu = m->n_uid_map ? m->n_uid_map : c->n_uid_mappings,
	       ng = m->n_gid_map ? m->n_gid_map : c->n_gid_mappings;
	if (nu == 0 || ng == 0)
		return rune_error(
		    err, EINVAL,
		    "mount %s: idmap without uidMappings/gidMappings needs the container's own (linux.uidMappings)",
		    m->destination);
	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return rune_error(err, errno, "pipe");
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return rune_error(err, errno, "pipe");
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]); /* or the read below would wait for ourselves */
		char b = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
		(void) !write(ready[1], &b, 1);
		(void) !read(hold[0], &b, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	char b = 'n';
	int r = 0;
	if (pid < 0 || read(ready[0], &b, 1) != 1 || b != 'y')
		r = rune_error(err, pid < 0 ? errno : EPERM, "mount %s: create a user namespace for the idmap",
		               m->destination);
	if (r == 0
	    && (librune_idmap_write(pid, "uid_map", u, nu, err) < 0
	        || librune_idmap_write(pid, "gid_map", g, ng, err) < 0))
		r = rune_error_wrap(err, "mount %s: idmap", m->destination);
	if (r == 0) {
		cleanup_free char *ns = xasprintf("/proc/%d/ns/user", (int) pid);
		*out = open(ns, O_RDONLY | O_CLOEXEC);
		if (*out < 0)
			r = rune_error(err, errno, "open %s", ns);
	}
	close(ready[0]);
	close(hold[1]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	return r;
}

static int prepare_idmapped(const struct rune_mount *m, const struct rune_config *c, int *out, rune_error_t *err)
{
	cleanup_close int userns = -1;
	bool recursive = (m->flags & MS_REC) != 0;
	if (userns_with(m, c, &userns, err) < 0)
		return -1;
	int fd = syscall(SYS_open_tree, AT_FDCWD, m->source ? m->source : "",
	                 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (fd < 0)
		return rune_error(err, errno, "mount %s: open_tree %s", m->destination, m->source ? m->source : "");
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = userns };
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (m->idmap == 2 ? AT_RECURSIVE : 0), &attr, sizeof(attr))
	    < 0) {
		int e = errno;
		close(fd);
		return rune_error(err, e, "mount %s: idmap %s (does its filesystem support idmapped mounts?)",
		                  m->destination, m->source ? m->source : "");
	}
	*out = fd;
	return 0;
}

/* A detached clone of the source tree (recursive for rbind), made here with
 * the host's credentials. */
static int clone_source(const struct rune_mount *m, int *out, rune_error_t *err)
{
	const char *src = m->source ? m->source : "";
	bool recursive = (m->flags & MS_REC) != 0;
	*out =
	    syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (*out < 0)
		return rune_error(err, errno, "mount source %s for %s", src, m->destination);
	return 0;
}

int librune_mount_sources_prepare(const struct rune_config *c, int **out, rune_error_t *err)
{
	bool userns = config_ns_new(c, NS_USER);
	*out = NULL;
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rune_mount *m = &c->mounts[i];
		if (!m->idmap && !(m->bind && userns))
			continue;
		if (*out == NULL) {
			*out = xcalloc(c->n_mounts, sizeof(int));
			for (size_t k = 0; k < c->n_mounts; k++)
				(*out)[k] = -1;
		}
		int r = m->idmap ? prepare_idmapped(m, c, &(*out)[i], err) : clone_source(m, &(*out)[i], err);
		if (r < 0) {
			librune_mount_sources_close(*out, c->n_mounts);
			free(*out);
			*out = NULL;
			return rune_error_wrap(err, "mounts[%zu]", i);
		}
	}
	return 0;
}

void librune_mount_sources_close(int *fds, size_t n)
{
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}
