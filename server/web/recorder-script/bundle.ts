// The recorder script as the app's pages load it: ./page.ts and rrweb bundled once per process (esbuild,
// ~0.3 s), with the hash its <script> tag carries as `integrity` and the app's policy may allow it by.
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface RecorderScript {
  body: Buffer;
  /** `sha384-…`: the tag's `integrity`, and the hash source added to a Content-Security-Policy. */
  hash: string;
}

let built: Promise<RecorderScript> | null = null;

export function recorderScript(): Promise<RecorderScript> {
  built ??= build({
    entryPoints: [fileURLToPath(new URL("./page.ts", import.meta.url))],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  }).then(({ outputFiles }) => {
    const body = Buffer.from(outputFiles[0]!.contents);
    return { body, hash: `sha384-${createHash("sha384").update(body).digest("base64")}` };
  });
  return built;
}
