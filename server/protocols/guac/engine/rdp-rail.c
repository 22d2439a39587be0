/* RemoteApp (RAIL): the desktop runs one program instead of a whole desktop and describes its windows, which is
 * the only way RDP carries their titles. The engine starts the program once the server's RAIL handshake comes,
 * and reports every title a window gets as `title,<window id>,<title>` for the gateway's policy. */
#include "rdp.h"

#include <freerdp/rail.h>
#include <freerdp/window.h>
#include <stdio.h>
#include <string.h>

/* A title is cut here (in characters): the gateway's instruction limit must never be reached by a hostile one. */
#define TITLE_MAX_CHARS 512

/* Windows greets first (the handshake) and then waits for the program; xrdp waits for the program before it
 * greets at all, and drops what comes before its session's channel server is up. So the program is asked for
 * at the greeting, or unasked a moment after the channel opens and again while no greeting answers. */
#define UNGREETED_START_MS 1000
#define UNGREETED_RETRY_MS 3000
#define UNGREETED_TRIES 6

static UINT ask_for_program(RailClientContext* rail)
{
	rdp_remote_app* app = rail->custom;
	app->asked_at = now_ms();
	__atomic_add_fetch(&app->tries, 1, __ATOMIC_SEQ_CST);
	RAIL_CLIENT_STATUS_ORDER status = { .flags = TS_RAIL_CLIENTSTATUS_ALLOWLOCALMOVESIZE };
	UINT rc = rail->ClientInformation(rail, &status);
	if (rc != CHANNEL_RC_OK)
		return rc;
	/* The work area is what servers wait for before they describe the windows already open (xrdp does). */
	RAIL_SYSPARAM_ORDER sysparam = { 0 };
	sysparam.params = SPI_MASK_SET_HIGH_CONTRAST | SPI_MASK_SET_MOUSE_BUTTON_SWAP | SPI_MASK_SET_KEYBOARD_PREF |
	                  SPI_MASK_SET_DRAG_FULL_WINDOWS | SPI_MASK_SET_KEYBOARD_CUES | SPI_MASK_SET_WORK_AREA;
	sysparam.highContrast.flags = 0x7E;
	sysparam.workArea.right = (UINT16)app->width;
	sysparam.workArea.bottom = (UINT16)app->height;
	rc = rail->ClientSystemParam(rail, &sysparam);
	if (rc != CHANNEL_RC_OK)
		return rc;
	RAIL_EXEC_ORDER exec = { 0 };
	exec.RemoteApplicationProgram = (char*)app->program;
	exec.RemoteApplicationWorkingDir = *app->dir ? (char*)app->dir : NULL;
	exec.RemoteApplicationArguments = *app->args ? (char*)app->args : NULL;
	log_line("asking the server to run %s (RemoteApp)", app->program);
	return rail->ClientExecute(rail, &exec);
}

/* The server's greeting: the program is asked for now unless it already was (xrdp greets in answer to it). */
static UINT greeted(RailClientContext* rail)
{
	rdp_remote_app* app = rail->custom;
	if (__atomic_exchange_n(&app->greeted, 1, __ATOMIC_SEQ_CST))
		return CHANNEL_RC_OK;
	return __atomic_load_n(&app->tries, __ATOMIC_SEQ_CST) > 0 ? CHANNEL_RC_OK : ask_for_program(rail);
}

static UINT on_server_handshake(RailClientContext* rail, const RAIL_HANDSHAKE_ORDER* handshake)
{
	(void)handshake;
	return greeted(rail);
}

static UINT on_server_handshake_ex(RailClientContext* rail, const RAIL_HANDSHAKE_EX_ORDER* handshake)
{
	(void)handshake;
	return greeted(rail);
}

static UINT on_exec_result(RailClientContext* rail, const RAIL_EXEC_RESULT_ORDER* result)
{
	(void)rail;
	if (result->execResult != RAIL_EXEC_S_OK)
		log_line("the server could not run the RemoteApp program (result %u, %u)", result->execResult, result->rawResult);
	return CHANNEL_RC_OK;
}

