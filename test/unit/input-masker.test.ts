import { describe, expect, it } from "vitest";
import { InputMasker, maskedInput } from "@/server/protocols/input-masker";

describe("input masking in recordings", () => {
  it("masks what is typed after a password prompt, up to Enter", () => {
    const masker = new InputMasker();
    masker.observeOutput("[sudo] password for deploy: ");
    expect(masker.maskInput("hun")).toBe(maskedInput);
    expect(masker.maskInput("ter2\r")).toBe(`${maskedInput}\r`);
    expect(masker.maskInput("ls\r")).toBe("ls\r");
  });

  it("sees prompts through colour codes and in other wordings", () => {
    for (const prompt of ["\x1b[1mPassword:\x1b[0m ", "Enter passphrase for key '/home/u/.ssh/id_ed25519': ", "Verification code: ", "PIN? "]) {
      const masker = new InputMasker();
      masker.observeOutput(prompt);
      expect(masker.maskInput("secret"), prompt).toBe(maskedInput);
    }
  });

  it("leaves ordinary input alone, including the word password in a command", () => {
    const masker = new InputMasker();
    masker.observeOutput("user@host:~$ ");
    expect(masker.maskInput("grep password /etc/app.conf\r")).toBe("grep password /etc/app.conf\r");
  });
});
