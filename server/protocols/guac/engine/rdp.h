/* What the RDP backend's parts share: the clipboard bridge over the cliprdr channel, which outlives the
 * FreeRDP instances a reconnect replaces. */
#ifndef GUAC_ENGINE_RDP_H
#define GUAC_ENGINE_RDP_H

#include "session.h"

#include <freerdp/client/cliprdr.h>
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

#endif
