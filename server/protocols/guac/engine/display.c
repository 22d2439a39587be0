/* Dirty region → PNG/JPEG img instructions → frames ended by sync, paced to ~60 fps and limited to a few
 * unacknowledged frames so that a slow client gets fewer, bigger frames instead of a growing backlog. */
#include "display.h"

#include "guac-protocol.h"

#include <stdio.h>
/* jpeglib.h needs FILE declared first. */
#include <jpeglib.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECTS 24
#define MAX_INFLIGHT 3
#define MIN_FRAME_INTERVAL_MS 16
/* A client that stopped acknowledging still gets a frame now and then instead of a frozen screen. */
#define STALLED_CLIENT_MS 5000
#define HEAT_CELL 64
#define KEYFRAME_STRIPE 256
/* Image streams cycle through 1..4096; the cursor has its own. */
#define CURSOR_STREAM "4097"
/* What the gateway accepts as a thumbnail (server/protocols/guac/guac-adapter.ts). */
#define THUMBNAIL_MAX_BYTES (40 * 1024)

typedef struct {
	int x, y, w, h;
} rect;

typedef struct {
	uint8_t* data;
	size_t len, cap;
} membuf;

struct display {
	const uint8_t* fb;
	int width, height, stride;
	rect dirty[MAX_RECTS];
	int ndirty;
	int keyframe_wanted;
	int64_t inflight[MAX_INFLIGHT];
	int ninflight;
	int64_t last_frame_at;
	int64_t last_timestamp;
	int next_stream;
	int jpeg_allowed;
	/* Updates per HEAT_CELL square, halved every second: an estimate of how often each area changes. */
	uint16_t* heat;
	int heat_cols, heat_rows;
	int64_t heat_decayed_at;
	uint8_t* row;
	/* A palette index per pixel of the screen, for the largest image a frame can hold. */
	uint8_t* indices;
	/* The screen as the client has it (layer 0, as sent, B, G, R, X): a rect whose rows are its old rows moved
	 * (a scrolling window) is copied by the client from what it has, and only the new rows are sent. */
	uint8_t* shadow;
	/* Per row of the tallest rect: its hash now and in the shadow; a table of the shadow's row hashes (twice
	 * the rows, a power of two); votes per shift. */
	uint64_t* new_hashes;
	uint64_t* old_hashes;
	uint64_t* table_hashes;
	int* table_rows;
	int table_size;
	int* votes;
	membuf encoded;
	uint8_t* cursor_png;
	size_t cursor_png_len;
	int cursor_w, cursor_h, cursor_hx, cursor_hy;
};

display* display_new(void)
{
	display* d = calloc(1, sizeof(*d));
	if (d)
		d->next_stream = 1;
	return d;
}

void display_free(display* d)
{
	if (!d)
		return;
	free(d->heat);
	free(d->row);
	free(d->indices);
	free(d->shadow);
	free(d->new_hashes);
	free(d->old_hashes);
	free(d->table_hashes);
	free(d->table_rows);
	free(d->votes);
	free(d->encoded.data);
	free(d->cursor_png);
	free(d);
}

void display_allow_jpeg(display* d, int allowed)
{
	d->jpeg_allowed = allowed;
}

int display_width(const display* d)
{
	return d->fb ? d->width : 0;
}

int display_height(const display* d)
{
	return d->fb ? d->height : 0;
}

void display_set_framebuffer(display* d, const uint8_t* data, int width, int height, int stride)
{
	int resized = width != d->width || height != d->height || !d->fb;
	d->fb = data;
	d->width = width;
	d->height = height;
	d->stride = stride;
	if (!data || !resized)
		return;
	d->ndirty = 0;
	d->keyframe_wanted = 1;
	free(d->heat);
	d->heat_cols = (width + HEAT_CELL - 1) / HEAT_CELL;
	d->heat_rows = (height + HEAT_CELL - 1) / HEAT_CELL;
	d->heat = calloc((size_t)d->heat_cols * (size_t)d->heat_rows, sizeof(*d->heat));
	free(d->row);
	d->row = malloc((size_t)width * 4);
	free(d->indices);
	d->indices = malloc((size_t)width * (size_t)height);
	free(d->shadow);
	d->shadow = calloc((size_t)width * (size_t)height, 4);
	free(d->new_hashes);
	d->new_hashes = malloc(sizeof(uint64_t) * (size_t)height);
	free(d->old_hashes);
	d->old_hashes = malloc(sizeof(uint64_t) * (size_t)height);
	for (d->table_size = 16; d->table_size < 2 * height; d->table_size *= 2)
		;
	free(d->table_hashes);
	d->table_hashes = malloc(sizeof(uint64_t) * (size_t)d->table_size);
	free(d->table_rows);
	d->table_rows = malloc(sizeof(int) * (size_t)d->table_size);
	free(d->votes);
	d->votes = calloc(2 * (size_t)height + 1, sizeof(int));
	if (!d->heat || !d->row || !d->indices || !d->shadow || !d->new_hashes || !d->old_hashes || !d->table_hashes ||
	    !d->table_rows || !d->votes) {
		gp_send_error("the desktop engine ran out of memory", 512);
		exit(1);
	}
}

