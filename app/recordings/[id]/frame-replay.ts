// A desktop recording's frames drawn by one Guacamole.Client for the player's life, forward only. The frames
// between what is shown and the moment asked for are handed to the client at once, as one frame (their `sync`s
// left out, the display flushed once: it draws one frame per animation frame), and drawn once their images are
// decoded. A new window, or a moment before what is shown, clears the client and replays from the window's first
// frame (a whole screen, condensed by the gateway).
// Images on the screen (layer 0) are drawn from their data as data: URLs rather than by the client, which makes a
// browser Blob of everything received so far for each piece of an image and decodes it through
// createImageBitmap: a round trip through the browser's blob registry per piece and per image that was most of
// a seek on a busy machine, and an image that does not decode would stop its display for good.
// Guacamole.SessionRecording is not used: it keeps the recording as a Blob read back through a FileReader frame by
// frame and exports the display as PNG data URLs at its own keyframes, most of what a seek cost in the browser;
// and each one makes a display that the page's window holds on to for good (guacamole-common-js listens for
// `blur` on it), canvases and all.
import type { Client, Display } from "guacamole-common-js";
import { createFedTunnel, type FedTunnel, type Guacamole } from "@/app/_components/guacamole";
import { frameAt, type DesktopFrame } from "@/lib/player/desktop-activity";
import type { GuacInstruction } from "@/lib/protocol/guacamole";

/** What a browser decodes from a data: URL; other images go to the client as they are. */
const drawnAsUrls = new Set(["image/png", "image/jpeg", "image/webp"]);

interface ScreenImage {
  mask: number;
  x: number;
  y: number;
  mimetype: string;
  /** Its base64 pieces. */
  pieces: string[];
}

/** An image's pieces as one base64 text; null if they are not base64. */
function joinedBase64(pieces: string[]): string | null {
  // Pieces join as they are unless one before the last ends with padding.
  if (pieces.every((piece, index) => index === pieces.length - 1 || !piece.endsWith("="))) return pieces.join("");
  try {
    return btoa(pieces.map((piece) => atob(piece)).join(""));
  } catch {
    return null;
  }
}

export class FrameReplay {
  private readonly client: Client;
  private readonly fed: FedTunnel;
  private frames: DesktopFrame[] = [];
  /** The last frame handed to the client. */
  private shown = -1;
  /** Screen images being received, by stream. */
  private readonly screenImages = new Map<string, ScreenImage>();
  /** Shows waiting for the display; a clear cancels what it has not drawn, and they are let go then. */
  private readonly drawing = new Set<() => void>();

  constructor(private readonly guacamole: Guacamole) {
    this.fed = createFedTunnel(guacamole, null);
    this.client = new guacamole.Client(this.fed.tunnel);
    this.client.connect("");
    this.clear();
  }

  get display(): Display {
    return this.client.getDisplay();
  }

  /** Replays `frames` from now on, from the first. */
  load(frames: DesktopFrame[]) {
    this.frames = frames;
    this.clear();
  }

  /** Draws the recording at `atMs`; resolves once it is on the canvas, or once a later call clears it. */
  async show(atMs: number): Promise<void> {
    const target = frameAt(this.frames, atMs);
    if (target < this.shown) this.clear();
    while (this.shown < target) this.play(this.frames[++this.shown]!);
    await new Promise<void>((resolve) => {
      this.drawing.add(resolve);
      this.display.flush(() => {
        this.drawing.delete(resolve);
        resolve();
      });
    });
  }

  /** A frame's drawing, without its `sync`: screen images drawn here, the rest by the client, in their order. */
  private play(frame: DesktopFrame) {
    const screen = this.display.getDefaultLayer();
    let forClient: GuacInstruction[] = [];
    const handOver = () => {
      if (forClient.length > 0) this.fed.deliver(forClient);
      forClient = [];
    };
    for (let index = 0; index < frame.instructions.length - 1; index++) {
      const instruction = frame.instructions[index]!;
      const [stream = "", second, third, fourth, fifth, sixth] = instruction.args;
      const image = this.screenImages.get(stream);
      if (instruction.opcode === "img" && third === "0" && drawnAsUrls.has(fourth ?? "") && [second, fifth, sixth].every((value) => Number.isFinite(Number(value)))) {
        this.screenImages.set(stream, { mask: Number(second), mimetype: fourth!, x: Number(fifth), y: Number(sixth), pieces: [] });
      } else if (instruction.opcode === "blob" && image) {
        image.pieces.push(second ?? "");
      } else if (instruction.opcode === "end" && image) {
        this.screenImages.delete(stream);
        const base64 = joinedBase64(image.pieces);
        if (base64 === null) continue;
        handOver();
        // As the client does it: drawn where its stream ends, in order with everything else on the display.
        this.display.setChannelMask(screen, image.mask);
        this.display.draw(screen, image.x, image.y, `data:${image.mimetype};base64,${base64}`);
      } else {
        forClient.push(instruction);
      }
    }
    handOver();
  }

  /** An empty screen, every layer and buffer gone, no cursor until the recording moves it (as in a recording's own player). */
  private clear() {
    // Without resizing the screen: guacamole-common-js fails to resize a layer that was drawn on to nothing.
    this.client.importState({ currentState: this.guacamole.Client.State.CONNECTED, currentTimestamp: 0, layers: {} });
    const screen = this.display.getDefaultLayer();
    this.display.setChannelMask(screen, this.guacamole.Layer.SRC);
    this.display.rect(screen, 0, 0, this.display.getWidth(), this.display.getHeight());
    this.display.fillColor(screen, 0, 0, 0, 0);
    this.display.showCursor(false);
    this.screenImages.clear();
    this.shown = -1;
    for (const resolve of this.drawing) resolve();
    this.drawing.clear();
  }

  dispose() {
    this.client.disconnect();
  }
}
