// Times, durations and values as the pages show them.

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.floor(s % 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} m`;
}

export function taskDuration(t: { started_at: string | null; finished_at: string | null }, now: number): string {
  if (!t.started_at) return "";
  const start = Date.parse(t.started_at);
  const end = t.finished_at ? Date.parse(t.finished_at) : now;
  return duration(end - start);
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = t - now;
  const abs = Math.abs(d);
  const text = abs < 1000 ? "now" : duration(abs);
  if (text === "now") return text;
  return d < 0 ? `${text} ago` : `in ${text}`;
}

export function json(v: unknown): string {
  if (v === undefined) return "";
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}
