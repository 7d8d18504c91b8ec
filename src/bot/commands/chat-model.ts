/**
 * Turns `STEWARD_LLM` (`openai:gpt-4o-mini`, `anthropic:<model>`, `ollama:llama3.1`) into a
 * langchain chat model. The provider packages are optional dependencies, so each is loaded
 * with a dynamic `import()` only when chosen, and a missing one is a configuration error
 * at start rather than a crash on the first message. Temperature is 0: the same sentence
 * should give the same intent.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { StewardError } from '../../errors.ts';

/** How each provider package is loaded; tests replace one to simulate it being absent. */
export type ProviderModules = {
  openai: () => Promise<typeof import('@langchain/openai')>;
  anthropic: () => Promise<typeof import('@langchain/anthropic')>;
  ollama: () => Promise<typeof import('@langchain/ollama')>;
};

export type ChatModelOptions = {
  /**
   * Where API keys are read from. Keys are passed to the provider explicitly, so the check
   * below and the provider agree on which key is used.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
  /** @default dynamic `import()` of `@langchain/openai`, `@langchain/anthropic`, `@langchain/ollama` */
  modules?: Partial<ProviderModules>;
};

type Env = Record<string, string | undefined>;

type ProviderSpec<P extends keyof ProviderModules> = {
  pkg: string;
  /** The environment variable holding the API key, when the provider needs one. */
  keyEnv?: string;
  create(module: Awaited<ReturnType<ProviderModules[P]>>, model: string, env: Env): BaseChatModel;
};

const PROVIDERS: { [P in keyof ProviderModules]: ProviderSpec<P> } = {
  openai: {
    pkg: '@langchain/openai',
    keyEnv: 'OPENAI_API_KEY',
    create: ({ ChatOpenAI }, model, env) =>
      new ChatOpenAI({ model, temperature: 0, apiKey: env.OPENAI_API_KEY }),
  },
  anthropic: {
    pkg: '@langchain/anthropic',
    keyEnv: 'ANTHROPIC_API_KEY',
    create: ({ ChatAnthropic }, model, env) =>
      new ChatAnthropic({ model, temperature: 0, apiKey: env.ANTHROPIC_API_KEY }),
  },
  ollama: {
    pkg: '@langchain/ollama',
    create: ({ ChatOllama }, model) => new ChatOllama({ model, temperature: 0 }),
  },
};

const DEFAULT_MODULES: ProviderModules = {
  openai: () => import('@langchain/openai'),
  anthropic: () => import('@langchain/anthropic'),
  ollama: () => import('@langchain/ollama'),
};

const isProvider = (name: string): name is keyof ProviderModules => Object.hasOwn(PROVIDERS, name);

/**
 * The chat model `spec` names. Throws `CONFIG_INVALID` ("STEWARD_LLM=…: what to fix") for
 * a malformed value, an unknown provider, a package that is not installed or a missing
 * API key; the message never contains a key's value.
 */
export async function createChatModel(spec: string, options: ChatModelOptions = {}): Promise<BaseChatModel> {
  const fail = (problem: string, cause?: unknown): never => {
    throw new StewardError('CONFIG_INVALID', `STEWARD_LLM=${spec}: ${problem}`, { cause });
  };
  const match = /^([^:\s]+):(\S.*)$/.exec(spec.trim());
  if (!match?.[1] || !match[2]) {
    return fail('expected <provider>:<model>, e.g. openai:gpt-4o-mini, anthropic:<model> or ollama:llama3.1');
  }
  const provider = match[1].toLowerCase();
  const model = match[2].trim();
  if (!isProvider(provider)) {
    return fail(`unknown provider \`${provider}\`; use ${Object.keys(PROVIDERS).join(', ')}`);
  }
  const env = options.env ?? process.env;
  return load(provider, model, env, options.modules ?? {}, fail);
}

async function load<P extends keyof ProviderModules>(
  provider: P,
  model: string,
  env: Env,
  modules: Partial<ProviderModules>,
  fail: (problem: string, cause?: unknown) => never,
): Promise<BaseChatModel> {
  const spec: ProviderSpec<P> = PROVIDERS[provider];
  if (spec.keyEnv && !env[spec.keyEnv]) fail(`set ${spec.keyEnv} to use ${provider}`);
  const importer = (modules[provider] ?? DEFAULT_MODULES[provider]) as ProviderModules[P];
  let module: Awaited<ReturnType<ProviderModules[P]>>;
  try {
    module = (await importer()) as Awaited<ReturnType<ProviderModules[P]>>;
  } catch (error) {
    return isModuleNotFound(error)
      ? fail(`the package ${spec.pkg} is not installed; run \`npm install ${spec.pkg}\``, error)
      : fail(`could not load ${spec.pkg}: ${(error as Error).message}`, error);
  }
  try {
    return spec.create(module, model, env);
  } catch (error) {
    return fail(`${provider} rejected the configuration: ${(error as Error).message}`, error);
  }
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
