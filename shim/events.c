/* Events to containerd: Events/Forward over ttrpc on $TTRPC_ADDRESS, one
 * connection kept open and made again once if containerd restarted. Each
 * event is an Any whose type URL is the message's full name, as containerd's
 * typeurl registry names them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "forward.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "log.h"
#include "shim.h"
#include "util.h"

#define EVENTS_SERVICE "containerd.services.events.ttrpc.v1.Events"

static int forward(struct shim_server *s, const ProtobufCMessage *req, rune_error_t *err)
{
	if (s->events_fd < 0 && shim_unix_connect(s->cfg->ttrpc_address, &s->events_fd, err) < 0)
		return -1;
	s->events_stream += 2;
	if (shim_ttrpc_call(s->events_fd, s->events_stream, EVENTS_SERVICE, "Forward", req, err) < 0) {
		close(s->events_fd);
		s->events_fd = -1;
		return -1;
	}
	return 0;
}

void shim_publish(struct shim_server *s, const char *topic, const ProtobufCMessage *event)
{
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
	    CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	Containerd__Services__Events__Ttrpc__V1__Envelope env = CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	cleanup_free uint8_t *value = NULL;
	struct timespec now;
	rune_error_t err = NULL;

	if (s->cfg->ttrpc_address == NULL || s->cfg->ttrpc_address[0] == '\0') {
		log_warning("event %s not published: TTRPC_ADDRESS is not set", topic);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t) now.tv_nsec;
	any.type_url = (char *) event->descriptor->name;
	any.value.len = protobuf_c_message_get_packed_size(event);
	value = xmalloc(any.value.len + 1);
	protobuf_c_message_pack(event, value);
	any.value.data = value;
	env.timestamp = &ts;
	env.namespace_ = s->cfg->ns;
	env.topic = (char *) topic;
	env.event = &any;
	req.envelope = &env;
	/* A second try covers a connection containerd closed when it restarted. */
	if (forward(s, &req.base, &err) < 0) {
		rune_error_release(&err);
		if (forward(s, &req.base, &err) < 0) {
			log_warning("publish %s: %s", topic, err->msg);
			rune_error_release(&err);
			return;
		}
	}
	log_debug("published %s", topic);
}
