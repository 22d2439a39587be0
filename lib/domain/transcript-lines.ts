// Turns a terminal session into searchable lines: the commands typed and the lines shown.
//
// Commands are rebuilt from the keystrokes: printable characters extend the line, Backspace removes one,
// Ctrl+U and Ctrl+C clear it, Ctrl+W removes a word, Enter ends it. Escape sequences (arrows, Home, …) and
// Tab are dropped, because their effect depends on the shell. Limits: a command recalled from history,
// completed with Tab or edited with the cursor keys is recorded as what was typed, not what ran; the output
// lines (which include the shell's own echo of the command) carry what the screen showed.
// Output lines are the screen text without escape sequences; a carriage return within a line keeps what
// was written after it (progress bars), and very long lines are cut.
// eslint-disable-next-line no-control-regex
const escapeSequences = /\x1b(\[[0-9;?<>=!]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|P[^\x1b]*\x1b\\|[()][0-9A-Za-z]|[@-Z\\-_=>78])/g;
// eslint-disable-next-line no-control-regex
const otherControls = /[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]/g;
const longestLine = 2000;
/** Enough of an unfinished line to find its last carriage return and still fill a whole line. */
const openLineLimit = longestLine * 4;

export interface TranscriptLine {
  atMs: number;
  kind: "command" | "output";
  text: string;
}

export class CommandLineTracker {
  private line = "";
  /** Where we are inside an escape sequence typed by a key (ESC [ … final, ESC O x, or ESC x). */
  private escape: "none" | "start" | "csi" | "ss3" = "none";

  /** Feeds typed text; returns the commands completed by it. */
  type(text: string): string[] {
    const commands: string[] = [];
    for (let index = 0; index < text.length; index++) {
      const character = text[index]!;
      if (this.escape === "start") {
        this.escape = character === "[" ? "csi" : character === "O" ? "ss3" : "none";
        continue;
      }
      if (this.escape === "ss3" || (this.escape === "csi" && /[@-~]/.test(character))) {
        this.escape = "none";
        continue;
      }
      if (this.escape === "csi") continue;
      if (character === "\x1b") this.escape = "start";
      else if (character === "\r" || character === "\n") {
        const command = this.line.trim();
        if (command) commands.push(command);
        this.line = "";
      } else if (character === "\x7f" || character === "\b") this.line = this.line.slice(0, -1);
      else if (character === "\x15" || character === "\x03") this.line = "";
      else if (character === "\x17") this.line = this.line.replace(/\S+\s*$/, "");
      else if (character >= " ") this.line += character;
    }
    if (this.line.length > longestLine) this.line = this.line.slice(0, longestLine);
    return commands;
  }
}

export class OutputLineTracker {
  private partial = "";

  /** Feeds screen output; returns the lines completed by it, at most `wanted` of them (cleaning costs). */
  write(text: string, wanted = Infinity): string[] {
    const lastNewline = text.lastIndexOf("\n");
    if (lastNewline === -1) {
      // A flood without line ends (or one long line): keep only the tail, never the whole text.
      this.partial = text.length >= openLineLimit ? text.slice(-openLineLimit) : (this.partial + text).slice(-openLineLimit);
      return [];
    }
    const completed = wanted > 0 ? this.partial + text.slice(0, lastNewline) : "";
    this.partial = text.slice(lastNewline + 1).slice(-openLineLimit);
    const lines: string[] = [];
    for (const part of completed.split("\n")) {
      if (lines.length >= wanted) break;
      const line = clean(part);
      if (line !== "") lines.push(line);
    }
    return lines;
  }

  /** The line still open at the end of the session. */
  end(): string[] {
    const last = clean(this.partial);
    this.partial = "";
    return last ? [last] : [];
  }
}

/** Terminal text without its escape sequences: what a person reads, and nothing that can act. */
export const withoutEscapes = (text: string) => text.replace(escapeSequences, "");

function clean(raw: string): string {
  const visible = withoutEscapes(raw);
  const afterReturn = visible.slice(visible.replace(/\r+$/, "").lastIndexOf("\r") + 1);
  return afterReturn.replace(otherControls, "").replace(/\r/g, "").trim().slice(0, longestLine);
}

