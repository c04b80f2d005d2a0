/**
 * The client's browser offset store (client/offset-store.ts) names the DOM's Storage and
 * localStorage, which the Workers types lack. The client classes run in these tests; that store
 * is only type-checked here, never used.
 */
interface Storage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
// eslint-disable-next-line no-var -- a global as the DOM declares it: `let` would not put it on globalThis
declare var localStorage: Storage;
