import { homeView } from '../views/home.ts';
import type { HandlerDeps } from './deps.ts';
import type { ChatRequest } from './requests.ts';

/** App Home: the runs waiting for this person's approval (not their own), recent runs and the models. */
export function homeHandler({ chat, service, roles }: HandlerDeps) {
  return async ({ user }: ChatRequest<'home'>): Promise<void> => {
    const [waiting, runs, models] = await Promise.all([
      service.list({ states: ['awaitingApproval'], limit: 20 }),
      service.list({ limit: 10 }),
      service.models(),
    ]);
    const approvals = [];
    for (const r of waiting) {
      const role = await roles.roleOn(user, r.pipeline);
      if (r.requestedBy !== user && (role === 'approver' || role === 'admin')) approvals.push(r);
    }
    await chat.showHome(user, homeView({ viewer: user, approvals, runs, models }));
  };
}
