/* Enclave containers: a config that names an enclave runs its workload
 * through an enclave runtime (a PAL, pal/pal.h) loaded into the container's
 * init, instead of exec'ing it. This header covers the config side, the init
 * side and the `exec` side. */
#ifndef RUNE_ENCLAVE_H
#define RUNE_ENCLAVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "oci_config.h"
#include "error.h"

/* What the config asks for (ENCLAVE_* in process.env first, then the
 * enclave.* annotations). */
struct rune_enclave {
	char *type;     /* "sim", "intelSgx", ... */
	char *path;     /* host path of the PAL */
	char *args;     /* commas turned into spaces */
	char *loglevel; /* normalised */
	bool simulation;
};

/* Read the enclave settings into c->enclave (NULL for a plain container);
 * the rest of the config is left as it was. */
int librune_enclave_config_parse(struct rune_config *c, rune_error_t *err);
/* Free settings. */
void librune_enclave_free(struct rune_enclave *e);
/* process.env as the workload sees it: without the ENCLAVE_* settings. */
char **librune_enclave_workload_env(char *const *env);
/* At create, in rune: refuse a type the host cannot back, check the PAL file. */
int librune_enclave_check_host(const struct rune_enclave *e, rune_error_t *err);
/* At create, a step of its own: add the host's enclave devices (SGX) and
 * services (aesmd) to the config of an enclave container. */
int librune_enclave_add_host_devices(struct rune_config *c, rune_error_t *err);
/* The warning every simulated enclave carries, in logs and state. */
#define ENCLAVE_SIMULATION_WARNING                                                                                     \
	"simulation: no TEE hardware, the workload's memory and code are not protected from the host"

/* What the init learnt about the enclave at create, for state.json. */
struct enclave_info {
	int pal_version;
	bool has_measurement;
	char measurement[65]; /* hex */
	bool debug;           /* the report says the enclave is debuggable (no confidentiality) */
	char info[2048];      /* the runtime's own JSON object (pal_get_info), or "" */
};

/* In the init, before pivot_root: load the PAL from its host path (the
 * init's one enclave runtime, kept by enclave_init.c). */
int librune_enclave_init_load(const struct rune_enclave *e, rune_error_t *err);
/* In the init, inside the rootfs, in process.cwd and before dropping
 * privileges: pal_init, then what state.json should show. */
int librune_enclave_init_create(const struct rune_enclave *e, struct enclave_info *info, rune_error_t *err);
/* In the init, after `start`: run the workload through the PAL, serve `exec`
 * requests on exec_listen_fd, forward signals; write the wait status to
 * status_fd and exit with the workload's code. fds 3..3+preserve_fds-1 stay open. */
void librune_enclave_init_run(const struct rune_enclave *e, const struct rune_process *p, int exec_listen_fd,
                              int status_fd, int preserve_fds) __attribute__((noreturn));

/* Messages on an exec connection (SOCK_SEQPACKET). */
enum enclave_msg {
	ENCLAVE_EXEC = 1, /* -> init: JSON {args, env, terminal, width, height}; stdio fds unless terminal */
	ENCLAVE_STARTED,  /* <- init: value = enclave pid; the pty master when terminal */
	ENCLAVE_ERROR,    /* <- init: text */
	ENCLAVE_EXITED,   /* <- init: value = wait status */
	ENCLAVE_SIGNAL,   /* -> init: value = signal for the process */
};
#define ENCLAVE_MSG_MAX (1 << 20)
#define ENCLAVE_SOCKET  "enclave.sock"
#define ENCLAVE_STATUS  "enclave.status"

/* Send one message with up to 3 fds. */
int librune_enclave_msg_send(int sock, int type, int value, const char *text, const int *fds, size_t nfds,
                             rune_error_t *err);
/* Receive one message (text NUL-terminated, fds up to 3 received); EOF is type 0. */
int librune_enclave_msg_recv(int sock, int *type, int *value, char **text, int *fds, size_t *nfds, rune_error_t *err);

#endif
