import { PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { approvalQueue } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";
import { ApprovalQueue } from "./approval-queue";

export default async function ApprovalsPage() {
  const user = await requirePageUser();
  const requests = await approvalQueue(runtime().db, user);
  return (
    <>
      <PageTitle description="Requests that wait for your decision, and granted access you may revoke.">Approvals</PageTitle>
      <ApprovalQueue requests={requests} />
    </>
  );
}
