/* The client's side of a running connection: reads stdin without blocking, validates each instruction and
 * hands it to the backend; owns the clipboard streams in both directions. */
#include "session.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIPBOARD (1024 * 1024)
#define CLIPBOARD_STREAM "4098"

const char* param(const session_params* params, const char* name)
{
	for (int i = 0; i < params->count; i++)
		if (strcmp(params->names[i], name) == 0)
			return params->values[i] ? params->values[i] : "";
	return "";
}

int param_true(const session_params* params, const char* name)
{
	return strcmp(param(params, name), "true") == 0;
}

void session_init(session* s)
{
	memset(s, 0, sizeof(*s));
	gp_parser_init(&s->parser);
	s->clip_stream = -1;
}

void session_free(session* s)
{
	gp_parser_free(&s->parser);
	free(s->clip_buf);
	s->clip_buf = NULL;
}

/* Reads what stdin has now. 1: read something, 0: nothing available, -1: end of input. */
static int read_stdin(session* s)
{
	char chunk[65536];
	ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
	if (n > 0) {
		if (gp_parser_feed(&s->parser, chunk, (size_t)n) < 0) {
			gp_send_error("malformed input: instruction too long", STATUS_CLIENT_BAD_REQUEST);
			return -2;
		}
		return 1;
	}
	if (n == 0) {
		s->stdin_eof = 1;
		return -1;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : (s->stdin_eof = 1, -1);
}

int session_next(session* s, gp_instruction* out, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
	for (;;) {
		const char* why;
		int got = gp_parser_next(&s->parser, out, &why);
		if (got < 0) {
			char message[128];
			snprintf(message, sizeof(message), "malformed input: %s", why);
			gp_send_error(message, STATUS_CLIENT_BAD_REQUEST);
			return -1;
		}
		if (got > 0)
			return 1;
		if (s->stdin_eof)
			return 0;
		int wait = -1;
		if (timeout_ms >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return 0;
			wait = (int)left;
		}
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			return 0;
		int r = read_stdin(s);
		if (r == -2)
			return -1;
	}
}

static int decode_base64(const char* in, char** buf, size_t* len)
{
	uint32_t acc = 0;
	int bits = 0;
	for (const char* p = in; *p; p++) {
		int v;
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=')
			break;
		else
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (*len >= MAX_CLIPBOARD)
				return 0; /* too long for a clipboard: keep the beginning */
			char* grown = realloc(*buf, *len + 2);
			if (!grown)
				return -1;
			*buf = grown;
			(*buf)[(*len)++] = (char)(acc >> bits & 0xFF);
		}
	}
	return 0;
}

static int parse_stream(const char* text)
{
	long v;
	return parse_int(text, 0, 1L << 30, &v) < 0 ? -1 : (int)v;
}

static void ack(const char* stream, const char* message, const char* status)
{
	gp_send("ack", stream, message, status, NULL);
}

