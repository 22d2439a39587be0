/* Keyboard layouts as rows of characters over fixed scancodes, decoded once into lookup tables; keys that
 * are dead keys on a layout are left out, so those characters go to the server as Unicode events. */
#include "keymap.h"

#include <stddef.h>
#include <string.h>

/* Scancodes of the printable keys, in the order the layout strings below list them: the digit row, the
 * three letter rows with the key left of Enter (0x2B) and the ISO key left of Z (0x56). */
static const uint16_t printable_scancodes[] = {
	0x29, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x2B,
	0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x56, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
};
#define PRINTABLE_KEYS ((int)(sizeof(printable_scancodes) / sizeof(printable_scancodes[0])))

/* One UTF-8 character per key in printable_scancodes order; a space means "nothing on this level". */
typedef struct {
	const char* name;
	uint32_t id;
	const char* levels[3]; /* plain, Shift, AltGr */
} layout_source;

static const layout_source sources[] = {
	{ "en-us-qwerty", 0x409,
	  { "`1234567890-=qwertyuiop[]\\asdfghjkl;'\\zxcvbnm,./", "~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:\"|ZXCVBNM<>?",
	    "                                                " } },
	{ "en-gb-qwerty", 0x809,
	  { "`1234567890-=qwertyuiop[]#asdfghjkl;'\\zxcvbnm,./", "¬!\"£$%^&*()_+QWERTYUIOP{}~ASDFGHJKL:@|ZXCVBNM<>?",
	    "¦   €                                           " } },
	{ "de-de-qwertz", 0x407,
	  { " 1234567890ß qwertzuiopü+#asdfghjklöä<yxcvbnm,.-", "°!\"§$%&/()=? QWERTZUIOPÜ*'ASDFGHJKLÖÄ>YXCVBNM;:_",
	    "  ²³   {[]}\\ @ €        ~            |      µ   " } },
	{ "fr-fr-azerty", 0x40C,
	  { "²&é\"'(-è_çà)=azertyuiop $*qsdfghjklmù<wxcvbn,;:!", " 1234567890°+AZERTYUIOP £µQSDFGHJKLM%>WXCVBN?./§",
	    "   #{[| \\^@]}  €        ¤                       " } },
};
#define LAYOUTS ((int)(sizeof(sources) / sizeof(sources[0])))

struct keymap_layout {
	const layout_source* source;
	uint32_t chars[3][PRINTABLE_KEYS];
};

static keymap_layout layouts[LAYOUTS];
static int decoded;

static uint32_t next_utf8(const char** p)
{
	const unsigned char* s = (const unsigned char*)*p;
	uint32_t cp;
	int n;
	if (s[0] < 0x80) {
		cp = s[0];
		n = 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
		n = 2;
	} else {
		cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
		n = 3;
	}
	*p += n;
	return cp;
}

static void decode_layouts(void)
{
	for (int l = 0; l < LAYOUTS; l++) {
		layouts[l].source = &sources[l];
		for (int level = 0; level < 3; level++) {
			const char* p = sources[l].levels[level];
			for (int k = 0; k < PRINTABLE_KEYS && *p; k++) {
				uint32_t cp = next_utf8(&p);
				layouts[l].chars[level][k] = cp == ' ' ? 0 : cp;
			}
		}
	}
	decoded = 1;
}

const keymap_layout* keymap_find(const char* name)
{
	if (!decoded)
		decode_layouts();
	if (!name || !*name)
		return &layouts[0];
	for (int l = 0; l < LAYOUTS; l++)
		if (strcmp(sources[l].name, name) == 0)
			return &layouts[l];
	return NULL;
}

uint32_t keymap_layout_id(const keymap_layout* layout)
{
	return layout->source->id;
}

uint32_t keysym_to_unicode(uint32_t keysym)
{
	if ((keysym >= 0x20 && keysym <= 0x7E) || (keysym >= 0xA0 && keysym <= 0xFF))
		return keysym;
	if ((keysym & 0xFF000000u) == 0x01000000u)
		return keysym & 0x00FFFFFFu;
	if (keysym == 0x20AC) /* EuroSign */
		return 0x20AC;
	return 0;
}

typedef struct {
	uint32_t keysym;
	uint16_t scancode;
} special_key;

