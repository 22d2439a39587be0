/* RDP backend on FreeRDP 2: a client context with software GDI (32 bpp BGRX) whose paint region feeds the
 * display, the drdynvc/disp, cliprdr and (RemoteApp) rail channels, certificate pinning, and one thread for all
 * RDP calls. */
#include "keymap.h"
#include "rdp.h"

#include <ctype.h>
#include <freerdp/client/channels.h>
#include <freerdp/client/cmdline.h>
#include <freerdp/client/disp.h>
#include <freerdp/error.h>
#include <freerdp/event.h>
#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/graphics.h>
#include <freerdp/input.h>
#include <freerdp/codec/color.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <winpr/synch.h>

#define CONNECT_TIMEOUT_MS 15000
/* Browsers send a burst of sizes while a window is dragged: act on the last one. */
#define RESIZE_SETTLE_MS 300
#define RECONNECT_SETTLE_MS 800

enum resize_method { RESIZE_NONE, RESIZE_DISPLAY_UPDATE, RESIZE_RECONNECT };
enum run_result { RUN_CLIENT_LEFT, RUN_SERVER_LEFT, RUN_FAILED, RUN_RECONNECT };

typedef struct {
	uint32_t keysym;
	uint16_t scancode;
	uint32_t unicode;
} pressed_key;

/* State of the whole connection, kept across reconnects. */
typedef struct {
	session* s;
	const session_params* params;
	const char* host;
	int port;
	const keymap_layout* layout;
	enum resize_method resize_method;
	rdp_clipboard* clipboard;
	rdp_remote_app remote_app;
	char config_dir[64];
	int width, height;
	int pending_width, pending_height;
	int64_t resize_due;
	int mask, x, y;
	pressed_key pressed[16];
	int shift_l, shift_r, altgr;
	freerdp* instance; /* the current one */
} rdp_state;

typedef struct {
	rdpContext context; /* must be first: FreeRDP allocates ContextSize bytes and hands out rdpContext* */
	rdp_state* st;
	DispClientContext* disp;
	volatile int disp_ready;
	int cert_rejected;
	char server_fingerprint[160];
	int logon_error;
} engine_context;

typedef struct {
	rdpPointer pointer;
	uint8_t* bgra;
} engine_pointer;

static engine_context* ectx(rdpContext* context)
{
	return (engine_context*)context;
}

static BOOL begin_paint(rdpContext* context)
{
	HGDI_WND hwnd = context->gdi->primary->hdc->hwnd;
	hwnd->invalid->null = TRUE;
	hwnd->ninvalid = 0;
	return TRUE;
}

static BOOL end_paint(rdpContext* context)
{
	HGDI_WND hwnd = context->gdi->primary->hdc->hwnd;
	display* d = ectx(context)->st->s->display;
	if (hwnd->invalid->null)
		return TRUE;
	for (INT32 i = 0; i < hwnd->ninvalid; i++)
		display_damage(d, hwnd->cinvalid[i].x, hwnd->cinvalid[i].y, hwnd->cinvalid[i].w, hwnd->cinvalid[i].h);
	if (hwnd->ninvalid == 0)
		display_damage(d, hwnd->invalid->x, hwnd->invalid->y, hwnd->invalid->w, hwnd->invalid->h);
	hwnd->invalid->null = TRUE;
	hwnd->ninvalid = 0;
	return TRUE;
}

static void attach_framebuffer(rdpContext* context)
{
	rdpGdi* gdi = context->gdi;
	display_set_framebuffer(ectx(context)->st->s->display, gdi->primary_buffer, (int)gdi->width, (int)gdi->height,
	                        (int)gdi->stride);
}

static BOOL desktop_resize(rdpContext* context)
{
	rdpSettings* settings = context->settings;
	log_line("the server resized the desktop to %ux%u", settings->DesktopWidth, settings->DesktopHeight);
	display_set_framebuffer(ectx(context)->st->s->display, NULL, 0, 0, 0);
	if (!gdi_resize(context->gdi, settings->DesktopWidth, settings->DesktopHeight))
		return FALSE;
	attach_framebuffer(context);
	return TRUE;
}

static BOOL pointer_new(rdpContext* context, rdpPointer* pointer)
{
	engine_pointer* p = (engine_pointer*)pointer;
	if (pointer->width == 0 || pointer->height == 0 || pointer->width > 384 || pointer->height > 384)
		return TRUE;
	p->bgra = calloc((size_t)pointer->width * pointer->height, 4);
	if (!p->bgra)
		return FALSE;
	if (!freerdp_image_copy_from_pointer_data(p->bgra, PIXEL_FORMAT_BGRA32, 0, 0, 0, pointer->width, pointer->height,
	                                          pointer->xorMaskData, pointer->lengthXorMask, pointer->andMaskData,
	                                          pointer->lengthAndMask, pointer->xorBpp, &context->gdi->palette)) {
		free(p->bgra);
		p->bgra = NULL;
	}
	return TRUE;
}

static void pointer_free(rdpContext* context, rdpPointer* pointer)
{
	(void)context;
	engine_pointer* p = (engine_pointer*)pointer;
	free(p->bgra);
	p->bgra = NULL;
}