static long long area(const rect* r)
{
	return (long long)r->w * r->h;
}

static rect rect_union(const rect* a, const rect* b)
{
	int x1 = a->x < b->x ? a->x : b->x;
	int y1 = a->y < b->y ? a->y : b->y;
	int x2 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
	int y2 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
	return (rect){ x1, y1, x2 - x1, y2 - y1 };
}

/* Merging two rects is worth it when the union repaints little that neither covered: fewer img
 * instructions and better compression, at a bounded overdraw. */
static int worth_merging(const rect* a, const rect* b)
{
	rect u = rect_union(a, b);
	long long waste = area(&u) - area(a) - area(b);
	return waste <= 64 * 64 || waste * 4 <= area(&u);
}

static void heat_up(display* d, const rect* r)
{
	for (int cy = r->y / HEAT_CELL; cy <= (r->y + r->h - 1) / HEAT_CELL; cy++)
		for (int cx = r->x / HEAT_CELL; cx <= (r->x + r->w - 1) / HEAT_CELL; cx++) {
			uint16_t* h = &d->heat[cy * d->heat_cols + cx];
			if (*h < 60000)
				(*h)++;
		}
}

void display_damage(display* d, int x, int y, int w, int h)
{
	if (!d->fb || w <= 0 || h <= 0)
		return;
	if (x < 0) {
		w += x;
		x = 0;
	}
	if (y < 0) {
		h += y;
		y = 0;
	}
	if (x >= d->width || y >= d->height)
		return;
	if (w > d->width - x)
		w = d->width - x;
	if (h > d->height - y)
		h = d->height - y;
	if (w <= 0 || h <= 0)
		return;
	rect r = { x, y, w, h };
	heat_up(d, &r);
	for (int i = 0; i < d->ndirty;) {
		if (worth_merging(&d->dirty[i], &r)) {
			r = rect_union(&d->dirty[i], &r);
			d->dirty[i] = d->dirty[--d->ndirty];
			i = 0;
		} else {
			i++;
		}
	}
	if (d->ndirty < MAX_RECTS) {
		d->dirty[d->ndirty++] = r;
		return;
	}
	int best = 0;
	long long best_growth = -1;
	for (int i = 0; i < d->ndirty; i++) {
		rect u = rect_union(&d->dirty[i], &r);
		long long growth = area(&u) - area(&d->dirty[i]);
		if (best_growth < 0 || growth < best_growth) {
			best = i;
			best_growth = growth;
		}
	}
	d->dirty[best] = rect_union(&d->dirty[best], &r);
}

void display_request_keyframe(display* d)
{
	d->keyframe_wanted = 1;
}

void display_ack(display* d, int64_t timestamp)
{
	int kept = 0;
	for (int i = 0; i < d->ninflight; i++)
		if (d->inflight[i] > timestamp)
			d->inflight[kept++] = d->inflight[i];
	d->ninflight = kept;
}

int display_due_in(display* d)
{
	if (!d->fb)
		return -1;
	if (d->keyframe_wanted)
		return 0;
	if (d->ndirty == 0)
		return -1;
	int64_t now = now_ms();
	int64_t due = d->last_frame_at + MIN_FRAME_INTERVAL_MS;
	if (d->ninflight >= MAX_INFLIGHT) {
		int64_t stalled = d->inflight[0] + STALLED_CLIENT_MS;
		if (stalled > due)
			due = stalled;
	}
	return due <= now ? 0 : (int)(due - now);
}

