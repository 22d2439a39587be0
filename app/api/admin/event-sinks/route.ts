import { apiRoute } from "@/lib/api/route";
import { sinkStates } from "@/lib/data/stream-cursors";
import { sinkView } from "@/lib/infra/event-stream/sinks";
import { runtime } from "@/lib/infra/runtime";

/** Each SIEM sink: where it sends, how far it got, how much is waiting, its last error. */
export const GET = apiRoute("GET /api/admin/event-sinks", async () => {
  const { db, config } = runtime();
  const states = await sinkStates(db, config.siemSinks.map((sink) => sink.name));
  return config.siemSinks.map((sink, index) => ({ ...sinkView(sink), ...states[index]! }));
});
