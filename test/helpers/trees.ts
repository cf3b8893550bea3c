/** A tree of `n` count tasks under one root (the root counts too). */
export function countTree(name: string, n: number, opts: { ms?: number; placement?: Record<string, string> } = {}) {
  return {
    name,
    tasks: [
      {
        name: "root",
        executor: "count",
        children: Array.from({ length: n }, (_, i) => ({
          name: `t${i}`,
          executor: "count",
          inputs: opts.ms ? { ms: opts.ms } : {},
          ...(opts.placement ? { placement: opts.placement } : {}),
        })),
      },
    ],
  };
}
