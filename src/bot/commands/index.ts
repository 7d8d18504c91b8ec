/**
 * How Steward understands what people type: the `/mlops` grammar, the intent schema, and
 * the free-text parsers (rules, and an LLM with the rules as fallback). The chat edge
 * imports from here only.
 */
export { type ChatModelOptions, createChatModel, type ProviderModules } from './chat-model.ts';
export {
  type AdminCommand,
  type Command,
  type GrammarOptions,
  hasIntent,
  type IntentCommand,
  type ParseResult,
  parseCommand,
  toIntent,
  USAGE,
  usage,
  VERBS,
  type Verb,
} from './grammar.ts';
export {
  INTENT_NAMES,
  Intent,
  IntentName,
  isMutating,
  MUTATING_INTENTS,
  PARAM_KEY,
  requireFields,
} from './intent.ts';
export {
  buildIntentMessages,
  createLlmIntentParser,
  INTENT_TOOL_NAME,
  type IntentParser,
  LlmIntentOutput,
  type LlmIntentParserOptions,
  type ParsedIntent,
  rulesIntentParser,
} from './llm.ts';
export { parseIntentByRules, type RulesOptions } from './rules.ts';
export { RUN_STATUSES, type RunStatus, STATES_OF_STATUS, toRunStatus } from './run-status.ts';
