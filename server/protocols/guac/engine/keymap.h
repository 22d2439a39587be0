/* X11 keysym → RDP scancode for the server-side keyboard layouts guacd knows by name, with the modifiers a
 * printable keysym needs on that layout (so "A" on any layout means Shift + the A key). */
#ifndef GUAC_ENGINE_KEYMAP_H
#define GUAC_ENGINE_KEYMAP_H

#include <stdint.h>

#define KEYMAP_SHIFT 1
#define KEYMAP_ALTGR 2
/* Scancodes with this bit set are extended (E0-prefixed) keys. */
#define KEYMAP_EXTENDED 0x100

typedef struct keymap_layout keymap_layout;

typedef struct {
	uint16_t scancode;
	uint8_t modifiers; /* KEYMAP_SHIFT | KEYMAP_ALTGR required for a printable keysym */
	uint8_t printable; /* modifiers matter only for printable keysyms */
} key_mapping;

/* NULL for an unknown layout name; "" is en-us-qwerty. */
const keymap_layout* keymap_find(const char* name);
/* The Windows keyboard layout id the server is told about (0x409 for en-us). */
uint32_t keymap_layout_id(const keymap_layout* layout);
/* 1 when the keysym maps to a key on this layout. */
int keymap_lookup(const keymap_layout* layout, uint32_t keysym, key_mapping* out);
/* The Unicode code point a printable keysym stands for, or 0. */
uint32_t keysym_to_unicode(uint32_t keysym);

#endif
