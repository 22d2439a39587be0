// npm run bench:lists — long lists: pages of the sessions list (API and the server-rendered page), of the
// audit log and of the admin's targets, each over 100,000 rows, at their first page, deep in them and filtered; p50/p95 per page through a
// real gateway, next to the same run's floor (the signed-in session's own route: the server and sign-in check,
// no query of ours). Also the
// whole audit chain walk, which the audit page does only every ten minutes.
// Every phase has a deadline; on one, the phase is named and the figures so far are printed as the JSON line, last.
import postgres from "postgres";
import { auditRowHash, chainLockKey, genesisHash } from "../lib/data/audit";
import { evidenceKeys } from "../lib/infra/evidence-keys";
import { sessionCursor } from "../lib/protocol/sessions";
import { atEnd, percentile, phase, runBenchmark, startBenchGateway, type BenchGateway } from "./support";

const rowCount = Number(process.env.BENCH_LISTS_ROWS ?? 100_000);
const samples = Number(process.env.BENCH_LISTS_SAMPLES ?? 40);
/** p50 and p95 of `samples` GETs of `path` (after 3 unmeasured), in ms; every answer must be 200. */
async function timeGets(bench: BenchGateway, path: string) {
  const times: number[] = [];
  for (let index = 0; index < samples + 3; index++) {
    const started = performance.now();
    const response = await fetch(`${bench.url}${path}`, { headers: { cookie: bench.cookie } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
    if (index >= 3) times.push(performance.now() - started);
  }
  const round = (value: number) => Math.round(value * 10) / 10;
  return { p50: round(percentile(times, 50)), p95: round(percentile(times, 95)) };
}

await runBenchmark("lists", async (figures) => {
  Object.assign(figures, { rows: rowCount, samples });
  const bench = await phase("starting the gateway", 180_000, () => startBenchGateway({ name: "lists", roles: ["admin"], targets: {} }));
  const sql = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
  atEnd(() => sql.end());

  await phase(`seeding ${rowCount} sessions, ${rowCount} audit entries and ${rowCount} targets`, 300_000, async () => {
    const [bencher] = await sql`select id from users where username = 'bench'`;
    // Ten users, a hundred days, some sessions risky: rows as the gateway writes them.
    await sql`insert into users (username, source) select 'user-' || n, 'local' from generate_series(1, 9) as n`;
    await sql`insert into sessions (user_id, target_name, protocol, node, status, started_at, ended_at, end_reason, risk_score, bytes_from_user, bytes_to_user)
      select case when n % 10 = 0 then ${bencher!.id}::uuid else (select id from users where username = 'user-' || (n % 9 + 1)) end,
        'target-' || (n % 250), (array['ssh','rdp','vnc','web'])[n % 4 + 1], 'bench', 'ended',
        now() - (n * 86.4 || ' seconds')::interval, now() - (n * 86.4 || ' seconds')::interval + interval '20 minutes', 'user_closed',
        case when n % 37 = 0 then (n % 5) * 5 else 0 end, n % 5000, n % 70000
      from generate_series(1, ${rowCount}) as n`;
    // The audit entries, chained and signed as the gateway signs them (this process holds its evidence key).
    await sql`select pg_advisory_lock(${chainLockKey})`;
    try {
      const [head] = await sql`select hash from audit_log order by seq desc limit 1`;
      let previous: string = head?.hash ?? genesisHash;
      const keys = evidenceKeys();
      const start = Date.now() - rowCount * 1000;
      for (let offset = 0; offset < rowCount; offset += 2000) {
        const batch = [];
        for (let index = offset; index < Math.min(rowCount, offset + 2000); index++) {
          const row = {
            at: new Date(start + index * 1000),
            actorId: null,
            actorName: `user-${index % 9}`,
            sourceIp: "10.0.0.1",
            action: ["login", "connect", "recording.read", "session.lock", "target.update"][index % 5]!,
            outcome: index % 50 === 0 ? ("refused" as const) : ("success" as const),
            objectType: "session",
            objectId: `object-${index % 5000}`,
            details: { index },
            prevHash: previous,
            keyId: keys.current.id,
          };
          const hash = auditRowHash(row, keys)!;
          batch.push({ at: row.at, actor_id: null, actor_name: row.actorName, source_ip: row.sourceIp, action: row.action, outcome: row.outcome, object_type: row.objectType, object_id: row.objectId, details: sql.json(row.details), prev_hash: previous, hash, key_id: row.keyId });
          previous = hash;
        }
        await sql`insert into audit_log ${sql(batch)}`;
      }
    } finally {
      await sql`select pg_advisory_unlock(${chainLockKey})`;
    }
    // Targets in a few hundred groups of tags, as a large estate names them.
    await sql`insert into targets (name, protocol, host, port, tags)
      select 'host-' || lpad(n::text, 6, '0'), (array['ssh','rdp','vnc'])[n % 3 + 1], '10.' || (n / 65536) || '.' || (n / 256 % 256) || '.' || (n % 256), 22,
        array['site-' || (n % 40), 'role-' || (n % 12)]
      from generate_series(1, ${rowCount}) as n`;
    await sql`analyze sessions`;
    await sql`analyze audit_log`;
    await sql`analyze targets`;
  });

  const deep = await phase("finding the pages halfway down each list", 30_000, async () => {
    const [session] = await sql`select risk_score, started_at::text as started, id from sessions order by started_at desc, id desc offset ${Math.floor(rowCount / 2)} limit 1`;
    const [risky] = await sql`select risk_score, started_at::text as started, id from sessions order by risk_score desc, started_at desc, id desc offset ${Math.floor(rowCount / 2)} limit 1`;
    const [entry] = await sql`select seq from audit_log order by seq desc offset ${Math.floor(rowCount / 2)} limit 1`;
    const [target] = await sql`select name from targets order by name offset ${Math.floor(rowCount / 2)} limit 1`;
    const cursor = (row: typeof session) => sessionCursor({ riskScore: row!.risk_score, startedAt: row!.started, id: row!.id });
    return { sessions: cursor(session), risky: cursor(risky), auditBefore: Number(entry!.seq), targetAfter: encodeURIComponent(target!.name) };
  });

  // The audit page's first load walks the whole chain; later loads go on from its head.
  await phase("walking the whole audit chain", 120_000, async () => {
    const started = performance.now();
    const response = await fetch(`${bench.url}/api/admin/audit?verify=whole`, { headers: { cookie: bench.cookie } });
    const body = (await response.json()) as { chain: { intact: boolean; rows: number } };
    if (!body.chain.intact) throw new Error("the seeded audit chain does not verify");
    figures.auditWholeChainWalk = { rows: body.chain.rows, ms: Math.round(performance.now() - started) };
  });

  const pages: Record<string, string> = {
    floor: "/api/auth/session",
    sessionsFirst: "/api/sessions",
    sessionsHalfway: `/api/sessions?after=${deep.sessions}`,
    sessionsRiskiestHalfway: `/api/sessions?sort=risk&after=${deep.risky}`,
    sessionsFiltered: "/api/sessions?user=user-3&protocol=rdp&target=target-1",
    sessionsPageFirst: "/recordings",
    sessionsPageHalfway: `/recordings?after=${deep.sessions}`,
    auditFirst: "/api/admin/audit",
    auditHalfway: `/api/admin/audit?before=${deep.auditBefore}`,
    auditFiltered: "/api/admin/audit?actor=user-4&outcome=refused",
    auditObject: "/api/admin/audit?objectType=session&objectId=object-4321",
    targetsFirst: "/api/admin/targets",
    targetsHalfway: `/api/admin/targets?after=${deep.targetAfter}`,
    targetsSearched: "/api/admin/targets?q=ssh%2010.1&tag=site-7",
    targetsPageFirst: "/admin/targets",
    targetsPageHalfway: `/admin/targets?after=${deep.targetAfter}`,
  };
  const measured: Record<string, { p50: number; p95: number }> = {};
  figures.pagesMs = measured;
  for (const [name, path] of Object.entries(pages)) {
    measured[name] = await phase(`timing ${name} (${path.slice(0, 60)})`, 120_000, () => timeGets(bench, path));
    console.log(`  ${name}: p50 ${measured[name]!.p50} ms, p95 ${measured[name]!.p95} ms`);
  }
  const worst = Object.entries(measured).filter(([name]) => name !== "floor").sort((a, b) => b[1].p95 - a[1].p95)[0]!;
  figures.worstPage = { name: worst[0], p95: worst[1].p95, target: 200 };
});
