import type { Database } from '../db/client.ts';
import { grantRole, grantsOf, revokeRole } from '../db/runs-repo.ts';
import { StewardError } from '../errors.ts';
import { claimable, isGlobalAdmin } from './identity.ts';
import { hasRole, type Role } from './roles.ts';
import { roleOn } from './run-engine.ts';

export type Grant = { pipeline: string; role: Role };

/** Who may do what: grants are read when an action is applied, and changed only by admins. */
export type RoleService = {
  grantsOf(userId: string): Promise<Grant[]>;
  roleOn(userId: string, pipeline: string): Promise<Role | null>;
  grant(actor: string, request: { userId: string; role: Role; pipeline?: string }): Promise<void>;
  revoke(actor: string, request: { userId: string; pipeline?: string }): Promise<boolean>;
};

export function createRoleService({ database }: { database: Database }): RoleService {
  async function requireAdmin(actor: string, pipeline: string | undefined) {
    const allowed = pipeline
      ? hasRole(await roleOn(database.db, actor, pipeline), 'admin')
      : await isGlobalAdmin(database.db, actor);
    if (!allowed) {
      throw new StewardError(
        'FORBIDDEN',
        `Only an admin${pipeline ? ` of ${pipeline}` : ''} can change roles${pipeline ? ` on ${pipeline}` : ''}; ask one of the STEWARD_ADMINS.`,
      );
    }
  }
  return {
    async grantsOf(userId) {
      return (await grantsOf(database.db, userId)).map((g) => ({
        pipeline: g.pipeline,
        role: g.role as Role,
      }));
    },
    roleOn: (userId, pipeline) => roleOn(database.db, userId, pipeline),
    async grant(actor, { userId, role, pipeline }) {
      await requireAdmin(actor, pipeline);
      await grantRole(database.db, {
        userId: claimable(userId),
        role,
        ...(pipeline ? { pipeline } : {}),
        grantedBy: actor,
      });
    },
    async revoke(actor, { userId, pipeline }) {
      await requireAdmin(actor, pipeline);
      return revokeRole(database.db, userId, pipeline ?? '*');
    },
  };
}
