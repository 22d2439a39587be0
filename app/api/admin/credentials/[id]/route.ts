import { apiRoute } from "@/lib/api/route";
import { deleteCredential, updateCredential } from "@/lib/data/credentials";
import { runtime } from "@/lib/infra/runtime";

export const PATCH = apiRoute("PATCH /api/admin/credentials/{id}", ({ actor, body, params }) =>
  updateCredential(runtime().db, runtime().vault, actor, params.id!, body),
);

export const DELETE = apiRoute("DELETE /api/admin/credentials/{id}", ({ actor, params }) => deleteCredential(runtime().db, actor, params.id!));
