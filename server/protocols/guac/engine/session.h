/* One client connection after the handshake: the connection parameters, and the client's input stream
 * (mouse, keys, size, clipboard, sync, keyframe, disconnect) dispatched to the RDP or VNC backend. */
#ifndef GUAC_ENGINE_SESSION_H
#define GUAC_ENGINE_SESSION_H

#include "display.h"
#include "guac-protocol.h"

#include <stddef.h>
#include <stdint.h>

/* Status codes of the Guacamole protocol, as guacd sends them. */
#define STATUS_SERVER_ERROR 512
#define STATUS_UPSTREAM_TIMEOUT 514
#define STATUS_UPSTREAM_ERROR 515
#define STATUS_UPSTREAM_NOT_FOUND 519
#define STATUS_CLIENT_BAD_REQUEST 768
#define STATUS_CLIENT_UNAUTHORIZED 769
#define STATUS_CLIENT_FORBIDDEN 771

#define MAX_PARAMS 24

typedef struct {
	int count;
	const char* names[MAX_PARAMS];
	char* values[MAX_PARAMS];
	int width, height, dpi; /* from the handshake's size instruction */
	int jpeg_allowed;
} session_params;

const char* param(const session_params* params, const char* name); /* "" when absent */
int param_true(const session_params* params, const char* name);

typedef struct {
	void (*mouse)(void* impl, int x, int y, int mask);
	void (*key)(void* impl, uint32_t keysym, int pressed);
	void (*resize)(void* impl, int width, int height);
	/* Browser → remote clipboard, UTF-8; not called when paste is disabled. */
	void (*clipboard)(void* impl, const char* text, size_t len);
} session_ops;

typedef struct {
	const session_ops* ops;
	void* impl;
	display* display;
	gp_parser parser;
	int disable_copy, disable_paste;
	int stdin_eof;
	int clip_stream; /* inbound clipboard stream, -1 when none is open */
	int clip_text;   /* its mimetype is text */
	char* clip_buf;
	size_t clip_len;
} session;

void session_init(session* s);
void session_free(session* s);
/* Next instruction from stdin, waiting up to timeout_ms (-1: forever). 1: got one, 0: timed out or no more
 * input (s->stdin_eof), -1: malformed (error instruction already sent). */
int session_next(session* s, gp_instruction* out, int timeout_ms);
/* Handles everything readable on stdin without blocking. 0: go on, 1: the client is gone or said
 * disconnect, -1: malformed input (error already sent). */
int session_pump(session* s);
/* Remote → browser clipboard (UTF-8), unless copy is disabled. */
void session_send_clipboard(session* s, const char* text, size_t len);

/* Why a connection to host:port failed, found by trying a plain TCP connection: fills message and returns
 * 519 (unreachable, refused, unknown host) or 514 (timeout), or 0 when the host does accept connections. */
int describe_connect_failure(const char* host, int port, char* message, size_t size);

int rdp_run(session* s, session_params* params);
int vnc_run(session* s, session_params* params);

#endif
