import { PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/infra/runtime";
import { defaultTexts, readSettings } from "@/lib/data/settings";
import { SettingsForm } from "./settings-form";

export default async function SettingsPage() {
  await requirePageUser("admin");
  return (
    <>
      <PageTitle description="Gateway-wide settings. Every change is in the audit log.">Settings</PageTitle>
      <SettingsForm settings={await readSettings(runtime().db)} defaults={defaultTexts} />
    </>
  );
}