static void membuf_append(membuf* m, const void* data, size_t len)
{
	if (m->len + len > m->cap) {
		size_t cap = m->cap ? m->cap : 65536;
		while (cap < m->len + len)
			cap *= 2;
		uint8_t* grown = realloc(m->data, cap);
		if (!grown) {
			gp_send_error("the desktop engine ran out of memory", 512);
			exit(1);
		}
		m->data = grown;
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
}

static void png_write_to_membuf(png_structp png, png_bytep data, png_size_t len)
{
	membuf_append(png_get_io_ptr(png), data, len);
}

static void png_flush_nothing(png_structp png)
{
	(void)png;
}

/* The palette of an image of at most 256 colours, and each pixel's index in it; -1 past 256 colours. Screens
 * of text and UI have few colours even anti-aliased: as a palette PNG they deflate to a third or less. */
static int palette_of(const uint8_t* pixels, int stride, int w, int h, png_color* palette, uint8_t* indices)
{
	uint32_t keys[1024];
	uint8_t values[1024];
	memset(keys, 0xff, sizeof(keys));
	int count = 0;
	uint32_t last = 0xffffffffu;
	uint8_t last_index = 0;
	for (int y = 0; y < h; y++) {
		const uint8_t* p = pixels + (size_t)y * (size_t)stride;
		uint8_t* out = indices + (size_t)y * (size_t)w;
		for (int x = 0; x < w; x++, p += 4) {
			uint32_t c = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
			if (c != last) {
				uint32_t slot = (c * 2654435761u) >> 22;
				while (keys[slot] != 0xffffffffu && keys[slot] != c)
					slot = (slot + 1) & 1023;
				if (keys[slot] == 0xffffffffu) {
					if (count == 256)
						return -1;
					keys[slot] = c;
					values[slot] = (uint8_t)count;
					palette[count] = (png_color){ p[2], p[1], p[0] };
					count++;
				}
				last = c;
				last_index = values[slot];
			}
			out[x] = last_index;
		}
	}
	return count;
}

/* One libpng write of `h` rows into `out`; `row_at(y)` gives each row as the IHDR says. */
typedef const uint8_t* (*png_row_fn)(void* context, int y);

static int write_png(membuf* out, int w, int h, int depth, int colour_type, const png_color* palette, int colours,
                     png_row_fn row_at, void* context)
{
	out->len = 0;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (!png)
		return -1;
	png_infop info = png_create_info_struct(png);
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -1;
	}
	png_set_write_fn(png, out, png_write_to_membuf, png_flush_nothing);
	/* Palette images are a third of RGB's bytes or less: zlib's level 4 takes about a quarter off them (anti-aliased
	 * text) at little more time than level 1; RGB ones, large and mostly hot, keep level 1. */
	png_set_compression_level(png, colour_type == PNG_COLOR_TYPE_PALETTE ? 4 : 1);
	png_set_filter(png, 0, colour_type == PNG_COLOR_TYPE_PALETTE ? PNG_FILTER_NONE : PNG_FILTER_SUB);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, colour_type, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (palette)
		png_set_PLTE(png, info, palette, colours);
	png_write_info(png, info);
	/* Indices of 1, 2 or 4 bits are given a byte per pixel: libpng packs them. */
	if (depth < 8)
		png_set_packing(png);
	for (int y = 0; y < h; y++)
		png_write_row(png, (png_bytep)row_at(context, y));
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	return 0;
}

typedef struct {
	const uint8_t* pixels;
	int stride, w, alpha;
	uint8_t* row;
	const uint8_t* indices;
} png_source;

/* B, G, R, X (or A) bytes as PNG's R, G, B (A). */
static const uint8_t* rgb_row(void* context, int y)
{
	png_source* source = context;
	const uint8_t* src = source->pixels + (size_t)y * (size_t)source->stride;
	uint8_t* o = source->row;
	for (int x = 0; x < source->w; x++, src += 4) {
		*o++ = src[2];
		*o++ = src[1];
		*o++ = src[0];
		if (source->alpha)
			*o++ = src[3];
	}
	return source->row;
}

static const uint8_t* index_row(void* context, int y)
{
	png_source* source = context;
	return source->indices + (size_t)y * (size_t)source->w;
}

