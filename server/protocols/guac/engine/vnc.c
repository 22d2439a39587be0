/* VNC backend on libvncclient: 32 bpp framebuffer in the display's B, G, R, X layout, framebuffer updates
 * as damage, keysyms passed through as they are, SetDesktopSize for resizing, cut text as clipboard. */
#include "session.h"

#include <poll.h>
#include <rfb/rfbclient.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 15

typedef struct {
	rfbClient* client;
	session* s;
	const session_params* params;
	int pending_width, pending_height;
} vnc_conn;

static int client_tag;
static char last_library_error[256];

static vnc_conn* conn_of(rfbClient* client)
{
	return rfbClientGetClientData(client, &client_tag);
}

/* libvncclient reports failures only as log lines: keep the last one to explain a failed connect. */
static void library_log(const char* format, ...)
{
	va_list ap;
	va_start(ap, format);
	vsnprintf(last_library_error, sizeof(last_library_error), format, ap);
	va_end(ap);
	size_t n = strlen(last_library_error);
	while (n && (last_library_error[n - 1] == '\n' || last_library_error[n - 1] == ' '))
		last_library_error[--n] = '\0';
	log_line("libvncclient: %s", last_library_error);
}

static rfbBool on_resize(rfbClient* client)
{
	vnc_conn* c = conn_of(client);
	display_set_framebuffer(c->s->display, NULL, 0, 0, 0);
	free(client->frameBuffer);
	client->frameBuffer = calloc((size_t)client->width * (size_t)client->height, 4);
	if (!client->frameBuffer) {
		log_line("no memory for a %dx%d framebuffer", client->width, client->height);
		return FALSE;
	}
	display_set_framebuffer(c->s->display, client->frameBuffer, client->width, client->height, client->width * 4);
	log_line("framebuffer %dx%d", client->width, client->height);
	return TRUE;
}

static void on_update(rfbClient* client, int x, int y, int w, int h)
{
	display_damage(conn_of(client)->s->display, x, y, w, h);
}

static char* on_password(rfbClient* client)
{
	return strdup(param(conn_of(client)->params, "password"));
}

static rfbCredential* on_credential(rfbClient* client, int type)
{
	if (type != rfbCredentialTypeUser)
		return NULL;
	rfbCredential* credential = calloc(1, sizeof(*credential));
	if (!credential)
		return NULL;
	credential->userCredential.username = strdup(param(conn_of(client)->params, "username"));
	credential->userCredential.password = strdup(param(conn_of(client)->params, "password"));
	return credential;
}

/* Cut text is Latin-1 in RFB; the browser wants UTF-8. */
static void on_cut_text(rfbClient* client, const char* text, int len)
{
	if (len < 0)
		return;
	char* utf8 = malloc((size_t)len * 2 + 1);
	if (!utf8)
		return;
	size_t n = 0;
	for (int i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch < 0x80) {
			utf8[n++] = (char)ch;
		} else {
			utf8[n++] = (char)(0xC0 | ch >> 6);
			utf8[n++] = (char)(0x80 | (ch & 0x3F));
		}
	}
	session_send_clipboard(conn_of(client)->s, utf8, n);
	free(utf8);
}

static void on_cursor(rfbClient* client, int hot_x, int hot_y, int width, int height, int bytes_per_pixel)
{
	if (bytes_per_pixel != 4 || !client->rcSource || !client->rcMask || width <= 0 || height <= 0)
		return;
	uint8_t* bgra = malloc((size_t)width * (size_t)height * 4);
	if (!bgra)
		return;
	for (int i = 0; i < width * height; i++) {
		memcpy(bgra + i * 4, client->rcSource + i * 4, 3);
		bgra[i * 4 + 3] = client->rcMask[i] ? 255 : 0;
	}
	display_set_cursor(conn_of(client)->s->display, bgra, width, height, hot_x, hot_y);
	free(bgra);
}

static void vnc_mouse(void* impl, int x, int y, int mask)
{
	vnc_conn* c = impl;
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	/* Guacamole's button mask is RFB's: 1 left, 2 middle, 4 right, 8/16 wheel. */
	SendPointerEvent(c->client, x, y, mask & 0x1F);
}