static BOOL pointer_set(rdpContext* context, const rdpPointer* pointer)
{
	const engine_pointer* p = (const engine_pointer*)pointer;
	if (p->bgra)
		display_set_cursor(ectx(context)->st->s->display, p->bgra, (int)pointer->width, (int)pointer->height,
		                   (int)pointer->xPos, (int)pointer->yPos);
	return TRUE;
}

static BOOL pointer_set_null(rdpContext* context)
{
	static const uint8_t transparent[4] = { 0, 0, 0, 0 };
	display_set_cursor(ectx(context)->st->s->display, transparent, 1, 1, 0, 0);
	return TRUE;
}

static BOOL pointer_ignore(rdpContext* context)
{
	(void)context;
	return TRUE;
}

static BOOL pointer_position(rdpContext* context, UINT32 x, UINT32 y)
{
	(void)context;
	(void)x;
	(void)y;
	return TRUE;
}

static UINT on_disp_caps(DispClientContext* disp, UINT32 max_monitors, UINT32 factor_a, UINT32 factor_b)
{
	(void)max_monitors;
	(void)factor_a;
	(void)factor_b;
	engine_context* c = disp->custom;
	c->disp_ready = 1;
	log_line("the server offers display control");
	return CHANNEL_RC_OK;
}

static void on_channel_connected(void* context, ChannelConnectedEventArgs* e)
{
	engine_context* c = context;
	if (strcmp(e->name, DISP_DVC_CHANNEL_NAME) == 0) {
		DispClientContext* disp = e->pInterface;
		disp->custom = c;
		disp->DisplayControlCaps = on_disp_caps;
		c->disp = disp;
	} else if (strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME) == 0) {
		rdp_clipboard_attach(c->st->clipboard, e->pInterface);
	} else if (strcmp(e->name, RAIL_SVC_CHANNEL_NAME) == 0) {
		rdp_rail_attach(e->pInterface, &c->st->remote_app);
	}
}

static void on_channel_disconnected(void* context, ChannelDisconnectedEventArgs* e)
{
	engine_context* c = context;
	if (strcmp(e->name, DISP_DVC_CHANNEL_NAME) == 0) {
		c->disp_ready = 0;
		c->disp = NULL;
	} else if (strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME) == 0) {
		rdp_clipboard_detach(c->st->clipboard, e->pInterface);
	} else if (strcmp(e->name, RAIL_SVC_CHANNEL_NAME) == 0) {
		c->st->remote_app.rail = NULL;
	}
}

static BOOL pre_connect(freerdp* instance)
{
	rdpContext* context = instance->context;
	PubSub_SubscribeChannelConnected(context->pubSub, on_channel_connected);
	PubSub_SubscribeChannelDisconnected(context->pubSub, on_channel_disconnected);
	return freerdp_client_load_addins(context->channels, context->settings);
}

static BOOL post_connect(freerdp* instance)
{
	rdpContext* context = instance->context;
	if (!gdi_init(instance, PIXEL_FORMAT_BGRX32))
		return FALSE;
	rdpPointer pointer = { 0 };
	pointer.size = sizeof(engine_pointer);
	pointer.New = pointer_new;
	pointer.Free = pointer_free;
	pointer.Set = pointer_set;
	pointer.SetNull = pointer_set_null;
	pointer.SetDefault = pointer_ignore;
	pointer.SetPosition = pointer_position;
	graphics_register_pointer(context->graphics, &pointer);
	instance->update->BeginPaint = begin_paint;
	instance->update->EndPaint = end_paint;
	instance->update->DesktopResize = desktop_resize;
	if (*ectx(context)->st->remote_app.program)
		rdp_rail_watch_windows(instance->update);
	return TRUE;
}

static void post_disconnect(freerdp* instance)
{
	rdpContext* context = instance->context;
	PubSub_UnsubscribeChannelConnected(context->pubSub, on_channel_connected);
	PubSub_UnsubscribeChannelDisconnected(context->pubSub, on_channel_disconnected);
	gdi_free(instance);
}

static int logon_error_info(freerdp* instance, UINT32 data, UINT32 type)
{
	engine_context* c = ectx(instance->context);
	log_line("logon error info: %s (%s)", freerdp_get_logon_error_info_data(data), freerdp_get_logon_error_info_type(type));
	c->logon_error = 1;
	return 1;
}

/* "AB:cd:…" and "abcd…" compare equal. */
static void normalize_fingerprint(const char* in, size_t len, char* out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < size; i++)
		if (isxdigit((unsigned char)in[i]))
			out[n++] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
}

static DWORD check_certificate(freerdp* instance, const char* fingerprint)
{
	engine_context* c = ectx(instance->context);
	const session_params* params = c->st->params;
	snprintf(c->server_fingerprint, sizeof(c->server_fingerprint), "%s", fingerprint ? fingerprint : "");
	if (param_true(params, "ignore-cert"))
		return 2;
	char server[160];
	normalize_fingerprint(c->server_fingerprint, strlen(c->server_fingerprint), server, sizeof(server));
	const char* list = param(params, "cert-fingerprints");
	while (*list) {
		const char* end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);
		char expected[160];
		normalize_fingerprint(list, len, expected, sizeof(expected));
		if (*expected && strcmp(expected, server) == 0)
			return 2; /* accept for this connection only; nothing is remembered */
		list += len + (end ? 1 : 0);
	}
	c->cert_rejected = 1;
	log_line("rejecting the server certificate %s", c->server_fingerprint);
	return 0;
}

