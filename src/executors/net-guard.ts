import { promises as dns } from "node:dns";
import ipaddr from "ipaddr.js";
import { TaskFailure } from "../core/errors.js";
import type { RuntimeSettings } from "../core/executor.js";

/**
 * The private-address guard for URL-taking executors (DESIGN §8).
 *
 * Only addresses in ipaddr.js's "unicast" range (globally routable unicast) are allowed; every
 * other range is refused: loopback, private, link-local (169.254.169.254, the cloud metadata
 * address), unique-local, unspecified, carrier-grade NAT, reserved, multicast, broadcast,
 * benchmarking, and the IPv6 ranges that embed an IPv4 address (NAT64, 6to4, Teredo, …).
 * IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are unwrapped and judged as IPv4.
 *
 * Residual risk, accepted to keep this simple: the check resolves the name, and fetch resolves it
 * again when it connects. A DNS server that answers a public address to the first lookup and a
 * private one to the second (DNS rebinding with a tiny TTL) can slip through that window. Closing
 * it needs the connection pinned to the vetted address (an undici Agent with a custom
 * `connect.lookup`), which needs undici as a direct dependency. IP-literal URLs are not affected.
 */

const ENV_HINT = "set allowPrivateNetwork / GROVE_ALLOW_PRIVATE_NETWORK=1 to allow";

const RANGE_LABELS: Record<string, string> = {
  unspecified: "an unspecified",
  loopback: "a loopback",
  private: "a private",
  linkLocal: "a link-local",
  uniqueLocal: "a unique-local",
  carrierGradeNat: "a carrier-grade NAT",
  reserved: "a reserved",
  multicast: "a multicast",
  broadcast: "a broadcast",
  benchmarking: "a benchmarking",
  amt: "an AMT",
  as112: "an AS112",
  as112v6: "an AS112",
  ipv4Mapped: "an IPv4-mapped",
  rfc6145: "an IPv4-translated (RFC 6145)",
  rfc6052: "a NAT64 (RFC 6052)",
  "6to4": "a 6to4",
  teredo: "a Teredo",
  orchid2: "an ORCHIDv2",
  droneRemoteIdProtocolEntityTags: "a DRIP entity tag",
};

function parse(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  let text = ip.trim();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  if (!ipaddr.isValid(text)) return null;
  let addr = ipaddr.parse(text);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

/** The ipaddr.js range name of an address (IPv4-mapped unwrapped), or "invalid". */
export function addressRange(ip: string): string {
  const addr = parse(ip);
  return addr ? addr.range() : "invalid";
}

/** True only for a globally routable unicast address; anything unparsable is not public. */
export function isPublicAddress(ip: string): boolean {
  return addressRange(ip) === "unicast";
}

function describe(range: string): string {
  if (range === "invalid") return "not a valid";
  return RANGE_LABELS[range] ?? `a non-public (${range})`;
}

/** Strips the brackets of an IPv6 literal host (`[::1]`). */
export function bareHostname(url: URL): string {
  const h = url.hostname;
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

/** The URL without credentials, for messages. */
function shown(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const u = new URL(url.href);
  u.username = "";
  u.password = "";
  return u.href;
}

/**
 * Refuses (TaskFailure "executor_error") a URL whose host is, or resolves to, any non-public
 * address, unless `settings.allowPrivateNetwork`. `signal` aborts a slow DNS lookup.
 */
export async function assertPublicUrl(
  url: URL,
  settings: Pick<RuntimeSettings, "allowPrivateNetwork">,
  signal?: AbortSignal,
): Promise<void> {
  if (settings.allowPrivateNetwork) return;
  const host = bareHostname(url);
  if (!host) throw new TaskFailure("executor_error", `refusing ${shown(url)}: it has no host`);

  if (ipaddr.isValid(host)) {
    const range = addressRange(host);
    if (range !== "unicast") {
      throw new TaskFailure(
        "executor_error",
        `refusing ${shown(url)}: ${host} is ${describe(range)} address (${ENV_HINT})`,
        { host, address: host, range },
      );
    }
    return;
  }

  let addresses: { address: string }[];
  try {
    addresses = await abortable(dns.lookup(host, { all: true, verbatim: true }), signal);
  } catch (err) {
    if (err instanceof TaskFailure || signal?.aborted) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new TaskFailure("executor_error", `cannot resolve ${host}: ${code}`, { host });
  }
  if (addresses.length === 0) {
    throw new TaskFailure("executor_error", `cannot resolve ${host}: no addresses`, { host });
  }
  // Refuse when ANY address is non-public: the connection may use any of them.
  for (const { address } of addresses) {
    const range = addressRange(address);
    if (range !== "unicast") {
      throw new TaskFailure(
        "executor_error",
        `refusing ${shown(url)}: ${host} resolves to ${address}, which is ${describe(range)} address (${ENV_HINT})`,
        { host, address, range },
      );
    }
  }
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
