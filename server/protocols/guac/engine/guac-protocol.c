/* Guacamole instruction parser and writer, plus the small helpers (clock, logging, number parsing) every
 * part of the engine shares. */
#include "guac-protocol.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void gp_parser_init(gp_parser* parser)
{
	memset(parser, 0, sizeof(*parser));
}

void gp_parser_free(gp_parser* parser)
{
	free(parser->buf);
	memset(parser, 0, sizeof(*parser));
}

static void parser_compact(gp_parser* parser)
{
	if (parser->consumed == 0)
		return;
	memmove(parser->buf, parser->buf + parser->consumed, parser->len - parser->consumed);
	parser->len -= parser->consumed;
	parser->consumed = 0;
}

int gp_parser_feed(gp_parser* parser, const char* data, size_t len)
{
	parser_compact(parser);
	if (parser->len + len > GP_MAX_INSTRUCTION + 64 * 1024)
		return -1;
	if (parser->len + len + 1 > parser->cap) {
		size_t cap = parser->cap ? parser->cap : 16384;
		while (cap < parser->len + len + 1)
			cap *= 2;
		char* grown = realloc(parser->buf, cap);
		if (!grown)
			return -1;
		parser->buf = grown;
		parser->cap = cap;
	}
	memcpy(parser->buf + parser->len, data, len);
	parser->len += len;
	return 0;
}

