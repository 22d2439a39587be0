// Keeps secrets typed at prompts out of recordings. The gateway cannot see the remote terminal's echo flag,
// so it recognises the prompts that turn echo off (password, passphrase, PIN, one-time code) in the output
// and masks what is typed after one, up to Enter. Limits: a prompt worded otherwise, or a program that
// reads a secret without any prompt, is not recognised; the output itself is never masked.
import { StringDecoder } from "node:string_decoder";
import { CommandLineTracker, withoutEscapes } from "../../lib/domain/transcript-lines";

const promptPattern = /(password|passphrase|passcode|\bpin\b|one[- ]time code|verification code|otp)[^\n]{0,40}[:?]\s*$/i;

export const maskedInput = "[masked]";
/** Output bytes looked at for a prompt: its 256 characters, in UTF-8 at most 4 bytes each. */
const promptTailBytes = 1024;

export class InputMasker {
  private recentOutput = "";
  private masking = false;

  observeOutput(text: string) {
    // Only the tail matters; a flood of output must not be copied around to find it.
    this.recentOutput = text.length >= 256 ? text.slice(-256) : (this.recentOutput + text).slice(-256);
    if (promptPattern.test(withoutEscapes(this.recentOutput))) this.masking = true;
  }

  maskInput(text: string): string {
    if (!this.masking) return text;
    const end = text.search(/[\r\n]/);
    if (end === -1) return text === "" ? "" : maskedInput;
    this.masking = false;
    this.recentOutput = "";
    return `${end > 0 ? maskedInput : ""}${text.slice(end)}`;
  }
}

/**
 * What the gateway makes of a terminal user's keystrokes: the text that may be shown and recorded (secrets
 * typed at a password prompt masked) and the commands completed, for the live log, the recording and search.
 */
export class KeystrokeInspector {
  private readonly masker = new InputMasker();
  private readonly commands = new CommandLineTracker();
  private readonly decoder = new StringDecoder("utf8");

  /** Only the end of the output can hold a prompt: a flood is not decoded twice for it. */
  observeOutput(data: Buffer) {
    this.masker.observeOutput(data.toString("utf8", Math.max(0, data.length - promptTailBytes)));
  }

  input(data: Buffer): { shown: string; commands: string[]; masked: boolean } {
    const shown = this.masker.maskInput(this.decoder.write(data));
    const masked = shown.startsWith(maskedInput);
    // A secret never becomes a command: only what follows it (Enter) reaches the line tracker.
    return { shown, commands: this.commands.type(masked ? shown.slice(maskedInput.length) : shown), masked };
  }
}
