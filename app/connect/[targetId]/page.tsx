import { notFound } from "next/navigation";
import { canReach } from "@/lib/access";
import { requirePageUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/runtime";
import { findTarget } from "@/lib/targets";
import { TerminalView } from "./terminal-view";

export default async function ConnectPage({ params }: { params: Promise<{ targetId: string }> }) {
  const user = await requirePageUser();
  const target = await findTarget(runtime().db, (await params).targetId);
  // A target this user may not reach looks exactly like one that does not exist.
  if (!target || !canReach(user, target) || target.protocol !== "ssh") notFound();
  return <TerminalView targetId={target.id} targetName={target.name} />;
}