static const special_key special_keys[] = {
	{ 0x0020, 0x39 },                     /* space */
	{ 0xFF08, 0x0E },                     /* BackSpace */
	{ 0xFF09, 0x0F },                     /* Tab */
	{ 0xFE20, 0x0F },                     /* ISO_Left_Tab (Shift+Tab) */
	{ 0xFF0D, 0x1C },                     /* Return */
	{ 0xFF13, 0x45 },                     /* Pause (approximated as its make code) */
	{ 0xFF14, 0x46 },                     /* Scroll_Lock */
	{ 0xFF1B, 0x01 },                     /* Escape */
	{ 0xFF50, 0x47 | KEYMAP_EXTENDED },   /* Home */
	{ 0xFF51, 0x4B | KEYMAP_EXTENDED },   /* Left */
	{ 0xFF52, 0x48 | KEYMAP_EXTENDED },   /* Up */
	{ 0xFF53, 0x4D | KEYMAP_EXTENDED },   /* Right */
	{ 0xFF54, 0x50 | KEYMAP_EXTENDED },   /* Down */
	{ 0xFF55, 0x49 | KEYMAP_EXTENDED },   /* Page_Up */
	{ 0xFF56, 0x51 | KEYMAP_EXTENDED },   /* Page_Down */
	{ 0xFF57, 0x4F | KEYMAP_EXTENDED },   /* End */
	{ 0xFF61, 0x37 | KEYMAP_EXTENDED },   /* Print */
	{ 0xFF63, 0x52 | KEYMAP_EXTENDED },   /* Insert */
	{ 0xFF67, 0x5D | KEYMAP_EXTENDED },   /* Menu */
	{ 0xFF7F, 0x45 },                     /* Num_Lock */
	{ 0xFF8D, 0x1C | KEYMAP_EXTENDED },   /* KP_Enter */
	{ 0xFF95, 0x47 }, { 0xFF96, 0x4B }, { 0xFF97, 0x48 }, { 0xFF98, 0x4D }, { 0xFF99, 0x50 },
	{ 0xFF9A, 0x49 }, { 0xFF9B, 0x51 }, { 0xFF9C, 0x4F }, { 0xFF9D, 0x4C }, { 0xFF9E, 0x52 },
	{ 0xFF9F, 0x53 },                     /* KP_Home … KP_Delete */
	{ 0xFFAA, 0x37 }, { 0xFFAB, 0x4E }, { 0xFFAD, 0x4A }, { 0xFFAE, 0x53 },
	{ 0xFFAF, 0x35 | KEYMAP_EXTENDED },   /* KP_Divide */
	{ 0xFFB0, 0x52 }, { 0xFFB1, 0x4F }, { 0xFFB2, 0x50 }, { 0xFFB3, 0x51 }, { 0xFFB4, 0x4B },
	{ 0xFFB5, 0x4C }, { 0xFFB6, 0x4D }, { 0xFFB7, 0x47 }, { 0xFFB8, 0x48 }, { 0xFFB9, 0x49 },
	{ 0xFFBE, 0x3B }, { 0xFFBF, 0x3C }, { 0xFFC0, 0x3D }, { 0xFFC1, 0x3E }, { 0xFFC2, 0x3F },
	{ 0xFFC3, 0x40 }, { 0xFFC4, 0x41 }, { 0xFFC5, 0x42 }, { 0xFFC6, 0x43 }, { 0xFFC7, 0x44 },
	{ 0xFFC8, 0x57 }, { 0xFFC9, 0x58 },   /* F1 … F12 */
	{ 0xFFE1, 0x2A },                     /* Shift_L */
	{ 0xFFE2, 0x36 },                     /* Shift_R */
	{ 0xFFE3, 0x1D },                     /* Control_L */
	{ 0xFFE4, 0x1D | KEYMAP_EXTENDED },   /* Control_R */
	{ 0xFFE5, 0x3A },                     /* Caps_Lock */
	{ 0xFFE7, 0x5B | KEYMAP_EXTENDED },   /* Meta_L */
	{ 0xFFE8, 0x5C | KEYMAP_EXTENDED },   /* Meta_R */
	{ 0xFFE9, 0x38 },                     /* Alt_L */
	{ 0xFFEA, 0x38 | KEYMAP_EXTENDED },   /* Alt_R */
	{ 0xFFEB, 0x5B | KEYMAP_EXTENDED },   /* Super_L */
	{ 0xFFEC, 0x5C | KEYMAP_EXTENDED },   /* Super_R */
	{ 0xFE03, 0x38 | KEYMAP_EXTENDED },   /* ISO_Level3_Shift (AltGr) */
	{ 0xFFFF, 0x53 | KEYMAP_EXTENDED },   /* Delete */
};

int keymap_lookup(const keymap_layout* layout, uint32_t keysym, key_mapping* out)
{
	for (size_t i = 0; i < sizeof(special_keys) / sizeof(special_keys[0]); i++)
		if (special_keys[i].keysym == keysym) {
			*out = (key_mapping){ special_keys[i].scancode, 0, 0 };
			return 1;
		}
	uint32_t cp = keysym_to_unicode(keysym);
	if (!cp)
		return 0;
	for (int level = 0; level < 3; level++)
		for (int k = 0; k < PRINTABLE_KEYS; k++)
			if (layout->chars[level][k] == cp) {
				static const uint8_t modifiers[3] = { 0, KEYMAP_SHIFT, KEYMAP_ALTGR };
				*out = (key_mapping){ printable_scancodes[k], modifiers[level], 1 };
				return 1;
			}
	return 0;
}
