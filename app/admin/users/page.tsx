import { PageTitle } from "@/app/_ui/primitives";
import { userView } from "@/lib/api/views";
import { requirePageUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/infra/runtime";
import { listGroupRoleMappings, listUsers } from "@/lib/data/users";
import { UserEditor } from "./user-editor";

export default async function UsersPage() {
  await requirePageUser("admin");
  const { db } = runtime();
  const [users, mappings] = await Promise.all([listUsers(db), listGroupRoleMappings(db)]);
  return (
    <>
      <PageTitle description="Everyone is a user. Admins manage targets; security watches and stops sessions; reviewers read recordings.">Users and roles</PageTitle>
      <UserEditor users={users.map(userView)} mappings={mappings.map(({ group, role }) => ({ group, role }))} />
    </>
  );
}
