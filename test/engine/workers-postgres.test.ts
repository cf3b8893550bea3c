import { afterAll, beforeAll } from "vitest";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { workerSuite } from "./workers.shared.js";

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);

workerSuite("postgres", async () => server.createDatabase());
