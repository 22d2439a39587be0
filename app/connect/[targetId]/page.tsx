import { notFound } from "next/navigation";
import { requirePageUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/runtime";
import { mayReach } from "@/lib/revocations";
import { readSettings } from "@/lib/settings";
import { findTarget } from "@/lib/targets";
import { DesktopView } from "./desktop-view";
import { TerminalView } from "./terminal-view";

export default async function ConnectPage({ params }: { params: Promise<{ targetId: string }> }) {
  const user = await requirePageUser();
  const target = await findTarget(runtime().db, (await params).targetId);
  // A target this user may not reach looks exactly like one that does not exist.
  if (!target || !(await mayReach(runtime().db, user, target)) || target.protocol === "web") notFound();
  const { showRecordingIndicator } = await readSettings(runtime().db);
  const View = target.protocol === "ssh" ? TerminalView : DesktopView;
  return <View targetId={target.id} targetName={target.name} showRecordingIndicator={showRecordingIndicator && target.recordSessions} />;
}
