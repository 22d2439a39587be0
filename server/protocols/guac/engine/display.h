/* The remote framebuffer as the client sees it: accumulates the dirty region, and turns it into paced,
 * flow-controlled frames of PNG/JPEG img instructions (and keyframes, and the remote cursor). */
#ifndef GUAC_ENGINE_DISPLAY_H
#define GUAC_ENGINE_DISPLAY_H

#include <stdint.h>

typedef struct display display;

display* display_new(void);
void display_free(display* d);
/* Whether the client announced image/jpeg in the handshake; without it every update is PNG. */
void display_allow_jpeg(display* d, int allowed);
/* Framebuffer pixels are 32 bits per pixel, bytes B, G, R, X in memory. A new size (or the first
 * framebuffer) makes the next frame a keyframe. NULL detaches the framebuffer (while reconnecting). */
void display_set_framebuffer(display* d, const uint8_t* data, int width, int height, int stride);
int display_width(const display* d);
int display_height(const display* d);
void display_damage(display* d, int x, int y, int w, int h);
void display_request_keyframe(display* d);
/* Sends thumbnail,<width>,<height>,<base64 JPEG>: the whole screen scaled to at most max_width wide, for the
 * gateway's dashboard (never drawn by a client). Nothing before the first framebuffer. */
void display_send_thumbnail(display* d, int max_width);
void display_ack(display* d, int64_t timestamp);
/* Milliseconds until display_flush() has something to do (0: now), or -1 when it waits for input. */
int display_due_in(display* d);
void display_flush(display* d);
/* Cursor image as 32-bit B, G, R, A bytes (straight alpha), sent the guacd way via buffer layer -1. */
void display_set_cursor(display* d, const uint8_t* bgra, int width, int height, int hot_x, int hot_y);

#endif