/* Pixels of `source` as a PNG: with `colours` (1 to 256, `palette` and `source->indices` from palette_of) a palette
 * PNG of 1 to 8 bits an index, otherwise RGB (RGBA when `source->alpha`). */
static int encode_png(membuf* out, png_source* source, int h, const png_color* palette, int colours)
{
	if (colours > 0) {
		int depth = colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8;
		return write_png(out, source->w, h, depth, PNG_COLOR_TYPE_PALETTE, palette, colours, index_row, source);
	}
	return write_png(out, source->w, h, 8, source->alpha ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB, NULL, 0, rgb_row,
	                 source);
}

static int encode_jpeg(membuf* out, const uint8_t* pixels, int stride, int w, int h, int quality)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	unsigned char* mem = NULL;
	unsigned long mem_len = 0;
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, &mem, &mem_len);
	cinfo.image_width = (JDIMENSION)w;
	cinfo.image_height = (JDIMENSION)h;
	cinfo.input_components = 4;
	cinfo.in_color_space = JCS_EXT_BGRX;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, quality, TRUE);
	jpeg_start_compress(&cinfo, TRUE);
	while (cinfo.next_scanline < cinfo.image_height) {
		JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * (size_t)stride);
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	out->len = 0;
	membuf_append(out, mem, mem_len);
	free(mem);
	return 0;
}

/* Distinct colours among up to ~1024 sampled pixels, counting stops at 257. */
static int sampled_colours(const display* d, const rect* r)
{
	uint32_t table[512];
	memset(table, 0xff, sizeof(table));
	int distinct = 0;
	int step_x = r->w / 32 > 0 ? r->w / 32 : 1;
	int step_y = r->h / 32 > 0 ? r->h / 32 : 1;
	for (int y = r->y; y < r->y + r->h; y += step_y)
		for (int x = r->x; x < r->x + r->w; x += step_x) {
			const uint8_t* p = d->fb + (size_t)y * (size_t)d->stride + (size_t)x * 4;
			uint32_t c = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
			uint32_t slot = (c * 2654435761u) >> 23;
			while (table[slot] != 0xffffffffu && table[slot] != c)
				slot = (slot + 1) & 511;
			if (table[slot] == 0xffffffffu) {
				table[slot] = c;
				if (++distinct > 256)
					return distinct;
			}
		}
	return distinct;
}

static int average_heat(const display* d, const rect* r)
{
	long sum = 0, cells = 0;
	for (int cy = r->y / HEAT_CELL; cy <= (r->y + r->h - 1) / HEAT_CELL; cy++)
		for (int cx = r->x / HEAT_CELL; cx <= (r->x + r->w - 1) / HEAT_CELL; cx++) {
			sum += d->heat[cy * d->heat_cols + cx];
			cells++;
		}
	return cells ? (int)(sum / cells) : 0;
}

/* JPEG only where a lossless picture cannot be small: a large rect (at least 64×64) that is photo-like (more
 * than 256 distinct colours in a sample, where PNG gets big and JPEG artefacts are invisible). Text and UI chrome,
 * anti-aliased or not, have at most a few hundred colours: a palette PNG keeps them exact and small. */
static int is_large(const rect* r)
{
	return r->w >= 64 && r->h >= 64;
}

static int wants_jpeg(const display* d, const rect* r)
{
	return d->jpeg_allowed && is_large(r) && sampled_colours(d, r) > 256;
}

static uint8_t* shadow_at(const display* d, int x, int y)
{
	return d->shadow + ((size_t)y * (size_t)d->width + (size_t)x) * 4;
}

