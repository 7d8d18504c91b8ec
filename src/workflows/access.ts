import type { Database } from '../db/client.ts';
import {
  createToken,
  findToken,
  listTokens,
  revokeToken,
  type TokenRow,
  type TokenScope,
} from '../db/credentials-repo.ts';
import type { RunRef } from '../db/runs-repo.ts';
import { listGrants } from '../db/runs-repo.ts';
import { StewardError } from '../errors.ts';
import type { DeploymentResult, HistoryEntry } from './deployments.ts';
import { actingAs, claimable, describeCredential, isGlobalAdmin, type Principal } from './identity.ts';
import { type AlertView, type Monitoring, type ReportView, requireOperator } from './monitoring.ts';
import type { Grant, RoleService } from './role-service.ts';
import type { Role } from './roles.ts';
import type { ActResult, RunAction, RunDetail, RunService } from './run-service.ts';

export type WhoAmI = { user: string; credential: Principal['credential']; grants: Grant[] };
export type GrantView = Grant & { user: string; grantedBy: string; createdAt: string };
export type TokenView = {
  id: string;
  user: string;
  name: string;
  scope: TokenScope;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

/**
 * What one authenticated person can do, whichever way they come in (REST, the CLI on the
 * database, the CLI over REST). Every request names the acting user only through `as`,
 * which `actingAs` honours for admins alone.
 */
export type Access = {
  whoami(): Promise<WhoAmI>;
  start(request: {
    pipeline: string;
    params?: Record<string, string>;
    as?: string;
    requestKey?: string;
  }): ReturnType<RunService['start']>;
  act(request: {
    run: RunRef;
    action: RunAction;
    as?: string;
    reason?: string;
    idempotencyKey?: string;
  }): Promise<ActResult>;
  /** A deploy (or rollback) run, or why none is needed. */
  deploy(request: DeployAccessRequest & { version: number }): Promise<DeploymentResult>;
  rollback(request: DeployAccessRequest & { version?: number }): Promise<DeploymentResult>;
  promote(request: { pipeline: string; as?: string }): ReturnType<RunService['promote']>;
  history(pipeline: string): Promise<HistoryEntry[]>;
  list: RunService['list'];
  show(ref: RunRef): Promise<RunDetail>;
  models: RunService['models'];
  pipelines: RunService['pipelines'];
  roles(): Promise<GrantView[]>;
  grant(request: { user: string; role: Role; pipeline?: string }): Promise<void>;
  /** False when the user held no such grant. */
  revoke(request: { user: string; pipeline?: string }): Promise<boolean>;
  createToken(request: {
    user?: string;
    name?: string;
    scope?: TokenScope;
  }): Promise<{ token: string } & TokenView>;
  listTokens(): Promise<TokenView[]>;
  revokeToken(id: string): Promise<void>;
  /** The pipeline's latest drift report; NOT_FOUND before its first check. */
  drift(pipeline: string): Promise<ReportView>;
  driftHistory(pipeline: string, limit?: number): ReturnType<Monitoring['history']>;
  /** Runs a drift check now (operator or above) and stores its report; it decides no alert. */
  checkDrift(request: { pipeline: string; as?: string }): Promise<ReportView>;
  alerts(pipeline: string): Promise<AlertView[]>;
  alert(number: number): ReturnType<Monitoring['alert']>;
  snooze(request: { alert: number; hours?: number; as?: string }): ReturnType<Monitoring['snooze']>;
  retrain(request: { alert: number; as?: string }): ReturnType<Monitoring['retrain']>;
};

type DeployAccessRequest = { pipeline: string; as?: string; requestKey?: string };

export type AccessDeps = {
  database: Database;
  service: RunService;
  roles: RoleService;
  /** Without it (a server built for one purpose, in tests) the drift requests say so. */
  monitoring?: Monitoring;
};

/** The Access of `principal`, checked against the database when each request is made. */
export function createAccess(
  { database, service, roles, monitoring }: AccessDeps,
  principal: Principal,
): Access {
  const db = database.db;
  const monitor = (): Monitoring => {
    if (!monitoring) throw new StewardError('NOT_FOUND', 'drift monitoring is not served here');
    return monitoring;
  };
  const self = principal.user;
  /** Tokens are a person's own business, and an admin's. */
  async function mayManageTokensOf(user: string): Promise<boolean> {
    return user === self || (await isGlobalAdmin(db, self));
  }

  /** Who a run is requested by, and through whose credential. */
  async function requester(as: string | undefined) {
    const { actor, via } = await actingAs(db, principal, as);
    return {
      requestedBy: actor,
      ...(via ? { requestedVia: via } : {}),
      credential: describeCredential(principal),
    };
  }

  return {
    async whoami() {
      return { user: self, credential: principal.credential, grants: await roles.grantsOf(self) };
    },
    async start({ as, ...request }) {
      return service.start({ ...request, ...(await requester(as)) });
    },
    async act({ as, ...request }) {
      const { actor, via } = await actingAs(db, principal, as);
      return service.act({
        ...request,
        as: actor,
        ...(via ? { via } : {}),
        credential: describeCredential(principal),
      });
    },
    async deploy({ as, ...request }) {
      return service.deploy({ ...request, ...(await requester(as)) });
    },
    async rollback({ as, ...request }) {
      return service.rollback({ ...request, ...(await requester(as)) });
    },
    async promote({ as, pipeline }) {
      const { actor, via } = await actingAs(db, principal, as);
      return service.promote({
        pipeline,
        as: actor,
        ...(via ? { via } : {}),
        credential: describeCredential(principal),
      });
    },
    history: (pipeline) => service.history(pipeline),
    list: (filter) => service.list(filter),
    show: (ref) => service.show(ref),
    models: (pipeline) => service.models(pipeline),
    pipelines: () => service.pipelines(),
    async roles() {
      return (await listGrants(db)).map((g) => ({
        user: g.userId,
        pipeline: g.pipeline,
        role: g.role as Role,
        grantedBy: g.grantedBy,
        createdAt: g.createdAt.toISOString(),
      }));
    },
    async grant({ user, role, pipeline }) {
      if (pipeline && !(await service.pipelines()).includes(pipeline)) {
        throw new StewardError(
          'PIPELINE_NOT_FOUND',
          `there is no pipeline ${pipeline}; \`steward runs\` and the pipelines dir list the ones there are`,
        );
      }
      await roles.grant(self, { userId: user, role, ...(pipeline ? { pipeline } : {}) });
    },
    revoke: ({ user, pipeline }) => roles.revoke(self, { userId: user, ...(pipeline ? { pipeline } : {}) }),
    async createToken({ user = self, name = 'default', scope = 'all' }) {
      const owner = claimable(user);
      // Only an admin makes tokens: a token (or a session made from one) that could make
      // more would outlive its own revocation.
      if (!(await isGlobalAdmin(db, self))) {
        throw new StewardError(
          'FORBIDDEN',
          `only an admin can create tokens; you are ${self}. Ask one of the STEWARD_ADMINS for one.`,
        );
      }
      const { row, token } = await createToken(db, {
        userId: owner,
        name,
        scope,
        createdBy: self,
      });
      return { token, ...tokenView(row) };
    },
    async listTokens() {
      const all = await isGlobalAdmin(db, self);
      return (await listTokens(db, all ? undefined : self)).map(tokenView);
    },
    async revokeToken(id) {
      const row = await findToken(db, id);
      // Someone else's token is reported as missing, so ids cannot be probed.
      if (!row || !(await mayManageTokensOf(row.userId))) {
        throw new StewardError('NOT_FOUND', `there is no token ${id}; \`steward token list\` shows yours`);
      }
      if (!(await revokeToken(db, id))) {
        throw new StewardError('NOT_FOUND', `token ${id} was already revoked`);
      }
    },
    async drift(pipeline) {
      const latest = await monitor().latest(pipeline);
      if (!latest) {
        throw new StewardError(
          'NOT_FOUND',
          `${pipeline} has no drift report yet; \`steward drift ${pipeline}\` (POST /api/pipelines/${pipeline}/drift/check) runs a check now`,
        );
      }
      return latest;
    },
    driftHistory: (pipeline, limit) => monitor().history(pipeline, limit),
    async checkDrift({ pipeline, as }) {
      const { actor } = await actingAs(db, principal, as);
      await requireOperator(db, actor, pipeline, 'run a drift check');
      const outcome = await monitor().check({ pipeline, trigger: 'manual', requestedBy: actor });
      if (outcome.status !== 'checked') throw new Error('a manual drift check was taken for a scheduled one');
      return outcome.report;
    },
    alerts: (pipeline) => monitor().alerts(pipeline),
    alert: (number) => monitor().alert(number),
    async snooze({ alert, hours = 24, as }) {
      const { actor, via } = await actingAs(db, principal, as);
      if (!(hours >= 1 / 60 && hours <= 24 * 30)) {
        throw new StewardError(
          'BAD_REQUEST',
          `a snooze is from 1 minute to 30 days long; got ${hours} hours`,
        );
      }
      return monitor().snooze({
        alert,
        by: actor,
        ms: Math.round(hours * 3_600_000),
        ...(via ? { via } : {}),
      });
    },
    async retrain({ alert, as }) {
      const { actor, via } = await actingAs(db, principal, as);
      return monitor().retrain({
        alert,
        by: actor,
        ...(via ? { via } : {}),
        credential: describeCredential(principal),
      });
    },
  };
}

function tokenView(row: TokenRow): TokenView {
  return {
    id: row.id,
    user: row.userId,
    name: row.name,
    scope: row.scope as TokenScope,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
