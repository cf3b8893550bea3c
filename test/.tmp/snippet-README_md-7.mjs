// examples/greeting-executor.mjs (excerpt)
import { BaseTask } from "grove";

export class GreetingExecutor extends BaseTask {
  id = "greeting_executor";
  name = "Greeting Executor";
  description = "Creates personalized greeting messages";
  async execute(inputs) {
    return { greeting: inputs.language === "fr" ? `Bonjour, ${inputs.name}!` : `Hello, ${inputs.name}!` };
  }
  getInputSchema() {
    return { type: "object", properties: { name: { type: "string" }, language: { type: "string", enum: ["en", "es", "fr", "zh"], default: "en" } }, required: ["name"] };
  }
}