static void send_rect(display* d, const rect* r, int use_heat)
{
	const uint8_t* origin = d->fb + (size_t)r->y * (size_t)d->stride + (size_t)r->x * 4;
	png_source source = { origin, d->stride, r->w, 0, d->row, d->indices };
	png_color palette[256];
	int jpeg = wants_jpeg(d, r);
	int colours = jpeg ? -1 : palette_of(origin, d->stride, r->w, r->h, palette, d->indices);
	/* More than 256 colours changing about 8+ times a second (video-like): JPEG; still, it stays lossless. */
	if (colours < 0 && !jpeg)
		jpeg = d->jpeg_allowed && is_large(r) && use_heat && average_heat(d, r) >= 16;
	int failed = jpeg ? encode_jpeg(&d->encoded, origin, d->stride, r->w, r->h, 85)
	                  : encode_png(&d->encoded, &source, r->h, palette, colours);
	if (failed) {
		log_line("could not encode a %dx%d rect", r->w, r->h);
		return;
	}
	char stream[16], x[16], y[16];
	snprintf(stream, sizeof(stream), "%d", d->next_stream);
	snprintf(x, sizeof(x), "%d", r->x);
	snprintf(y, sizeof(y), "%d", r->y);
	gp_send("img", stream, "14", "0", jpeg ? "image/jpeg" : "image/png", x, y, NULL);
	gp_send_blob(d->next_stream, d->encoded.data, d->encoded.len);
	gp_send("end", stream, NULL);
	d->next_stream = d->next_stream >= 4096 ? 1 : d->next_stream + 1;
	for (int y = r->y; y < r->y + r->h; y++)
		memcpy(shadow_at(d, r->x, y), d->fb + (size_t)y * (size_t)d->stride + (size_t)r->x * 4, (size_t)r->w * 4);
}

static uint64_t row_hash(const uint8_t* p, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Row `y` of the screen now and as the client has it, over the rect's columns, are the same. */
static int row_unchanged(const display* d, const rect* r, int y)
{
	return !memcmp(d->fb + (size_t)y * (size_t)d->stride + (size_t)r->x * 4, shadow_at(d, r->x, y), (size_t)r->w * 4);
}

/* Sends the rows of `r` from `top` to `bottom` (exclusive) that differ from what the client has, as one rect. */
static void send_changed_rows(display* d, const rect* r, int top, int bottom, int use_heat)
{
	while (top < bottom && row_unchanged(d, r, top))
		top++;
	while (bottom > top && row_unchanged(d, r, bottom - 1))
		bottom--;
	if (top < bottom) {
		rect changed = { r->x, top, r->w, bottom - top };
		send_rect(d, &changed, use_heat);
	}
}

/* The fewest rows a copy moves: below that, sending them costs little more than the copy's bookkeeping. */
#define MIN_SCROLL_ROWS 16

/* The shift (row y now shows the client's row y + shift) most of `r`'s distinct rows agree on; 0 for none. */
static int scroll_shift(display* d, const rect* r)
{
	size_t len = (size_t)r->w * 4;
	int mask = d->table_size - 1;
	for (int i = 0; i < d->table_size; i++)
		d->table_rows[i] = -1;
	for (int i = 0; i < r->h; i++) {
		d->new_hashes[i] = row_hash(d->fb + (size_t)(r->y + i) * (size_t)d->stride + (size_t)r->x * 4, len);
		uint64_t h = d->old_hashes[i] = row_hash(shadow_at(d, r->x, r->y + i), len);
		int slot = (int)(h & (uint64_t)mask);
		while (d->table_rows[slot] != -1 && d->table_hashes[slot] != h)
			slot = (slot + 1) & mask;
		/* A row that repeats (a blank line) says nothing about the shift: marked -2. */
		d->table_rows[slot] = d->table_rows[slot] == -1 ? i : -2;
		d->table_hashes[slot] = h;
	}
	int best = 0, best_votes = 0;
	for (int i = 0; i < r->h; i++) {
		uint64_t h = d->new_hashes[i];
		if (h == d->old_hashes[i])
			continue;
		int slot = (int)(h & (uint64_t)mask);
		while (d->table_rows[slot] != -1 && d->table_hashes[slot] != h)
			slot = (slot + 1) & mask;
		int from = d->table_rows[slot];
		if (from < 0)
			continue;
		int votes = ++d->votes[from - i + r->h];
		if (votes > best_votes) {
			best_votes = votes;
			best = from - i;
		}
	}
	memset(d->votes, 0, sizeof(int) * (2 * (size_t)r->h + 1));
	return best_votes >= MIN_SCROLL_ROWS / 2 ? best : 0;
}

/* Sends what changed in `r`: where its rows are the client's rows moved (a window scrolled), a copy of the
 * longest such run and the rows around it that still differ; otherwise the rows that differ. */
static void send_changes(display* d, const rect* r, int use_heat)
{
	int shift = r->w >= 64 && r->h >= 2 * MIN_SCROLL_ROWS ? scroll_shift(d, r) : 0;
	int run_top = 0, run_bottom = 0;
	if (shift) {
		size_t len = (size_t)r->w * 4;
		for (int top = -1, y = r->y; y <= r->y + r->h; y++) {
			int source = y + shift;
			int moved = y < r->y + r->h && source >= r->y && source < r->y + r->h &&
			            !memcmp(d->fb + (size_t)y * (size_t)d->stride + (size_t)r->x * 4, shadow_at(d, r->x, source), len);
			if (moved && top < 0)
				top = y;
			if (!moved && top >= 0) {
				if (y - top > run_bottom - run_top) {
					run_top = top;
					run_bottom = y;
				}
				top = -1;
			}
		}
	}
	if (run_bottom - run_top < MIN_SCROLL_ROWS) {
		send_changed_rows(d, r, r->y, r->y + r->h, use_heat);
		return;
	}
	char sx[16], sy[16], w[16], h[16], dy[16];
	snprintf(sx, sizeof(sx), "%d", r->x);
	snprintf(sy, sizeof(sy), "%d", run_top + shift);
	snprintf(w, sizeof(w), "%d", r->w);
	snprintf(h, sizeof(h), "%d", run_bottom - run_top);
	snprintf(dy, sizeof(dy), "%d", run_top);
	/* OVER, as guacd sends its copies: a browser applies SRC (the canvas's "copy") to the whole layer and clears
	 * everything outside the copied rectangle. The screen is opaque, so OVER moves the same pixels. */
	gp_send("copy", "0", sx, sy, w, h, "14", "0", sx, dy, NULL);
	/* The client's rows move as the copy says: upward shifts are copied top down, downward ones bottom up. */
	size_t len = (size_t)r->w * 4;
	if (shift > 0)
		for (int y = run_top; y < run_bottom; y++)
			memcpy(shadow_at(d, r->x, y), shadow_at(d, r->x, y + shift), len);
	else
		for (int y = run_bottom - 1; y >= run_top; y--)
			memcpy(shadow_at(d, r->x, y), shadow_at(d, r->x, y + shift), len);
	send_changed_rows(d, r, r->y, run_top, use_heat);
	send_changed_rows(d, r, run_bottom, r->y + r->h, use_heat);
}

static void send_sync(display* d)
{
	int64_t ts = now_ms();
	if (ts <= d->last_timestamp)
		ts = d->last_timestamp + 1;
	d->last_timestamp = ts;
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)ts);
	gp_send("sync", text, NULL);
	if (d->ninflight == MAX_INFLIGHT) {
		memmove(d->inflight, d->inflight + 1, sizeof(d->inflight[0]) * (MAX_INFLIGHT - 1));
		d->ninflight--;
	}
	d->inflight[d->ninflight++] = ts;
	d->last_frame_at = now_ms();
}

