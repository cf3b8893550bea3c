// Which language model the agent talks to: `provider:model`, from the `model` option or
// GROVE_MODEL. Provider packages are imported only here and only when a run starts, so
// `grove --help` never loads them (DESIGN §1). API keys are read from the environment and never
// appear in errors, events or logs.
import type { LanguageModel } from "ai";
import { InputError } from "../core/errors.js";

export const PROVIDERS = ["openai", "anthropic", "openai-compatible", "ollama"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface ModelSpec {
  provider: ProviderName;
  model: string;
}

const EXAMPLE = "GROVE_MODEL=openai:gpt-4.1 (or anthropic:claude-sonnet-4-5, openai-compatible:NAME, ollama:NAME)";

/** Parses `provider:model`; throws InputError naming GROVE_MODEL when absent or malformed. */
export function parseModelSpec(spec: string | undefined, env: NodeJS.ProcessEnv = process.env): ModelSpec {
  const value = (spec ?? env.GROVE_MODEL ?? "").trim();
  if (!value) throw new InputError(`no model configured: set ${EXAMPLE}, or pass --model`, "model");
  const at = value.indexOf(":");
  const provider = value.slice(0, at) as ProviderName;
  const model = value.slice(at + 1);
  if (at <= 0 || !model) throw new InputError(`model "${value}" is not provider:model; set ${EXAMPLE}`, "model");
  if (!PROVIDERS.includes(provider)) throw new InputError(`model "${value}": unknown provider "${provider}" (known: ${PROVIDERS.join(", ")})`, "model");
  return { provider, model };
}

/** A model option: a `provider:model` string, or a model object made by the caller. */
export type ModelOption = string | Exclude<LanguageModel, string>;

/** The language model for a run (a model object passes through). */
export async function resolveModel(option: ModelOption | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Exclude<LanguageModel, string>> {
  if (option !== undefined && typeof option !== "string") return option;
  const { provider, model } = parseModelSpec(option, env);
  switch (provider) {
    case "openai": {
      const apiKey = env.OPENAI_API_KEY;
      if (!apiKey && !env.OPENAI_BASE_URL) throw new InputError(`model openai:${model} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)`, "model");
      const { createOpenAI } = await import("@ai-sdk/openai");
      // Chat completions, not the Responses API: OPENAI_BASE_URL often points at a proxy or a
      // compatible server that only speaks chat completions.
      return createOpenAI({ apiKey: apiKey ?? "none", baseURL: env.OPENAI_BASE_URL || undefined }).chat(model);
    }
    case "anthropic": {
      const apiKey = env.ANTHROPIC_API_KEY;
      if (!apiKey) throw new InputError(`model anthropic:${model} needs ANTHROPIC_API_KEY`, "model");
      const { createAnthropic } = await import("@ai-sdk/anthropic");
      return createAnthropic({ apiKey, baseURL: env.ANTHROPIC_BASE_URL || undefined })(model);
    }
    case "openai-compatible":
    case "ollama": {
      const baseURL =
        provider === "ollama"
          ? `${withScheme(env.OLLAMA_HOST || "127.0.0.1:11434").replace(/\/+$/, "")}/v1`
          : env.GROVE_OPENAI_COMPATIBLE_BASE_URL;
      if (!baseURL) throw new InputError(`model openai-compatible:${model} needs GROVE_OPENAI_COMPATIBLE_BASE_URL (e.g. http://127.0.0.1:8000/v1)`, "model");
      const { createOpenAICompatible } = await import("@ai-sdk/openai-compatible");
      const apiKey = provider === "ollama" ? env.OLLAMA_API_KEY : env.GROVE_OPENAI_COMPATIBLE_API_KEY;
      return createOpenAICompatible({ name: provider, baseURL, apiKey: apiKey || undefined, includeUsage: true })(model);
    }
  }
}

/** A short label for events and results: `provider:model`, never a key. */
export function modelLabel(option: ModelOption | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option !== undefined && typeof option !== "string") return `${option.provider}:${option.modelId}`;
  const { provider, model } = parseModelSpec(option, env);
  return `${provider}:${model}`;
}

function withScheme(host: string): string {
  return /^https?:\/\//.test(host) ? host : `http://${host}`;
}
