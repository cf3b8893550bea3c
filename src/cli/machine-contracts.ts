// The request and response contracts of `grove machines …` (zod types, in the shape of
// src/cli/contracts.ts): the flags each command accepts and the JSON it prints with --json.
// `MACHINE_CONTRACTS` is part of the CLI's CONTRACTS table.
import { z } from "zod";
import { globals, isoOrNull, noArgs, positive, type Contract } from "./contract-parts.js";

const nameArg = z.tuple([z.string()]).describe("<name>");

export const MachineJson = z.object({
  name: z.string(),
  owner: z.string(),
  kind: z.enum(["local", "ssh"]),
  host: z.string().nullable(),
  port: z.number().int().nullable(),
  user: z.string().nullable(),
  key_path: z.string().nullable(),
  password_env: z.string().nullable().describe("the environment variable the password is read from (never the password)"),
  known_hosts: z.string().nullable().describe("null: ~/.ssh/known_hosts"),
  labels: z.record(z.string(), z.string()),
  created_at: isoOrNull,
});

export const MachineTestJson = z.object({
  name: z.string(),
  ok: z.boolean(),
  latency_ms: z.number().int().describe("connect (when not connected yet) + running `true`"),
  error: z.string().nullable(),
});

export const MACHINE_CONTRACTS: Record<string, Contract> = {
  "machines add": {
    request: z.object({
      ...globals,
      args: nameArg,
      ssh: z.string().regex(/^([^@\s]+@)?(\[[^\]]+\]|[^:@\s/[\]]+)(:\d+)?$/, "expected user@host or user@host:port").describe("user@host[:port]"),
      key: z.string().optional().describe("private key file (mode 600)"),
      passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name").optional(),
      knownHosts: z.string().optional(),
      labels: z.string().optional().describe("k=v,k2=v2"),
    }),
    response: MachineJson,
  },
  "machines list": { request: z.object({ ...globals, args: noArgs }), response: z.array(MachineJson) },
  "machines test": {
    request: z.object({ ...globals, args: nameArg, timeoutMs: positive }),
    response: MachineTestJson,
  },
  "machines remove": {
    request: z.object({ ...globals, args: nameArg }),
    response: z.object({ name: z.string(), owner: z.string(), removed: z.literal(true) }),
  },
};
