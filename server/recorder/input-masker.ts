// Keeps secrets typed at prompts out of recordings. The gateway cannot see the remote terminal's echo flag,
// so it recognises the prompts that turn echo off (password, passphrase, PIN, one-time code) in the output
// and masks what is typed after one, up to Enter. Limits: a prompt worded otherwise, or a program that
// reads a secret without any prompt, is not recognised; the output itself is never masked.
import { withoutEscapes } from "../../lib/transcript-lines";

const promptPattern = /(password|passphrase|passcode|\bpin\b|one[- ]time code|verification code|otp)[^\n]{0,40}[:?]\s*$/i;

export const maskedInput = "[masked]";

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
