import { PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { listCommandRules } from "@/lib/data/command-policy/rules";
import { runtime } from "@/lib/infra/runtime";
import { RuleEditor } from "./rule-editor";

export default async function CommandRulesPage() {
  await requirePageUser("admin");
  const rules = await listCommandRules(runtime().db);
  return (
    <>
      <PageTitle description="Rules watch what people do in live sessions: the commands they run, what the target prints, the requests they make to web apps. A match is a risk event on the session; the rule's action decides what else happens. Changes apply to live sessions on every node at once.">
        Command policy
      </PageTitle>
      <RuleEditor rules={rules.map((rule) => ({ ...rule, createdAt: undefined, updatedAt: undefined }))} />
    </>
  );
}
