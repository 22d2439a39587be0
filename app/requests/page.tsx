import { PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { listOwnRequests, requestOptions } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";
import { RequestForm } from "./request-form";
import { RequestList } from "./request-list";

export default async function RequestsPage({ searchParams }: { searchParams: Promise<{ target?: string }> }) {
  const user = await requirePageUser();
  const [options, requests] = await Promise.all([requestOptions(runtime().db, user), listOwnRequests(runtime().db, user)]);
  return (
    <>
      <PageTitle description="Ask for time on targets that need an approved request; you are told of every decision.">Access requests</PageTitle>
      <div className="grid items-start gap-6 grid-cols-[minmax(0,1fr)] lg:grid-cols-[minmax(0,1fr)_24rem]">
        <RequestList requests={requests} />
        <RequestForm options={options} preselected={(await searchParams).target} />
      </div>
    </>
  );
}
