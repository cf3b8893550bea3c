// Inbound webhook signatures: hex(HMAC-SHA256(secret, timestamp + "." + raw body)), sent as
// `X-Grove-Signature: sha256=<hex>` with `X-Grove-Timestamp: <unix seconds>`. A timestamp more
// than 5 minutes away from the server's clock is refused, so a captured request cannot be
// replayed later; the compare is constant-time.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-grove-signature";
export const TIMESTAMP_HEADER = "x-grove-timestamp";
export const REPLAY_WINDOW_S = 300;

export function sign(secret: string, timestamp: string | number, body: Buffer | string): string {
  return "sha256=" + createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

export type Verdict = { ok: true } | { ok: false; reason: string };

export function checkTimestamp(timestamp: string | undefined, nowMs = Date.now()): Verdict {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `missing or malformed ${TIMESTAMP_HEADER} (unix seconds)` };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > REPLAY_WINDOW_S) return { ok: false, reason: `${TIMESTAMP_HEADER} is outside the ${REPLAY_WINDOW_S / 60}-minute window` };
  return { ok: true };
}

/** Constant-time check of one signature against one secret. */
export function signatureMatches(secret: string, timestamp: string, body: Buffer, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = Buffer.from(sign(secret, timestamp, body));
  const given = Buffer.from(signature.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
