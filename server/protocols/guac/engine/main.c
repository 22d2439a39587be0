/* guac-engine: one desktop connection speaking the Guacamole protocol on stdin/stdout, like one connection
 * of guacd. main() runs the guacd 1.5 handshake (select, args, size/audio/video/image, connect) and hands over. */
#include "session.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROTOCOL_VERSION "VERSION_1_5_0"
#define HANDSHAKE_TIMEOUT_MS 15000

static const char* const rdp_names[] = { "hostname", "port", "domain", "username", "password", "width", "height", "dpi",
	                                     "security", "ignore-cert", "cert-fingerprints", "server-layout", "resize-method",
	                                     "disable-copy", "disable-paste", "remote-app", "remote-app-dir",
	                                     "remote-app-args" };
static const char* const vnc_names[] = { "hostname", "port", "username", "password", "disable-copy", "disable-paste" };

static int fail(const char* message)
{
	gp_send_error(message, STATUS_CLIENT_BAD_REQUEST);
	return 1;
}

static int handshake(session* s, session_params* params, int* is_rdp)
{
	gp_instruction in;
	int got = session_next(s, &in, HANDSHAKE_TIMEOUT_MS);
	if (got < 0)
		return 1;
	if (got == 0)
		return fail("handshake: the client sent no select instruction");
	if (strcmp(in.opcode, "select") != 0 || in.argc < 1)
		return fail("handshake: expected select,<protocol>");
	const char* const* names;
	int count;
	if (strcmp(in.argv[0], "rdp") == 0) {
		*is_rdp = 1;
		names = rdp_names;
		count = (int)(sizeof(rdp_names) / sizeof(rdp_names[0]));
	} else if (strcmp(in.argv[0], "vnc") == 0) {
		*is_rdp = 0;
		names = vnc_names;
		count = (int)(sizeof(vnc_names) / sizeof(vnc_names[0]));
	} else {
		return fail("handshake: unsupported protocol (this engine speaks rdp and vnc)");
	}
	const char* args[MAX_PARAMS + 1] = { PROTOCOL_VERSION };
	for (int i = 0; i < count; i++)
		args[i + 1] = names[i];
	gp_sendv("args", count + 1, args);
	gp_flush();

	params->count = count;
	params->width = 1024;
	params->height = 768;
	params->dpi = 96;
	for (int i = 0; i < count; i++)
		params->names[i] = names[i];
	for (;;) {
		got = session_next(s, &in, HANDSHAKE_TIMEOUT_MS);
		if (got < 0)
			return 1;
		if (got == 0)
			return fail("handshake: the client did not send connect in time");
		long v;
		if (strcmp(in.opcode, "size") == 0) {
			if (in.argc >= 2 && parse_int(in.argv[0], 1, 16384, &v) == 0)
				params->width = (int)v;
			if (in.argc >= 2 && parse_int(in.argv[1], 1, 16384, &v) == 0)
				params->height = (int)v;
			if (in.argc >= 3 && parse_int(in.argv[2], 1, 1000, &v) == 0)
				params->dpi = (int)v;
		} else if (strcmp(in.opcode, "image") == 0) {
			for (int i = 0; i < in.argc; i++)
				if (strcmp(in.argv[i], "image/jpeg") == 0)
					params->jpeg_allowed = 1;
		} else if (strcmp(in.opcode, "connect") == 0) {
			int first = in.argc > 0 && strncmp(in.argv[0], "VERSION_", 8) == 0 ? 1 : 0;
			for (int i = 0; i < count; i++)
				params->values[i] = strdup(first + i < in.argc ? in.argv[first + i] : "");
			return 0;
		}
	}
}

int main(int argc, char** argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: guac-engine  (speaks the Guacamole protocol on stdin/stdout)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (gp_claim_stdout() < 0) {
		perror("guac-engine: stdout");
		return 1;
	}
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);

	session s;
	session_params params = { 0 };
	session_init(&s);
	int is_rdp = 0;
	int status = handshake(&s, &params, &is_rdp);
	if (status == 0) {
		s.disable_copy = param_true(&params, "disable-copy");
		s.disable_paste = param_true(&params, "disable-paste");
		s.display = display_new();
		if (!s.display) {
			gp_send_error("the desktop engine ran out of memory", STATUS_SERVER_ERROR);
			status = 1;
		} else {
			display_allow_jpeg(s.display, params.jpeg_allowed);
			status = is_rdp ? rdp_run(&s, &params) : vnc_run(&s, &params);
		}
		gp_flush();
	}
	display_free(s.display);
	session_free(&s);
	for (int i = 0; i < params.count; i++) {
		if (params.values[i]) {
			memset(params.values[i], 0, strlen(params.values[i]));
			free(params.values[i]);
		}
	}
	return status;
}
