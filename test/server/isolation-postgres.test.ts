import { afterAll, beforeAll } from "vitest";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { isolationSuite } from "./isolation.shared.js";

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
}, 60_000);

isolationSuite("postgres", async () => pg.createDatabase());
