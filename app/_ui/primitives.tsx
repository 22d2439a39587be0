// The few shared UI pieces; everything else is Tailwind classes where it is used.
import { protocolSchema } from "@/lib/protocol/domain";
import type { ButtonHTMLAttributes, FormEventHandler, InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";

export function PageTitle({ children, description }: { children: ReactNode; description?: ReactNode }) {
  return (
    <div className="mb-6">
      <h1 className="text-2xl font-semibold text-slate-900">{children}</h1>
      {description ? <p className="mt-1 text-sm text-slate-600">{description}</p> : null}
    </div>
  );
}

export function Card({ children, className = "" }: { children: ReactNode; className?: string }) {
  return <section className={`rounded-lg border border-slate-200 bg-white p-5 shadow-sm ${className}`}>{children}</section>;
}

const buttonStyles = {
  primary: "bg-indigo-600 text-white hover:bg-indigo-500 disabled:bg-indigo-300",
  secondary: "border border-slate-300 bg-white text-slate-800 hover:bg-slate-50 disabled:text-slate-400",
  danger: "border border-red-300 bg-white text-red-700 hover:bg-red-50 disabled:text-red-300",
};

export function Button({ variant = "primary", className = "", ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: keyof typeof buttonStyles }) {
  return (
    <button
      className={`inline-flex items-center justify-center rounded-md px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-1 ${buttonStyles[variant]} ${className}`}
      {...props}
    />
  );
}

const controlStyle =
  "mt-1 block w-full rounded-md border px-2.5 py-1.5 text-sm text-slate-900 shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500";

/** A labelled control with its error below it, tied together for screen readers. */
export function Field({ id, label, hint, error, children }: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      {children}
      {hint && !error ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} role="alert" className="mt-1 text-xs text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function TextInput({ id, invalid, ...props }: InputHTMLAttributes<HTMLInputElement> & { id: string; invalid?: boolean }) {
  return (
    <input
      id={id}
      name={id}
      aria-invalid={invalid || undefined}
      aria-describedby={invalid ? `${id}-error` : `${id}-hint`}
      className={`${controlStyle} ${invalid ? "border-red-400" : "border-slate-300"}`}
      {...props}
    />
  );
}

export function Select({ id, invalid, children, ...props }: SelectHTMLAttributes<HTMLSelectElement> & { id: string; invalid?: boolean }) {
  return (
    <select id={id} name={id} aria-invalid={invalid || undefined} className={`${controlStyle} ${invalid ? "border-red-400" : "border-slate-300"}`} {...props}>
      {children}
    </select>
  );
}

export function FormError({ message }: { message?: string }) {
  return message ? (
    <p role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
      {message}
    </p>
  ) : null;
}

/** The form beside an admin list: add one, or change the one picked (Cancel goes back to adding). */
export function EditorCard({
  title,
  formKey,
  onSubmit,
  formError,
  submitLabel,
  submitDisabled,
  onCancel,
  autoComplete,
  children,
}: {
  title: string;
  /** A new key gives a fresh form: the fields show the picked item's values. */
  formKey: string;
  onSubmit: FormEventHandler<HTMLFormElement>;
  formError?: string;
  submitLabel: string;
  submitDisabled?: boolean;
  /** Shown while an item is picked. */
  onCancel?: () => void;
  autoComplete?: "off";
  children: ReactNode;
}) {
  return (
    <Card>
      <h2 className="mb-4 text-lg font-semibold">{title}</h2>
      <form key={formKey} onSubmit={onSubmit} className="space-y-3" noValidate autoComplete={autoComplete}>
        <FormError message={formError} />
        {children}
        <div className="flex gap-2 pt-2">
          <Button type="submit" disabled={submitDisabled}>
            {submitLabel}
          </Button>
          {onCancel ? (
            <Button type="button" variant="secondary" onClick={onCancel}>
              Cancel
            </Button>
          ) : null}
        </div>
      </form>
    </Card>
  );
}

export function Badge({ children }: { children: ReactNode }) {
  return <span className="inline-flex rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700">{children}</span>;
}

export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
      <h2 className="text-base font-semibold text-slate-900">{title}</h2>
      <div className="mt-2 text-sm text-slate-600">{children}</div>
    </div>
  );
}

/** A list of rows with a header; a column named with an empty string is an actions column, labelled for screen readers. */
export function DataTable({ caption, columns, children }: { caption: string; columns: string[]; children: ReactNode }) {
  // A table wider than a phone scrolls in its own box, not the page; the box takes the keyboard focus, so that it
  // scrolls with the arrow keys too.
  return (
    <div className="overflow-x-auto" tabIndex={0} role="region" aria-label={caption}>
    <table className="w-full text-left text-sm">
      <caption className="sr-only">{caption}</caption>
      <thead className="text-xs uppercase text-slate-500">
        <tr>
          {columns.map((column, index) => (
            <th key={column || `column-${index}`} className={index === 0 ? "py-2" : undefined}>
              {column || <span className="sr-only">Actions</span>}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
    </div>
  );
}

/** The protocols as <option>s, for every protocol picker. */
export function ProtocolOptions() {
  return protocolSchema.options.map((protocol) => (
    <option key={protocol} value={protocol}>
      {protocol.toUpperCase()}
    </option>
  ));
}