void rdp_rail_attach(RailClientContext* rail, rdp_remote_app* app)
{
	log_line("RemoteApp channel ready");
	app->rail = rail;
	app->opened_at = now_ms();
	app->asked_at = 0;
	app->tries = 0;
	app->greeted = 0;
	rail->custom = app;
	rail->ServerHandshake = on_server_handshake;
	rail->ServerHandshakeEx = on_server_handshake_ex;
	rail->ServerExecuteResult = on_exec_result;
}

int rdp_rail_due_in(const rdp_remote_app* app)
{
	int tries = __atomic_load_n(&app->tries, __ATOMIC_SEQ_CST);
	if (!app->rail || __atomic_load_n(&app->greeted, __ATOMIC_SEQ_CST) || tries >= UNGREETED_TRIES)
		return -1;
	int64_t left = (tries == 0 ? app->opened_at + UNGREETED_START_MS : app->asked_at + UNGREETED_RETRY_MS) - now_ms();
	return left < 0 ? 0 : (int)left;
}

void rdp_rail_tick(rdp_remote_app* app)
{
	if (rdp_rail_due_in(app) == 0 && ask_for_program(app->rail) != CHANNEL_RC_OK)
		log_line("could not ask the server to run the RemoteApp program");
}

static void put_utf8(uint32_t code, char* out, size_t* n)
{
	if (code < 0x80) {
		out[(*n)++] = (char)code;
	} else if (code < 0x800) {
		out[(*n)++] = (char)(0xC0 | (code >> 6));
		out[(*n)++] = (char)(0x80 | (code & 0x3F));
	} else if (code < 0x10000) {
		out[(*n)++] = (char)(0xE0 | (code >> 12));
		out[(*n)++] = (char)(0x80 | ((code >> 6) & 0x3F));
		out[(*n)++] = (char)(0x80 | (code & 0x3F));
	} else {
		out[(*n)++] = (char)(0xF0 | (code >> 18));
		out[(*n)++] = (char)(0x80 | ((code >> 12) & 0x3F));
		out[(*n)++] = (char)(0x80 | ((code >> 6) & 0x3F));
		out[(*n)++] = (char)(0x80 | (code & 0x3F));
	}
}

/* UTF-16LE from the server as UTF-8, at most TITLE_MAX_CHARS characters: control characters become spaces
 * and a broken surrogate U+FFFD, so whatever the server sends, the title is one printable line. */
static void title_utf8(const RAIL_UNICODE_STRING* in, char* out, size_t size)
{
	size_t n = 0, units = in->string ? in->length / 2 : 0;
	int chars = 0;
	for (size_t i = 0; i < units && chars < TITLE_MAX_CHARS && n + 4 < size; i++, chars++) {
		uint32_t code = (uint32_t)in->string[2 * i] | ((uint32_t)in->string[2 * i + 1] << 8);
		if (code >= 0xD800 && code < 0xDC00 && i + 1 < units) {
			uint32_t low = (uint32_t)in->string[2 * i + 2] | ((uint32_t)in->string[2 * i + 3] << 8);
			if (low >= 0xDC00 && low < 0xE000) {
				code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
				i++;
			} else
				code = 0xFFFD;
		} else if (code >= 0xD800 && code < 0xE000)
			code = 0xFFFD;
		if (code == 0)
			break;
		if (code < 0x20 || (code >= 0x7F && code < 0xA0))
			code = ' ';
		put_utf8(code, out, &n);
	}
	out[n] = '\0';
}

static BOOL on_window(rdpContext* context, const WINDOW_ORDER_INFO* info, const WINDOW_STATE_ORDER* state)
{
	(void)context;
	if (!(info->fieldFlags & WINDOW_ORDER_FIELD_TITLE))
		return TRUE;
	char id[16], title[TITLE_MAX_CHARS * 4 + 1];
	snprintf(id, sizeof(id), "%u", info->windowId);
	title_utf8(&state->titleInfo, title, sizeof(title));
	gp_send("title", id, title, NULL);
	return TRUE;
}

void rdp_rail_watch_windows(rdpUpdate* update)
{
	update->window->WindowCreate = on_window;
	update->window->WindowUpdate = on_window;
}
