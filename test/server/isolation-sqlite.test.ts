import { isolationSuite } from "./isolation.shared.js";

isolationSuite("sqlite", async () => undefined);
