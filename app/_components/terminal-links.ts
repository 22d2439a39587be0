// What a click on a link a target printed may do. A target controls both the text of an OSC 8 hyperlink and its
// address, so the text proves nothing ("https://gatehouse.example/reauth" may lead anywhere). In the player and
// security's live view links are inert; in the user's own terminal one opens only after the user confirms the
// real address, shown whole, and only over http(s). xterm.js sets no window title and touches no clipboard on a
// target's say-so here: no handler is registered for either.
import type { ILinkHandler } from "@xterm/xterm";

export const inertLinks: ILinkHandler = { activate: () => {}, allowNonHttpProtocols: false };

export const confirmedLinks: ILinkHandler = {
  allowNonHttpProtocols: false,
  activate(_event, address) {
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      return;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return;
    const question = `The target printed a link. Whatever its text said, it leads to:\n\n${url.href}\n\n(host: ${url.host}, not Gatehouse)\n\nOpen it in a new tab?`;
    if (window.confirm(question)) window.open(url.href, "_blank", "noopener,noreferrer");
  },
};
