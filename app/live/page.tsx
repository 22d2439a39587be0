import { PageTitle } from "@/app/_ui/primitives";
import { hasRole, requirePageUser } from "@/lib/auth/current-user";
import { LiveDashboard } from "./live-dashboard";

export default async function LivePage() {
  const user = await requirePageUser(["security", "admin"]);
  return (
    <>
      <PageTitle description="Every session on every gateway node, as it happens. Watch one, or lock, pause or end it; each control asks for a reason and is audited.">
        Live sessions
      </PageTitle>
      <LiveDashboard opensRecordings={hasRole(user, ["reviewer", "admin"])} />
    </>
  );
}
