// Durations of the schedules CLI (`--every 90s`, `prune --older-than 30d`): a positive integer
// and one unit, s | m | h | d.

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s` → 90000. Returns null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+)\s*([smhd])\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n) || n < 1) return null;
  const ms = n * UNITS[m[2]!]!;
  return Number.isSafeInteger(ms) ? ms : null;
}

/** 90000 → `90s`, 300000 → `5m`: the largest unit that divides the duration exactly. */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    const size = UNITS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * An ISO 8601 time: a date (`2025-06-01`, midnight UTC) or a date-time with a zone
 * (`2025-06-01T09:00:00Z`, `…+02:00`). Returns null otherwise: a date-time without a zone is
 * refused rather than read in whatever zone the machine has.
 */
export function parseIsoTime(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/i.exec(text.trim());
  if (!m) return null;
  if (m[4] !== undefined && m[7] === undefined) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Reject dates that Date would roll over (2025-02-30).
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return null;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59)) return null;
  const t = Date.parse(m[4] === undefined ? `${m[1]}-${m[2]}-${m[3]}T00:00:00Z` : text.trim().replace(" ", "T"));
  return Number.isFinite(t) ? t : null;
}
