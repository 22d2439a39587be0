// Runs in the app's pages (injected by the gateway, never by the app): records the page with rrweb — password
// fields always masked, every field when the target says so — and streams the events to the gateway over a
// WebSocket on the app's own host. It also shows the user what security does: that the visit is recorded, who
// watches it, a lock, the end of the session.
import { record } from "@rrweb/record";
import { watchersNotice } from "../../../lib/domain/format";
import { navigationTag, pageEventsPath, type ExtendRequest, type PageEvent, type PageMessage } from "../../../lib/protocol/page-recorder";

/** How long events gather before they are sent: fewer frames, still live to a watcher. */
const sendEveryMs = 200;
/** A fresh full snapshot this often, so a seek in the recording starts from one close by. */
const snapshotEveryMs = 60_000;
/**
 * Events held while the gateway cannot be reached, at most; past it they are dropped, since the page sends a
 * full snapshot when it reconnects anyway.
 */
const heldEventsLimit = 20_000;
/** A batch holds at most this many events and about this many bytes, well inside what the gateway takes. */
const batchEvents = 2_000;
const batchBytes = 1024 * 1024;

declare global {
  interface Window {
    __gatehouseRecorder?: true;
  }
}

function start(script: HTMLScriptElement | null) {
  let queue: PageEvent[] = [];
  let socket: WebSocket | null = null;
  let sendTimer: ReturnType<typeof setTimeout> | null = null;
  let retryMs = 500;
  /** Whether the gateway may lack part of the page: after a broken connection, or events dropped while held. */
  let gapped = false;
  let over = false;

  const send = () => {
    sendTimer = null;
    if (socket?.readyState !== WebSocket.OPEN || queue.length === 0) return;
    let batch: string[] = [];
    let bytes = 0;
    const flush = () => {
      // Written by hand to serialize each event once; the shape is PageEventBatch.
      socket!.send(`{"sentAt":${Date.now()},"events":[${batch.join(",")}]}`);
      batch = [];
      bytes = 0;
    };
    for (const event of queue) {
      const json = JSON.stringify(event);
      if (batch.length > 0 && (batch.length >= batchEvents || bytes + json.length > batchBytes)) flush();
      batch.push(json);
      bytes += json.length;
    }
    flush();
    queue = [];
  };

  const stopRecording = record({
    emit(event) {
      if (over) return;
      if (queue.length >= heldEventsLimit) {
        queue = [];
        gapped = true;
      }
      queue.push(event);
      sendTimer ??= setTimeout(send, sendEveryMs);
    },
    maskInputOptions: { password: true },
    maskAllInputs: script?.dataset.maskAllInputs === "true",
    checkoutEveryNms: snapshotEveryMs,
  });

  // Apps that change their URL without loading a page: the move still goes on the timeline.
  const navigated = () => record.addCustomEvent(navigationTag, { href: location.href });
  for (const method of ["pushState", "replaceState"] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History["pushState"]>) {
      const result = original.apply(this, args);
      navigated();
      return result;
    };
  }
  addEventListener("popstate", navigated);
  addEventListener("pagehide", send);

  function notice(id: string, text: string | null) {
    document.getElementById(id)?.remove();
    if (text === null) return;
    const banner = document.createElement("div");
    banner.id = id;
    banner.setAttribute("role", "alert");
    banner.textContent = text;
    banner.style.cssText = "position:fixed;inset:0;z-index:2147483647;display:flex;align-items:center;justify-content:center;padding:2rem;background:rgba(15,23,42,.85);color:#fff;font:600 1.1rem system-ui,sans-serif;text-align:center";
    document.documentElement.append(banner);
  }

  /** A small mark in the page's corner, over the app but never in its way (clicks pass through it). */
  function mark(id: string, text: string | null, colours: string, dot = false) {
    document.getElementById(id)?.remove();
    if (text === null) return;
    let corner = document.getElementById("gatehouse-marks");
    if (!corner) {
      corner = document.createElement("div");
      corner.id = "gatehouse-marks";
      corner.style.cssText = "position:fixed;left:.5rem;bottom:.5rem;z-index:2147483645;display:flex;flex-direction:column;align-items:flex-start;gap:.25rem;pointer-events:none;opacity:.9";
      document.documentElement.append(corner);
    }
    const badge = document.createElement("div");
    badge.id = id;
    badge.setAttribute("role", "status");
    badge.style.cssText = `display:flex;align-items:center;gap:.35rem;padding:.2rem .6rem;border-radius:999px;font:600 .75rem system-ui,sans-serif;${colours}`;
    if (dot) {
      const light = document.createElement("span");
      light.setAttribute("aria-hidden", "true");
      light.style.cssText = "width:.5rem;height:.5rem;border-radius:50%;background:currentColor";
      badge.append(light);
    }
    badge.append(text);
    corner.append(badge);
  }

  /** The visit's end, at the bottom of the page, with a button for more time while the gateway offers it. */
  function expiry(said: Extract<PageMessage, { type: "expiry" }>) {
    document.getElementById("gatehouse-expiry")?.remove();
    const bar = document.createElement("div");
    bar.id = "gatehouse-expiry";
    bar.setAttribute("role", "alert");
    bar.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:2147483646;display:flex;gap:1rem;align-items:center;justify-content:center;padding:.5rem 1rem;background:#fef3c7;color:#78350f;border-top:1px solid #f59e0b;font:500 .95rem system-ui,sans-serif";
    const text = document.createElement("span");
    text.textContent = `This session ends at ${new Date(said.expiresAt).toLocaleTimeString()}.${said.canExtend ? "" : " It cannot be extended further."}`;
    bar.append(text);
    if (said.canExtend) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Extend by ${said.extensionSeconds >= 60 ? `${Math.round(said.extensionSeconds / 60)} min` : `${said.extensionSeconds} s`}`;
      button.style.cssText = "padding:.25rem .75rem;border:1px solid #b45309;border-radius:.375rem;background:#fff;color:#78350f;font:inherit;cursor:pointer";
      button.onclick = () => socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: "extend" } satisfies ExtendRequest));
      bar.append(button);
    }
    document.documentElement.append(bar);
  }

  function connect() {
    socket = new WebSocket(`${location.origin.replace(/^http/, "ws")}${pageEventsPath}`);
    socket.onopen = () => {
      retryMs = 500;
      // The gateway may not have the page as it is: give it a full snapshot.
      if (gapped) record.takeFullSnapshot(true);
      gapped = false;
      send();
    };
    socket.onmessage = (message) => {
      const said = JSON.parse(String(message.data)) as PageMessage;
      if (said.type === "snapshot") record.takeFullSnapshot(true);
      else if (said.type === "state") notice("gatehouse-lock", said.state === "locked" ? said.message : null);
      else if (said.type === "expiry") expiry(said);
      else if (said.type === "recording") mark("gatehouse-recording", said.notice, "background:#fef2f2;color:#b91c1c;border:1px solid #fca5a5", true);
      else if (said.type === "watchers") mark("gatehouse-watchers", said.count > 0 ? watchersNotice(said.count) : null, "background:#f0f9ff;color:#0c4a6e;border:1px solid #7dd3fc");
      else if (said.type === "ended") {
        over = true;
        stopRecording?.();
        document.getElementById("gatehouse-expiry")?.remove();
        notice("gatehouse-ended", said.message);
      }
    };
    socket.onclose = () => {
      socket = null;
      gapped = true;
      if (over) return;
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  }
  connect();
}

if (!window.__gatehouseRecorder) {
  window.__gatehouseRecorder = true;
  start(document.currentScript as HTMLScriptElement | null);
}
