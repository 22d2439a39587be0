#!/usr/bin/env node
// The `gatehouse` command: TypeScript run through tsx, which the gateway itself runs on.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
