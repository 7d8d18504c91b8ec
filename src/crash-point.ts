/**
 * Test hook, off unless `STEWARD_CRASH_AT` names a point: the process SIGKILLs itself when
 * it reaches that point, so that process tests can crash Steward at an exact place and
 * check that nothing is lost. Points: `slack.after-ack` (the Slack edge, right after a
 * stored request was acknowledged and before it is handled).
 *
 * `crashPoint(name)` is read once, when the part that has the point is made; the returned
 * function is a constant `false` when the hook is off. When it is on, the kill happens on
 * the next turn of the event loop, after the ack's bytes have been handed to the socket,
 * and the function returns true so the caller does nothing more.
 */
export function crashPoint(name: string, env: NodeJS.ProcessEnv = process.env): () => boolean {
  if (env.STEWARD_CRASH_AT !== name) return () => false;
  return () => {
    setImmediate(() => process.kill(process.pid, 'SIGKILL'));
    return true;
  };
}
