// Owner scopes are slash-separated paths (DESIGN §8). A caller sees its own subtree, matched on
// whole path segments: `acme/team_1` contains `acme/team_1/x` but never `acme/team_10`.

export function normalizeScope(scope: string | undefined | null): string {
  if (!scope) return "";
  const parts = scope.split("/").filter((p) => p.length > 0);
  for (const p of parts) {
    if (p === "." || p === ".." || /[\s%*?]/.test(p)) throw new Error(`invalid scope segment "${p}" in "${scope}"`);
  }
  return parts.join("/");
}

export function scopeContains(caller: string, owner: string): boolean {
  if (caller === "") return true;
  return owner === caller || owner.startsWith(caller + "/");
}