static void decay_heat(display* d)
{
	int64_t now = now_ms();
	if (now - d->heat_decayed_at < 1000)
		return;
	d->heat_decayed_at = now;
	for (int i = 0; i < d->heat_cols * d->heat_rows; i++)
		d->heat[i] /= 2;
}

static void send_cursor(display* d)
{
	char w[16], h[16], hx[16], hy[16];
	snprintf(w, sizeof(w), "%d", d->cursor_w);
	snprintf(h, sizeof(h), "%d", d->cursor_h);
	snprintf(hx, sizeof(hx), "%d", d->cursor_hx);
	snprintf(hy, sizeof(hy), "%d", d->cursor_hy);
	gp_send("size", "-1", w, h, NULL);
	gp_send("img", CURSOR_STREAM, "12", "-1", "image/png", "0", "0", NULL);
	gp_send_blob(atoi(CURSOR_STREAM), d->cursor_png, d->cursor_png_len);
	gp_send("end", CURSOR_STREAM, NULL);
	gp_send("cursor", hx, hy, "-1", "0", "0", w, h, NULL);
}

static void send_keyframe(display* d)
{
	char w[16], h[16];
	snprintf(w, sizeof(w), "%d", d->width);
	snprintf(h, sizeof(h), "%d", d->height);
	gp_lock();
	gp_send("keyframe", NULL);
	gp_send("size", "0", w, h, NULL);
	for (int y = 0; y < d->height; y += KEYFRAME_STRIPE) {
		rect stripe = { 0, y, d->width, d->height - y < KEYFRAME_STRIPE ? d->height - y : KEYFRAME_STRIPE };
		send_rect(d, &stripe, 0);
	}
	send_sync(d);
	/* Someone joining at this keyframe needs the pointer image too. */
	if (d->cursor_png)
		send_cursor(d);
	gp_unlock();
}

