/* ttrpc framing: a 10-byte header (length, stream id — both big endian — type,
 * flags) and a protobuf payload of at most SHIM_MAX_MESSAGE bytes. The server
 * side parses frames in server.c as they arrive; here are the writes and the
 * one client call the shim makes (publishing events). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "google/rpc/status.pb-c.h"
#include "shim.h"
#include "ttrpc.pb-c.h"
#include "util.h"

/* How long a peer may take to read a frame or answer a call. */
#define TTRPC_IO_TIMEOUT_MS 5000

static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, TTRPC_IO_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 0 : -1;
}

static int write_full(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT) == 0)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t) w;
	}
	return 0;
}

static int read_full(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t r = recv(fd, p, len, MSG_DONTWAIT);
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN) == 0)
				continue;
			return -1;
		}
		p += r;
		len -= (size_t) r;
	}
	return 0;
}

int shim_ttrpc_send(int fd, uint32_t stream, uint8_t type, const void *payload, size_t len)
{
	uint8_t hdr[10];
	uint32_t be_len = htonl((uint32_t) len), be_stream = htonl(stream);

	if (len > SHIM_MAX_MESSAGE) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(hdr, &be_len, 4);
	memcpy(hdr + 4, &be_stream, 4);
	hdr[8] = type;
	hdr[9] = 0;
	if (write_full(fd, hdr, sizeof(hdr)) < 0)
		return -1;
	return write_full(fd, payload, len);
}

int shim_ttrpc_respond(int fd, uint32_t stream, int code, const char *message, const ProtobufCMessage *reply)
{
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
	cleanup_free uint8_t *payload = NULL, *buf = NULL;
	size_t n;

	if (code != SHIM_OK) {
		status.code = code;
		status.message = (char *) (message ? message : "");
		resp.status = &status;
	} else if (reply != NULL) {
		resp.payload.len = protobuf_c_message_get_packed_size(reply);
		payload = xmalloc(resp.payload.len + 1);
		protobuf_c_message_pack(reply, payload);
		resp.payload.data = payload;
	}
	n = protobuf_c_message_get_packed_size(&resp.base);
	if (n > SHIM_MAX_MESSAGE) {
		/* Never the case for the Task service's answers; say so rather than cut. */
		status.code = SHIM_RESOURCE_EXHAUSTED;
		status.message = (char *) "response larger than the ttrpc message limit";
		resp.status = &status;
		resp.payload.len = 0;
		n = protobuf_c_message_get_packed_size(&resp.base);
	}
	buf = xmalloc(n + 1);
	protobuf_c_message_pack(&resp.base, buf);
	return shim_ttrpc_send(fd, stream, TTRPC_RESPONSE, buf, n);
}

int shim_unix_connect(const char *address, int *fd, rune_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = address;
	int s;

	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/')
		return rune_error(err, EINVAL, "socket address %s: not an absolute unix socket path", address);
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return rune_error(err, errno, "socket");
	if (connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		int e = errno;
		close(s);
		return rune_error(err, e, "connect %s", address);
	}
	*fd = s;
	return 0;
}

/* Read frames until the response for stream arrives (a server may interleave
 * others; a client of ours has only one call outstanding). */
static int read_response(int fd, uint32_t stream, uint8_t **payload, size_t *len)
{
	for (;;) {
		uint8_t hdr[10];
		uint32_t n, id;

		if (read_full(fd, hdr, sizeof(hdr)) < 0)
			return -1;
		memcpy(&n, hdr, 4);
		memcpy(&id, hdr + 4, 4);
		n = ntohl(n);
		id = ntohl(id);
		if (n > SHIM_MAX_MESSAGE) {
			errno = EMSGSIZE;
			return -1;
		}
		cleanup_free uint8_t *buf = xmalloc(n + 1);
		if (read_full(fd, buf, n) < 0)
			return -1;
		if (id == stream && hdr[8] == TTRPC_RESPONSE) {
			*payload = buf;
			buf = NULL;
			*len = n;
			return 0;
		}
	}
}

int shim_ttrpc_call(int fd, uint32_t stream, const char *service, const char *method, const ProtobufCMessage *msg,
                    rune_error_t *err)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	cleanup_free uint8_t *payload = NULL, *buf = NULL, *answer = NULL;
	Ttrpc__Response *resp;
	size_t n, alen;
	int ret = 0;

	req.service = (char *) service;
	req.method = (char *) method;
	req.payload.len = protobuf_c_message_get_packed_size(msg);
	payload = xmalloc(req.payload.len + 1);
	protobuf_c_message_pack(msg, payload);
	req.payload.data = payload;
	req.timeout_nano = (int64_t) TTRPC_IO_TIMEOUT_MS * 1000000;
	n = protobuf_c_message_get_packed_size(&req.base);
	buf = xmalloc(n + 1);
	protobuf_c_message_pack(&req.base, buf);
	if (shim_ttrpc_send(fd, stream, TTRPC_REQUEST, buf, n) < 0)
		return rune_error(err, errno, "%s/%s: send", service, method);
	if (read_response(fd, stream, &answer, &alen) < 0)
		return rune_error(err, errno, "%s/%s: read the response", service, method);
	resp = ttrpc__response__unpack(NULL, alen, answer);
	if (resp == NULL)
		return rune_error(err, EPROTO, "%s/%s: the response does not parse", service, method);
	if (resp->status != NULL && resp->status->code != 0)
		ret = rune_error(err, 0, "%s/%s: %s (code %d)", service, method,
		                 resp->status->message ? resp->status->message : "", resp->status->code);
	ttrpc__response__free_unpacked(resp, NULL);
	return ret;
}
