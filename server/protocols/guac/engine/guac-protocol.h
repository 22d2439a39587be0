/* Guacamole protocol wire format: a streaming instruction parser for stdin and a buffered writer for stdout.
 * Element lengths count Unicode code points, as guacd and guacamole-common-js do. */
#ifndef GUAC_ENGINE_PROTOCOL_H
#define GUAC_ENGINE_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define GP_MAX_ELEMENTS 64
#define GP_MAX_INSTRUCTION (256 * 1024)

typedef struct {
	const char* opcode;
	int argc;
	const char* argv[GP_MAX_ELEMENTS];
} gp_instruction;

typedef struct {
	char* buf;
	size_t len;
	size_t cap;
	size_t consumed; /* bytes of the previously returned instruction, dropped on the next call */
} gp_parser;

void gp_parser_init(gp_parser* parser);
void gp_parser_free(gp_parser* parser);
/* Appends raw bytes; returns -1 when the pending instruction would exceed GP_MAX_INSTRUCTION. */
int gp_parser_feed(gp_parser* parser, const char* data, size_t len);
/* 1: an instruction is in *out (valid until the next call), 0: need more input, -1: malformed input. */
int gp_parser_next(gp_parser* parser, gp_instruction* out, const char** why);

/* Writer. All writes go through one buffer guarded by a mutex; gp_flush() pushes it to stdout. */
void gp_send(const char* opcode, ...); /* NULL-terminated list of const char* arguments */
void gp_sendv(const char* opcode, int argc, const char* const* argv);
void gp_send_blob(int stream, const uint8_t* data, size_t len);
/* opcode,argv...,<data as base64>; — one instruction, for data the gateway reads whole (a thumbnail). */
void gp_sendv_with_data(const char* opcode, int argc, const char* const* argv, const uint8_t* data, size_t len);
void gp_flush(void);
/* Sends error,<message>,<status> and flushes. */
void gp_send_error(const char* message, int status);
/* Locks the writer so a sequence of instructions (a keyframe) cannot be interleaved by another thread. */
void gp_lock(void);
void gp_unlock(void);
/* Keeps the real stdout for the protocol alone and points fd 1 at stderr, so that nothing a library prints
 * (FreeRDP's WLog writes to stdout) can corrupt the instruction stream. */
int gp_claim_stdout(void);

int64_t now_ms(void);
void log_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int parse_int(const char* text, long min, long max, long* out);

#endif
