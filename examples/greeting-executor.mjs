// Seed 002's GreetingExecutor, written for grove. Load it with:
//   grove run examples/greeting.json --executors examples/greeting-executor.mjs
import { BaseTask, defineExecutor } from "grove";

// The class form (seed 002's style).
export class GreetingExecutor extends BaseTask {
  id = "greeting_executor";
  name = "Greeting Executor";
  description = "Creates personalized greeting messages";

  async execute(inputs) {
    const greetings = { en: `Hello, ${inputs.name}!`, es: `¡Hola, ${inputs.name}!`, fr: `Bonjour, ${inputs.name}!`, zh: `你好, ${inputs.name}!` };
    return { greeting: greetings[inputs.language] ?? greetings.en, name: inputs.name, language: inputs.language };
  }

  getInputSchema() {
    return {
      type: "object",
      properties: {
        name: { type: "string", description: "Name of the person to greet" },
        language: { type: "string", enum: ["en", "es", "fr", "zh"], description: "Language for the greeting", default: "en" },
      },
      required: ["name"],
    };
  }
}

// The function form, failing the seed's way: return {status: "failed", error, error_type}.
export const shout = defineExecutor({
  id: "shout",
  description: "Upper-cases a greeting",
  input: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  async execute({ text }) {
    if (text.length === 0) return { status: "failed", error: "nothing to shout", error_type: "validation_error" };
    return { text: text.toUpperCase() };
  },
});
