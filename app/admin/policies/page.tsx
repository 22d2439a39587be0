import { PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { listActivities, listPolicies } from "@/lib/data/governance/policies";
import { runtime } from "@/lib/infra/runtime";
import { ActivityEditor } from "./activity-editor";
import { PolicyEditor } from "./policy-editor";

export default async function PoliciesPage() {
  await requirePageUser("admin");
  const [policies, activities] = await Promise.all([listPolicies(runtime().db), listActivities(runtime().db)]);
  const plain = policies.map((policy) => ({ ...policy, validFrom: policy.validFrom?.toISOString() ?? null, validUntil: policy.validUntil?.toISOString() ?? null, createdAt: undefined, updatedAt: undefined }));
  return (
    <>
      <PageTitle description="Who may use or request which targets, who approves, and when, from where and for how long. Where several policies bind a person on a target, each of their conditions must hold.">
        Access policies
      </PageTitle>
      <PolicyEditor policies={plain} />
      <h2 className="mt-10 mb-4 text-xl font-semibold">Activities</h2>
      <ActivityEditor activities={activities.map((activity) => ({ ...activity, createdAt: undefined }))} policies={plain.map(({ id, name }) => ({ id, name }))} />
    </>
  );
}
