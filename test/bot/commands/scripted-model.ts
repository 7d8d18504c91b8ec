/**
 * A chat model that replays scripted answers, so tests go through the real
 * `withStructuredOutput` path (tool binding, tool-call parsing) that providers use, with
 * no network. `FakeListChatModel` cannot: its structured output skips tool calls entirely.
 *
 * Scripts are written as `AIMessage`s and replayed as `AIMessageChunk`s, because the base
 * `withStructuredOutput` parser accepts only chunks ("Input is not an AIMessageChunk").
 */
import type { BaseChatModelCallOptions, BindToolsInput } from '@langchain/core/language_models/chat_models';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { INTENT_TOOL_NAME } from '../../../src/bot/commands/llm.ts';

/** One answer: a message to return, or an error to throw. */
export type Reply = AIMessage | Error;

export type ScriptedModelOptions = {
  /** Wait this long before answering (honours the call's abort signal). */
  delayMs?: number;
};

/** An answer that calls the intent tool with `args`, as a provider's tool call arrives. */
export function toolCall(args: Record<string, unknown>, name = INTENT_TOOL_NAME): AIMessage {
  return new AIMessage({ content: '', tool_calls: [{ name, args, id: 'call_1', type: 'tool_call' }] });
}

export class ScriptedChatModel extends BaseChatModel {
  /** The messages of every call, in order, for asserting what the model was shown. */
  readonly calls: BaseMessage[][] = [];
  /** The tools bound by `withStructuredOutput`. */
  readonly tools: BindToolsInput[] = [];
  /** Calls aborted by the caller while the model was "thinking". */
  aborted = 0;
  private readonly replies: Reply[];

  constructor(
    replies: Reply[],
    private readonly options: ScriptedModelOptions = {},
  ) {
    super({});
    this.replies = [...replies];
  }

  _llmType(): string {
    return 'scripted';
  }

  /** Tools are recorded, not sent anywhere; the model answers from its script either way. */
  override bindTools(tools: BindToolsInput[]): this {
    this.tools.push(...tools);
    return this;
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    this.calls.push(messages);
    const reply = this.replies.shift();
    if (!reply) throw new Error('scripted model: no reply left');
    if (this.options.delayMs) await this.wait(this.options.delayMs, options.signal);
    if (reply instanceof Error) throw reply;
    const message = new AIMessageChunk({ content: reply.content, tool_calls: reply.tool_calls ?? [] });
    return { generations: [{ text: typeof reply.content === 'string' ? reply.content : '', message }] };
  }

  private wait(ms: number, signal: BaseChatModelCallOptions['signal']): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          this.aborted++;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
}
