import type { Database } from '../../db/client.ts';
import type { Logger } from '../../log.ts';
import type { JobQueue } from '../../workflows/jobs.ts';
import type { Monitoring } from '../../workflows/monitoring.ts';
import type { RoleService } from '../../workflows/role-service.ts';
import type { RunService } from '../../workflows/run-service.ts';
import type { ChatPort } from '../chat.ts';
import type { IntentParser } from '../commands/llm.ts';
import type { CommandExecutor } from '../execute.ts';

/** What the chat edge needs from the rest of Steward, the same for every adapter. */
export type ChatCore = {
  database: Database;
  service: RunService;
  roles: RoleService;
  jobs: JobQueue;
  intents: IntentParser;
  monitoring: Monitoring;
  log: Logger;
  /** Where Steward's pages are for the team, for [Details] links in Slack. */
  publicUrl?: string;
};

/** What one handler is given: the core, and the chat port of the adapter the request came through. */
export type HandlerDeps = ChatCore & {
  chat: ChatPort;
  executor: CommandExecutor;
  pipelines: () => Promise<string[]>;
};
