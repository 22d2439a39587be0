"use client";
// Sessions started per hour over the last week, by protocol: uPlot on a canvas, refreshed every minute, with the
// totals in words beside it (what a screen reader reads, and what a glance needs).
import "uplot/dist/uPlot.min.css";
import type uPlot from "uplot";
import { useEffect, useRef, useState } from "react";
import { protocolSchema, type Protocol } from "@/lib/protocol/domain";
import { sessionsOverTimeDays, sessionsOverTimeSchema, type SessionsOverTime } from "@/lib/protocol/sessions";

const refreshEveryMs = 60_000;
const colours: Record<Protocol, string> = { ssh: "#4f46e5", rdp: "#d97706", vnc: "#059669", web: "#dc2626" };

export function SessionsChart() {
  const box = useRef<HTMLDivElement>(null);
  const [data, setData] = useState<SessionsOverTime | null>(null);
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    let cancelled = false;
    const load = async () => {
      try {
        const response = await fetch("/api/sessions/over-time");
        if (!response.ok) throw new Error(`The gateway answered ${response.status}`);
        const parsed = sessionsOverTimeSchema.parse(await response.json());
        if (!cancelled) {
          setData(parsed);
          setProblem(undefined);
        }
      } catch (error) {
        if (!cancelled) setProblem((error as Error).message);
      }
    };
    void load();
    const timer = setInterval(() => void load(), refreshEveryMs);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, []);

  useEffect(() => {
    if (!data || !box.current) return;
    let chart: uPlot | null = null;
    let cancelled = false;
    const container = box.current;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      const width = Math.max(280, container.clientWidth);
      chart = new UPlot(
        {
          width,
          height: 160,
          scales: { x: { time: true } },
          axes: [{}, { size: 40 }],
          series: [{}, ...protocolSchema.options.map((protocol) => ({ label: protocol.toUpperCase(), stroke: colours[protocol], width: 1.5 }))],
        },
        [data.hours, ...protocolSchema.options.map((protocol) => data.started[protocol])],
        container,
      );
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [data]);

  const totals = data ? protocolSchema.options.map((protocol) => [protocol, data.started[protocol].reduce((sum, count) => sum + count, 0)] as const) : [];
  return (
    <figure className="mb-6 rounded-lg border border-slate-200 bg-white p-4" aria-label={`Sessions started per hour over the last ${sessionsOverTimeDays} days`}>
      <figcaption className="mb-2 text-sm font-semibold text-slate-700">
        Sessions started per hour, last {sessionsOverTimeDays} days
        {data ? <span className="ml-2 font-normal text-slate-600" data-testid="sessions-chart-totals">{totals.map(([protocol, total]) => `${protocol.toUpperCase()} ${total}`).join(" · ")}</span> : null}
      </figcaption>
      {problem ? <p className="text-sm text-red-700">{problem}</p> : null}
      <div ref={box} data-testid="sessions-chart" className="min-h-40 overflow-hidden" />
    </figure>
  );
}
