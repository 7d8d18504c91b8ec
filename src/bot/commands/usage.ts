/**
 * The `/mlops` verbs and how each is written. Errors, help and views all quote these
 * lines, so a change to the grammar shows up everywhere it is explained.
 */

export const VERBS = [
  'help',
  'pipelines',
  'run',
  'runs',
  'status',
  'approve',
  'reject',
  'cancel',
  'models',
  'deploy',
  'rollback',
  'promote',
  'history',
  'drift',
  'grant',
  'revoke',
  'whoami',
] as const;
export type Verb = (typeof VERBS)[number];

/** The arguments of each verb, as shown after `/mlops ` in help and in errors. */
export const USAGE: Record<Verb, string> = {
  help: 'help [command]',
  pipelines: 'pipelines',
  run: 'run <pipeline> [key=value …]',
  runs: 'runs [pipeline] [status]',
  status: 'status <run>',
  approve: 'approve <run>',
  reject: 'reject <run> [reason …]',
  cancel: 'cancel <run>',
  models: 'models [pipeline]',
  deploy: 'deploy <pipeline> v<N>',
  rollback: 'rollback <pipeline> [v<N>]',
  promote: 'promote <pipeline>',
  history: 'history <pipeline>',
  drift: 'drift <pipeline>',
  grant: 'grant @user <role> [pipeline]',
  revoke: 'revoke @user [pipeline]',
  whoami: 'whoami',
};

/** `/mlops run churn` and friends, as the person who typed them should read it back. */
export function usage(verb: Verb, slash = '/mlops'): string {
  return `usage: \`${slash} ${USAGE[verb]}\``;
}
