/* Text clipboard over the cliprdr static channel, both ways as CF_UNICODETEXT (CF_TEXT accepted from old
 * servers). Channel callbacks may run on FreeRDP's channel threads, so state is under a mutex and text for
 * the browser is handed to the main thread through an event. */
#include "rdp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <winpr/synch.h>
#include <winpr/user.h>

struct rdp_clipboard {
	pthread_mutex_t lock;
	CliprdrClientContext* cliprdr;
	int server_ready;
	char* local; /* UTF-8 offered to the server */
	size_t local_len;
	UINT32 requested_format;
	char* remote; /* UTF-8 waiting for the browser */
	size_t remote_len;
	HANDLE remote_event;
};

static rdp_clipboard* clipboard_of(CliprdrClientContext* cliprdr)
{
	return cliprdr->custom;
}

rdp_clipboard* rdp_clipboard_new(void)
{
	rdp_clipboard* c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->remote_event = CreateEvent(NULL, TRUE, FALSE, NULL);
	if (!c->remote_event) {
		free(c);
		return NULL;
	}
	return c;
}

void rdp_clipboard_free(rdp_clipboard* c)
{
	if (!c)
		return;
	CloseHandle(c->remote_event);
	free(c->local);
	free(c->remote);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

HANDLE rdp_clipboard_event(rdp_clipboard* c)
{
	return c->remote_event;
}

/* UTF-16LE (up to a NUL) → UTF-8; unpaired surrogates become U+FFFD. */
static char* utf16_to_utf8(const BYTE* data, size_t bytes, size_t* out_len)
{
	size_t units = bytes / 2;
	char* out = malloc(units * 3 + 1);
	if (!out)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t cp = (uint32_t)data[2 * i] | (uint32_t)data[2 * i + 1] << 8;
		if (cp == 0)
			break;
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units) {
			uint32_t low = (uint32_t)data[2 * i + 2] | (uint32_t)data[2 * i + 3] << 8;
			if (low >= 0xDC00 && low <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
				i++;
			} else {
				cp = 0xFFFD;
			}
		} else if (cp >= 0xD800 && cp <= 0xDFFF) {
			cp = 0xFFFD;
		}
		if (cp < 0x80) {
			out[n++] = (char)cp;
		} else if (cp < 0x800) {
			out[n++] = (char)(0xC0 | cp >> 6);
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[n++] = (char)(0xE0 | cp >> 12);
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else {
			/* 4 bytes from 2 units: still within units * 3. */
			out[n++] = (char)(0xF0 | cp >> 18);
			out[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	*out_len = n;
	return out;
}

/* UTF-8 → NUL-terminated UTF-16LE, with LF turned into CRLF as Windows applications expect. */
static BYTE* utf8_to_utf16(const char* text, size_t len, size_t* out_bytes)
{
	BYTE* out = malloc(len * 4 + 2);
	if (!out)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)text[i];
		uint32_t cp = 0xFFFD;
		size_t step = 1;
		if (c < 0x80) {
			cp = c;
		} else if ((c & 0xE0) == 0xC0 && i + 1 < len) {
			cp = (uint32_t)(c & 0x1F) << 6 | ((unsigned char)text[i + 1] & 0x3F);
			step = 2;
		} else if ((c & 0xF0) == 0xE0 && i + 2 < len) {
			cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)((unsigned char)text[i + 1] & 0x3F) << 6 |
			     ((unsigned char)text[i + 2] & 0x3F);
			step = 3;
		} else if ((c & 0xF8) == 0xF0 && i + 3 < len) {
			cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)((unsigned char)text[i + 1] & 0x3F) << 12 |
			     (uint32_t)((unsigned char)text[i + 2] & 0x3F) << 6 | ((unsigned char)text[i + 3] & 0x3F);
			step = 4;
		}
		i += step;
		if (cp == '\n' && (n < 2 || out[n - 2] != '\r' || out[n - 1] != 0)) {
			out[n++] = '\r';
			out[n++] = 0;
		}
		if (cp >= 0x10000 && cp <= 0x10FFFF) {
			uint32_t v = cp - 0x10000;
			uint32_t high = 0xD800 | v >> 10, low = 0xDC00 | (v & 0x3FF);
			out[n++] = (BYTE)high;
			out[n++] = (BYTE)(high >> 8);
			out[n++] = (BYTE)low;
			out[n++] = (BYTE)(low >> 8);
		} else {
			out[n++] = (BYTE)cp;
			out[n++] = (BYTE)(cp >> 8);
		}
	}
	out[n++] = 0;
	out[n++] = 0;
	*out_bytes = n;
	return out;
}

