import { Grove, defineExecutor } from "grove";
import { z } from "zod";

const greet = defineExecutor({
  id: "greet",
  input: z.object({ name: z.string(), language: z.enum(["en", "fr"]).default("en") }),
  async execute({ name, language }) {
    return { greeting: language === "fr" ? `Bonjour, ${name}!` : `Hello, ${name}!` };
  },
});

const grove = await Grove.local({ db: ":memory:", executors: [greet] });
const result = await grove.run({ name: "hi", tasks: [{ name: "ada", executor: "greet", inputs: { name: "Ada" } }] });
console.log(result.status, result.tasks.find((t) => t.name === "ada").result.greeting);
await grove.close();
