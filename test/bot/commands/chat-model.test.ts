import { ChatAnthropic } from '@langchain/anthropic';
import { ChatOllama } from '@langchain/ollama';
import { ChatOpenAI } from '@langchain/openai';
import { describe, expect, it } from 'vitest';
import { createChatModel } from '../../../src/bot/commands/llm.ts';
import { StewardError } from '../../../src/errors.ts';

/** Constructing a provider's model makes no network call; only invoking it would. */
describe('createChatModel', () => {
  it('openai:<model> is ChatOpenAI at temperature 0 with the key from the environment', async () => {
    const model = await createChatModel('openai:gpt-4o-mini', { env: { OPENAI_API_KEY: 'sk-test' } });
    expect(model).toBeInstanceOf(ChatOpenAI);
    expect(model).toMatchObject({ model: 'gpt-4o-mini', temperature: 0, apiKey: 'sk-test' });
  });

  it('anthropic:<model> is ChatAnthropic at temperature 0', async () => {
    const model = await createChatModel('anthropic:claude-haiku-4-5', {
      env: { ANTHROPIC_API_KEY: 'sk-ant-test' },
    });
    expect(model).toBeInstanceOf(ChatAnthropic);
    expect(model).toMatchObject({ model: 'claude-haiku-4-5', temperature: 0, apiKey: 'sk-ant-test' });
  });

  it('ollama:<model> is ChatOllama, needs no key, and keeps colons in the model name', async () => {
    const model = await createChatModel(' ollama:llama3.1:8b ', { env: {} });
    expect(model).toBeInstanceOf(ChatOllama);
    expect(model).toMatchObject({ model: 'llama3.1:8b', temperature: 0 });
  });

  it('the provider name is case-insensitive', async () => {
    expect(await createChatModel('Ollama:llama3.1', { env: {} })).toBeInstanceOf(ChatOllama);
  });

  it.each([
    ['', 'STEWARD_LLM=: expected <provider>:<model>'],
    ['gpt-4o-mini', 'STEWARD_LLM=gpt-4o-mini: expected <provider>:<model>'],
    ['openai:', 'STEWARD_LLM=openai:: expected <provider>:<model>'],
    ['openai: ', 'expected <provider>:<model>'],
    ['gemini:pro', 'STEWARD_LLM=gemini:pro: unknown provider `gemini`; use openai, anthropic, ollama'],
    ['constructor:x', 'unknown provider `constructor`'],
    ['openai:gpt-4o-mini', 'STEWARD_LLM=openai:gpt-4o-mini: set OPENAI_API_KEY to use openai'],
    ['anthropic:claude', 'STEWARD_LLM=anthropic:claude: set ANTHROPIC_API_KEY to use anthropic'],
  ])('%j is a CONFIG_INVALID error: %s', async (spec, message) => {
    const attempt = createChatModel(spec, { env: {} });
    await expect(attempt).rejects.toBeInstanceOf(StewardError);
    await expect(attempt).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(message),
    });
  });

  it('a provider package that is not installed says how to install it', async () => {
    const notFound = Object.assign(new Error("Cannot find package '@langchain/openai'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const attempt = createChatModel('openai:gpt-4o-mini', {
      env: { OPENAI_API_KEY: 'sk-test' },
      modules: { openai: () => Promise.reject(notFound) },
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message:
        'STEWARD_LLM=openai:gpt-4o-mini: the package @langchain/openai is not installed; run `npm install @langchain/openai`',
      cause: notFound,
    });
  });

  it('a provider package that fails to load says why', async () => {
    const attempt = createChatModel('ollama:llama3.1', {
      env: {},
      modules: { ollama: () => Promise.reject(new SyntaxError('Unexpected token')) },
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'STEWARD_LLM=ollama:llama3.1: could not load @langchain/ollama: Unexpected token',
    });
  });

  it('a provider that refuses its settings is a configuration error too', async () => {
    class Refusing {
      constructor() {
        throw new Error('model name is not valid');
      }
    }
    const attempt = createChatModel('ollama:???', {
      env: {},
      modules: {
        ollama: async () => ({ ChatOllama: Refusing }) as unknown as typeof import('@langchain/ollama'),
      },
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'STEWARD_LLM=ollama:???: ollama rejected the configuration: model name is not valid',
    });
  });
});
