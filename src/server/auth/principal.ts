// Who a request acts as. The scope comes from the credential only (an API key's stored scope or a
// JWT claim), never from a header or parameter the caller chooses (DESIGN §8).
import { readFileSync } from "node:fs";
import { normalizeScope } from "../../core/scope.js";
import { KeyStore, KEY_PREFIX } from "./keys.js";

export interface Principal {
  /** Rate limits and logs key on this: `key:<id>` or `jwt:<sub>`. */
  id: string;
  kind: "key" | "jwt" | "local";
  /** Owner scope path; "" is every scope. */
  scope: string;
}

export interface JwtOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** RS256 public key (PEM, SPKI). */
  publicKeyPem?: string;
  /** The claim holding the scope (default `grove_scope`). */
  scopeClaim?: string;
  issuer?: string;
  audience?: string;
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

export class Authenticator {
  private hsKey?: Uint8Array;
  private rsKey?: CryptoKey;
  private jose?: typeof import("jose");

  constructor(
    private readonly keys: KeyStore,
    private readonly jwt: JwtOptions = {},
  ) {}

  get jwtEnabled(): boolean {
    return !!(this.jwt.secret || this.jwt.publicKeyPem);
  }

  /** The principal of an `Authorization: Bearer …` header; AuthError when missing or invalid. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!m) throw new AuthError("missing credentials: send Authorization: Bearer <API key or JWT>");
    const token = m[1]!;
    if (token.startsWith(KEY_PREFIX)) {
      const key = await this.keys.verify(token);
      if (!key) throw new AuthError("invalid or revoked API key");
      void this.keys.touch(key.id).catch(() => undefined);
      return { id: `key:${key.id}`, kind: "key", scope: key.scope };
    }
    if (!this.jwtEnabled) throw new AuthError("invalid credentials");
    return this.verifyJwt(token);
  }

  private async verifyJwt(token: string): Promise<Principal> {
    this.jose ??= await import("jose");
    const { jwtVerify, importSPKI } = this.jose;
    const claim = this.jwt.scopeClaim ?? "grove_scope";
    let payload: Record<string, unknown>;
    try {
      const header = this.jose.decodeProtectedHeader(token);
      // The algorithm is pinned by which key is configured, never taken from the token alone.
      if (header.alg === "HS256" && this.jwt.secret) {
        this.hsKey ??= new TextEncoder().encode(this.jwt.secret);
        payload = (await jwtVerify(token, this.hsKey, { algorithms: ["HS256"], issuer: this.jwt.issuer, audience: this.jwt.audience })).payload;
      } else if (header.alg === "RS256" && this.jwt.publicKeyPem) {
        this.rsKey ??= await importSPKI(this.jwt.publicKeyPem, "RS256");
        payload = (await jwtVerify(token, this.rsKey, { algorithms: ["RS256"], issuer: this.jwt.issuer, audience: this.jwt.audience })).payload;
      } else {
        throw new AuthError(`JWT algorithm ${String(header.alg)} is not accepted`);
      }
    } catch (err) {
      if (err instanceof AuthError) throw err;
      // jose's messages name the failed check (expired, signature, claim) without the token.
      throw new AuthError(`invalid JWT: ${(err as Error).message}`);
    }
    const raw = payload[claim];
    if (typeof raw !== "string") throw new AuthError(`JWT has no string "${claim}" claim`);
    let scope: string;
    try {
      scope = raw === "/" ? "" : normalizeScope(raw);
    } catch (err) {
      throw new AuthError(`JWT "${claim}" claim: ${(err as Error).message}`);
    }
    if (scope === "" && raw !== "/") throw new AuthError(`JWT "${claim}" claim is empty (use "/" for every scope)`);
    return { id: `jwt:${typeof payload.sub === "string" ? payload.sub : scope}`, kind: "jwt", scope };
  }
}

export function readPem(path: string | undefined): string | undefined {
  return path ? readFileSync(path, "utf8") : undefined;
}