static UINT send_format_list(CliprdrClientContext* cliprdr, int have_text)
{
	CLIPRDR_FORMAT format = { CF_UNICODETEXT, NULL };
	CLIPRDR_FORMAT_LIST list = { 0 };
	list.msgType = CB_FORMAT_LIST;
	list.numFormats = have_text ? 1 : 0;
	list.formats = have_text ? &format : NULL;
	return cliprdr->ClientFormatList(cliprdr, &list);
}

static UINT on_monitor_ready(CliprdrClientContext* cliprdr, const CLIPRDR_MONITOR_READY* ready)
{
	(void)ready;
	rdp_clipboard* c = clipboard_of(cliprdr);
	CLIPRDR_GENERAL_CAPABILITY_SET general = { CB_CAPSTYPE_GENERAL, CB_CAPSTYPE_GENERAL_LEN, CB_CAPS_VERSION_2,
		                                       CB_USE_LONG_FORMAT_NAMES };
	CLIPRDR_CAPABILITIES caps = { 0 };
	caps.cCapabilitiesSets = 1;
	caps.capabilitySets = (CLIPRDR_CAPABILITY_SET*)&general;
	UINT rc = cliprdr->ClientCapabilities(cliprdr, &caps);
	if (rc != CHANNEL_RC_OK)
		return rc;
	pthread_mutex_lock(&c->lock);
	c->server_ready = 1;
	int have_text = c->local != NULL;
	pthread_mutex_unlock(&c->lock);
	log_line("clipboard channel ready");
	return send_format_list(cliprdr, have_text);
}

static UINT on_server_capabilities(CliprdrClientContext* cliprdr, const CLIPRDR_CAPABILITIES* caps)
{
	(void)cliprdr;
	(void)caps;
	return CHANNEL_RC_OK;
}

static UINT on_server_format_list(CliprdrClientContext* cliprdr, const CLIPRDR_FORMAT_LIST* list)
{
	rdp_clipboard* c = clipboard_of(cliprdr);
	CLIPRDR_FORMAT_LIST_RESPONSE response = { 0 };
	response.msgType = CB_FORMAT_LIST_RESPONSE;
	response.msgFlags = CB_RESPONSE_OK;
	UINT rc = cliprdr->ClientFormatListResponse(cliprdr, &response);
	if (rc != CHANNEL_RC_OK)
		return rc;
	UINT32 wanted = 0;
	for (UINT32 i = 0; i < list->numFormats; i++) {
		if (list->formats[i].formatId == CF_UNICODETEXT)
			wanted = CF_UNICODETEXT;
		else if (list->formats[i].formatId == CF_TEXT && !wanted)
			wanted = CF_TEXT;
	}
	if (!wanted)
		return CHANNEL_RC_OK;
	pthread_mutex_lock(&c->lock);
	c->requested_format = wanted;
	pthread_mutex_unlock(&c->lock);
	CLIPRDR_FORMAT_DATA_REQUEST request = { 0 };
	request.msgType = CB_FORMAT_DATA_REQUEST;
	request.requestedFormatId = wanted;
	return cliprdr->ClientFormatDataRequest(cliprdr, &request);
}

static UINT on_server_format_list_response(CliprdrClientContext* cliprdr, const CLIPRDR_FORMAT_LIST_RESPONSE* response)
{
	(void)cliprdr;
	(void)response;
	return CHANNEL_RC_OK;
}

