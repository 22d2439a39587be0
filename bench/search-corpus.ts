// The transcript search benchmark's corpus: shell sessions made of 20,000 words, commands and numbers,
// with rare needles planted at known rates, bulk-loaded with COPY and indexed once at the end, as an operator
// importing history would.
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import postgres from "postgres";

// Words of letters drawn at English frequencies, picked with a Zipf-like skew: a few are everywhere, most rare.
const letters = "eeeeeeeeeeeetttttttttaaaaaaaaooooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrddddlllluuucccmmmwwffggyyppbbvkjxqz";
let seed = 2026;
const nextRandom = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
export const vocabulary = Array.from({ length: 20_000 }, () => Array.from({ length: 3 + Math.floor(nextRandom() * 8) }, () => letters[Math.floor(nextRandom() * letters.length)]).join(""));
const pickWord = () => vocabulary[Math.min(vocabulary.length - 1, Math.floor(Math.exp(Math.random() * Math.log(vocabulary.length))) - 1)]!;
const commandWords = ["systemctl restart", "journalctl -u", "tail -f /var/log", "kubectl get pods -n", "sudo vim /etc", "grep -r", "docker logs", "psql -c", "cat /proc"];

function* corpusLines(sessionIds: string[], totalBytes: number) {
  let bytes = 0;
  let counter = 0;
  const word = pickWord;
  const perSession = totalBytes / sessionIds.length;
  for (const sessionId of sessionIds) {
    let sessionBytes = 0;
    let atMs = 0;
    while (sessionBytes < perSession) {
      counter++;
      atMs += Math.floor(Math.random() * 2000);
      const command = counter % 12 === 0;
      let text = command
        ? `${commandWords[Math.floor(counter / 12) % commandWords.length]} ${word()}-${Math.floor(Math.random() * 100)}`
        : `${word()} ${word()} ${word()}: ${Array.from({ length: 6 + (counter % 14) }, word).join(" ")} ${Math.floor(Math.random() * 1e6)}`;
      // Needles: one line in 200,000 names a rare host; one in 2,000 a less rare one.
      if (counter % 200_000 === 0) text += " host db-prod-4711 unreachable";
      if (counter % 2_000 === 0) text += " deploy release-2026-11";
      sessionBytes += text.length;
      yield `${sessionId}\t${atMs}\t${command ? "command" : "output"}\t${text}\n`;
    }
    bytes += sessionBytes;
    if (bytes >= totalBytes) return;
  }
}

/** The queries measured: rare and common needles, commands, single words, word pairs and substrings. */
export const searchQueries = ["db-prod-4711", "release-2026-11", "systemctl restart", "kubectl get pods", vocabulary[123]!, `${vocabulary[42]!} ${vocabulary[77]!}`, "prod-47", "/var/log", "unreachable", "tail -f"];

/** Loads `bytes` of transcript text over `sessionCount` ended sessions of the user named `username`. */
export async function loadSearchCorpus(databaseUrl: string, options: { username: string; bytes: number; sessionCount: number }) {
  const sqlClient = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const [user] = await sqlClient`select id from users where username = ${options.username}`;
  const began = performance.now();
  const sessionIds: string[] = [];
  for (let batch = 0; batch < options.sessionCount; batch += 1000) {
    const rows = Array.from({ length: Math.min(1000, options.sessionCount - batch) }, (_, index) => ({
      user_id: user!.id,
      target_name: `host-${(batch + index) % 300}`,
      protocol: "ssh",
      node: "search-corpus",
      status: "ended",
      started_at: new Date(Date.now() - (options.sessionCount - batch - index) * 60_000),
    }));
    sessionIds.push(...(await sqlClient`insert into sessions ${sqlClient(rows)} returning id`).map((row) => row.id as string));
  }
  // Bulk loads build indexes once at the end, as an operator importing history would.
  await sqlClient`drop index transcript_lines_search_idx`;
  await sqlClient`drop index transcript_lines_trigram_idx`;
  let loaded = 0;
  const lines = Readable.from(
    (function* () {
      let batch = "";
      for (const line of corpusLines(sessionIds, options.bytes)) {
        batch += line;
        if (batch.length > 1_000_000) {
          loaded += batch.length;
          if (loaded % 200_000_000 < 1_000_000) console.log(`  search corpus: ${(loaded / 1e6).toFixed(0)} MB loaded`);
          yield batch;
          batch = "";
        }
      }
      loaded += batch.length;
      yield batch;
    })(),
  );
  await pipeline(lines, await sqlClient`copy transcript_lines (session_id, at_ms, kind, text) from stdin`.writable());
  console.log(`  search corpus: ${(loaded / 1e6).toFixed(0)} MB in ${((performance.now() - began) / 1000).toFixed(0)} s; building the indexes`);
  await sqlClient`set maintenance_work_mem = '512MB'`;
  await sqlClient`create index transcript_lines_search_idx on transcript_lines using gin (search_vector)`;
  await sqlClient`create index transcript_lines_trigram_idx on transcript_lines using gin (text gin_trgm_ops)`;
  await sqlClient`analyze transcript_lines`;
  const [size] = await sqlClient`select count(*)::bigint as lines, sum(length(text))::bigint as bytes, count(distinct session_id)::int as sessions from transcript_lines`;
  console.log(`  search corpus ready in ${((performance.now() - began) / 1000).toFixed(0)} s: ${size!.lines} lines, ${(Number(size!.bytes) / 1e9).toFixed(2)} GB of text, ${size!.sessions} sessions`);
  await sqlClient.end();

  return { corpusBytes: Number(size!.bytes), lines: Number(size!.lines), sessions: size!.sessions as number };
}
