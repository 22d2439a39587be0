import Link from "next/link";

export default function Forbidden() {
  return (
    <div className="mx-auto max-w-md text-center">
      <h1 className="text-2xl font-semibold">You do not have access to this page</h1>
      <p className="mt-2 text-sm text-slate-600">Your roles do not include the one this page needs. Ask an administrator if you should have it.</p>
      <Link href="/" className="mt-4 inline-block text-sm font-medium text-indigo-700">
        Back to your targets
      </Link>
    </div>
  );
}