static UINT on_server_data_response(CliprdrClientContext* cliprdr, const CLIPRDR_FORMAT_DATA_RESPONSE* response)
{
	rdp_clipboard* c = clipboard_of(cliprdr);
	if (response->msgFlags & CB_RESPONSE_FAIL || !response->requestedFormatData)
		return CHANNEL_RC_OK;
	pthread_mutex_lock(&c->lock);
	UINT32 format = c->requested_format;
	char* text = NULL;
	size_t len = 0;
	if (format == CF_UNICODETEXT) {
		text = utf16_to_utf8(response->requestedFormatData, response->dataLen, &len);
	} else if (format == CF_TEXT) {
		/* CF_TEXT is the server's ANSI code page; Latin-1 is the usual one and the safest guess. */
		text = malloc((size_t)response->dataLen * 2 + 1);
		for (UINT32 i = 0; text && i < response->dataLen && response->requestedFormatData[i]; i++) {
			BYTE b = response->requestedFormatData[i];
			if (b < 0x80) {
				text[len++] = (char)b;
			} else {
				text[len++] = (char)(0xC0 | b >> 6);
				text[len++] = (char)(0x80 | (b & 0x3F));
			}
		}
	}
	if (text) {
		free(c->remote);
		c->remote = text;
		c->remote_len = len;
		SetEvent(c->remote_event);
	}
	pthread_mutex_unlock(&c->lock);
	return CHANNEL_RC_OK;
}

static UINT on_server_data_request(CliprdrClientContext* cliprdr, const CLIPRDR_FORMAT_DATA_REQUEST* request)
{
	rdp_clipboard* c = clipboard_of(cliprdr);
	CLIPRDR_FORMAT_DATA_RESPONSE response = { 0 };
	response.msgType = CB_FORMAT_DATA_RESPONSE;
	response.msgFlags = CB_RESPONSE_FAIL;
	BYTE* data = NULL;
	size_t bytes = 0;
	log_line("the server asks for clipboard format %u", request->requestedFormatId);
	pthread_mutex_lock(&c->lock);
	if (request->requestedFormatId == CF_UNICODETEXT && c->local)
		data = utf8_to_utf16(c->local, c->local_len, &bytes);
	pthread_mutex_unlock(&c->lock);
	if (data && bytes <= UINT32_MAX) {
		response.msgFlags = CB_RESPONSE_OK;
		response.dataLen = (UINT32)bytes;
		response.requestedFormatData = data;
	}
	UINT rc = cliprdr->ClientFormatDataResponse(cliprdr, &response);
	free(data);
	return rc;
}

void rdp_clipboard_attach(rdp_clipboard* c, CliprdrClientContext* cliprdr)
{
	cliprdr->custom = c;
	cliprdr->MonitorReady = on_monitor_ready;
	cliprdr->ServerCapabilities = on_server_capabilities;
	cliprdr->ServerFormatList = on_server_format_list;
	cliprdr->ServerFormatListResponse = on_server_format_list_response;
	cliprdr->ServerFormatDataRequest = on_server_data_request;
	cliprdr->ServerFormatDataResponse = on_server_data_response;
	pthread_mutex_lock(&c->lock);
	c->cliprdr = cliprdr;
	pthread_mutex_unlock(&c->lock);
}

void rdp_clipboard_detach(rdp_clipboard* c, CliprdrClientContext* cliprdr)
{
	pthread_mutex_lock(&c->lock);
	if (c->cliprdr == cliprdr) {
		c->cliprdr = NULL;
		c->server_ready = 0;
	}
	pthread_mutex_unlock(&c->lock);
	cliprdr->custom = NULL;
}

void rdp_clipboard_set_local(rdp_clipboard* c, const char* text, size_t len)
{
	char* copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&c->lock);
	free(c->local);
	c->local = copy;
	c->local_len = len;
	CliprdrClientContext* cliprdr = c->server_ready ? c->cliprdr : NULL;
	pthread_mutex_unlock(&c->lock);
	if (cliprdr)
		send_format_list(cliprdr, 1);
}

void rdp_clipboard_deliver(rdp_clipboard* c, session* s)
{
	pthread_mutex_lock(&c->lock);
	ResetEvent(c->remote_event);
	char* text = c->remote;
	size_t len = c->remote_len;
	c->remote = NULL;
	pthread_mutex_unlock(&c->lock);
	if (text) {
		session_send_clipboard(s, text, len);
		free(text);
	}
}