static DWORD verify_certificate(freerdp* instance, const char* host, UINT16 port, const char* common_name,
                                const char* subject, const char* issuer, const char* fingerprint, DWORD flags)
{
	(void)host;
	(void)port;
	(void)common_name;
	(void)subject;
	(void)issuer;
	(void)flags;
	return check_certificate(instance, fingerprint);
}

static DWORD verify_changed_certificate(freerdp* instance, const char* host, UINT16 port, const char* common_name,
                                        const char* subject, const char* issuer, const char* fingerprint,
                                        const char* old_subject, const char* old_issuer, const char* old_fingerprint,
                                        DWORD flags)
{
	(void)old_subject;
	(void)old_issuer;
	(void)old_fingerprint;
	return verify_certificate(instance, host, port, common_name, subject, issuer, fingerprint, flags);
}

static BOOL client_new(freerdp* instance, rdpContext* context)
{
	(void)context;
	instance->PreConnect = pre_connect;
	instance->PostConnect = post_connect;
	instance->PostDisconnect = post_disconnect;
	instance->VerifyCertificateEx = verify_certificate;
	instance->VerifyChangedCertificateEx = verify_changed_certificate;
	instance->LogonErrorInfo = logon_error_info;
	return TRUE;
}

static void client_free(freerdp* instance, rdpContext* context)
{
	(void)instance;
	(void)context;
}

static rdpContext* new_context(rdp_state* st)
{
	RDP_CLIENT_ENTRY_POINTS entry = { 0 };
	entry.Size = sizeof(entry);
	entry.Version = RDP_CLIENT_INTERFACE_VERSION;
	entry.ContextSize = sizeof(engine_context);
	entry.ClientNew = client_new;
	entry.ClientFree = client_free;
	rdpContext* context = freerdp_client_context_new(&entry);
	if (!context)
		return NULL;
	ectx(context)->st = st;
	const session_params* p = st->params;
	rdpSettings* settings = context->settings;
	const char* security = param(p, "security");
	/* "any" means any security that proves the desktop's identity (TLS, or NLA over TLS): a desktop (or a man in
	 * the middle) answering the negotiation with standard RDP security would skip the certificate check and be
	 * handed the password. Standard RDP security only when asked for by name. */
	int any = !*security || strcmp(security, "any") == 0;
	BOOL ok = freerdp_settings_set_string(settings, FreeRDP_ServerHostname, st->host) &&
	          freerdp_settings_set_uint32(settings, FreeRDP_ServerPort, (UINT32)st->port) &&
	          freerdp_settings_set_uint32(settings, FreeRDP_DesktopWidth, (UINT32)st->width) &&
	          freerdp_settings_set_uint32(settings, FreeRDP_DesktopHeight, (UINT32)st->height) &&
	          freerdp_settings_set_uint32(settings, FreeRDP_ColorDepth, 32) &&
	          freerdp_settings_set_bool(settings, FreeRDP_SoftwareGdi, TRUE) &&
	          freerdp_settings_set_string(settings, FreeRDP_ConfigPath, st->config_dir) &&
	          freerdp_settings_set_bool(settings, FreeRDP_RdpSecurity, strcmp(security, "rdp") == 0) &&
	          freerdp_settings_set_bool(settings, FreeRDP_TlsSecurity, any || strcmp(security, "tls") == 0) &&
	          freerdp_settings_set_bool(settings, FreeRDP_NlaSecurity, any || strcmp(security, "nla") == 0) &&
	          freerdp_settings_set_bool(settings, FreeRDP_ExtSecurity, FALSE) &&
	          /* xrdp rejects salted MACs under standard RDP security ("MAC checksum error"); Windows takes both. */
	          freerdp_settings_set_bool(settings, FreeRDP_SaltedChecksum, FALSE) &&
	          freerdp_settings_set_bool(settings, FreeRDP_IgnoreCertificate, FALSE) &&
	          freerdp_settings_set_bool(settings, FreeRDP_AutoAcceptCertificate, FALSE) &&
	          freerdp_settings_set_uint32(settings, FreeRDP_KeyboardLayout, keymap_layout_id(st->layout)) &&
	          freerdp_settings_set_bool(settings, FreeRDP_RedirectClipboard, TRUE) &&
	          freerdp_settings_set_bool(settings, FreeRDP_SupportDisplayControl, st->resize_method == RESIZE_DISPLAY_UPDATE) &&
	          freerdp_settings_set_bool(settings, FreeRDP_DesktopResize, TRUE) &&
	          freerdp_settings_set_bool(settings, FreeRDP_SupportGraphicsPipeline, FALSE) &&
	          freerdp_settings_set_bool(settings, FreeRDP_AllowFontSmoothing, TRUE) &&
	          freerdp_settings_set_uint32(settings, FreeRDP_TcpConnectTimeout, CONNECT_TIMEOUT_MS);
	if (ok && *param(p, "username"))
		ok = freerdp_settings_set_string(settings, FreeRDP_Username, param(p, "username"));
	if (ok && *param(p, "password"))
		ok = freerdp_settings_set_string(settings, FreeRDP_Password, param(p, "password")) &&
		     freerdp_settings_set_bool(settings, FreeRDP_AutoLogonEnabled, TRUE);
	if (ok && *param(p, "domain"))
		ok = freerdp_settings_set_string(settings, FreeRDP_Domain, param(p, "domain"));
	/* RemoteApp mode makes FreeRDP load the rail channel and tell the server it takes window orders. */
	if (ok && *st->remote_app.program)
		ok = freerdp_settings_set_bool(settings, FreeRDP_RemoteApplicationMode, TRUE) &&
		     freerdp_settings_set_string(settings, FreeRDP_RemoteApplicationProgram, st->remote_app.program);
	if (!ok) {
		freerdp_client_context_free(context);
		return NULL;
	}
	return context;
}