/* 0: handled, 1: disconnect, -1: malformed. */
static int dispatch(session* s, const gp_instruction* in)
{
	const char* op = in->opcode;
	long a, b, c;
	if (strcmp(op, "mouse") == 0) {
		if (in->argc < 3 || parse_int(in->argv[0], -100000, 100000, &a) || parse_int(in->argv[1], -100000, 100000, &b) ||
		    parse_int(in->argv[2], 0, 0xFFFF, &c))
			return -1;
		s->ops->mouse(s->impl, (int)a, (int)b, (int)c);
	} else if (strcmp(op, "key") == 0) {
		if (in->argc < 2 || parse_int(in->argv[0], 0, 0x7FFFFFFF, &a) || parse_int(in->argv[1], 0, 1, &b))
			return -1;
		s->ops->key(s->impl, (uint32_t)a, (int)b);
	} else if (strcmp(op, "sync") == 0) {
		long long ts;
		char* end;
		if (in->argc < 1 || !*in->argv[0])
			return -1;
		errno = 0;
		ts = strtoll(in->argv[0], &end, 10);
		if (errno || *end)
			return -1;
		display_ack(s->display, ts);
	} else if (strcmp(op, "size") == 0) {
		if (in->argc < 2 || parse_int(in->argv[0], 1, 16384, &a) || parse_int(in->argv[1], 1, 16384, &b))
			return -1;
		s->ops->resize(s->impl, (int)a, (int)b);
	} else if (strcmp(op, "keyframe") == 0) {
		display_request_keyframe(s->display);
	} else if (strcmp(op, "thumbnail") == 0) {
		if (in->argc < 1 || parse_int(in->argv[0], 16, 1024, &a))
			return -1;
		display_send_thumbnail(s->display, (int)a);
	} else if (strcmp(op, "clipboard") == 0) {
		if (in->argc < 2 || (a = parse_stream(in->argv[0])) < 0)
			return -1;
		s->clip_stream = (int)a;
		s->clip_text = strncmp(in->argv[1], "text/", 5) == 0;
		s->clip_len = 0;
	} else if (strcmp(op, "blob") == 0) {
		if (in->argc < 2 || (a = parse_stream(in->argv[0])) < 0)
			return -1;
		if (a != s->clip_stream) {
			ack(in->argv[0], "no such stream", "769");
			return 0;
		}
		if (decode_base64(in->argv[1], &s->clip_buf, &s->clip_len) < 0)
			return -1;
		ack(in->argv[0], "OK", "0");
	} else if (strcmp(op, "end") == 0) {
		if (in->argc < 1 || (a = parse_stream(in->argv[0])) < 0)
			return -1;
		if (a != s->clip_stream)
			return 0;
		ack(in->argv[0], "OK", "0");
		if (s->clip_text && !s->disable_paste)
			s->ops->clipboard(s->impl, s->clip_buf ? s->clip_buf : "", s->clip_len);
		s->clip_stream = -1;
		s->clip_len = 0;
	} else if (strcmp(op, "disconnect") == 0) {
		return 1;
	} else if (strcmp(op, "nop") != 0 && strcmp(op, "ack") != 0) {
		log_line("ignoring instruction %.32s", op);
	}
	return 0;
}

int session_pump(session* s)
{
	for (;;) {
		gp_instruction in;
		const char* why;
		int got = gp_parser_next(&s->parser, &in, &why);
		if (got < 0) {
			char message[128];
			snprintf(message, sizeof(message), "malformed input: %s", why);
			gp_send_error(message, STATUS_CLIENT_BAD_REQUEST);
			return -1;
		}
		if (got == 0) {
			if (s->stdin_eof)
				return 1;
			int r = read_stdin(s);
			if (r == -2)
				return -1;
			if (r == 0)
				break;
			continue;
		}
		int result = dispatch(s, &in);
		if (result < 0) {
			char message[128];
			snprintf(message, sizeof(message), "malformed input: bad arguments to %.32s", in.opcode);
			gp_send_error(message, STATUS_CLIENT_BAD_REQUEST);
			return -1;
		}
		if (result > 0)
			return 1;
	}
	gp_flush();
	return 0;
}

void session_send_clipboard(session* s, const char* text, size_t len)
{
	if (s->disable_copy)
		return;
	gp_send("clipboard", CLIPBOARD_STREAM, "text/plain", NULL);
	gp_send_blob(atoi(CLIPBOARD_STREAM), (const uint8_t*)text, len);
	gp_send("end", CLIPBOARD_STREAM, NULL);
	gp_flush();
}

int describe_connect_failure(const char* host, int port, char* message, size_t size)
{
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints = { 0 };
	hints.ai_socktype = SOCK_STREAM;
	struct addrinfo* addresses = NULL;
	int rc = getaddrinfo(host, service, &hints, &addresses);
	if (rc != 0) {
		snprintf(message, size, "could not reach %s:%d: unknown host (%s)", host, port, gai_strerror(rc));
		return STATUS_UPSTREAM_NOT_FOUND;
	}
	int status = STATUS_UPSTREAM_NOT_FOUND;
	int error = ECONNREFUSED;
	for (struct addrinfo* a = addresses; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			status = 0;
		} else if (errno == EINPROGRESS) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			int ready = poll(&pfd, 1, 5000);
			socklen_t len = sizeof(error);
			if (ready == 0) {
				status = STATUS_UPSTREAM_TIMEOUT;
				error = ETIMEDOUT;
			} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0) {
				status = 0;
			}
		} else {
			error = errno;
		}
		close(fd);
		if (status == 0)
			break;
	}
	freeaddrinfo(addresses);
	if (status == STATUS_UPSTREAM_TIMEOUT)
		snprintf(message, size, "timed out connecting to %s:%d", host, port);
	else if (status)
		snprintf(message, size, "could not reach %s:%d: %s", host, port,
		         error == ECONNREFUSED ? "connection refused" : strerror(error));
	return status;
}
