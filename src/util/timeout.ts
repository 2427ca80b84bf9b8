// Bounds a promise in time: every QEMU-facing request (qtest, QMP) goes through it so no test hangs.
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} (no answer in ${ms} ms)`)), ms);
    }),
  ]);
}
