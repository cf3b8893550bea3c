// A simple layered layout of a tree's DAG: a task sits one layer below everything it waits for —
// its dependencies and, since a parent runs after its children, its children. Wide layers wrap
// into rows of `cols`, so a thousand siblings make a block instead of a line a mile long.

export interface DagTask {
  id: string;
  parent_id: string | null;
  dependencies: { task: string }[];
}

export interface Placed {
  x: number;
  y: number;
  layer: number;
}

export const NODE_W = 168;
export const NODE_H = 44;
const GAP_X = 16;
const GAP_Y = 18;
const LAYER_GAP = 44;
const PAD = 12;

export interface Layout {
  pos: Map<string, Placed>;
  width: number;
  height: number;
  /** Every edge as one SVG path (prerequisite → dependent). */
  edges: string;
}

export function columnsFor(width: number): number {
  return Math.max(1, Math.floor((width - 2 * PAD + GAP_X) / (NODE_W + GAP_X)));
}

export function layout(tasks: DagTask[], cols: number): Layout {
  const ids = new Set(tasks.map((t) => t.id));
  // prerequisites of each task (within the tree)
  const before = new Map<string, string[]>();
  for (const t of tasks) before.set(t.id, []);
  for (const t of tasks) {
    for (const d of t.dependencies) if (ids.has(d.task)) before.get(t.id)!.push(d.task);
    if (t.parent_id && ids.has(t.parent_id)) before.get(t.parent_id)!.push(t.id);
  }
  // longest path from a source, iteratively (Kahn), so deep trees do not overflow the stack
  const indeg = new Map<string, number>();
  const after = new Map<string, string[]>();
  for (const t of tasks) {
    indeg.set(t.id, before.get(t.id)!.length);
    after.set(t.id, []);
  }
  for (const [id, pre] of before) for (const p of pre) after.get(p)!.push(id);
  const layer = new Map<string, number>();
  const queue: string[] = [];
  for (const t of tasks) {
    if (indeg.get(t.id) !== 0) continue;
    queue.push(t.id);
    layer.set(t.id, 0);
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const next of after.get(id)!) {
      layer.set(next, Math.max(layer.get(next) ?? 0, layer.get(id)! + 1));
      const left = indeg.get(next)! - 1;
      indeg.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  for (const t of tasks) if (!layer.has(t.id)) layer.set(t.id, 0); // a cycle cannot be stored, but never loop on one

  const layers: string[][] = [];
  for (const t of tasks) {
    const l = layer.get(t.id)!;
    (layers[l] ??= []).push(t.id);
  }
  const pos = new Map<string, Placed>();
  let y = PAD;
  let widest = 0;
  layers.forEach((ids, l) => {
    if (!ids) return;
    const perRow = Math.min(cols, ids.length);
    widest = Math.max(widest, perRow);
    ids.forEach((id, i) => {
      const row = Math.floor(i / cols);
      const col = i % cols;
      const inRow = Math.min(cols, ids.length - row * cols);
      // a short last row is centred under the full ones
      const offset = ((perRow - inRow) * (NODE_W + GAP_X)) / 2;
      pos.set(id, { x: PAD + offset + col * (NODE_W + GAP_X), y: y + row * (NODE_H + GAP_Y), layer: l });
    });
    const rows = Math.ceil(ids.length / cols);
    y += rows * (NODE_H + GAP_Y) - GAP_Y + LAYER_GAP;
  });
  const width = 2 * PAD + widest * (NODE_W + GAP_X) - GAP_X;
  // centre each layer's block in the full width
  const blockWidth = (n: number) => Math.min(cols, n) * (NODE_W + GAP_X) - GAP_X;
  layers.forEach((ids) => {
    if (!ids) return;
    const shift = (width - 2 * PAD - blockWidth(ids.length)) / 2;
    for (const id of ids) pos.get(id)!.x += shift;
  });
  const parts: string[] = [];
  for (const [id, pre] of before) {
    const b = pos.get(id)!;
    for (const p of pre) {
      const a = pos.get(p)!;
      const x1 = a.x + NODE_W / 2;
      const y1 = a.y + NODE_H;
      const x2 = b.x + NODE_W / 2;
      const y2 = b.y;
      const my = (y1 + y2) / 2;
      parts.push(`M${x1} ${y1}C${x1} ${my} ${x2} ${my} ${x2} ${y2}`);
    }
  }
  return { pos, width: Math.max(width, NODE_W + 2 * PAD), height: Math.max(y - LAYER_GAP + PAD, NODE_H + 2 * PAD), edges: parts.join("") };
}
