// What the gateway does when an error escapes every handler: it cannot know what state it is in, so it says
// so, ends its live sessions as `interrupted` (users see why and reconnect, through another node if there is
// one) and exits non-zero for its supervisor to restart it. The frameworks' own catch-alls only log and carry
// on, which leaves a process in an unknown state serving privileged sessions.
import { log } from "../lib/infra/log";

/** Exit status for "stopped on an internal error" (EX_SOFTWARE). */
export const crashExitCode = 70;
const endingSessionsMs = 5000;

export function installCrashPolicy(endLiveSessions: (message: string) => Promise<void>) {
  let crashing = false;
  const fatal = (kind: string) => (error: unknown) => {
    log.fatal({ err: error }, `gatehouse: ${kind}; ending live sessions as interrupted and exiting`);
    if (crashing) return;
    crashing = true;
    setTimeout(() => process.exit(crashExitCode), endingSessionsMs).unref();
    endLiveSessions("the gateway stopped on an internal error; reconnect in a moment").finally(() => process.exit(crashExitCode));
  };
  process.on("uncaughtException", fatal("uncaught exception"));
  process.on("unhandledRejection", fatal("unhandled rejection"));
}
