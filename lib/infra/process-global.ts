// A value installed once per process and read by every copy of the module that asks for it: Next.js bundles
// app/ code apart from the custom server, so a module-level variable would exist twice. Kept on globalThis
// under a registered symbol, both copies see the one the server installed at start.
export function processGlobal<T>(name: string, notInstalled: string) {
  const key = Symbol.for(`gatehouse.${name}`);
  const holder = globalThis as unknown as Record<symbol, T | undefined>;
  return {
    install(value: T): void {
      holder[key] = value;
    },
    get(): T {
      const value = holder[key];
      if (value === undefined) throw new Error(notInstalled);
      return value;
    },
  };
}
