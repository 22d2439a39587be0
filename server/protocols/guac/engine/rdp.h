/* What the RDP backend's parts share: the clipboard bridge over the cliprdr channel, which outlives the
 * FreeRDP instances a reconnect replaces, and RemoteApp (the program to run, its windows' titles). */
#ifndef GUAC_ENGINE_RDP_H
#define GUAC_ENGINE_RDP_H

#include "session.h"

#include <freerdp/client/cliprdr.h>
#include <freerdp/client/rail.h>
#include <freerdp/update.h>
#include <winpr/handle.h>

typedef struct rdp_clipboard rdp_clipboard;

rdp_clipboard* rdp_clipboard_new(void);
void rdp_clipboard_free(rdp_clipboard* clipboard);
/* Called from the channel event (any thread) when cliprdr comes and goes. */
void rdp_clipboard_attach(rdp_clipboard* clipboard, CliprdrClientContext* cliprdr);
void rdp_clipboard_detach(rdp_clipboard* clipboard, CliprdrClientContext* cliprdr);
/* Browser → remote: offers the text to the server as CF_UNICODETEXT. */
void rdp_clipboard_set_local(rdp_clipboard* clipboard, const char* text, size_t len);
/* Signalled when text copied on the remote side waits for rdp_clipboard_deliver (on the main thread). */
HANDLE rdp_clipboard_event(rdp_clipboard* clipboard);
void rdp_clipboard_deliver(rdp_clipboard* clipboard, session* s);

/* RemoteApp: the program the server runs instead of a desktop ("||alias" for a published Windows app). */
typedef struct {
	const char* program;
	const char* dir;
	const char* args;
	int width, height;
	RailClientContext* rail; /* while the channel is open */
	int64_t opened_at, asked_at;
	int tries;   /* times the program was asked for */
	int greeted; /* the server's RAIL handshake came */
} rdp_remote_app;

/* Called when the rail channel connects: the program is asked for at the server's handshake, or soon after. */
void rdp_rail_attach(RailClientContext* rail, rdp_remote_app* app);
/* Milliseconds until rdp_rail_tick must run (-1: no need), and the tick itself, on the RDP thread. */
int rdp_rail_due_in(const rdp_remote_app* app);
void rdp_rail_tick(rdp_remote_app* app);
/* Window orders (sent only in RemoteApp mode): each title a window gets goes out as title,<window id>,<title>. */
void rdp_rail_watch_windows(rdpUpdate* update);

#endif