static int remove_entry(const char* path, const struct stat* sb, int flag, struct FTW* ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_config_dir(const char* dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* freerdp_connect() can block far longer than anyone waits (a server that accepts TCP and then stalls):
 * abort it at the deadline, and end the process if even that does not return. */
typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	int fired;
	freerdp* instance;
	const char* config_dir;
	char message[300];
} watchdog;

static void* watchdog_main(void* arg)
{
	watchdog* w = arg;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += CONNECT_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&w->lock);
	while (!w->done && pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == 0)
		;
	if (!w->done) {
		w->fired = 1;
		log_line("connect timed out; aborting");
		freerdp_abort_connect(w->instance);
		deadline.tv_sec += 5;
		while (!w->done && pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == 0)
			;
		if (!w->done) {
			gp_send_error(w->message, STATUS_UPSTREAM_TIMEOUT);
			remove_config_dir(w->config_dir);
			_exit(1);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static BOOL connect_with_deadline(rdp_state* st, freerdp* instance, int* timed_out)
{
	watchdog w = { 0 };
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	w.instance = instance;
	w.config_dir = st->config_dir;
	snprintf(w.message, sizeof(w.message), "timed out connecting to %s:%d (no RDP login within %d s)", st->host,
	         st->port, CONNECT_TIMEOUT_MS / 1000);
	pthread_t thread;
	int started = pthread_create(&thread, NULL, watchdog_main, &w) == 0;
	BOOL connected = freerdp_connect(instance);
	pthread_mutex_lock(&w.lock);
	w.done = 1;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	if (started)
		pthread_join(thread, NULL);
	*timed_out = w.fired;
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return connected;
}

static int is_auth_error(UINT32 error)
{
	switch (error) {
		case FREERDP_ERROR_AUTHENTICATION_FAILED:
		case FREERDP_ERROR_CONNECT_LOGON_FAILURE:
		case FREERDP_ERROR_CONNECT_WRONG_PASSWORD:
		case FREERDP_ERROR_CONNECT_NO_OR_MISSING_CREDENTIALS:
		case FREERDP_ERROR_CONNECT_ACCESS_DENIED:
		case FREERDP_ERROR_CONNECT_ACCOUNT_RESTRICTION:
		case FREERDP_ERROR_CONNECT_ACCOUNT_LOCKED_OUT:
		case FREERDP_ERROR_CONNECT_ACCOUNT_EXPIRED:
		case FREERDP_ERROR_CONNECT_ACCOUNT_DISABLED:
		case FREERDP_ERROR_CONNECT_LOGON_TYPE_NOT_GRANTED:
		case FREERDP_ERROR_CONNECT_PASSWORD_EXPIRED:
		case FREERDP_ERROR_CONNECT_PASSWORD_CERTAINLY_EXPIRED:
		case FREERDP_ERROR_CONNECT_PASSWORD_MUST_CHANGE:
		case FREERDP_ERROR_CONNECT_CLIENT_REVOKED:
			return 1;
		default:
			return 0;
	}
}

static void report_connect_failure(rdp_state* st, rdpContext* context, int timed_out)
{
	engine_context* c = ectx(context);
	UINT32 error = freerdp_get_last_error(context);
	char message[512];
	log_line("connect failed: %s (0x%08X)", freerdp_get_last_error_string(error), error);
	if (timed_out) {
		snprintf(message, sizeof(message), "timed out connecting to %s:%d (no RDP login within %d s)", st->host,
		         st->port, CONNECT_TIMEOUT_MS / 1000);
		gp_send_error(message, STATUS_UPSTREAM_TIMEOUT);
	} else if (c->cert_rejected) {
		const char* expected = param(st->params, "cert-fingerprints");
		snprintf(message, sizeof(message),
		         "the desktop's certificate is not trusted: its SHA-256 fingerprint is %s, expected %s", c->server_fingerprint,
		         *expected ? expected : "a pinned fingerprint (none configured, and ignore-cert is off)");
		gp_send_error(message, STATUS_CLIENT_FORBIDDEN);
	} else if (error == FREERDP_ERROR_SECURITY_NEGO_CONNECT_FAILED && strcmp(param(st->params, "security"), "rdp") != 0) {
		/* Asked for TLS or NLA and answered with standard RDP security (or nothing this side accepts): a downgrade,
		 * whether an old desktop or a man in the middle. The password is not sent. */
		gp_send_error("refused: the desktop offered only standard RDP security, which cannot prove its identity; the "
		              "password was not sent",
		              STATUS_CLIENT_FORBIDDEN);
	} else if (is_auth_error(error) || c->logon_error) {
		gp_send_error("authentication failed: the desktop refused the username or password", STATUS_CLIENT_UNAUTHORIZED);
	} else if (strcmp(param(st->params, "security"), "nla") == 0 && c->server_fingerprint[0] &&
	           error == FREERDP_ERROR_CONNECT_TRANSPORT_FAILED) {
		/* Windows says why it refuses a login; FreeRDP-based servers (and older Windows) just hang up after the
		 * TLS handshake, in the middle of CredSSP. With NLA required, that is a refused login. */
		gp_send_error("authentication failed: the desktop ended Network Level Authentication (most likely it refused the "
		              "username or password)",
		              STATUS_CLIENT_UNAUTHORIZED);
	} else {
		int status = describe_connect_failure(st->host, st->port, message, sizeof(message));
		if (!status) {
			status = STATUS_UPSTREAM_ERROR;
			snprintf(message, sizeof(message), "RDP connection to %s:%d failed: %s", st->host, st->port,
			         freerdp_get_last_error_string(error));
		}
		gp_send_error(message, status);
	}
}

static void send_scancode(rdp_state* st, uint16_t scancode, int down)
{
	freerdp_input_send_keyboard_event_ex(st->instance->input, down ? TRUE : FALSE, scancode);
}

static void send_unicode(rdp_state* st, uint32_t cp, int down)
{
	UINT16 flags = down ? 0 : KBD_FLAGS_RELEASE;
	if (cp >= 0x10000) {
		uint32_t v = cp - 0x10000;
		freerdp_input_send_unicode_keyboard_event(st->instance->input, flags, (UINT16)(0xD800 | v >> 10));
		freerdp_input_send_unicode_keyboard_event(st->instance->input, flags, (UINT16)(0xDC00 | (v & 0x3FF)));
	} else {
		freerdp_input_send_unicode_keyboard_event(st->instance->input, flags, (UINT16)cp);
	}
}

#define SHIFT_PRESSED 1
#define SHIFT_RELEASED 2
#define ALTGR_PRESSED 4
#define ALTGR_RELEASED 8

/* Puts the server's Shift/AltGr into the state a printable key needs on this layout; returns what it
 * changed, for restore_modifiers() to bring back the client's own modifier state. */
static int adjust_modifiers(rdp_state* st, int needed)
{
	int changed = 0;
	int shift_held = st->shift_l || st->shift_r;
	if ((needed & KEYMAP_SHIFT) && !shift_held) {
		send_scancode(st, 0x2A, 1);
		changed |= SHIFT_PRESSED;
	} else if (!(needed & KEYMAP_SHIFT) && shift_held) {
		if (st->shift_l)
			send_scancode(st, 0x2A, 0);
		if (st->shift_r)
			send_scancode(st, 0x36, 0);
		changed |= SHIFT_RELEASED;
	}
	if ((needed & KEYMAP_ALTGR) && !st->altgr) {
		send_scancode(st, 0x38 | KEYMAP_EXTENDED, 1);
		changed |= ALTGR_PRESSED;
	} else if (!(needed & KEYMAP_ALTGR) && st->altgr) {
		send_scancode(st, 0x38 | KEYMAP_EXTENDED, 0);
		changed |= ALTGR_RELEASED;
	}
	return changed;
}

static void restore_modifiers(rdp_state* st, int changed)
{
	if (changed & SHIFT_PRESSED)
		send_scancode(st, 0x2A, 0);
	if ((changed & SHIFT_RELEASED) && st->shift_l)
		send_scancode(st, 0x2A, 1);
	if ((changed & SHIFT_RELEASED) && st->shift_r)
		send_scancode(st, 0x36, 1);
	if (changed & ALTGR_PRESSED)
		send_scancode(st, 0x38 | KEYMAP_EXTENDED, 0);
	if (changed & ALTGR_RELEASED)
		send_scancode(st, 0x38 | KEYMAP_EXTENDED, 1);
}

static void rdp_key(void* impl, uint32_t keysym, int pressed)
{
	rdp_state* st = impl;
	if (!st->instance)
		return;
	key_mapping m;
	int found = keymap_lookup(st->layout, keysym, &m);
	if (found && !m.printable) {
		int* flag = keysym == 0xFFE1 ? &st->shift_l : keysym == 0xFFE2 ? &st->shift_r
		                                         : keysym == 0xFE03 || keysym == 0xFFEA ? &st->altgr : NULL;
		if (flag)
			*flag = pressed;
	}
	/* A release goes to the key its press went to (Shift may have changed the keysym's meaning since). */
	pressed_key* slot = NULL;
	for (size_t i = 0; i < sizeof(st->pressed) / sizeof(st->pressed[0]); i++) {
		pressed_key* k = &st->pressed[i];
		if ((k->scancode || k->unicode) ? k->keysym == keysym : !slot)
			slot = k;
	}
	if (!pressed) {
		if (slot && slot->keysym == keysym && (slot->scancode || slot->unicode)) {
			if (slot->scancode)
				send_scancode(st, slot->scancode, 0);
			else
				send_unicode(st, slot->unicode, 0);
			memset(slot, 0, sizeof(*slot));
		} else if (found) {
			send_scancode(st, m.scancode, 0);
		}
		return;
	}
	pressed_key record = { keysym, 0, 0 };
	if (found) {
		int changed = m.printable ? adjust_modifiers(st, m.modifiers) : 0;
		send_scancode(st, m.scancode, 1);
		restore_modifiers(st, changed);
		record.scancode = m.scancode;
	} else {
		uint32_t cp = keysym_to_unicode(keysym);
		if (!cp) {
			log_line("no key for keysym 0x%X", keysym);
			return;
		}
		send_unicode(st, cp, 1);
		record.unicode = cp;
	}
	if (slot)
		*slot = record;
}

static void rdp_mouse(void* impl, int x, int y, int mask)
{
	rdp_state* st = impl;
	if (!st->instance)
		return;
	rdpInput* input = st->instance->input;
	int w = display_width(st->s->display), h = display_height(st->s->display);
	x = x < 0 ? 0 : w && x >= w ? w - 1 : x;
	y = y < 0 ? 0 : h && y >= h ? h - 1 : y;
	if (x != st->x || y != st->y)
		freerdp_input_send_mouse_event(input, PTR_FLAGS_MOVE, (UINT16)x, (UINT16)y);
	static const struct {
		int bit;
		UINT16 flag;
	} buttons[] = { { 1, PTR_FLAGS_BUTTON1 }, { 2, PTR_FLAGS_BUTTON3 }, { 4, PTR_FLAGS_BUTTON2 } };
	for (size_t i = 0; i < sizeof(buttons) / sizeof(buttons[0]); i++)
		if ((mask ^ st->mask) & buttons[i].bit)
			freerdp_input_send_mouse_event(input, buttons[i].flag | (mask & buttons[i].bit ? PTR_FLAGS_DOWN : 0),
			                               (UINT16)x, (UINT16)y);
	if (mask & 8 & ~st->mask)
		freerdp_input_send_mouse_event(input, PTR_FLAGS_WHEEL | 0x0078, (UINT16)x, (UINT16)y);
	if (mask & 16 & ~st->mask)
		freerdp_input_send_mouse_event(input, PTR_FLAGS_WHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x0088, (UINT16)x, (UINT16)y);
	st->x = x;
	st->y = y;
	st->mask = mask;
}

static void rdp_resize(void* impl, int width, int height)
{
	rdp_state* st = impl;
	if (st->resize_method == RESIZE_NONE)
		return;
	/* Display control wants an even width within 200..8192; the same bounds suit a reconnect. */
	width = width < 200 ? 200 : width > 8192 ? 8192 : width & ~1;
	height = height < 200 ? 200 : height > 8192 ? 8192 : height;
	st->pending_width = width;
	st->pending_height = height;
	st->resize_due = now_ms() + RESIZE_SETTLE_MS;
}

static void rdp_clipboard_text(void* impl, const char* text, size_t len)
{
	rdp_state* st = impl;
	rdp_clipboard_set_local(st->clipboard, text, len);
}

static const session_ops rdp_ops = { rdp_mouse, rdp_key, rdp_resize, rdp_clipboard_text };

/* RUN_RECONNECT when the pending size needs a new connection. */
static int apply_resize(rdp_state* st, engine_context* c)
{
	int w = st->pending_width, h = st->pending_height;
	if (w == display_width(st->s->display) && h == display_height(st->s->display)) {
		st->pending_width = 0;
		return 0;
	}
	if (st->resize_method == RESIZE_DISPLAY_UPDATE && c->disp && c->disp_ready) {
		DISPLAY_CONTROL_MONITOR_LAYOUT layout = { 0 };
		layout.Flags = DISPLAY_CONTROL_MONITOR_PRIMARY;
		layout.Width = (UINT32)w;
		layout.Height = (UINT32)h;
		layout.PhysicalWidth = (UINT32)(w * 254 / (st->params->dpi * 10));
		layout.PhysicalHeight = (UINT32)(h * 254 / (st->params->dpi * 10));
		layout.Orientation = ORIENTATION_LANDSCAPE;
		layout.DesktopScaleFactor = 100;
		layout.DeviceScaleFactor = 100;
		log_line("asking the server for %dx%d (display control)", w, h);
		c->disp->SendMonitorLayout(c->disp, 1, &layout);
		st->pending_width = 0;
		return 0;
	}
	if (st->resize_method == RESIZE_RECONNECT) {
		if (now_ms() < st->resize_due + (RECONNECT_SETTLE_MS - RESIZE_SETTLE_MS))
			return 0;
		st->width = w;
		st->height = h;
		st->pending_width = 0;
		log_line("reconnecting at %dx%d", w, h);
		return RUN_RECONNECT;
	}
	log_line("cannot resize to %dx%d: the server offers no display control channel", w, h);
	st->pending_width = 0;
	return 0;
}

static int is_normal_disconnect(UINT32 info)
{
	switch (info) {
		case ERRINFO_SUCCESS:
		case ERRINFO_RPC_INITIATED_DISCONNECT:
		case ERRINFO_RPC_INITIATED_LOGOFF:
		case ERRINFO_RPC_INITIATED_DISCONNECT_BY_USER:
		case ERRINFO_LOGOFF_BY_USER:
		case ERRINFO_DISCONNECTED_BY_OTHER_CONNECTION:
		case ERRINFO_IDLE_TIMEOUT:
		case ERRINFO_LOGON_TIMEOUT:
			return 1;
		default:
			return 0;
	}
}

static int run_connection(rdp_state* st, rdpContext* context, HANDLE stdin_event)
{
	freerdp* instance = context->instance;
	engine_context* c = ectx(context);
	for (;;) {
		HANDLE handles[MAXIMUM_WAIT_OBJECTS];
		DWORD count = freerdp_get_event_handles(context, handles, MAXIMUM_WAIT_OBJECTS - 2);
		if (count == 0) {
			gp_send_error("internal error: FreeRDP gave no event handles", STATUS_SERVER_ERROR);
			return RUN_FAILED;
		}
		handles[count++] = stdin_event;
		handles[count++] = rdp_clipboard_event(st->clipboard);
		int timeout = display_due_in(st->s->display);
		int rail_in = rdp_rail_due_in(&st->remote_app);
		if (rail_in >= 0 && (timeout < 0 || rail_in < timeout))
			timeout = rail_in;
		if (st->pending_width) {
			int64_t left = st->resize_due - now_ms();
			int resize_in = left < 0 ? 0 : (int)left;
			if (timeout < 0 || resize_in < timeout)
				timeout = resize_in;
		}
		DWORD rc = WaitForMultipleObjects(count, handles, FALSE, timeout < 0 ? INFINITE : (DWORD)timeout);
		if (rc == WAIT_FAILED) {
			gp_send_error("internal error: waiting for events failed", STATUS_SERVER_ERROR);
			return RUN_FAILED;
		}
		if (!freerdp_check_event_handles(context) || freerdp_shall_disconnect(instance)) {
			UINT32 info = freerdp_error_info(instance);
			UINT32 error = freerdp_get_last_error(context);
			if (is_normal_disconnect(info) && (error == FREERDP_ERROR_SUCCESS || info != ERRINFO_SUCCESS)) {
				log_line("the server ended the session (%s)", freerdp_get_error_info_string(info));
				gp_send("disconnect", NULL);
				return RUN_SERVER_LEFT;
			}
			char message[300];
			snprintf(message, sizeof(message), "the RDP connection to %s:%d ended: %s", st->host, st->port,
			         info != ERRINFO_SUCCESS ? freerdp_get_error_info_string(info) : freerdp_get_last_error_string(error));
			gp_send_error(message, STATUS_UPSTREAM_ERROR);
			return RUN_FAILED;
		}
		int pumped = session_pump(st->s);
		if (pumped < 0)
			return RUN_FAILED;
		if (pumped > 0)
			return RUN_CLIENT_LEFT;
		rdp_clipboard_deliver(st->clipboard, st->s);
		rdp_rail_tick(&st->remote_app);
		if (st->pending_width && now_ms() >= st->resize_due && apply_resize(st, c) == RUN_RECONNECT)
			return RUN_RECONNECT;
		if (display_due_in(st->s->display) == 0)
			display_flush(st->s->display);
	}
}

static int parse_params(rdp_state* st, const session_params* p)
{
	long v;
	st->host = param(p, "hostname");
	st->port = 3389;
	if (!*st->host) {
		gp_send_error("no hostname given for the RDP connection", STATUS_CLIENT_BAD_REQUEST);
		return -1;
	}
	if (*param(p, "port")) {
		if (parse_int(param(p, "port"), 1, 65535, &v)) {
			gp_send_error("the RDP port must be a number from 1 to 65535", STATUS_CLIENT_BAD_REQUEST);
			return -1;
		}
		st->port = (int)v;
	}
	st->width = p->width;
	st->height = p->height;
	if (*param(p, "width")) {
		if (parse_int(param(p, "width"), 200, 8192, &v)) {
			gp_send_error("width must be a number from 200 to 8192", STATUS_CLIENT_BAD_REQUEST);
			return -1;
		}
		st->width = (int)v;
	}
	if (*param(p, "height")) {
		if (parse_int(param(p, "height"), 200, 8192, &v)) {
			gp_send_error("height must be a number from 200 to 8192", STATUS_CLIENT_BAD_REQUEST);
			return -1;
		}
		st->height = (int)v;
	}
	st->width = st->width < 200 ? 200 : st->width > 8192 ? 8192 : st->width;
	st->height = st->height < 200 ? 200 : st->height > 8192 ? 8192 : st->height;
	if (*param(p, "dpi") && parse_int(param(p, "dpi"), 1, 1000, &v)) {
		gp_send_error("dpi must be a number", STATUS_CLIENT_BAD_REQUEST);
		return -1;
	}
	const char* security = param(p, "security");
	if (*security && strcmp(security, "any") && strcmp(security, "nla") && strcmp(security, "tls") &&
	    strcmp(security, "rdp")) {
		gp_send_error("security must be one of any, nla, tls, rdp", STATUS_CLIENT_BAD_REQUEST);
		return -1;
	}
	st->layout = keymap_find(param(p, "server-layout"));
	if (!st->layout) {
		gp_send_error("unknown server-layout (known: en-us-qwerty, en-gb-qwerty, de-de-qwertz, fr-fr-azerty)",
		              STATUS_CLIENT_BAD_REQUEST);
		return -1;
	}
	st->remote_app.program = param(p, "remote-app");
	st->remote_app.dir = param(p, "remote-app-dir");
	st->remote_app.args = param(p, "remote-app-args");
	if (strlen(st->remote_app.program) > 1024 || strlen(st->remote_app.dir) > 1024 || strlen(st->remote_app.args) > 4096) {
		gp_send_error("remote-app and remote-app-dir take at most 1024 bytes, remote-app-args 4096", STATUS_CLIENT_BAD_REQUEST);
		return -1;
	}
	const char* resize = param(p, "resize-method");
	if (!*resize)
		st->resize_method = RESIZE_NONE;
	else if (strcmp(resize, "display-update") == 0)
		st->resize_method = RESIZE_DISPLAY_UPDATE;
	else if (strcmp(resize, "reconnect") == 0)
		st->resize_method = RESIZE_RECONNECT;
	else {
		gp_send_error("resize-method must be display-update, reconnect or empty", STATUS_CLIENT_BAD_REQUEST);
		return -1;
	}
	return 0;
}

int rdp_run(session* s, session_params* params)
{
	rdp_state st = { 0 };
	st.s = s;
	st.params = params;
	st.x = st.y = -1;
	if (parse_params(&st, params) < 0)
		return 1;
	st.remote_app.width = st.width;
	st.remote_app.height = st.height;
	/* FreeRDP keeps known server certificates under ConfigPath: a fresh private folder means every
	 * certificate goes through check_certificate and nothing is remembered between connections. */
	snprintf(st.config_dir, sizeof(st.config_dir), "/tmp/guac-engine-XXXXXX");
	if (!mkdtemp(st.config_dir)) {
		gp_send_error("could not create a private folder for FreeRDP", STATUS_SERVER_ERROR);
		return 1;
	}
	st.clipboard = rdp_clipboard_new();
	HANDLE stdin_event = CreateFileDescriptorEvent(NULL, FALSE, FALSE, STDIN_FILENO, WINPR_FD_READ);
	int status = 1;
	if (!st.clipboard || !stdin_event) {
		gp_send_error("the desktop engine ran out of memory", STATUS_SERVER_ERROR);
		goto done;
	}
	s->ops = &rdp_ops;
	s->impl = &st;
	for (int attempt = 0;; attempt++) {
		rdpContext* context = new_context(&st);
		if (!context) {
			gp_send_error("could not set up the RDP client", STATUS_SERVER_ERROR);
			break;
		}
		int64_t started = now_ms();
		int timed_out = 0;
		if (!connect_with_deadline(&st, context->instance, &timed_out)) {
			report_connect_failure(&st, context, timed_out);
			freerdp_client_context_free(context);
			break;
		}
		log_line("connected to %s:%d at %ux%u in %lld ms", st.host, st.port, context->settings->DesktopWidth,
		         context->settings->DesktopHeight, (long long)(now_ms() - started));
		st.instance = context->instance;
		st.mask = 0;
		st.x = st.y = -1;
		memset(st.pressed, 0, sizeof(st.pressed));
		st.shift_l = st.shift_r = st.altgr = 0;
		if (attempt == 0) {
			char w[16], h[16];
			snprintf(w, sizeof(w), "%u", context->gdi->width);
			snprintf(h, sizeof(h), "%u", context->gdi->height);
			gp_send("ready", "$rdp-engine", NULL);
			gp_send("size", "0", w, h, NULL);
			gp_flush();
		}
		attach_framebuffer(context);
		int result = run_connection(&st, context, stdin_event);
		display_set_framebuffer(s->display, NULL, 0, 0, 0);
		st.instance = NULL;
		freerdp_disconnect(context->instance);
		freerdp_client_context_free(context);
		if (result != RUN_RECONNECT) {
			status = result == RUN_FAILED ? 1 : 0;
			break;
		}
	}
done:
	if (stdin_event)
		CloseHandle(stdin_event);
	rdp_clipboard_free(st.clipboard);
	remove_config_dir(st.config_dir);
	return status;
}
