// What a watcher's view draws, by protocol: a terminal (xterm.js) from screen bytes, a web page (rrweb's
// replayer, live) from page events, or a desktop (Guacamole.Client) from Guacamole instructions. The watch
// socket (./watch-view.tsx) feeds each the same way.
import "@xterm/xterm/css/xterm.css";
import "rrweb/dist/style.css";
import { Terminal } from "@xterm/xterm";
import type { Replayer } from "rrweb";
import type { Client } from "guacamole-common-js";
import { createFedTunnel, fitDisplay, loadGuacamole, type FedTunnel } from "@/app/_components/guacamole";
import { inertLinks } from "@/app/_components/terminal-links";
import type { WatchServerMessage } from "@/lib/protocol/live";

export interface WatchScreen {
  /** The view starts again from what follows (`screen` for a terminal, `page` for a web page, `desktop`). */
  restart(message: Extract<WatchServerMessage, { type: "screen" | "page" | "desktop" }>): void;
  data(bytes: Uint8Array): void;
  resize(cols: number, rows: number): void;
  dispose(): void;
}

export function terminalScreen(container: HTMLElement): WatchScreen {
  const term = new Terminal({
    disableStdin: true,
    linkHandler: inertLinks,
    fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono", Menlo, Consolas, monospace',
    fontSize: 13,
    scrollback: 5000,
    theme: { background: "#0f172a" },
  });
  term.open(container);
  // Writes are parsed asynchronously; a reset or resize must wait for the output before it.
  let drawing = Promise.resolve();
  const draw = (step: () => void | Promise<void>) => (drawing = drawing.then(step));
  return {
    restart(message) {
      if (message.type !== "screen") return;
      void draw(() => {
        term.reset();
        term.resize(message.cols, message.rows);
      });
    },
    data: (bytes) => void draw(() => new Promise<void>((resolve) => term.write(bytes, resolve))),
    resize: (cols, rows) => void draw(() => term.resize(cols, rows)),
    dispose: () => term.dispose(),
  };
}

/**
 * A web page as the user sees it. Events are played as they arrive: each is stamped with the watcher's own
 * clock on arrival, so neither the page's clock nor the gateway's can hold them back.
 */
export async function pageScreen(container: HTMLElement): Promise<WatchScreen> {
  // Loaded in the browser only: rrweb's replayer needs a DOM from its first line.
  const { Replayer } = await import("rrweb");
  let replayer: Replayer | null = null;
  let partial = "";
  const decoder = new TextDecoder();
  const fit = () => {
    const frame = replayer?.wrapper;
    const width = replayer?.iframe.offsetWidth ?? 0;
    if (!frame || width === 0) return;
    const scale = Math.min(1, container.clientWidth / width, container.clientHeight / (replayer!.iframe.offsetHeight || 1));
    frame.style.transform = `scale(${scale})`;
    frame.style.transformOrigin = "top left";
  };
  const start = () => {
    replayer?.destroy();
    container.replaceChildren();
    partial = "";
    replayer = new Replayer([], { root: container, liveMode: true, mouseTail: false, showWarning: false });
    replayer.on("resize", () => requestAnimationFrame(fit));
    replayer.startLive(Date.now());
  };
  const observer = new ResizeObserver(fit);
  observer.observe(container);
  start();
  return {
    restart: start,
    data(bytes) {
      const lines = (partial + decoder.decode(bytes, { stream: true })).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line) continue;
        try {
          replayer?.addEvent({ ...JSON.parse(line), timestamp: Date.now() });
        } catch (error) {
          console.warn("a page event could not be shown:", error);
        }
      }
    },
    resize: () => {},
    dispose() {
      observer.disconnect();
      replayer?.destroy();
    },
  };
}

/** A desktop as the user sees it, scaled to the view; its acknowledgements go nowhere (the user's browser paces the engine). */
export async function desktopScreen(container: HTMLElement): Promise<WatchScreen> {
  const guacamole = await loadGuacamole();
  let client: Client | null = null;
  let fed: FedTunnel | null = null;
  const fit = () => client && fitDisplay(client.getDisplay(), container);
  const start = () => {
    client?.disconnect();
    container.replaceChildren();
    fed = createFedTunnel(guacamole, null);
    client = new guacamole.Client(fed.tunnel);
    const display = client.getDisplay();
    display.onresize = fit;
    container.appendChild(display.getElement());
    client.connect("");
  };
  const observer = new ResizeObserver(fit);
  observer.observe(container);
  start();
  return {
    restart: start,
    data: (bytes) => fed?.receive(bytes),
    resize: () => {},
    dispose() {
      observer.disconnect();
      client?.disconnect();
    },
  };
}