static void vnc_key(void* impl, uint32_t keysym, int pressed)
{
	vnc_conn* c = impl;
	SendKeyEvent(c->client, keysym, pressed ? TRUE : FALSE);
}

static void vnc_resize(void* impl, int width, int height)
{
	vnc_conn* c = impl;
	c->pending_width = width;
	c->pending_height = height;
}

/* Browser text → Latin-1 cut text; characters outside Latin-1 become '?'. */
static void vnc_clipboard(void* impl, const char* text, size_t len)
{
	vnc_conn* c = impl;
	char* latin1 = malloc(len + 1);
	if (!latin1)
		return;
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		unsigned char ch = (unsigned char)text[i];
		uint32_t cp;
		size_t step;
		if (ch < 0x80) {
			cp = ch;
			step = 1;
		} else if ((ch & 0xE0) == 0xC0 && i + 1 < len) {
			cp = (uint32_t)(ch & 0x1F) << 6 | ((unsigned char)text[i + 1] & 0x3F);
			step = 2;
		} else {
			cp = '?';
			step = (ch & 0xF0) == 0xE0 ? 3 : (ch & 0xF8) == 0xF0 ? 4 : 1;
		}
		latin1[n++] = (char)(cp <= 0xFF ? cp : '?');
		i += step;
	}
	SendClientCutText(c->client, latin1, (int)n);
	free(latin1);
}

