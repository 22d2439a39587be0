// A chunk's text as it is recorded: each line written as UTF-8 straight into the chunk's one buffer. A buffer per
// line (and a copy of them all into one body to compress it) made a flood's recording allocate several times its
// size: every such buffer is memory outside V8's heap, which it counts towards full collections, and a block of
// 64 KiB or more gets pages of its own from the allocator (npm start's MALLOC_MMAP_THRESHOLD_), slow to fill
// afresh. So small chunks grow in ordinary blocks, and chunks past 32 KiB (floods) are written into buffers kept
// for reuse, which the writer gives back once a chunk is stored.

/** A chunk grows by doubling up to this, in ordinary allocations; past it, into a kept buffer. */
const smallBodyBytes = 32 * 1024;
/** A flood's chunk is flushed at 256 KiB (./terminal-recorder.ts), so one line more still fits. */
const keptBodyBytes = 320 * 1024;
/**
 * Kept at most (22.5 MiB, for a node's floods, dropped 10 s after the last): a flood's recording holds up to its
 * backlog's high mark waiting and as much again being stored (./chunk-writer.ts), about 66 chunks of 256 KiB.
 */
const bodiesKept = 72;
const keepBodiesForMs = 10_000;
const firstBodyBytes = 1024;

const spareBodies: Buffer[] = [];
let lastReleaseAt = 0;
let spareBodiesTimer: NodeJS.Timeout | null = null;

/** Floods have stopped for a while: the kept buffers go back to the system. */
function dropSpareBodiesWhenIdle() {
  spareBodiesTimer = null;
  if (Date.now() - lastReleaseAt < keepBodiesForMs) spareBodiesTimer = setTimeout(dropSpareBodiesWhenIdle, keepBodiesForMs).unref();
  else spareBodies.length = 0;
}

const isKept = (bytes: Buffer) => bytes.byteOffset === 0 && bytes.buffer.byteLength === keptBodyBytes;

/**
 * A stored chunk's bytes are no longer read by anyone: a kept buffer goes back for the next flood's chunk. Only
 * the writer calls this, after the chunk is stored and out of its pending list.
 */
export function releaseChunkBytes(bytes: Buffer) {
  if (!isKept(bytes) || spareBodies.length >= bodiesKept) return;
  spareBodies.push(Buffer.from(bytes.buffer, 0, keptBodyBytes));
  lastReleaseAt = Date.now();
  spareBodiesTimer ??= setTimeout(dropSpareBodiesWhenIdle, keepBodiesForMs).unref();
}

export class ChunkBody {
  private buffer: Buffer = Buffer.alloc(0);
  private used = 0;

  /** Bytes written since the last `take`. */
  get length() {
    return this.used;
  }

  append(text: string) {
    // A UTF-16 unit is at most three UTF-8 bytes: the exact length is counted only when that might not fit.
    if (this.buffer.length - this.used < text.length * 3) {
      const needed = this.used + Buffer.byteLength(text);
      if (needed > this.buffer.length) this.grow(needed);
    }
    this.used += this.buffer.write(text, this.used);
  }

  /** Text known to be ASCII, one byte a character: copied as it is, without UTF-8's encoding. */
  appendAscii(text: string) {
    if (this.buffer.length - this.used < text.length) this.grow(this.used + text.length);
    this.used += this.buffer.write(text, this.used, "latin1");
  }

  private grow(needed: number) {
    let next: Buffer;
    if (needed <= smallBodyBytes) {
      let size = Math.max(firstBodyBytes, this.buffer.length);
      while (size < needed) size *= 2;
      // Not Buffer.allocUnsafe: a small one is a slice of Node's shared pool and would keep a whole slab.
      next = Buffer.allocUnsafeSlow(size);
    } else if (needed <= keptBodyBytes) next = spareBodies.pop() ?? Buffer.allocUnsafeSlow(keptBodyBytes);
    else next = Buffer.allocUnsafeSlow(needed + (needed >> 1));
    this.buffer.copy(next, 0, 0, this.used);
    if (isKept(this.buffer)) releaseChunkBytes(this.buffer);
    this.buffer = next;
  }

  /** The bytes written so far, to be read at once: the buffer is written on, and reused. */
  written(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  /** The chunk's bytes, handed over: the body starts empty again. */
  take(): Buffer {
    const bytes = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.alloc(0);
    this.used = 0;
    return bytes;
  }
}