void display_flush(display* d)
{
	if (!d->fb)
		return;
	decay_heat(d);
	if (d->keyframe_wanted) {
		d->keyframe_wanted = 0;
		d->ndirty = 0;
		send_keyframe(d);
		gp_flush();
		return;
	}
	if (display_due_in(d) != 0)
		return;
	gp_lock();
	for (int i = 0; i < d->ndirty; i++)
		send_changes(d, &d->dirty[i], 1);
	d->ndirty = 0;
	send_sync(d);
	gp_unlock();
	gp_flush();
}

void display_send_thumbnail(display* d, int max_width)
{
	if (!d->fb || max_width < 16)
		return;
	int tw = d->width < max_width ? d->width : max_width;
	int th = (int)((long long)d->height * tw / d->width);
	if (th < 1)
		th = 1;
	uint8_t* small = malloc((size_t)tw * (size_t)th * 4);
	if (!small)
		return;
	/* Each thumbnail pixel is the mean of the screen pixels it covers (a box filter: text stays a grey
	 * texture instead of the noise that picking one pixel in many gives). */
	for (int ty = 0; ty < th; ty++) {
		int y0 = (int)((long long)ty * d->height / th);
		int y1 = (int)((long long)(ty + 1) * d->height / th);
		if (y1 <= y0)
			y1 = y0 + 1;
		for (int tx = 0; tx < tw; tx++) {
			int x0 = (int)((long long)tx * d->width / tw);
			int x1 = (int)((long long)(tx + 1) * d->width / tw);
			if (x1 <= x0)
				x1 = x0 + 1;
			uint32_t b = 0, g = 0, r = 0, n = 0;
			for (int y = y0; y < y1; y++) {
				const uint8_t* p = d->fb + (size_t)y * (size_t)d->stride + (size_t)x0 * 4;
				for (int x = x0; x < x1; x++, p += 4) {
					b += p[0];
					g += p[1];
					r += p[2];
					n++;
				}
			}
			uint8_t* o = small + ((size_t)ty * (size_t)tw + (size_t)tx) * 4;
			o[0] = (uint8_t)(b / n);
			o[1] = (uint8_t)(g / n);
			o[2] = (uint8_t)(r / n);
			o[3] = 0;
		}
	}
	/* A busy screen gets a lower quality rather than a bigger picture; one too busy even then is answered
	 * with no picture at all. */
	static const int qualities[] = { 70, 50, 30 };
	membuf jpeg = { 0 };
	for (size_t i = 0; i < sizeof(qualities) / sizeof(qualities[0]); i++) {
		encode_jpeg(&jpeg, small, tw * 4, tw, th, qualities[i]);
		if (jpeg.len <= THUMBNAIL_MAX_BYTES)
			break;
	}
	free(small);
	char w[16], h[16];
	snprintf(w, sizeof(w), "%d", tw);
	snprintf(h, sizeof(h), "%d", th);
	const char* size[] = { w, h };
	gp_sendv_with_data("thumbnail", 2, size, jpeg.data, jpeg.len <= THUMBNAIL_MAX_BYTES ? jpeg.len : 0);
	free(jpeg.data);
	gp_flush();
}

void display_set_cursor(display* d, const uint8_t* bgra, int width, int height, int hot_x, int hot_y)
{
	if (width <= 0 || height <= 0 || width > 384 || height > 384)
		return;
	uint8_t row[384 * 4];
	membuf png = { 0 };
	png_source source = { bgra, width * 4, width, 1, row, NULL };
	int failed = encode_png(&png, &source, height, NULL, -1);
	if (failed) {
		free(png.data);
		return;
	}
	free(d->cursor_png);
	d->cursor_png = png.data;
	d->cursor_png_len = png.len;
	d->cursor_w = width;
	d->cursor_h = height;
	d->cursor_hx = hot_x < 0 ? 0 : hot_x >= width ? width - 1 : hot_x;
	d->cursor_hy = hot_y < 0 ? 0 : hot_y >= height ? height - 1 : hot_y;
	send_cursor(d);
	gp_flush();
}