static void put16(uint8_t* p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* libvncclient 0.9.14's SendExtDesktopSize leaves the screen's id, position and flags uninitialised; a
 * server that takes them (TigerVNC) answers with a layout whose screen id libvncclient then rejects, and its
 * framebuffer never follows the new size. So the engine writes SetDesktopSize itself, with the screen the
 * server announced. */
static void send_desktop_size(rfbClient* client, int width, int height)
{
	uint8_t message[8 + 16] = { rfbSetDesktopSize, 0 };
	put16(message + 2, (uint32_t)width);
	put16(message + 4, (uint32_t)height);
	message[6] = 1;
	/* id and flags stay as they came from the server: network order */
	memcpy(message + 8, &client->screen.id, 4);
	memcpy(message + 20, &client->screen.flags, 4);
	put16(message + 16, (uint32_t)width);
	put16(message + 18, (uint32_t)height);
	WriteToRFBServer(client, (const char*)message, sizeof(message));
}

static const session_ops vnc_ops = { vnc_mouse, vnc_key, vnc_resize, vnc_clipboard };

static int connect_failure(const char* host, int port)
{
	char message[512];
	if (strstr(last_library_error, "uthentication") || strstr(last_library_error, "assword")) {
		gp_send_error("authentication failed: the desktop refused the username or password", STATUS_CLIENT_UNAUTHORIZED);
		return 1;
	}
	int status = describe_connect_failure(host, port, message, sizeof(message));
	if (status) {
		gp_send_error(message, status);
		return 1;
	}
	snprintf(message, sizeof(message), "VNC connection to %s:%d failed: %s", host, port,
	         last_library_error[0] ? last_library_error : "unknown error");
	gp_send_error(message, STATUS_UPSTREAM_ERROR);
	return 1;
}

int vnc_run(session* s, session_params* params)
{
	const char* host = param(params, "hostname");
	long port = 5900;
	if (!*host) {
		gp_send_error("no hostname given for the VNC connection", STATUS_CLIENT_BAD_REQUEST);
		return 1;
	}
	if (*param(params, "port") && parse_int(param(params, "port"), 1, 65535, &port)) {
		gp_send_error("the VNC port must be a number from 1 to 65535", STATUS_CLIENT_BAD_REQUEST);
		return 1;
	}
	rfbClientLog = library_log;
	rfbClientErr = library_log;

	vnc_conn c = { 0 };
	c.s = s;
	c.params = params;
	rfbClient* client = rfbGetClient(8, 3, 4);
	if (!client) {
		gp_send_error("the desktop engine ran out of memory", STATUS_SERVER_ERROR);
		return 1;
	}
	c.client = client;
	rfbClientSetClientData(client, &client_tag, &c);
	/* Little-endian 32 bpp with red in bits 16-23: bytes B, G, R, X, the display's layout. */
	client->format.redShift = 16;
	client->format.greenShift = 8;
	client->format.blueShift = 0;
	client->MallocFrameBuffer = on_resize;
	client->GotFrameBufferUpdate = on_update;
	client->GetPassword = on_password;
	client->GetCredential = on_credential;
	client->GotXCutText = on_cut_text;
	client->GotCursorShape = on_cursor;
	client->appData.useRemoteCursor = TRUE;
	client->canHandleNewFBSize = TRUE;
	client->connectTimeout = CONNECT_TIMEOUT_S;
	client->readTimeout = CONNECT_TIMEOUT_S;
	client->serverHost = strdup(host);
	client->serverPort = (int)port;
	s->ops = &vnc_ops;
	s->impl = &c;

	int64_t started = now_ms();
	/* rfbInitClient frees the client when it fails. */
	if (!rfbInitClient(client, NULL, NULL)) {
		if (now_ms() - started >= CONNECT_TIMEOUT_S * 1000 - 500) {
			char message[300];
			snprintf(message, sizeof(message), "timed out connecting to %s:%ld", host, port);
			gp_send_error(message, STATUS_UPSTREAM_TIMEOUT);
			return 1;
		}
		return connect_failure(host, (int)port);
	}
	log_line("connected to %s:%ld (%s) in %lld ms", host, port, client->desktopName ? client->desktopName : "",
	         (long long)(now_ms() - started));
	gp_send("ready", "$vnc-engine", NULL);
	char w[16], h[16];
	snprintf(w, sizeof(w), "%d", client->width);
	snprintf(h, sizeof(h), "%d", client->height);
	gp_send("size", "0", w, h, NULL);
	gp_flush();

	int status = 0;
	for (;;) {
		/* libvncclient fills in the screen from the server's ExtendedDesktopSize announcement. */
		int can_resize = client->screen.width != 0;
		if (c.pending_width == client->width && c.pending_height == client->height) {
			c.pending_width = c.pending_height = 0;
		} else if (c.pending_width && can_resize) {
			log_line("requesting desktop size %dx%d", c.pending_width, c.pending_height);
			send_desktop_size(client, c.pending_width, c.pending_height);
		} else if (c.pending_width) {
			log_line("cannot resize to %dx%d: the VNC server does not support SetDesktopSize", c.pending_width,
			         c.pending_height);
		}
		c.pending_width = c.pending_height = 0;
		int timeout = display_due_in(s->display);
		if (client->buffered > 0)
			timeout = 0;
		struct pollfd fds[2] = { { client->sock, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
		if (poll(fds, 2, timeout) < 0)
			continue;
		if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) || client->buffered > 0) {
			int width = client->width, height = client->height;
			if (!HandleRFBServerMessage(client)) {
				log_line("the VNC server closed the connection");
				gp_send("disconnect", NULL);
				break;
			}
			/* libvncclient asks for a full update after a plain DesktopSize but not after an
			 * ExtendedDesktopSize one, and TigerVNC then sends nothing more until asked. */
			if (width != client->width || height != client->height)
				SendFramebufferUpdateRequest(client, 0, 0, client->width, client->height, FALSE);
		}
		if (fds[1].revents) {
			int r = session_pump(s);
			if (r < 0) {
				status = 1;
				break;
			}
			if (r > 0) {
				log_line("the client disconnected");
				break;
			}
		}
		if (display_due_in(s->display) == 0)
			display_flush(s->display);
	}
	gp_flush();
	display_set_framebuffer(s->display, NULL, 0, 0, 0);
	/* rfbClientCleanup leaves the framebuffer to whoever allocated it. */
	free(client->frameBuffer);
	client->frameBuffer = NULL;
	rfbClientCleanup(client);
	return status;
}
