// For a target whose sessions are not recorded, the only memory of the screen a watcher can join: the last
// 256 KiB of output at the current size. Shells and full-screen programs redraw often enough that this shows
// the screen as it is in practice; exactness would need the recording this target was configured without.
import type { TerminalSize } from "../protocols/adapter";
import type { StreamRecorder } from "./session-recorder";
import type { WatchFrame } from "../live/watchers";

const keptBytes = 256 * 1024;

export class ScreenTail implements StreamRecorder {
  private parts: Buffer[] = [];
  private bytes = 0;

  constructor(private size: TerminalSize) {}

  output(data: Buffer) {
    this.parts.push(data);
    this.bytes += data.length;
    while (this.parts.length > 1 && this.bytes - this.parts[0]!.length >= keptBytes) this.bytes -= this.parts.shift()!.length;
  }

  input() {}

  resize(size: TerminalSize) {
    this.size = size;
  }

  async catchUp(): Promise<WatchFrame[]> {
    return [{ type: "screen", ...this.size }, Buffer.concat(this.parts).subarray(-keptBytes)];
  }

  async close() {}
}