/* Bytes of the UTF-8 sequence starting with lead byte c, or 0 when c cannot start one. */
static int utf8_sequence_length(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

int gp_parser_next(gp_parser* parser, gp_instruction* out, const char** why)
{
	parser_compact(parser);
	size_t pos = 0;
	int count = 0;
	const char* elements[GP_MAX_ELEMENTS + 1];
	size_t ends[GP_MAX_ELEMENTS + 1];
	*why = NULL;
	for (;;) {
		size_t length = 0;
		int digits = 0;
		for (;;) {
			if (pos >= parser->len)
				return parser->len > GP_MAX_INSTRUCTION ? (*why = "instruction too long", -1) : 0;
			char c = parser->buf[pos];
			if (c == '.')
				break;
			if (c < '0' || c > '9' || ++digits > 7) {
				*why = "bad element length";
				return -1;
			}
			length = length * 10 + (size_t)(c - '0');
			pos++;
		}
		if (digits == 0) {
			*why = "missing element length";
			return -1;
		}
		pos++;
		size_t start = pos;
		for (size_t i = 0; i < length; i++) {
			if (pos >= parser->len)
				return parser->len > GP_MAX_INSTRUCTION ? (*why = "instruction too long", -1) : 0;
			int n = utf8_sequence_length((unsigned char)parser->buf[pos]);
			if (n == 0) {
				*why = "invalid UTF-8";
				return -1;
			}
			if (pos + (size_t)n > parser->len)
				return 0;
			for (int k = 1; k < n; k++) {
				if (((unsigned char)parser->buf[pos + k] & 0xC0) != 0x80) {
					*why = "invalid UTF-8";
					return -1;
				}
			}
			pos += (size_t)n;
		}
		if (pos >= parser->len)
			return 0;
		char terminator = parser->buf[pos];
		if (terminator != ',' && terminator != ';') {
			*why = "element length does not match its value";
			return -1;
		}
		if (count > GP_MAX_ELEMENTS) {
			*why = "too many elements";
			return -1;
		}
		elements[count] = parser->buf + start;
		ends[count] = pos;
		count++;
		pos++;
		if (terminator == ';')
			break;
	}
	/* Terminators are consumed, so they can become the values' NUL bytes. */
	for (int i = 0; i < count; i++)
		parser->buf[ends[i]] = '\0';
	out->opcode = elements[0];
	out->argc = count - 1;
	for (int i = 1; i < count; i++)
		out->argv[i - 1] = elements[i];
	parser->consumed = pos;
	return 1;
}

static pthread_mutex_t writer_lock;
static int protocol_fd = STDOUT_FILENO;
static pthread_once_t writer_once = PTHREAD_ONCE_INIT;
static char* out_buf;
static size_t out_len, out_cap;

static void writer_init(void)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&writer_lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

void gp_lock(void)
{
	pthread_once(&writer_once, writer_init);
	pthread_mutex_lock(&writer_lock);
}

void gp_unlock(void)
{
	pthread_mutex_unlock(&writer_lock);
}

static void out_reserve(size_t extra)
{
	if (out_len + extra <= out_cap)
		return;
	size_t cap = out_cap ? out_cap : 65536;
	while (cap < out_len + extra)
		cap *= 2;
	char* grown = realloc(out_buf, cap);
	if (!grown) {
		log_line("out of memory for output");
		_exit(70);
	}
	out_buf = grown;
	out_cap = cap;
}

static void out_append(const char* data, size_t len)
{
	out_reserve(len);
	memcpy(out_buf + out_len, data, len);
	out_len += len;
}

static size_t codepoints(const char* s, size_t bytes)
{
	size_t n = 0;
	for (size_t i = 0; i < bytes; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static void out_element(const char* value, size_t bytes, char terminator)
{
	char prefix[24];
	int n = snprintf(prefix, sizeof(prefix), "%zu.", codepoints(value, bytes));
	out_append(prefix, (size_t)n);
	out_append(value, bytes);
	out_append(&terminator, 1);
}

void gp_sendv(const char* opcode, int argc, const char* const* argv)
{
	gp_lock();
	out_element(opcode, strlen(opcode), argc ? ',' : ';');
	for (int i = 0; i < argc; i++)
		out_element(argv[i], strlen(argv[i]), i + 1 < argc ? ',' : ';');
	gp_unlock();
}

void gp_send(const char* opcode, ...)
{
	const char* argv[GP_MAX_ELEMENTS];
	int argc = 0;
	va_list ap;
	va_start(ap, opcode);
	const char* arg;
	while (argc < GP_MAX_ELEMENTS && (arg = va_arg(ap, const char*)) != NULL)
		argv[argc++] = arg;
	va_end(ap);
	gp_sendv(opcode, argc, argv);
}

/* 6048 base64 characters per blob, as guacd does: 4536 raw bytes. */
#define BLOB_RAW_CHUNK 4536

static void out_base64(const uint8_t* p, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	out_reserve((len + 2) / 3 * 4);
	char* o = out_buf + out_len;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	out_len = (size_t)(o - out_buf);
}

/* The data as the last element, base64 (a length in code points is its length in bytes). */
static void out_base64_element(const uint8_t* data, size_t len)
{
	char prefix[24];
	int n = snprintf(prefix, sizeof(prefix), "%zu.", (len + 2) / 3 * 4);
	out_append(prefix, (size_t)n);
	out_base64(data, len);
	out_append(";", 1);
}

void gp_send_blob(int stream, const uint8_t* data, size_t len)
{
	char stream_text[16];
	snprintf(stream_text, sizeof(stream_text), "%d", stream);
	gp_lock();
	for (size_t offset = 0; offset < len; offset += BLOB_RAW_CHUNK) {
		size_t chunk = len - offset < BLOB_RAW_CHUNK ? len - offset : BLOB_RAW_CHUNK;
		out_element("blob", 4, ',');
		out_element(stream_text, strlen(stream_text), ',');
		out_base64_element(data + offset, chunk);
	}
	gp_unlock();
}

void gp_sendv_with_data(const char* opcode, int argc, const char* const* argv, const uint8_t* data, size_t len)
{
	gp_lock();
	out_element(opcode, strlen(opcode), ',');
	for (int i = 0; i < argc; i++)
		out_element(argv[i], strlen(argv[i]), ',');
	out_base64_element(data, len);
	gp_unlock();
}

int gp_claim_stdout(void)
{
	int fd = dup(STDOUT_FILENO);
	if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return -1;
	protocol_fd = fd;
	return 0;
}

void gp_flush(void)
{
	gp_lock();
	size_t written = 0;
	while (written < out_len) {
		ssize_t n = write(protocol_fd, out_buf + written, out_len - written);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* The gateway went away: nobody is left to show anything to. */
			_exit(errno == EPIPE ? 0 : 74);
		}
		written += (size_t)n;
	}
	out_len = 0;
	gp_unlock();
}

void gp_send_error(const char* message, int status)
{
	char status_text[16];
	snprintf(status_text, sizeof(status_text), "%d", status);
	log_line("error %d: %s", status, message);
	gp_send("error", message, status_text, NULL);
	gp_flush();
}

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log_line(const char* fmt, ...)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "guac-engine[%d]: ", (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	for (char* c = line; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	size_t len = strlen(line);
	line[len++] = '\n';
	ssize_t ignored = write(STDERR_FILENO, line, len);
	(void)ignored;
}

int parse_int(const char* text, long min, long max, long* out)
{
	if (!text || !*text)
		return -1;
	errno = 0;
	char* end;
	long v = strtol(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
