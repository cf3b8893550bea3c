/** A prepared statement: `:name` parameters compiled to `$n`, and the parameter order. */
export interface Stmt {
  name: string;
  text: string;
  params: string[];
}

/** Compiles `:name` parameters to `$n` (comments dropped; `::type` casts left alone). */
export function compile(name: string, source: string): Stmt {
  const params: string[] = [];
  const text = source
    .replace(/--[^\n]*/g, "")
    .replace(/(?<![:\w]):([a-z_][a-z0-9_]*)/gi, (_m, p: string) => {
      let i = params.indexOf(p);
      if (i < 0) i = params.push(p) - 1;
      return `$${i + 1}`;
    })
    .trim();
  return { name, text, params };
}
