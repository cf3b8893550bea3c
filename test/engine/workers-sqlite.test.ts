import { join } from "node:path";
import { tempDir } from "../helpers/cli.js";
import { workerSuite } from "./workers.shared.js";

workerSuite("sqlite", async () => join(tempDir(), "shared.db"));
